#!/usr/bin/env python3
"""bench/soak.py - the soak benchmark: sustained ingest with queries on the side.

Starts firelake (embedded PostgreSQL, local storage, 127.0.0.1 on a free
port), finds its peak ingest rate with a short flat-out loadgen run (or
takes --rate), then runs loadgen at --load (50%) of that peak for
--duration seconds (1800) while

  * an Athena query (count of the last hour's events of one event_type)
    is started every --query-every seconds (5) and followed to its end,
  * firelake's RSS, threads and open files, and PostgreSQL's summed RSS,
    are sampled every 5 s.

It writes, under --out (bench/results/soak-<date>/ by default):
  load.csv     t, events/s, total, errors, failed, p99 ack latency (ms) of each second
  samples.csv  t, firelake RSS MiB, threads, open fds, postgres RSS MiB
  queries.csv  t, state, submit->end seconds
  soak.png     throughput, p99 latency and RSS over time (gnuplot, when installed)
and prints a summary: the first and last five minutes side by side
(RSS, fds, threads, p99), errors, failed queries.  A benchmark, not a test:
it prints figures and asserts nothing; the exit status says only whether
every step ran.

    bench/soak.py                                   # 30 minutes
    bench/soak.py --duration 120 --rate 20000       # a short look
"""
import argparse
import csv
import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRESS = re.compile(r"^\[\s*([0-9.]+)s\]\s+(\d+) ev/s\s+total\s+(\d+)\s+errors\s+(\d+)"
                      r"\s+failed\s+(\d+)\s+p99\s+[0-9.]+ ms\s+\(this second: p99 ([0-9.]+) ms\)")


def log(msg):
    print("== " + msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    """(RSS MiB, threads) of a process, or None when it is gone."""
    try:
        rss = threads = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024.0
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
        return rss, threads
    except OSError:
        return None


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def postgres_rss(data_dir):
    """Summed RSS (MiB) of the embedded cluster's processes."""
    master = None
    for dirpath, _, files in os.walk(os.path.join(data_dir, "pg")):
        if "postmaster.pid" in files:
            try:
                with open(os.path.join(dirpath, "postmaster.pid")) as f:
                    master = int(f.readline())
            except (OSError, ValueError):
                pass
            break
    if master is None:
        return 0.0
    total = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            pid, ppid = int(d), int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
        if pid == master or ppid == master:
            st = proc_status(pid)
            if st:
                total += st[0]
    return total


class Firelake:
    def __init__(self, binary, data_dir, args):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.data_dir = data_dir
        self.log_path = os.path.join(data_dir, "firelake.log")
        os.makedirs(data_dir, exist_ok=True)
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(
                [binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
                 "--data-dir", data_dir] + args, stdout=logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("firelake exited: see " + self.log_path)
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("firelake did not become healthy")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def loadgen(binary, url, rate, duration, out_path, extra):
    cmd = [binary, "--url", url, "--rate", str(rate), "--duration", str(duration)] + extra
    with open(out_path, "w") as out:
        return subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode


def parse_progress(path):
    rows = []
    with open(path) as f:
        for line in f:
            m = PROGRESS.match(line)
            if m:
                rows.append((float(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]),
                             float(m[6])))
    return rows


def peak_rate(binary, url, tmp, extra):
    path = os.path.join(tmp, "peak.txt")
    loadgen(binary, url, 0, 20, path, extra)
    rows = parse_progress(path)[3:]  # skip the warm-up seconds
    return int(sum(r[1] for r in rows) / max(1, len(rows)))


def querier(url, every, stop, rows):
    import boto3
    from botocore.config import Config
    athena = boto3.client("athena", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="soak", aws_secret_access_key="soak",
                          config=Config(retries={"max_attempts": 0}))
    t0 = time.time()
    while not stop.is_set():
        start = time.time()
        hour = datetime.datetime.utcfromtimestamp(start - 3600)
        sql = ("SELECT count(*) FROM events WHERE event_type = 'payment' AND dt = '%s' "
               "AND hour >= '%s'" % (hour.strftime("%Y-%m-%d"), hour.strftime("%H")))
        state = "ERROR"
        try:
            qid = athena.start_query_execution(
                QueryString=sql, QueryExecutionContext={"Database": "default"})["QueryExecutionId"]
            while True:
                st = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
                state = st["Status"]["State"]
                if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
                    break
                time.sleep(0.05)
        except Exception as e:  # a failed call is a figure, not a crash
            state = "ERROR:" + type(e).__name__
        rows.append((round(start - t0, 1), state, round(time.time() - start, 3)))
        stop.wait(max(0.0, every - (time.time() - start)))


def sampler(fl, stop, rows):
    t0 = time.time()
    while not stop.is_set():
        st = proc_status(fl.proc.pid)
        if not st:
            break
        rows.append((round(time.time() - t0, 1), round(st[0], 1), st[1], open_fds(fl.proc.pid),
                     round(postgres_rss(fl.data_dir), 1)))
        stop.wait(5)


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def plot(out_dir):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        log("gnuplot not found (apt-get install gnuplot-nox): no soak.png")
        return
    script = """
set terminal pngcairo size 1200,900 font ",10"
set output '{out}/soak.png'
set datafile separator ','
set key autotitle columnhead
set multiplot layout 3,1 title 'firelake soak: ingest at a fixed rate, a query every 5 s'
set xlabel 'seconds'
set ylabel 'events/s'
plot '{out}/load.csv' using 1:2 with lines title 'acknowledged events/s'
set ylabel 'ms'
plot '{out}/load.csv' using 1:6 with lines title 'p99 ack latency (per second)'
set ylabel 'MiB'
set y2label 'count'
set y2tics
plot '{out}/samples.csv' using 1:2 with lines title 'firelake RSS', \\
     '{out}/samples.csv' using 1:5 with lines title 'postgres RSS (summed)', \\
     '{out}/samples.csv' using 1:4 axes x1y2 with lines title 'firelake open fds', \\
     '{out}/samples.csv' using 1:3 axes x1y2 with lines title 'firelake threads'
unset multiplot
""".format(out=out_dir)
    r = subprocess.run([gnuplot], input=script, text=True, capture_output=True)
    if r.returncode != 0:
        # pngcairo may be missing (gnuplot-nox has it; some builds do not)
        r = subprocess.run([gnuplot], input=script.replace("pngcairo", "png"), text=True,
                           capture_output=True)
    if r.returncode != 0:
        log("gnuplot failed: " + r.stderr.strip())


def window(rows, t_col, lo, hi):
    return [r for r in rows if lo <= r[t_col] < hi]


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=1800)
    ap.add_argument("--rate", type=int, default=0, help="events/s; 0: --load of the measured peak")
    ap.add_argument("--load", type=float, default=0.5)
    ap.add_argument("--query-every", type=float, default=5.0)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--firelake-args", default="")
    ap.add_argument("--loadgen-args", default="--connections 8 --batch 500")
    ap.add_argument("--out", default="")
    a = ap.parse_args()

    binary = os.path.join(a.build_dir, "firelake")
    lg = os.path.join(a.build_dir, "bench", "loadgen")
    for p in (binary, lg):
        if not os.access(p, os.X_OK):
            log("missing %s (ninja -C %s firelake bench/loadgen)" % (p, a.build_dir))
            return 1
    out_dir = a.out or os.path.join(ROOT, "bench", "results",
                                    "soak-" + datetime.date.today().isoformat())
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="firelake-soak.")
    extra = a.loadgen_args.split()
    fl = None
    stop = threading.Event()
    try:
        fl = Firelake(binary, os.path.join(tmp, "data"), a.firelake_args.split())
        rate = a.rate
        if not rate:
            peak = peak_rate(lg, fl.url, tmp, extra)
            rate = max(1000, int(peak * a.load))
            log("peak %d events/s; soaking at %d events/s for %d s" % (peak, rate, a.duration))
        samples, queries = [], []
        threads = [threading.Thread(target=sampler, args=(fl, stop, samples)),
                   threading.Thread(target=querier, args=(fl.url, a.query_every, stop, queries))]
        for t in threads:
            t.start()
        lg_out = os.path.join(tmp, "soak-loadgen.txt")
        rc = loadgen(lg, fl.url, rate, a.duration, lg_out, extra)
        stop.set()
        for t in threads:
            t.join()
        load = parse_progress(lg_out)
        write_csv(os.path.join(out_dir, "load.csv"),
                  ["t_s", "events_per_s", "total", "errors", "failed", "p99_ms"], load)
        write_csv(os.path.join(out_dir, "samples.csv"),
                  ["t_s", "firelake_rss_mib", "threads", "open_fds", "postgres_rss_mib"], samples)
        write_csv(os.path.join(out_dir, "queries.csv"), ["t_s", "state", "seconds"], queries)
        plot(out_dir)

        span = min(300, a.duration // 3)
        first, last = (0, span), (a.duration - span, a.duration + 1)
        print("\nsoak: %d s at %d events/s (loadgen exit %d), results in %s"
              % (a.duration, rate, rc, out_dir))
        print("%-28s %14s %14s" % ("", "first %ds" % span, "last %ds" % span))
        for name, rows, col, tcol in (("firelake RSS MiB (median)", samples, 1, 0),
                                      ("firelake threads (max)", samples, 2, 0),
                                      ("firelake open fds (max)", samples, 3, 0),
                                      ("postgres RSS MiB (median)", samples, 4, 0),
                                      ("events/s (median)", load, 1, 0),
                                      ("p99 ack ms (median of s)", load, 5, 0)):
            f = [r[col] for r in window(rows, tcol, *first)]
            l = [r[col] for r in window(rows, tcol, *last)]
            agg = max if "max" in name else median
            print("%-28s %14s %14s" % (name, agg(f) if f else "-", agg(l) if l else "-"))
        errors = load[-1][3] if load else -1
        failed = load[-1][4] if load else -1
        bad = [q for q in queries if q[1] != "SUCCEEDED"]
        print("acknowledged %s events; request errors %s, failed records %s"
              % (load[-1][2] if load else "?", errors, failed))
        print("queries: %d, not SUCCEEDED %d, submit->end median %.3f s, max %.3f s"
              % (len(queries), len(bad), median([q[2] for q in queries]),
                 max([q[2] for q in queries] or [0])))
        for q in bad[:5]:
            print("  query at %s s: %s" % (q[0], q[1]))
        return 0
    finally:
        stop.set()
        if fl:
            fl.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
