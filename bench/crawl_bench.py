#!/usr/bin/env python3
"""Crawler benchmark: how fast a Glue crawler reads a lake of NDJSON.gz.

Writes --gib GiB (default 1) of gzip-compressed NDJSON in --files objects
(default 1,000) into hive folders

    <data-dir>/lake/lake/bench/events/dt=2024-01-DD/part-NNNN.json.gz

starts `firelake serve` on that data directory (embedded PostgreSQL, local
storage), creates a crawler on s3://lake/bench/, starts it, polls GetCrawler
until it is READY again and prints the crawl's seconds and MB/s (stored,
compressed bytes and the NDJSON they hold).  The files are written just
before the crawl, so they are read from the page cache.

To write 1 GiB quickly, a few distinct objects (--variants) of events with
random ids, numbers and words are compressed once and written under every
name; the crawler reads and parses every object in full all the same.

usage: bench/crawl_bench.py [--gib 1] [--files 1000] [--variants 8]
                            [--data-dir DIR] [--keep]
environment: FIRELAKE_BIN (default build/firelake)
"""
import argparse
import gzip
import json
import os
import random
import shutil
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
os.environ.setdefault("FIRELAKE_BIN", os.path.join(HERE, "..", "build", "firelake"))
import harness  # noqa: E402
from harness import Server, make_dir  # noqa: E402

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
         "november oscar papa quebec romeo sierra tango uniform victor whiskey xray").split()
NAMES = ["shop:order:paid", "shop:order:refunded", "app:session:start", "app:session:end",
         "pay:card:declined", "pay:card:captured", "web:page:view", "web:page:click"]


def event(rng, i):
    t = 1704067200 + rng.randrange(86400 * 30)
    e = {"event_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
         "event_name": rng.choice(NAMES), "created_at": t,
         "user_id": rng.randrange(10**9), "amount": round(rng.random() * 1000, 2),
         "currency": rng.choice(["EUR", "USD", "SEK"]), "items": rng.randrange(1, 9),
         "ok": rng.random() < 0.9,
         "note": " ".join(rng.choice(WORDS) for _ in range(rng.randrange(2, 9))),
         "device": {"os": rng.choice(["ios", "android", "web"]),
                    "version": "%d.%d" % (rng.randrange(1, 20), rng.randrange(10))},
         "tags": [rng.choice(WORDS) for _ in range(rng.randrange(0, 4))]}
    if i % 97 == 0:
        e["campaign"] = rng.choice(WORDS)
    return e


def variant(seed, target_bytes):
    """A gzip object of about target_bytes; returns (compressed, raw size)."""
    rng = random.Random(seed)
    lines, raw, i = [], 0, 0
    # Grow until the compressed size reaches the target (checked in steps).
    while True:
        for _ in range(5000):
            s = json.dumps(event(rng, i), separators=(",", ":")) + "\n"
            lines.append(s)
            raw += len(s)
            i += 1
        data = "".join(lines).encode()
        z = gzip.compress(data, compresslevel=6)
        if len(z) >= target_bytes:
            # Trim to the target by the ratio seen, compress once more.
            lines = lines[:max(1, len(lines) * target_bytes // len(z))]
            data = "".join(lines).encode()
            return gzip.compress(data, compresslevel=6), len(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gib", type=float, default=1.0, help="compressed GiB to write")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--variants", type=int, default=8)
    ap.add_argument("--data-dir", help="scratch data dir (default: a new temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the data dir")
    a = ap.parse_args()

    data_dir = a.data_dir or make_dir("firelake-crawl-bench-")
    root = os.path.join(data_dir, "lake", "lake", "bench", "events")
    per_file = int(a.gib * (1 << 30) / a.files)
    t0 = time.time()
    blobs = [variant(v, per_file) for v in range(a.variants)]
    stored = raw = 0
    for n in range(a.files):
        z, size = blobs[n % len(blobs)]
        d = os.path.join(root, "dt=2024-01-%02d" % (1 + n % 30))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "part-%04d.json.gz" % n), "wb") as f:
            f.write(z)
        stored += len(z)
        raw += size
    print("wrote %d files, %.2f GiB gzip (%.2f GiB NDJSON) in %.1f s"
          % (a.files, stored / 2**30, raw / 2**30, time.time() - t0), flush=True)

    srv = Server(data_dir=data_dir).start(timeout=180)
    status = 1
    try:
        glue = srv.client("glue")
        glue.create_database(DatabaseInput={"Name": "bench"})
        glue.create_crawler(Name="bench", Role="arn:aws:iam::000000000000:role/bench",
                            DatabaseName="bench",
                            Targets={"S3Targets": [{"Path": "s3://lake/bench/"}]})
        t0 = time.time()
        glue.start_crawler(Name="bench")
        while True:
            c = glue.get_crawler(Name="bench")["Crawler"]
            if c["State"] == "READY" and "LastCrawl" in c:
                break
            time.sleep(0.1)
        wall = time.time() - t0
        m = glue.get_crawler_metrics(CrawlerNameList=["bench"])["CrawlerMetricsList"][0]
        secs = m["LastRuntimeSeconds"] or wall
        table = glue.get_table(DatabaseName="bench", Name="events")["Table"]
        parts = glue.get_partitions(DatabaseName="bench", TableName="events")["Partitions"]
        print("crawl: %s, %.2f s (%.2f s start to READY seen by the client)"
              % (c["LastCrawl"]["Status"], secs, wall))
        print("  %.1f MB/s gzip read, %.1f MB/s NDJSON parsed, %.0f files/s"
              % (stored / 1e6 / secs, raw / 1e6 / secs, a.files / secs))
        print("  table events: %d columns, %d partitions"
              % (len(table["StorageDescriptor"]["Columns"]), len(parts)))
        status = 0 if c["LastCrawl"]["Status"] == "SUCCEEDED" else 1
    finally:
        srv.stop()
        if a.keep:
            harness._live.remove(srv)  # cleanup at exit would delete it
            print("kept", data_dir)
        else:
            srv.cleanup()
            shutil.rmtree(data_dir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
