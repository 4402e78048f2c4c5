#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""CPU per article of each process of a pipeline, the way `make bench` drives it.

Starts the pipeline of bench/run.py (MODE e2e: cloudfactd + 2 real cloudfact-workers;
canned: cloudfactd + 2 cf-bench-workers returning 5 canned facts; python: the Python peer),
pushes N corpus articles with cf-bench-client (window 256, a subscriber counting facts),
and prints one JSON line per run: articles/s, facts per article, the CPU milliseconds
per article (user + system) of the server and of each of its child processes, and the
kilobytes per article the server sent to storage (/proc/PID/io write_bytes: the WAL and
the checkpoints' copies into the database, counted as pages turn dirty). With several
--bin directories the runs alternate (A1 B1 A2 B2 ...), so that ratios can be
taken run by run on a noisy machine. The corpus is bench/run.py's (OUT/corpus; generated
by a first `make bench` or `bench/run.py --only extraction`).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: the pipelines)


def write_bytes(pid):
    """Bytes the process has caused to be sent to storage (/proc/PID/io), or None."""
    try:
        with open("/proc/%d/io" % pid) as fh:
            for line in fh:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--bin", action="append", required=True,
                    help="directory of cloudfactd and the bench programs (repeatable)")
    ap.add_argument("--out", default="build/bench", help="OUT of bench/run.py (default build/bench)")
    ap.add_argument("--mode", choices=("e2e", "canned", "python"), default="e2e")
    ap.add_argument("--articles", type=int, default=5000, help="articles per run (default 5000)")
    ap.add_argument("--reps", type=int, default=2, help="runs per --bin (default 2)")
    a = ap.parse_args()
    run.check_ab_setup("cpu_per_article", a.out, a.bin)
    for rep in range(a.reps):
        for bindir in a.bin:
            b = run.ab_bench(bindir, a.out)
            if a.mode == "e2e":
                proc, ep, d = b.start_daemon("cpu-e2e", run.WORKERS)
            elif a.mode == "canned":
                proc, ep, d = b.start_daemon("cpu-canned", run.WORKERS,
                                             os.path.join(b.bin, "cf-bench-worker"))
            else:
                proc, ep, d = b.start_python("cpu-python")
            try:
                pids = [proc.pid] + run.children(proc.pid)
                c0 = [run.cpu_s(p) for p in pids]
                w0 = write_bytes(proc.pid)
                r = b.push(ep, a.articles, "cpu%d" % rep)
                c1 = [run.cpu_s(p) for p in pids]
                w1 = write_bytes(proc.pid)
            finally:
                run.stop(proc)
                b.cleanup(d)
            ms = [round((y - x) * 1e3 / a.articles, 3) if x is not None and y is not None else None
                  for x, y in zip(c0, c1)]
            print(json.dumps({"bin": bindir, "mode": a.mode, "run": rep,
                              "articles_per_s": round(r["articles_per_s"], 1),
                              "facts_per_article": round(r["facts"] / a.articles, 2),
                              "cpu_ms_per_article": {"server": ms[0], "children": ms[1:]},
                              "server_write_kb_per_article":
                                  round((w1 - w0) / 1024 / a.articles, 1)
                                  if w0 is not None and w1 is not None else None}),
                  flush=True)


if __name__ == "__main__":
    main()
