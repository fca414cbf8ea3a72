#!/usr/bin/env python3
"""bench/eager_bench.py - does eager staging keep up with ingest, and what
does it cost ingest?

For each of --eager-staging on and off, on a fresh embedded firelake:
 1. flat out: bench/loadgen for --flat seconds; the acked events/s;
 2. paced: bench/loadgen at --rate events/s for --paced seconds, the
    catalog sampled once a second for the staging backlog (delivered data
    objects of the stream not yet in fl_stage_objects);
 3. after the load: the time until delivery is done (WAL empty) and, with
    eager staging on, until the backlog is empty (or --settle seconds
    pass without progress).
Prints, per mode: flat-out events/s, paced events/s, the backlog's
largest and last value during the paced run (and its value every 10 s),
the drain time, and the delivered->staged lag per object of the paced
run (p50, p99, max).
"Keeps up" means the backlog stays bounded while the load runs, and
drains within a few buffer intervals after it.

A benchmark, not a test: it prints figures and asserts nothing.  Every
process started is stopped on exit; the scratch dir is removed unless
--keep.

  python3 bench/eager_bench.py [--build-dir build] [--rate 100000]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from query_bench import Firelake, Sampler, log  # noqa: E402


def loadgen(binary, url, seconds, rate, seed, base_time, connections):
    """Runs bench/loadgen; its RESULT line as a dict."""
    cmd = [binary, "--url", url, "--duration", str(seconds), "--rate", str(rate),
           "--connections", str(connections), "--seed", str(seed),
           "--base-time", str(base_time), "--quiet"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return dict(kv.split("=", 1) for kv in line[len("RESULT "):].split())
    raise RuntimeError("loadgen printed no RESULT line:\n" + out)


def backlog(fl):
    (n,), = fl.psql("SELECT count(*) FROM fl_objects o WHERE o.stream = 'events' AND "
                    "o.kind = 'data' AND NOT EXISTS (SELECT 1 FROM fl_stage_objects s WHERE "
                    "s.bucket = o.bucket AND s.key = o.key AND s.db = o.db AND s.tbl = o.tbl)")
    return int(n)


def wait_delivered(fl, limit=600):
    t0 = time.monotonic()
    while fl.metric("firelake_wal_pending_bytes") != 0 and time.monotonic() - t0 < limit:
        time.sleep(0.2)
    return time.monotonic() - t0


def wait_staged(fl, settle):
    t0 = last_change = time.monotonic()
    last = None
    while True:
        b = backlog(fl)
        if b == 0:
            return time.monotonic() - t0, 0
        if b != last:
            last, last_change = b, time.monotonic()
        if time.monotonic() - last_change > settle:
            return time.monotonic() - t0, b
        time.sleep(0.5)


def run_mode(a, mode, tmp):
    data = os.path.join(tmp, "data-" + mode)
    os.makedirs(data)
    sampler = Sampler()
    fl = Firelake(a.firelake, data, os.path.join(data, "firelake.log"), sampler,
                  ["--eager-staging", mode])
    res = {"mode": mode}
    base_time = int(time.time())
    try:
        fl.start()
        log("%s: flat out for %d s" % (mode, a.flat))
        r = loadgen(a.loadgen, fl.url, a.flat, 0, 1, base_time, a.connections)
        res["flat_eps"] = float(r["events_per_s"])
        wait_delivered(fl)
        if mode == "on":
            wait_staged(fl, a.settle)
        (t_paced,), = fl.psql("SELECT extract(epoch FROM clock_timestamp())")
        log("%s: %d events/s for %d s" % (mode, a.rate, a.paced))
        samples = []
        done = threading.Event()

        def sample():
            while not done.wait(1.0):
                try:
                    samples.append(backlog(fl))
                except subprocess.CalledProcessError:
                    pass
        th = threading.Thread(target=sample, daemon=True)
        th.start()
        r = loadgen(a.loadgen, fl.url, a.paced, a.rate, 2, base_time, a.connections)
        done.set()
        th.join()
        res["paced_eps"] = float(r["events_per_s"])
        res["paced_p99_ms"] = float(r["p99_ms"])
        res["backlog_max"] = max(samples) if samples else 0
        res["backlog_last"] = samples[-1] if samples else 0
        res["backlog_series"] = samples[9::10]
        res["deliver_s"] = wait_delivered(fl)
        if mode == "on":
            res["drain_s"], res["left"] = wait_staged(fl, a.settle)
            lag = fl.psql(
                "SELECT count(*), coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY "
                "extract(epoch FROM s.staged_at - o.delivered_at)), 0), "
                "coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM "
                "s.staged_at - o.delivered_at)), 0), coalesce(max(extract(epoch FROM "
                "s.staged_at - o.delivered_at)), 0) FROM fl_objects o JOIN fl_stage_objects s "
                "USING (bucket, key, db, tbl) WHERE o.delivered_at >= to_timestamp(%s)"
                % float(t_paced))[0]
            res["lag"] = [float(x) for x in lag]
    finally:
        fl.stop()
        sampler.stop.set()
    return res


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(root, "build"))
    ap.add_argument("--rate", type=int, default=100000)
    ap.add_argument("--flat", type=int, default=20, help="seconds flat out")
    ap.add_argument("--paced", type=int, default=60, help="seconds at --rate")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--settle", type=float, default=30,
                    help="seconds without staging progress that end the wait")
    ap.add_argument("--keep", action="store_true", help="keep the scratch dir")
    a = ap.parse_args()
    a.build_dir = os.path.abspath(a.build_dir)
    a.firelake = os.path.join(a.build_dir, "firelake")
    a.loadgen = os.path.join(a.build_dir, "bench", "loadgen")
    for b in (a.firelake, a.loadgen):
        if not os.access(b, os.X_OK):
            sys.exit("no %s: build first (ninja -C %s)" % (b, a.build_dir))
    tmp = tempfile.mkdtemp(prefix="firelake-eager.")
    try:
        rows = [run_mode(a, m, tmp) for m in ("off", "on")]
    finally:
        if a.keep:
            log("scratch dir kept: " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("eager staging benchmark: %d cores, flat out %d s, then %d events/s for %d s"
          % (os.cpu_count(), a.flat, a.rate, a.paced))
    print("eager  flat-out ev/s  paced ev/s  paced p99 ms  backlog max/last (objects)  "
          "deliver s  drain s  lag p50/p99/max s (objects)")
    for r in rows:
        lag = r.get("lag")
        print("%-5s  %13.0f  %10.0f  %12.1f  %26s  %9.1f  %7s  %s" % (
            r["mode"], r["flat_eps"], r["paced_eps"], r["paced_p99_ms"],
            "%d/%d" % (r["backlog_max"], r["backlog_last"]), r["deliver_s"],
            "%.1f" % r["drain_s"] if "drain_s" in r else "-",
            "%.1f/%.1f/%.1f (%d)" % (lag[1], lag[2], lag[3], lag[0]) if lag else "-"))
        print("  %s: backlog every 10 s of the paced run: %s" % (
            r["mode"], " ".join(str(b) for b in r["backlog_series"])))
        if r.get("left"):
            print("  %s: %d objects still unstaged after %.0f s without progress"
                  % (r["mode"], r["left"], a.settle))


if __name__ == "__main__":
    main()
