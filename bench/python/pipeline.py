#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The pipeline a user would write instead of cloudfact: the Python peer of `make bench`.

pyzmq + msgpack + sqlite3 + multiprocessing + re, Debian's packages only. The same wire
messages as cloudfactd (protocol/SPEC.md: ingest requests and replies, published facts and
article.done, sys.heartbeat), the same durability (SQLite WAL, synchronous=FULL, the ack only
after COMMIT, many articles per transaction), the same number of worker processes, and a
regular-expression extractor of the same fact types. No validation beyond what msgpack does.

Usage: pipeline.py --db FILE --ingest EP --publish EP --workers EP [--processes 2]
"""
import argparse
import collections
import os
import re
import signal
import sqlite3
import time
import multiprocessing as mp

import msgpack
import zmq

KEYS = ("seq", "article", "type", "subject", "object", "value", "unit", "period", "place",
        "detail", "qualifier", "status", "source", "confidence", "evidence",
        "evidence_start", "evidence_end")

COMPANIES = [
    "Amazon Web Services", "AWS", "Amazon", "Microsoft Azure", "Azure", "Microsoft",
    "Google Cloud", "Google", "Alibaba Cloud", "Alibaba", "Tencent Cloud", "Tencent",
    "Huawei Cloud", "Huawei", "Oracle Cloud Infrastructure", "Oracle", "IBM Cloud", "IBM",
    "Kingsoft Cloud", "Baidu", "Rackspace", "DigitalOcean", "Equinix", "Digital Realty",
    "Salesforce", "VMware", "Cloudflare", "Akamai", "OVH", "Hetzner", "Scaleway", "Vultr",
    "Linode", "Snowflake", "Databricks", "CoreWeave", "NTT", "Fujitsu", "SAP", "UCloud",
    "QingCloud", "21Vianet", "GDS", "Naver Cloud", "Yandex", "Nutanix", "Red Hat", "Dell",
    "Cisco", "HPE", "Hewlett Packard Enterprise", "Lenovo", "Inspur", "Netflix", "Airbnb",
    "Lyft", "Snapchat", "Spotify", "Siemens", "Unilever", "Volkswagen", "HSBC",
    "Standard Chartered", "Xiaomi", "Meituan", "Pinduoduo", "Zoom", "Slack", "Twitter",
    "Uber", "Samsung", "Toyota", "Nestle"]
CO = b"(?:" + b"|".join(re.escape(c.encode()) for c in
                        sorted(COMPANIES, key=len, reverse=True)) + b")"
NUM = rb"(\d+(?:\.\d+)?)"
SCALE = rb"(billion|million|thousand)?"
PLACE = rb"([A-Z][\w\xc0-\xff\x80-\xbf]*(?: [A-Z][\w\xc0-\xff\x80-\xbf]*)*)"
SCALES = {b"billion": 1e9, b"million": 1e6, b"thousand": 1e3}

# (type, status, pattern, groups): groups name what each capture group is
RULES = [
    ("market_share", "reported",
     rb"(" + CO + rb") (?:holds?|held|has|had|now controls|controls?) (?:about |nearly |more than )?"
     + NUM + rb" ?(?:percent|per cent|%) of the ([\w\- ]+?) market", ("s", "v", "d")),
    ("market_share", "reported",
     rb"(" + CO + rb") came \w+ with a market share of " + NUM + rb" ?percent", ("s", "v")),
    ("revenue", "reported",
     rb"(" + CO + rb") (?:brought in|reported revenue of|posted|earned|generated) \$?" + NUM
     + rb" ?" + SCALE, ("s", "v", "x")),
    ("revenue_growth", "reported",
     rb"[Rr]evenue at (" + CO + rb") (?:rose|grew|jumped|increased) " + NUM + rb" ?percent",
     ("s", "v")),
    ("investment", "announced",
     rb"(" + CO + rb") (?:will invest|plans to invest|invested) \$" + NUM + rb" ?" + SCALE
     + rb" in " + PLACE, ("s", "v", "x", "p")),
    ("datacenter", "reported",
     rb"(" + CO + rb") (?:opened|will open|plans to build|plans to open) (?:\w+ )?"
     rb"(?:a )?data cent(?:er|re)s? in " + PLACE, ("s", "p")),
    ("customers", "reported",
     rb"(" + CO + rb") said it has (?:more than |about )?([\d,]+) (?:paying )?customers",
     ("s", "c")),
    ("partnership", "announced",
     rb"(" + CO + rb") (?:announced a partnership with|teamed up with|partnered with) (" + CO
     + rb")", ("s", "o")),
    ("acquisition", "announced",
     rb"(" + CO + rb") (?:agreed to acquire|acquired|will buy|bought) (" + CO + rb")", ("s", "o")),
    ("stake", "rumored",
     rb"(" + CO + rb") is in talks to buy a (?:minority |majority )?stake in (" + CO + rb")",
     ("s", "o")),
    ("stake", "reported",
     rb"(" + CO + rb") invested \$" + NUM + rb" ?" + SCALE + rb" in (" + CO + rb")",
     ("s", "v", "x", "o")),
    ("expansion", "announced",
     rb"(" + CO + rb") (?:said it would|will|plans to) expand into " + PLACE, ("s", "p")),
    ("market_exit", "announced",
     rb"(" + CO + rb") will exit the ([\w\- ]+?) market in " + PLACE, ("s", "d", "p")),
    ("target", "speculative", rb"(" + CO + rb") aims to overtake (" + CO + rb")", ("s", "o")),
    ("offering", "reported",
     rb"(" + CO + rb") launched an? ([\w\- ]+?) offering", ("s", "d")),
    ("ipo", "planned", rb"(" + CO + rb") is preparing an initial public offering", ("s",)),
    ("gmv", "reported",
     rb"(" + CO + rb")\S* (?:sold|handled) \$" + NUM + rb" ?" + SCALE
     + rb" (?:worth of merchandise|in gross merchandise volume)", ("s", "v", "x")),
]
COMPILED = [(t, st, re.compile(p), g) for t, st, p, g in RULES]
YEAR = re.compile(rb"\b(20[0-4]\d)\b")


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.decode("utf-8", "replace").lower()).strip("-")


def extract(body):
    """Facts of one body (str): byte offsets into its UTF-8 form, every key present."""
    raw = body.encode("utf-8")
    facts = []
    for ftype, status, rx, groups in COMPILED:
        for m in rx.finditer(raw):
            f = dict.fromkeys(KEYS)
            f.update(type=ftype, status=status, confidence=0.5,
                     evidence=m.group(0).decode("utf-8"),
                     evidence_start=m.start(), evidence_end=m.end())
            unit = None
            for i, g in enumerate(groups, 1):
                v = m.group(i)
                if v is None:
                    continue
                if g == "s":
                    f["subject"] = slug(v)
                elif g == "o":
                    f["object"] = slug(v)
                elif g == "v":
                    f["value"] = float(v)
                    unit = "percent" if ftype in ("market_share", "revenue_growth") else "USD"
                elif g == "x" and f["value"] is not None:
                    f["value"] *= SCALES[v]
                elif g == "c":
                    f["value"] = float(v.replace(b",", b""))
                    unit = "count"
                elif g == "p":
                    f["place"] = v.decode("utf-8")
                elif g == "d":
                    f["detail"] = v.decode("utf-8")
            f["unit"] = unit
            y = YEAR.search(raw, m.start(), min(len(raw), m.end() + 40))
            if y:
                f["period"] = y.group(1).decode()
            facts.append(f)
    facts.sort(key=lambda f: f["evidence_start"])
    return facts


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def worker_main(endpoint, credit):
    """One worker process: a DEALER that takes jobs and returns results."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sock = zmq.Context().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    sock.send(pack({"op": "ready", "credit": credit, "pid": os.getpid(), "version": 1}))
    while True:
        msg = msgpack.unpackb(sock.recv(), raw=False)
        op = msg.get("op")
        if op == "stop":
            return
        if op != "job":
            continue
        facts = extract(msg["article"]["body"])
        sock.send(pack({"op": "result", "job": msg["job"], "facts": facts, "class": None}))


SCHEMA = """
CREATE TABLE IF NOT EXISTS articles(id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT UNIQUE NOT NULL,
  title TEXT, body TEXT, source TEXT, state TEXT NOT NULL DEFAULT 'queued');
CREATE TABLE IF NOT EXISTS facts(seq INTEGER PRIMARY KEY AUTOINCREMENT, article INTEGER NOT NULL,
  type TEXT, subject TEXT, object TEXT, value REAL, unit TEXT, period TEXT, place TEXT,
  detail TEXT, qualifier TEXT, status TEXT, source TEXT, confidence REAL, evidence TEXT,
  evidence_start INTEGER, evidence_end INTEGER);
"""
FACT_COLS = KEYS[2:]
INSERT_FACT = "INSERT INTO facts(article, %s) VALUES(?, %s)" % (
    ", ".join(FACT_COLS), ", ".join("?" * len(FACT_COLS)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--ingest", required=True)
    ap.add_argument("--publish", required=True)
    ap.add_argument("--workers", required=True)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--credit", type=int, default=8)
    args = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))

    db = sqlite3.connect(args.db, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)

    ctx = zmq.Context()
    ingest = ctx.socket(zmq.ROUTER)
    ingest.bind(args.ingest)
    wsock = ctx.socket(zmq.ROUTER)
    wsock.bind(args.workers)
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 10000)
    pub.bind(args.publish)
    for s in (ingest, wsock, pub):
        s.setsockopt(zmq.LINGER, 0)

    procs = [mp.Process(target=worker_main, args=(args.workers, args.credit), daemon=True)
             for _ in range(args.processes)]
    for p in procs:
        p.start()

    poller = zmq.Poller()
    poller.register(ingest, zmq.POLLIN)
    poller.register(wsock, zmq.POLLIN)
    queue = collections.deque()      # (id, article) accepted, not yet handed out
    workers = {}                     # routing id -> [credit, in flight]
    urls = {}                        # article id -> url, until done
    last_seq = 0
    next_hb = 0.0

    def dispatch():
        while queue:
            free = [rid for rid, w in workers.items() if w[1] < w[0]]
            if not free:
                return
            for rid in free:
                if not queue:
                    return
                aid, art = queue.popleft()
                art["id"] = aid
                wsock.send_multipart([rid, pack({"op": "job", "job": aid, "article": art})])
                workers[rid][1] += 1

    while not stop:
        try:
            events = dict(poller.poll(200))
        except zmq.ZMQError:
            continue
        new, results = [], []
        if wsock in events:
            for _ in range(1024):
                try:
                    rid, body = wsock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                msg = msgpack.unpackb(body, raw=False)
                op = msg.get("op")
                if op == "ready":
                    workers[rid] = [msg.get("credit", 1), 0]
                elif op == "result":
                    workers[rid][1] -= 1
                    results.append(msg)
        if ingest in events:
            for _ in range(1024):
                try:
                    frames = ingest.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                try:
                    req = msgpack.unpackb(frames[-1], raw=False)
                except Exception:
                    continue
                new.append((frames[:-1], req))
        dispatch()
        if new or results:
            replies, done = [], []
            db.execute("BEGIN IMMEDIATE")
            for env, req in new:
                try:
                    cur = db.execute("INSERT INTO articles(url, title, body, source) "
                                     "VALUES(?, ?, ?, ?)", (req["url"], req.get("title", ""),
                                                            req["body"], req.get("source")))
                    aid = cur.lastrowid
                    replies.append((env, {"ref": req.get("ref"), "status": "accepted",
                                          "id": aid}, aid, req))
                except sqlite3.IntegrityError:
                    replies.append((env, {"ref": req.get("ref"), "status": "duplicate"}, 0, req))
            for res in results:
                aid = res["job"]
                seqs = []
                for f in res["facts"]:
                    cur = db.execute(INSERT_FACT, (aid,) + tuple(f.get(k) for k in FACT_COLS))
                    seqs.append(cur.lastrowid)
                db.execute("UPDATE articles SET state = 'done' WHERE id = ?", (aid,))
                done.append((aid, res["facts"], seqs))
            db.execute("COMMIT")
            for env, rep, aid, req in replies:
                ingest.send_multipart(env + [pack(rep)])
                if aid:
                    urls[aid] = req["url"]
                    queue.append((aid, {k: req.get(k) for k in
                                        ("url", "title", "body", "source", "published",
                                         "lang")}))
            for aid, facts, seqs in done:
                for f, seq in zip(facts, seqs):
                    f["seq"], f["article"] = seq, aid
                    topic = "fact.%s.%s" % (f["type"], f["subject"])
                    pub.send_multipart([topic.encode(), pack(f)])
                    last_seq = max(last_seq, seq)
                pub.send_multipart([b"article.done", pack({
                    "id": aid, "url": urls.pop(aid, ""), "facts": len(facts),
                    "first_seq": seqs[0] if seqs else None,
                    "last_seq": seqs[-1] if seqs else None})])
            dispatch()
        now = time.monotonic()
        if now >= next_hb:
            pub.send_multipart([b"sys.heartbeat", pack({"last": last_seq, "time": time.time()})])
            next_hb = now + 0.2

    for rid in workers:
        wsock.send_multipart([rid, pack({"op": "stop"})])
    for p in procs:
        p.join(2)
        if p.is_alive():
            p.terminate()
    db.close()
    ctx.destroy(0)


if __name__ == "__main__":
    main()
