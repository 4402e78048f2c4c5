#!/usr/bin/python3
"""Quick replay driver: builds one archive once, then replays it from several builds.

  bench/replay_quick.py --bin build-release/bin [--bin other/bin ...] --out /tmp/rq
      [--articles 40000] [--reps 5] [--callgrind N]

The archive (cloudfactd + cf-bench-worker, 5 canned facts per article) is kept in
OUT/template and reused when present. Each rep starts a fresh copy of it under
`cloudfactd --workers 0` and streams a full `replay {since: 0}` to cf-bench-client.
With --callgrind N, also runs one daemon under valgrind --tool=callgrind and reports
the instructions (Ir) it executed per fact over a replay of the whole archive
(minus an idle daemon's start-up and shut-down, measured the same way)."""
import argparse, glob, json, os, re, shutil, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R


def build_template(b, out, n):
    tpl = os.path.join(out, "template")
    if os.path.exists(os.path.join(tpl, "done")):
        return tpl
    b.bin = os.path.abspath(b.bin)
    proc, ep, d = b.start_daemon("tpl", R.WORKERS, os.path.join(b.bin, "cf-bench-worker"))
    try:
        b.push(ep, n, "tpl")
    finally:
        R.stop(proc)
    shutil.rmtree(tpl, ignore_errors=True)
    shutil.copytree(d, tpl, ignore=shutil.ignore_patterns("*.sock", "daemon.log"))
    open(os.path.join(tpl, "done"), "w").close()
    return tpl


def start_copy(b, tpl, prefix=()):
    d = b.fresh_dir("rq")
    shutil.rmtree(d)
    shutil.copytree(tpl, d)
    ep = {k: "tcp://127.0.0.1:%d" % R.free_port() for k in ("ingest", "publish", "query")}
    cmd = list(prefix) + [os.path.join(b.bin, "cloudfactd"), "--state-dir", d,
                          "--ingest", ep["ingest"], "--publish", ep["publish"],
                          "--query", ep["query"], "--worker-endpoint", "ipc://%s/w.sock" % d,
                          "--workers", "0", "--http", "off", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    until = time.monotonic() + 60
    while time.monotonic() < until and not b.stats(ep["query"]):
        time.sleep(0.1)
    return proc, ep, d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", action="append", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--articles", type=int, default=40000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--callgrind", action="store_true")
    a = ap.parse_args()
    ns = argparse.Namespace(bin=a.bin[0], out=a.out, reps=1, seconds=1, only=None,
                            mem_articles=0, mem_seconds=0)
    b = R.Bench(ns)
    os.makedirs(b.work, exist_ok=True)
    subprocess.run(["/usr/bin/python3", os.path.join(R.HERE, "gen_corpus.py"), b.corpus,
                    "--count", "600", "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
    tpl = build_template(b, a.out, a.articles)
    res = {}
    for rep in range(a.reps):
        for bd in a.bin:  # alternate builds run by run
            b.bin = os.path.abspath(bd)
            proc, ep, d = start_copy(b, tpl)
            try:
                rp = b.client("--replay", ep["query"], "--timeout", "20")
            finally:
                R.stop(proc)
                b.cleanup(d)
            res.setdefault(bd, []).append(rp["facts_per_s"])
            print("%s rep %d: %d facts, %.0f facts/s" % (bd, rep, rp["facts"], rp["facts_per_s"]),
                  file=sys.stderr)
    for bd, v in res.items():
        print(json.dumps({"bin": bd, "median_facts_per_s": round(R.median(v)),
                          "runs": [round(x) for x in v]}))
    if a.callgrind:
        for bd in a.bin:
            b.bin = os.path.abspath(bd)
            ir = {}
            for mode in ("idle", "replay"):
                cg = os.path.join(a.out, "cg-%s.out" % mode)
                proc, ep, d = start_copy(b, tpl, ["valgrind", "--tool=callgrind",
                                                  "--callgrind-out-file=" + cg])
                try:
                    facts = 0
                    if mode == "replay":
                        rp = b.client("--replay", ep["query"], "--timeout", "120")
                        facts = rp["facts"]
                finally:
                    R.stop(proc, 120)
                    b.cleanup(d)
                out = subprocess.run(["callgrind_annotate", cg], stdout=subprocess.PIPE,
                                     text=True).stdout
                m = re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", out)
                ir[mode] = (int(m.group(1).replace(",", "")), facts)
                if mode == "replay":
                    shutil.copy(cg, os.path.join(a.out, "cg-%s.out" %
                                                 os.path.basename(os.path.dirname(b.bin))))
            per = (ir["replay"][0] - ir["idle"][0]) / max(1, ir["replay"][1])
            print(json.dumps({"bin": bd, "callgrind_ir_per_fact": round(per),
                              "facts": ir["replay"][1]}))


if __name__ == "__main__":
    main()
