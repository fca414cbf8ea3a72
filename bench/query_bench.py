#!/usr/bin/env python3
"""bench/query_bench.py - the query benchmark: firelake's Athena engine
against DuckDB over the same lake objects.

Driven by bench/query_bench.sh (which finds the binaries and installs
DuckDB); runs on its own too:

    bench/query_bench.py --firelake build/firelake --n 2000000 \
        --duckdb-script bench/query_bench_duckdb.mjs --node-path /tmp/x/node_modules

Steps, all on 127.0.0.1, every process started here stopped on exit:

 1. firelake serve on a scratch data dir (embedded PostgreSQL).
 2. N seed-shaped events into the default stream "events" with
    PutRecordBatch: newline-separated NDJSON, about 1,000,000 bytes per
    record, 4 records per request, over keep-alive connections.  Wait
    until GET /metrics says firelake_wal_pending_bytes 0 (delivered),
    then until eager staging stops making progress.
 3. Per query: cold (stage tables emptied as a PostgreSQL crash empties
    them, firelake restarted) then --runs warm runs; submit -> SUCCEEDED
    wall time, EngineExecutionTimeInMillis, DataScannedInBytes.  Then a
    one-partition query, warm.
 4. firelake stopped; DuckDB (node, @duckdb/node-api) runs the same
    queries over the same objects with 2 threads.
 5. A table and the side figures (load rate, eager-staging lag, staged
    bytes per event, peak memory, load average).

The events.  100 names "<type>:<subtype>[:<x>]" (20 types x 5
subtypes), created_at uniform over one UTC day (--day), a nested payload
{amount, currency, items}.  So that generating them costs little next to
the server, the non-uuid part of each event comes from a few templates of
2^17 events made before the clock starts; event_uuid is unique across
the run (8 hex digits of the block number, the rest unique within the
block).  Payloads thus repeat every few hundred thousand events, far
beyond gzip's 32 KiB window: compression and staging see no help from it.
"""
import argparse
import base64
import datetime
import http.client
import json
import os
import queue
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

TYPES = ["payment", "login", "search", "cart", "checkout", "profile", "message", "video",
         "feed", "ad", "notify", "invite", "upload", "share", "review", "coupon", "support",
         "settings", "session", "wallet"]
SUBTYPES = ["order", "refund", "view", "click", "error"]
THIRD = [":completed", "", ":failed", "", ""]
NAMES = ["%s:%s%s" % (t, s, THIRD[j]) for t in TYPES for j, s in enumerate(SUBTYPES)]
CURRENCIES = ["USD", "EUR", "BRL", "GBP", "JPY"]

TEMPLATE_EVENTS = 1 << 17
TEMPLATES = 4
RECORD_BYTES = 1_000_000          # < 1,024,000 decoded bytes per record
RECORDS_PER_REQUEST = 4           # 4 MB < 4 MiB per request
HEAD = '{"event_uuid":"'

LOG_LOCK = threading.Lock()


def log(msg):
    with LOG_LOCK:
        print("== " + msg, file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---- the events -------------------------------------------------------------

class Templates:
    """TEMPLATES lists of event tails (everything after the uuid's first 8
    hex digits) and, per template, the record boundaries."""

    def __init__(self, day_start, seed):
        rng = random.Random(seed)
        r = rng.random
        self.rests = []
        self.records = []        # per template: [(a, b)] event slots per record
        for t in range(TEMPLATES):
            rests = []
            for j in range(TEMPLATE_EVENTS):
                # unique per slot of the template: j in the first two groups
                uid = "%04x-4%03x-a%03x-%012x" % ((j * 40503) & 0xffff,
                                                  (j >> 16) << 8 | rng.getrandbits(8),
                                                  rng.getrandbits(12), rng.getrandbits(48))
                c = int(r() * 100000)
                rests.append('%s","event_name":"%s","created_at":%d,"payload":{"amount":%d.%02d,'
                             '"currency":"%s","items":%d}}\n'
                             % (uid, NAMES[int(r() * 100)], day_start + int(r() * 86400),
                                c // 100, c % 100, CURRENCIES[int(r() * 5)], 1 + int(r() * 9)))
            recs, a, size = [], 0, 0
            for j, rest in enumerate(rests):
                n = len(HEAD) + 9 + len(rest)
                if size + n > RECORD_BYTES:
                    recs.append((a, j))
                    a, size = j, 0
                size += n
            recs.append((a, len(rests)))
            self.rests.append(rests)
            self.records.append(recs)

    def requests(self, n, stream):
        """Yields (body bytes, events) until n events are made."""
        made, block = 0, 0
        while made < n:
            t = block % TEMPLATES
            prefix = "%08x-" % ((block * 0x9E3779B1) & 0xffffffff)
            head = HEAD + prefix
            rests = self.rests[t]
            batch, count = [], 0
            for a, b in self.records[t]:
                if made + count >= n:
                    break
                b = min(b, a + n - made - count)
                data = head + head.join(rests[a:b])
                batch.append(base64.b64encode(data.encode()).decode())
                count += b - a
                if len(batch) == RECORDS_PER_REQUEST:
                    yield body_of(stream, batch), count
                    made += count
                    batch, count = [], 0
            if batch:
                yield body_of(stream, batch), count
                made += count
            block += 1


def body_of(stream, datas):
    return ('{"DeliveryStreamName":"%s","Records":[%s]}'
            % (stream, ",".join('{"Data":"%s"}' % d for d in datas))).encode()


def failed_body(stream, body, resp):
    """A body of the records the response says failed."""
    recs = json.loads(body)["Records"]
    bad = [recs[i]["Data"] for i, rr in enumerate(resp.get("RequestResponses", []))
           if rr.get("ErrorCode")]
    return body_of(stream, bad) if bad else None


class Loader:
    def __init__(self, port, stream, conns):
        self.port, self.stream, self.conns = port, stream, conns
        self.q = queue.Queue(maxsize=conns * 2)
        self.acked = 0
        self.retries = 0
        self.errors = []
        self.lock = threading.Lock()

    def sender(self):
        conn = None
        while True:
            item = self.q.get()
            if item is None:
                return
            body, events = item
            backoff = 0.05
            while body is not None:
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
                    conn.request("POST", "/", body, {
                        "Content-Type": "application/x-amz-json-1.1",
                        "X-Amz-Target": "Firehose_20150804.PutRecordBatch"})
                    r = conn.getresponse()
                    data = r.read()
                    status = r.status
                except (OSError, http.client.HTTPException) as e:
                    if conn is not None:
                        conn.close()
                    conn = None
                    status, data = 0, str(e).encode()
                if status == 200:
                    resp = json.loads(data)
                    if resp.get("FailedPutCount", 0) == 0:
                        body = None
                        break
                    body = failed_body(self.stream, body, resp)
                elif status not in (0, 500, 503):
                    with self.lock:
                        self.errors.append("HTTP %d: %s" % (status, data[:300]))
                    return
                with self.lock:
                    self.retries += 1
                time.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            with self.lock:
                self.acked += events

    def run(self, templates, n):
        threads = [threading.Thread(target=self.sender, daemon=True) for _ in range(self.conns)]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        last = t0
        made = 0
        for body, events in templates.requests(n, self.stream):
            self.q.put((body, events))
            made += events
            if self.errors:
                break
            now = time.monotonic()
            if now - last >= 10:
                log("load: %d events acked, %.0f events/s" % (self.acked, self.acked / (now - t0)))
                last = now
        for _ in threads:
            self.q.put(None)
        for t in threads:
            t.join()
        if self.errors:
            raise RuntimeError("load failed: " + self.errors[0])
        return time.monotonic() - t0


# ---- processes and memory ----------------------------------------------------

def proc_status(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def proc_pss(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


class Sampler:
    """Once a second: the firelake's VmHWM and the summed PSS / RSS of its
    descendants (the embedded PostgreSQL), peaks per phase."""

    def __init__(self):
        self.pid = None
        self.phase = "load"
        self.peaks = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def note(self, fl_kb, pg_pss, pg_rss):
        p = self.peaks.setdefault(self.phase, [0, 0, 0])
        p[0], p[1], p[2] = max(p[0], fl_kb), max(p[1], pg_pss), max(p[2], pg_rss)

    def sample(self):
        pid = self.pid
        if pid is None:
            return
        fl = max(proc_status(pid, "VmHWM"), proc_status(pid, "VmRSS"))
        kids = descendants(pid)
        self.note(fl, sum(proc_pss(k) for k in kids), sum(proc_status(k, "VmRSS") for k in kids))

    def loop(self):
        while not self.stop.wait(1.0):
            self.sample()


class Firelake:
    def __init__(self, binary, data_dir, log_path, sampler, extra):
        self.binary, self.data_dir, self.log_path = binary, data_dir, log_path
        self.sampler, self.extra = sampler, extra
        self.proc = None
        self.port = None

    def start(self, timeout=180):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        logf = open(self.log_path, "ab")
        cmd = [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
               "--data-dir", self.data_dir] + self.extra
        log("starting " + " ".join(cmd))
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        self.sampler.pid = self.proc.pid
        # For bench/query_bench.sh, which stops it if this script cannot.
        with open(os.path.join(self.data_dir, "firelake.pid"), "w") as f:
            f.write("%d\n" % self.proc.pid)
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError("firelake exited with %d; see %s" % (self.proc.returncode,
                                                                         self.log_path))
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        log("firelake up after %.1f s" % (time.monotonic() - t0))
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("firelake /health did not answer within %d s" % timeout)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc is None:
            return
        self.sampler.sample()
        self.sampler.pid = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                log("firelake did not stop within 60 s of SIGTERM; killing it")
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        # A killed firelake leaves its PostgreSQL running: stop it too.
        pidfile = os.path.join(self.data_dir, "pg", "data", "postmaster.pid")
        try:
            with open(pidfile) as f:
                pid = int(f.readline())
            os.kill(pid, signal.SIGQUIT)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.1)
        except (OSError, ValueError):
            pass

    def metric(self, series):
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            for line in r.read().decode().splitlines():
                name, _, value = line.rpartition(" ")
                if name == series:
                    return float(value)
        return None

    def psql(self, sql):
        """Rows of sql run on the embedded cluster (superuser, its socket)."""
        with open(os.path.join(self.data_dir, "pg", "data", "postmaster.pid")) as f:
            lines = f.read().splitlines()
        sockdir, port = lines[4], lines[3]
        out = subprocess.run(["psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1",
                              "-h", sockdir, "-p", port, "-U", "firelake", "-d", "firelake",
                              "-c", sql], check=True, capture_output=True, text=True)
        return [ln.split("|") for ln in out.stdout.splitlines() if ln]


# ---- Athena -------------------------------------------------------------------

class Athena:
    def __init__(self, url):
        import boto3
        from botocore.config import Config
        self.c = boto3.client("athena", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test",
                              config=Config(retries={"max_attempts": 0}, read_timeout=600))

    def run(self, sql, timeout=3600):
        """(wall s, engine ms, scanned bytes, rows) of one query."""
        t0 = time.monotonic()
        qid = self.c.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": "default"})["QueryExecutionId"]
        while True:
            qe = self.c.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            state = qe["Status"]["State"]
            if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
                break
            el = time.monotonic() - t0
            if el > timeout:
                raise RuntimeError("query did not finish in %d s: %s" % (timeout, sql))
            time.sleep(0.01 if el < 2 else 0.05 if el < 20 else 0.2)
        wall = time.monotonic() - t0
        if state != "SUCCEEDED":
            raise RuntimeError("%s: %s" % (sql, qe["Status"]))
        st = qe.get("Statistics", {})
        rows, token = [], None
        while True:
            kw = {"QueryExecutionId": qid}
            if token:
                kw["NextToken"] = token
            page = self.c.get_query_results(**kw)
            rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
            token = page.get("NextToken")
            if not token:
                break
        return wall, st.get("EngineExecutionTimeInMillis"), st.get("DataScannedInBytes"), rows[1:]


# ---- the benchmark ---------------------------------------------------------------

def queries(day, hour, etype):
    d = datetime.datetime.strptime(day, "%Y-%m-%d")
    h0 = d + datetime.timedelta(hours=hour)
    h1 = h0 + datetime.timedelta(hours=1)
    ts = "%Y-%m-%d %H:%M:%S"
    return [
        ("Q1", "SELECT event_type, count(*) FROM events GROUP BY 1"),
        ("Q2", "SELECT count(DISTINCT event_uuid) FROM events"),
        ("Q3", "SELECT event_subtype, count(*) FROM events WHERE created_datetime >= "
               "TIMESTAMP '%s' AND created_datetime < TIMESTAMP '%s' GROUP BY 1"
               % (h0.strftime(ts), h1.strftime(ts))),
        ("Q4", "SELECT sum(payload.amount) FROM events WHERE event_type = '%s'" % etype),
        ("P1", "SELECT count(*), sum(payload.amount) FROM events WHERE event_type = '%s' "
               "AND dt = '%s' AND hour = '%02d'" % (etype, day, hour)),
    ]


def canon(rows):
    """Rows as a comparable value: {key: number} or a tuple of numbers."""
    def num(v):
        if v is None:
            return None
        f = float(v)
        return round(f, 2)
    if rows and len(rows[0]) == 2 and not _isnum(rows[0][0]):
        return {r[0]: num(r[1]) for r in rows}
    return tuple(num(v) for r in rows for v in r)


def _isnum(v):
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def same(a, b):
    if isinstance(a, dict) != isinstance(b, dict):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same((a[k],), (b[k],)) for k in a)
    return len(a) == len(b) and all(
        x == y or (x is not None and y is not None and abs(x - y) <= 1e-6 * max(1, abs(x)))
        for x, y in zip(a, b))


def stage_state(fl):
    (objs, staged, first, last), = fl.psql(
        "SELECT (SELECT count(*) FROM fl_objects WHERE stream = 'events' AND kind = 'data'), "
        "(SELECT count(*) FROM fl_stage_objects), "
        "(SELECT coalesce(extract(epoch FROM min(delivered_at)), 0) FROM fl_objects), "
        "(SELECT coalesce(extract(epoch FROM max(delivered_at)), 0) FROM fl_objects)")
    return int(objs), int(staged), float(first), float(last)


def staged_bytes(fl):
    (b,), = fl.psql("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'default' AND c.relkind IN ('r', 'm')")
    return int(b)


def lake_lines(data_dir):
    """NDJSON lines and objects under <data-dir>/lake/lake/raw/events."""
    import gzip
    lines = objects = 0
    for dp, _, files in os.walk(os.path.join(data_dir, "lake", "lake", "raw", "events")):
        for f in files:
            if f.endswith(".gz"):
                with gzip.open(os.path.join(dp, f), "rb") as g:
                    for chunk in iter(lambda: g.read(1 << 20), b""):
                        lines += chunk.count(b"\n")
                objects += 1
    return lines, objects


def make_cold(fl):
    """Empties the staged lake as a PostgreSQL crash does (the UNLOGGED
    leaves and fl_stage_epoch), then restarts firelake: its start finds no
    epoch and forgets what fl_stage_* says was staged."""
    fl.psql('BEGIN; TRUNCATE "default"."events"; DELETE FROM fl_stage_epoch; COMMIT')
    fl.stop()
    fl.sampler.phase = "queries"
    fl.start()
    (n,), = fl.psql("SELECT count(*) FROM fl_stage_objects")
    b = staged_bytes(fl)
    if int(n) != 0:
        raise RuntimeError("not cold after restart: %s staged objects" % n)
    return b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--firelake", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--day", default="2026-01-01")
    ap.add_argument("--hour", type=int, default=12)
    ap.add_argument("--type", default="payment")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--firelake-arg", action="append", default=[])
    ap.add_argument("--duckdb-script")
    ap.add_argument("--node-path", help="node_modules holding @duckdb/node-api")
    ap.add_argument("--duckdb-threads", type=int, default=2)
    ap.add_argument("--stage-settle", type=float, default=30,
                    help="seconds without eager-staging progress that end the wait")
    a = ap.parse_args()

    os.makedirs(a.data_dir, exist_ok=True)
    sampler = Sampler()
    fl = Firelake(a.firelake, a.data_dir, os.path.join(a.data_dir, "firelake.log"), sampler,
                  a.firelake_arg)
    notes = []
    report = {"n": a.n, "loadavg": {"start": loadavg()}}
    qs = queries(a.day, a.hour, a.type)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    try:
        day_start = int(datetime.datetime.strptime(a.day, "%Y-%m-%d").replace(
            tzinfo=datetime.timezone.utc).timestamp())
        t = time.monotonic()
        templates = Templates(day_start, a.seed)
        log("templates: %d x %d events in %.1f s" % (TEMPLATES, TEMPLATE_EVENTS,
                                                     time.monotonic() - t))
        fl.start()

        # ---- load ----
        log("load: %d events, %d connections" % (a.n, a.connections))
        t_load0 = time.time()
        load_s = Loader(fl.port, "events", a.connections).run(templates, a.n)
        log("load: acked in %.1f s (%.0f events/s)" % (load_s, a.n / load_s))
        while fl.metric("firelake_wal_pending_bytes") != 0:
            time.sleep(0.2)
        t_deliv = time.time()
        deliv_s = t_deliv - t_load0
        log("load: delivered after %.1f s" % deliv_s)
        report["loadavg"]["after load"] = loadavg()

        # ---- eager staging ----
        last, since = -1, time.monotonic()
        while True:
            objs, staged, first_d, last_d = stage_state(fl)
            if staged != last:
                last, since = staged, time.monotonic()
            if staged >= objs or time.monotonic() - since > a.stage_settle:
                break
            time.sleep(1)
        t_staged = time.time()
        lag = fl.psql(
            "SELECT count(*), "
            "coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "
            "s.staged_at - o.delivered_at)), 0), "
            "coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM "
            "s.staged_at - o.delivered_at)), 0), "
            "coalesce(max(extract(epoch FROM s.staged_at - o.delivered_at)), 0), "
            "coalesce(extract(epoch FROM max(s.staged_at)), 0) "
            "FROM fl_objects o JOIN fl_stage_objects s USING (bucket, key)")[0]
        eager_bytes = staged_bytes(fl)
        (eager_rows,), = fl.psql("SELECT coalesce(sum(staged_rows), 0) FROM fl_stage_partitions")
        (nparts,), = fl.psql("SELECT count(*) FROM fl_stage_partitions")
        (lake_bytes,), = fl.psql("SELECT sum(bytes) FROM fl_objects WHERE stream = 'events' "
                                 "AND kind = 'data'")
        report["eager"] = {
            "objects": objs, "staged_objects": int(lag[0]),
            "lag_p50_s": float(lag[1]), "lag_p99_s": float(lag[2]), "lag_max_s": float(lag[3]),
            "staged_after_last_delivery_s": max(0.0, float(lag[4]) - last_d),
            "staged_rows": int(eager_rows), "staged_bytes": eager_bytes,
            "partitions": int(nparts), "lake_bytes": int(lake_bytes or 0),
        }
        report["load"] = {"acked_s": load_s, "delivered_s": deliv_s,
                          "events_per_s": a.n / load_s, "delivered_events_per_s": a.n / deliv_s}
        log("eager staging: %d of %d objects staged, %d rows, %.1f MiB"
            % (int(lag[0]), objs, int(eager_rows), eager_bytes / 2**20))
        if int(eager_rows) != a.n:
            notes.append("eager staging staged %d of %d events (%d of %d objects) before the "
                         "queries" % (int(eager_rows), a.n, int(lag[0]), objs))
        _ = t_staged

        # ---- firelake queries ----
        fl_res = {}
        answers = {}
        report["loadavg"]["before queries"] = loadavg()
        for name, sql in qs:
            cold = None
            if name != "P1":
                # What empty leaves take (a BRIN index each): not data.
                report["empty_bytes"] = make_cold(fl)
                ath = Athena(fl.url)
                cold = ath.run(sql)
                log("%s cold: %.3f s (engine %s ms, scanned %s B)" % (name, *cold[:3]))
                answers[name] = canon(cold[3])
            else:
                ath = Athena(fl.url)
                first = ath.run(sql)
                answers[name] = canon(first[3])
                log("%s first: %.3f s" % (name, first[0]))
            warm = [ath.run(sql) for _ in range(a.runs)]
            for w in warm:
                if not same(canon(w[3]), answers[name]):
                    notes.append("%s: a warm run answered differently from the first" % name)
            fl_res[name] = {"cold": cold[:3] if cold else None,
                            "warm": [w[:3] for w in warm]}
            log("%s warm: %s s" % (name, " ".join("%.3f" % w[0] for w in warm)))
            if name == "Q1":
                report["staged_bytes_all"] = staged_bytes(fl)
        report["loadavg"]["after queries"] = loadavg()
        fl.stop()

        # ---- the lake as DuckDB will see it ----
        lines, objects = lake_lines(a.data_dir)
        report["lake_lines"] = (lines, objects)
        if lines != a.n:
            notes.append("the lake objects hold %d lines in %d objects, not %d"
                         % (lines, objects, a.n))

        # ---- DuckDB ----
        duck = None
        if a.duckdb_script:
            sampler.phase = "duckdb"
            glob = os.path.join(a.data_dir, "lake", "lake", "raw", "events", "**", "*.gz")
            spec = {"glob": glob, "threads": a.duckdb_threads, "runs": a.runs,
                    "queries": [[n, s] for n, s in qs]}
            env = dict(os.environ)
            if a.node_path:
                env["NODE_PATH"] = a.node_path
            log("duckdb: node %s (%d threads)" % (a.duckdb_script, a.duckdb_threads))
            p = subprocess.Popen(["node", a.duckdb_script], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, env=env)
            out, _ = p.communicate(json.dumps(spec).encode())
            if p.returncode != 0:
                notes.append("duckdb: node exited with %d" % p.returncode)
            else:
                duck = json.loads(out)
                report["duckdb_rss_mib"] = duck.get("peak_rss_mib")
                for name, _ in qs:
                    if not same(canon(duck["results"][name]), answers.get(name)):
                        notes.append("%s: DuckDB answered %r, firelake %r"
                                     % (name, canon(duck["results"][name]), answers.get(name)))
            report["loadavg"]["after duckdb"] = loadavg()
        report_print(a, report, fl_res, duck, sampler, notes)
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        fl.stop()
        sampler.stop.set()


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(v, spec="%.3f"):
    return "-" if v is None else spec % v


def report_print(a, rep, fl_res, duck, sampler, notes):
    ld, eg = rep["load"], rep["eager"]
    print()
    print("query benchmark: N=%d events, %d cores, %s; firelake warm and DuckDB = median of %d"
          % (a.n, os.cpu_count(), " ".join(os.uname()[i] for i in (0, 2)), a.runs))
    rows = [["query", "fl cold s", "fl warm s", "fl warm engine ms", "scanned MB",
             "duck cold s", "duck warm s", "fl/duck cold", "fl/duck warm"]]
    for name, _ in queries(a.day, a.hour, a.type):
        r = fl_res.get(name)
        if not r:
            continue
        cold = r["cold"][0] if r["cold"] else None
        warm = med([w[0] for w in r["warm"]])
        eng = med([w[1] for w in r["warm"] if w[1] is not None])
        scanned = r["warm"][0][2] if r["warm"] else None
        dc = dw = None
        if duck:
            dc = duck["times"][name]["first"]
            dw = med(duck["times"][name]["runs"])
        rows.append([name, fmt(cold), fmt(warm), fmt(eng, "%.0f"),
                     fmt(scanned / 1e6 if scanned is not None else None, "%.1f"),
                     fmt(dc), fmt(dw),
                     fmt(cold / dc if cold is not None and dc else None, "%.2fx"),
                     fmt(warm / dw if dw else None, "%.2fx")])
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r)))
    for name, _ in queries(a.day, a.hour, a.type):
        r = fl_res.get(name)
        if r and r["cold"]:
            print("  %s cold: engine %s ms, scanned %.1f MB" % (
                name, r["cold"][1], (r["cold"][2] or 0) / 1e6))
    print("load: %.0f events/s acked (%.1f s), %.0f events/s delivered (%.1f s to "
          "firelake_wal_pending_bytes 0); %.1f MB of objects, %.1f bytes/event"
          % (ld["events_per_s"], ld["acked_s"], ld["delivered_events_per_s"], ld["delivered_s"],
             eg["lake_bytes"] / 1e6, eg["lake_bytes"] / a.n))
    print("eager staging: %d of %d objects (%d events) staged; lag delivered->staged per object "
          "p50 %.1f s, p99 %.1f s, max %.1f s; last staged %.1f s after the last delivery"
          % (eg["staged_objects"], eg["objects"], eg["staged_rows"], eg["lag_p50_s"],
             eg["lag_p99_s"], eg["lag_max_s"], eg["staged_after_last_delivery_s"]))
    allb = rep.get("staged_bytes_all")
    empty = rep.get("empty_bytes", 0)
    print("staged bytes (pg_total_relation_size of the lake tables): %.1f MiB after eager "
          "staging (%.0f B/event staged)%s; %.1f MiB of it is what the %d leaves take empty "
          "(%.0f B/event without it)"
          % (eg["staged_bytes"] / 2**20,
             eg["staged_bytes"] / eg["staged_rows"] if eg["staged_rows"] else 0,
             "; %.1f MiB after cold Q1 staged all (%.0f B/event)"
             % (allb / 2**20, allb / a.n) if allb else "",
             empty / 2**20, eg["partitions"], ((allb or eg["staged_bytes"]) - empty) / a.n))
    if rep.get("lake_lines"):
        print("lake check before DuckDB: %d NDJSON lines in %d objects" % rep["lake_lines"])
    for phase, (flk, pss, rss) in sampler.peaks.items():
        if phase == "duckdb":
            continue
        print("peak memory (%s): firelake %.0f MiB (VmHWM); postgres %.0f MiB PSS summed "
              "(%.0f MiB RSS summed, shared buffers counted per process)"
              % (phase, flk / 1024, pss / 1024, rss / 1024))
    if rep.get("duckdb_rss_mib") is not None:
        print("peak memory (duckdb): node %.0f MiB (maxrss)" % rep["duckdb_rss_mib"])
    print("load average: " + "; ".join("%s %s" % kv for kv in rep["loadavg"].items()))
    for n in notes:
        print("note: " + n)


if __name__ == "__main__":
    sys.exit(main())
