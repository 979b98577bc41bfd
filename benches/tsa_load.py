#!/usr/bin/env python3
"""Bare capacity of an RFC 3161 TSA over HTTP: C threads, each on one keep-alive connection,
post prepared DER queries (`openssl ts -query` files) round-robin for S seconds (bounded: at most
--max-requests in all). Only 127.0.0.1 URLs are accepted: this is a loopback load test.

usage: tsa_load.py URL --queries DIR [--concurrency C] [--seconds S] [--max-requests R]
Prints one JSON line: {"requests": n, "ok": k, "secs": t, "per_sec": k/t, "concurrency": C}.
"""
import argparse, glob, http.client, json, sys, threading, time
from urllib.parse import urlparse


def worker(u, queries, deadline, budget, lock, counts, offset):
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
    i = offset
    while time.perf_counter() < deadline:
        with lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        q = queries[i % len(queries)]
        i += 1
        good = False
        try:
            conn.request("POST", u.path or "/", body=q, headers={"Content-Type": "application/timestamp-query"})
            r = conn.getresponse()
            body = r.read()
            # granted (0) or grantedWithMods (1): SEQUENCE { SEQUENCE { INTEGER 0|1 ...
            good = r.status == 200 and len(body) > 9 and body[0] == 0x30
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
        with lock:
            counts[0] += 1
            counts[1] += good
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--queries", required=True)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--max-requests", type=int, default=20000)
    a = ap.parse_args()
    u = urlparse(a.url)
    if u.scheme != "http" or u.hostname not in ("127.0.0.1", "localhost"):
        sys.exit("tsa_load.py: loopback http URLs only")
    queries = [open(p, "rb").read() for p in sorted(glob.glob(a.queries + "/*.tsq"))]
    if not queries:
        sys.exit("tsa_load.py: no .tsq files in " + a.queries)
    lock, counts, budget = threading.Lock(), [0, 0], [a.max_requests]
    t0 = time.perf_counter()
    deadline = t0 + a.seconds
    threads = [threading.Thread(target=worker, args=(u, queries, deadline, budget, lock, counts, k * 7))
               for k in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    print(json.dumps({"requests": counts[0], "ok": counts[1], "secs": secs,
                      "per_sec": counts[1] / secs if secs else 0, "concurrency": a.concurrency}))


if __name__ == "__main__":
    main()
