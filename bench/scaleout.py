#!/usr/bin/env python3
"""bench/scaleout.py - two firelake processes on one PostgreSQL catalog and
one bucket (the scale-out layout): ingest through both, queries claimed by
both, no duplicate work, and the aggregate throughput.

    ninja -C build firelake bench/loadgen && bench/scaleout.py
    DURATION=10 QUERIES=20 BUILD_DIR=build-x bench/scaleout.py
    KEEP_TMP=1 bench/scaleout.py --duration 60

A benchmark, not a test: it prints figures (the report on stdout, progress
on stderr).  It also checks that the two nodes did no work twice and lost
nothing, and exits 1 when a check fails or a step could not run.

Steps, everything on 127.0.0.1 / unix sockets, every process started here
stopped on exit (also on Ctrl-C or an exception), the scratch dir removed
unless KEEP_TMP=1:

 1. One PostgreSQL server (initdb + postgres of `pg_config --bindir`, else
    /usr/lib/postgresql/<newest>/bin): unix socket in the scratch dir, no
    TCP, trust auth, superuser "firelake"; run as "postgres" (else
    "nobody") when this script runs as root.  Database "firelake".
 2. Two `firelake serve` processes started together: own --listen port,
    own --data-dir (each owns its WAL), the same --pg and the same
    --storage file://<scratch>/shared (one bucket directory), --log-level
    debug (the query engine logs "query <id>: running" at debug).
 3. Warm-up: loadgen at both nodes at once for WARMUP s (tables, the
    first partitions), then until both delivered and eager staging
    settled (every delivered object staged, no progress for 5 s, or
    SETTLE s).
 4. One node: two loadgens flat out at node 1 alone for DURATION s (node
    2 idle); wait until both nodes delivered (firelake_wal_pending_bytes 0
    on both) and eager staging settled.
 5. Both nodes: the same two loadgens, one per node, flat out, at once,
    DURATION s.  The client side is the same in steps 4 and 5; only the
    number of firelake processes differs.  The ratio is the events/s of
    step 5 to those of step 4.  Wait until both delivered.
 6. QUERIES Athena queries (boto3) started alternately at node 1 and node
    2 all at once, each polled through the other node; the catalog is
    sampled for the runner of RUNNING rows meanwhile.  Who ran each query
    comes from the "query <id>: running" lines of each node's log and,
    as a cross-check, from fl_athena_queries.runner, which an ended query
    keeps.
 7. Checks: every query SUCCEEDED, was run exactly once (one "running"
    line over both logs) and counted the events acknowledged; every
    event_uuid sent appears once in the lake objects (gunzip of every
    object under the shared directory); fl_objects lists each object
    once, exactly the objects on disk, with their line counts;
    fl_stage_objects holds each delivered object once with its rows;
    count(*) and count(DISTINCT event_uuid) through Athena equal the
    events acknowledged by all loadgen runs.

The machine has 2 cores: both nodes, PostgreSQL and the loadgens share
them, so the aggregate cannot double here; the figure shows what the
second node costs and whether it adds anything, not how it scales on
separate machines.

Environment (or the options of the same name): FIRELAKE_BIN, LOADGEN_BIN,
BUILD_DIR (build), DURATION (30), WARMUP (3), QUERIES (40), CONNECTIONS
(16, per loadgen), THREADS (2), BATCH (500), QUERY_THREADS (2 per node),
SETTLE (15: most seconds to wait for eager staging before each measured
run), FIRELAKE_ARGS (more `firelake serve` arguments), LOADGEN_ARGS,
PG_BINDIR, KEEP_TMP=1.
"""
import argparse
import collections
import gzip
import os
import pwd
import re
import shlex
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
UUID_RE = re.compile(rb'"event_uuid":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')
RUNNING_RE = re.compile(r"query ([0-9a-f-]{36}): running")
PG_PORT = 5432          # names the socket file only: no TCP
STARTUP_TIMEOUT = 180
DELIVERY_TIMEOUT = 300
QUERY_TIMEOUT = 900

LOG_LOCK = threading.Lock()
T0 = time.monotonic()


def log(msg):
    with LOG_LOCK:
        print("== [%5.1f s] %s" % (time.monotonic() - T0, msg), file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def child_env():
    """The environment of the servers: no FIRELAKE_* (firelake reads its
    options from there, and FIRELAKE_BIN is not one), no PG* (libpq)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("FIRELAKE_") and not k.startswith("PG")}


# ---- processes ----------------------------------------------------------------

def proc_children():
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
    return children


def cpu_s(pid, children=None):
    """CPU seconds of pid (user+sys, plus its reaped children), and of its
    live descendants when children (proc_children()) is given."""
    tck = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/stat" % p) as f:
                s = f.read()
            fields = s[s.rindex(")") + 2:].split()
            total += sum(int(x) for x in fields[11:15]) / tck
        except (OSError, ValueError):
            pass
        if children is not None:
            todo += children.get(p, [])
    return total


def stop_proc(proc, name, sig, wait_s, then=signal.SIGKILL):
    """Signals proc, waits wait_s, then sends `then` and waits again."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        log("%s did not stop within %d s; sending %s" % (name, wait_s, signal.Signals(then).name))
        proc.send_signal(then)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    except ProcessLookupError:
        pass


class Postgres:
    """One PostgreSQL server in <dir>: data/, sock/ (mode 0700), logs."""

    def __init__(self, tmp, bindir):
        self.dir = os.path.join(tmp, "pg")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.bindir = bindir
        self.proc = None
        self.uid = self.gid = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    pw = pwd.getpwnam(name)
                except KeyError:
                    continue
                self.uid, self.gid, self.user = pw.pw_uid, pw.pw_gid, name
                break
            else:
                raise RuntimeError("running as root, and there is no user postgres or nobody")

    def _drop(self):
        if self.uid is not None:
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)

    def _chown(self, path):
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)

    def start(self):
        os.makedirs(self.sock, mode=0o700)
        os.chmod(self.sock, 0o700)
        for p in (self.dir, self.sock):
            self._chown(p)
        with open(os.path.join(self.dir, "initdb.log"), "wb") as out:
            rc = subprocess.run([os.path.join(self.bindir, "initdb"), "-D", self.data,
                                 "--username=firelake", "--auth-local=trust",
                                 "--auth-host=reject", "--encoding=UTF8", "--locale=C",
                                 "--no-instructions"],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=self._drop, env=child_env(),
                                start_new_session=True).returncode
        if rc != 0:
            raise RuntimeError("initdb failed (%d): see %s/initdb.log (KEEP_TMP=1 keeps it)"
                               % (rc, self.dir))
        logf = open(os.path.join(self.dir, "postgres.log"), "wb")
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "postgres"), "-D", self.data, "-p", str(PG_PORT),
             "-c", "listen_addresses=", "-c", "unix_socket_directories=" + self.sock,
             "-c", "unix_socket_permissions=0700", "-c", "max_connections=200",
             "-c", "shared_buffers=128MB", "-c", "timezone=UTC", "-c", "log_timezone=UTC"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            preexec_fn=self._drop, env=child_env(), start_new_session=True)
        logf.close()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited with %d: see %s/postgres.log"
                                   % (self.proc.returncode, self.dir))
            if subprocess.run(["pg_isready", "-q", "-h", self.sock, "-p", str(PG_PORT)],
                              env=child_env()).returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("postgres did not answer within 60 s")
        self.psql("CREATE DATABASE firelake", db="postgres")
        log("PostgreSQL up (%s, socket %s, as %s)" % (self.bindir, self.sock,
                                                    getattr(self, "user", "this user")))

    @property
    def conninfo(self):
        return "host=%s port=%d dbname=firelake user=firelake" % (self.sock, PG_PORT)

    def psql(self, sql, db="firelake"):
        out = subprocess.run(["psql", "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1",
                              "-h", self.sock, "-p", str(PG_PORT), "-U", "firelake", "-d", db,
                              "-c", sql], capture_output=True, text=True, env=child_env())
        if out.returncode != 0:
            raise RuntimeError("psql: %s: %s" % (sql[:80], out.stderr.strip()))
        return [ln.split("|") for ln in out.stdout.splitlines() if ln]

    def cpu(self):
        if self.proc is None:
            return 0.0
        return cpu_s(self.proc.pid, proc_children())

    def stop(self):
        # SIGINT: fast shutdown; SIGQUIT: immediate.
        stop_proc(self.proc, "postgres", signal.SIGINT, 60, signal.SIGQUIT)


class Firelake:
    def __init__(self, n, binary, tmp, pg, shared, extra):
        self.n = n
        self.binary = binary
        self.data_dir = os.path.join(tmp, "node%d" % n)
        self.log_path = os.path.join(tmp, "node%d.log" % n)
        self.port = free_port()
        self.cmd = [binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
                    "--data-dir", self.data_dir, "--pg", pg.conninfo,
                    "--storage", "file://" + shared, "--log-level", "debug"] + extra
        self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def spawn(self):
        os.makedirs(self.data_dir, exist_ok=True)
        logf = open(self.log_path, "ab")
        log("node %d: %s" % (self.n, " ".join(shlex.quote(c) for c in self.cmd)))
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=logf,
                                     stderr=subprocess.STDOUT, cwd=self.data_dir,
                                     env=child_env(), start_new_session=True)
        logf.close()

    def wait_up(self, t0):
        while time.monotonic() - t0 < STARTUP_TIMEOUT:
            if self.proc.poll() is not None:
                raise RuntimeError("node %d exited with %d; see %s"
                                   % (self.n, self.proc.returncode, self.log_path))
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        log("node %d up after %.1f s (pid %d)" % (self.n, time.monotonic() - t0,
                                                                 self.proc.pid))
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("node %d: /health did not answer within %d s" % (self.n,
                                                                             STARTUP_TIMEOUT))

    def metrics(self):
        """{series: value} of GET /metrics."""
        out = {}
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("#") or " " not in line:
                    continue
                name, _, value = line.rpartition(" ")
                try:
                    out[name] = float(value)
                except ValueError:
                    pass
        return out

    def cpu(self):
        return cpu_s(self.proc.pid) if self.proc else 0.0

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        stop_proc(self.proc, "node %d" % self.n, signal.SIGTERM, 60)
        if self.proc is not None and self.proc.returncode not in (0, None):
            log("node %d exited with %d" % (self.n, self.proc.returncode))


# ---- load -------------------------------------------------------------------------

class Loadgen:
    def __init__(self, args, tmp, label, node, seed, duration, base_time):
        self.label, self.node = label, node
        self.out_path = os.path.join(tmp, "loadgen-%s.txt" % label)
        self.cmd = [args.loadgen, "--url", node.url, "--connections", str(args.connections),
                    "--threads", str(args.threads), "--batch", str(args.batch),
                    "--duration", str(duration), "--seed", str(seed),
                    "--base-time", str(base_time), "--quiet"] + shlex.split(args.loadgen_args)
        self.proc = None
        self.acked = 0
        self.result = {}

    def start(self):
        self.outf = open(self.out_path, "wb")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=self.outf,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self):
        rc = self.proc.wait()
        self.outf.close()
        with open(self.out_path, errors="replace") as f:
            text = f.read()
        m = re.search(r"^events acked\s+(\d+)", text, re.M)
        self.acked = int(m.group(1)) if m else 0
        m = re.search(r"^RESULT (.*)$", text, re.M)
        if m:
            self.result = dict(kv.split("=", 1) for kv in m.group(1).split())
        if rc != 0 or not m:
            raise RuntimeError("loadgen %s exited with %d: see %s" % (self.label, rc,
                                                                       self.out_path))
        return self

    def stop(self):
        stop_proc(self.proc, "loadgen " + self.label, signal.SIGINT, 40)

    def fig(self, key, default="-"):
        return self.result.get(key, default)


def run_load(args, tmp, label, pairs, duration, base_time, nodes, pg, running):
    """Runs one loadgen per (node, seed) at once; returns (loadgens, figures)."""
    lgs = [Loadgen(args, tmp, "%s-%d-node%d" % (label, i + 1, node.n), node, seed, duration,
                   base_time) for i, (node, seed) in enumerate(pairs)]
    log("%s: %g s flat out, loadgens at %s (load %s)"
        % (label, duration, " + ".join("node %d" % n.n for n, _ in pairs), loadavg()))
    cpu0 = [n.cpu() for n in nodes] + [pg.cpu()]
    t0 = time.monotonic()
    for lg in lgs:
        running.append(lg)
        lg.start()
    for lg in lgs:
        lg.wait()
        running.remove(lg)
    wall = time.monotonic() - t0
    cpu1 = [n.cpu() for n in nodes] + [pg.cpu()]
    cores = [(b - a) / wall for a, b in zip(cpu0, cpu1)]
    for lg in lgs:
        log("%s: %d events acked, %s events/s, p99 %s ms, errors %s+%s"
            % (lg.label, lg.acked, lg.fig("events_per_s"), lg.fig("p99_ms"),
               lg.fig("http_errors"), lg.fig("transport_errors")))
    return lgs, {"wall": wall, "cores": cores}


def wait_delivered(nodes, what):
    """Until firelake_wal_pending_bytes is 0 on every node; seconds waited."""
    t0 = time.monotonic()
    while True:
        pend = [n.metrics().get("firelake_wal_pending_bytes") for n in nodes]
        if all(p == 0 for p in pend):
            el = time.monotonic() - t0
            log("%s: delivered on both nodes %.1f s after the load" % (what, el))
            return el
        for n in nodes:
            if not n.alive():
                raise RuntimeError("node %d died; see %s" % (n.n, n.log_path))
        if time.monotonic() - t0 > DELIVERY_TIMEOUT:
            raise RuntimeError("%s: not delivered after %d s (pending %s)"
                               % (what, DELIVERY_TIMEOUT, pend))
        time.sleep(0.25)


def stage_counts(pg):
    (objs, staged), = pg.psql(
        "SELECT (SELECT count(*) FROM fl_objects WHERE kind = 'data'), "
        "(SELECT count(*) FROM fl_stage_objects)")
    return int(objs), int(staged)


def wait_staged(pg, limit):
    """Until eager staging caught up with delivery, or made no progress for
    5 s, or limit seconds passed; (seconds, objects, staged)."""
    t0 = time.monotonic()
    last, last_t = -1, t0
    while True:
        objs, staged = stage_counts(pg)
        now = time.monotonic()
        if staged >= objs:
            break
        if staged != last:
            last, last_t = staged, now
        if now - last_t > 5 or now - t0 > limit:
            break
        time.sleep(0.5)
    el = time.monotonic() - t0
    log("eager staging: %d of %d delivered objects staged (waited %.1f s)" % (staged, objs, el))
    return el, objs, staged


# ---- queries ------------------------------------------------------------------------

def athena(url):
    import boto3
    from botocore.config import Config
    return boto3.client("athena", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 2}, read_timeout=120))


QUERY_MIX = [
    "SELECT count(*) FROM events",
    "SELECT event_type, count(*) FROM events GROUP BY 1 ORDER BY 1",
    "SELECT count(*), sum(amount) FROM events WHERE event_type = 'payment'",
]
QUERY_DISTINCT = "SELECT count(*), count(DISTINCT event_uuid) FROM events"


class RunnerSampler:
    """Samples the runner of RUNNING rows in the catalog every 0.1 s."""

    def __init__(self, pg):
        self.pg = pg
        self.seen = {}          # id -> set of runners
        self.stop_ev = threading.Event()
        self.errors = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop_ev.wait(0.1):
            try:
                rows = self.pg.psql("SELECT id, runner FROM fl_athena_queries "
                                    "WHERE state = 'RUNNING' AND runner IS NOT NULL")
            except RuntimeError:
                self.errors += 1
                continue
            for qid, runner in rows:
                self.seen.setdefault(qid, set()).add(runner)

    def stop(self):
        self.stop_ev.set()
        self.thread.join()


def run_queries(nodes, pg, count):
    clients = [athena(n.url) for n in nodes]
    sampler = RunnerSampler(pg)
    subs = []               # (qid, sql, submitted at node index)
    t0 = time.monotonic()
    try:
        for i in range(count):
            sql = QUERY_DISTINCT if i == 0 else QUERY_MIX[(i - 1) % len(QUERY_MIX)]
            k = i % len(nodes)
            qid = clients[k].start_query_execution(
                QueryString=sql, QueryExecutionContext={"Database": "default"})["QueryExecutionId"]
            subs.append((qid, sql, k))
        log("queries: %d started in %.2f s (alternately at node 1 and node 2)"
            % (count, time.monotonic() - t0))
        final = {}
        while len(final) < len(subs):
            for qid, sql, k in subs:
                if qid in final:
                    continue
                # Polled through the other node: the catalog is shared.
                qe = clients[(k + 1) % len(nodes)].get_query_execution(
                    QueryExecutionId=qid)["QueryExecution"]
                if qe["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                    final[qid] = qe
            if time.monotonic() - t0 > QUERY_TIMEOUT:
                raise RuntimeError("queries: %d of %d unfinished after %d s"
                                   % (len(subs) - len(final), len(subs), QUERY_TIMEOUT))
            if len(final) < len(subs):
                time.sleep(0.2)
        wall = time.monotonic() - t0
    finally:
        sampler.stop()
    results = {}
    for qid, sql, k in subs:
        if final[qid]["Status"]["State"] != "SUCCEEDED":
            continue
        rows, token = [], None
        while True:
            kw = {"QueryExecutionId": qid}
            if token:
                kw["NextToken"] = token
            page = clients[k].get_query_results(**kw)
            rows += [[d.get("VarCharValue") for d in r["Data"]]
                     for r in page["ResultSet"]["Rows"]]
            token = page.get("NextToken")
            if not token:
                break
        results[qid] = rows[1:]
    log("queries: all %d ended %.1f s after the first start" % (count, wall))
    return subs, final, results, sampler, wall


# ---- the lake ---------------------------------------------------------------------------

def scan_lake(shared):
    """Every object file under the shared storage root: {bucket/key: lines},
    event_uuid figures of the data objects, other files."""
    files = {}
    results = collections.Counter()     # athena-results/<id>.csv[.metadata]
    seen = set()
    lines = dups = no_uuid = 0
    other = []
    for dp, _, names in os.walk(shared):
        for name in names:
            path = os.path.join(dp, name)
            rel = os.path.relpath(path, shared)
            if rel.startswith("lake/athena-results/"):
                results[name] += 1
                continue
            if not name.endswith(".gz"):
                other.append(rel)
                continue
            with open(path, "rb") as f:
                data = gzip.decompress(f.read())
            n = data.count(b"\n")
            files[rel] = n
            lines += n
            found = UUID_RE.findall(data)
            before = len(seen)
            seen.update(map(hash, found))   # 64-bit: a collision is checked below
            dups += len(found) - (len(seen) - before)
            no_uuid += n - len(found)
    if dups:
        # Exact: the uuids themselves (more memory; only when needed).
        exact = set()
        dups = 0
        for rel in files:
            with open(os.path.join(shared, rel), "rb") as f:
                found = UUID_RE.findall(gzip.decompress(f.read()))
            before = len(exact)
            exact.update(found)
            dups += len(found) - (len(exact) - before)
        seen = exact
    return {"files": files, "lines": lines, "distinct": len(seen), "dups": dups,
            "no_uuid": no_uuid, "other": other, "results": results}


# ---- the benchmark --------------------------------------------------------------------------

def find_pg_bindir():
    cands = []
    if os.environ.get("PG_BINDIR"):
        cands.append(os.environ["PG_BINDIR"])
    try:
        cands.append(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                    check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        pass
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        vers = sorted((d for d in os.listdir(base) if d.isdigit()), key=int, reverse=True)
        cands += [os.path.join(base, v, "bin") for v in vers]
    for d in cands:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "postgres")):
            return d
    raise RuntimeError("PostgreSQL server binaries (initdb, postgres) not found; set PG_BINDIR")


def parse_args():
    env = os.environ.get
    build = env("BUILD_DIR", "build")
    if not os.path.isabs(build):
        build = os.path.join(ROOT, build)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--firelake", default=env("FIRELAKE_BIN", os.path.join(build, "firelake")))
    p.add_argument("--loadgen", default=env("LOADGEN_BIN", os.path.join(build, "bench", "loadgen")))
    p.add_argument("--duration", type=float, default=float(env("DURATION", "30")))
    p.add_argument("--warmup", type=float, default=float(env("WARMUP", "3")))
    p.add_argument("--queries", type=int, default=int(env("QUERIES", "40")))
    p.add_argument("--connections", type=int, default=int(env("CONNECTIONS", "16")))
    p.add_argument("--threads", type=int, default=int(env("THREADS", "2")))
    p.add_argument("--batch", type=int, default=int(env("BATCH", "500")))
    p.add_argument("--query-threads", type=int, default=int(env("QUERY_THREADS", "2")))
    p.add_argument("--settle", type=float, default=float(env("SETTLE", "15")))
    p.add_argument("--firelake-args", default=env("FIRELAKE_ARGS", ""))
    p.add_argument("--loadgen-args", default=env("LOADGEN_ARGS", ""))
    p.add_argument("--keep-tmp", action="store_true", default=env("KEEP_TMP", "0") == "1")
    a = p.parse_args()
    a.firelake = os.path.abspath(a.firelake)
    a.loadgen = os.path.abspath(a.loadgen)
    for b in (a.firelake, a.loadgen):
        if not os.access(b, os.X_OK):
            p.error("%s not found: ninja -C %s firelake bench/loadgen (or set BUILD_DIR, "
                    "FIRELAKE_BIN, LOADGEN_BIN)" % (b, os.path.relpath(build, ROOT)))
    if a.queries < 1 or a.duration <= 0:
        p.error("--queries must be at least 1 and --duration positive")
    return a


def on_term(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


class Checks:
    def __init__(self):
        self.rows = []

    def add(self, name, ok, detail):
        self.rows.append((name, ok, detail))
        if not ok:
            log("CHECK FAILED: %s: %s" % (name, detail))

    @property
    def ok(self):
        return all(ok for _, ok, _ in self.rows)


def benchmark(args, tmp, procs):
    shared = os.path.join(tmp, "shared")
    os.makedirs(shared)
    pg = Postgres(tmp, find_pg_bindir())
    procs["pg"] = pg
    if pg.uid is not None:
        os.chmod(tmp, 0o711)      # postgres traverses to its directory
    pg.start()

    extra = ["--query-threads", str(args.query_threads)] + shlex.split(args.firelake_args)
    nodes = [Firelake(n, args.firelake, tmp, pg, shared, extra) for n in (1, 2)]
    procs["nodes"] = nodes
    t0 = time.monotonic()
    for n in nodes:             # together: the migrations race on purpose
        n.spawn()
    for n in nodes:
        n.wait_up(t0)

    base_time = int(time.time())
    running = procs["loadgens"]
    all_lgs = []
    if args.warmup > 0:
        lgs, _ = run_load(args, tmp, "warmup", [(nodes[0], 101), (nodes[1], 102)], args.warmup,
                          base_time, nodes, pg, running)
        all_lgs += lgs
        wait_delivered(nodes, "warm-up")
        wait_staged(pg, args.settle)
    # Two loadgens in both runs: the client side is the same, only the
    # number of firelake processes differs.
    single, single_fig = run_load(args, tmp, "single", [(nodes[0], 1), (nodes[0], 4)],
                                  args.duration, base_time, nodes, pg, running)
    all_lgs += single
    single_fig["deliver"] = wait_delivered(nodes, "single")
    wait_staged(pg, args.settle)
    dual, dual_fig = run_load(args, tmp, "both", [(nodes[0], 2), (nodes[1], 3)], args.duration,
                              base_time, nodes, pg, running)
    all_lgs += dual
    dual_fig["deliver"] = wait_delivered(nodes, "both")
    acked = sum(lg.acked for lg in all_lgs)
    metrics = [n.metrics() for n in nodes]

    subs, final, results, sampler, qwall = run_queries(nodes, pg, args.queries)
    log("scanning the lake (load %s)" % loadavg())
    lake = scan_lake(shared)

    # ---- checks ----
    ck = Checks()
    ev = 'stream="events"'
    srv_acked = [int(m.get("firelake_incoming_events_total{%s}" % ev, 0)) for m in metrics]
    ck.add("servers acknowledged >= loadgens acked", sum(srv_acked) >= acked,
           "servers %d (node 1 %d, node 2 %d), loadgens %d"
           % (sum(srv_acked), srv_acked[0], srv_acked[1], acked))

    # Queries: states, who ran them, how often.
    ran = [collections.Counter() for _ in nodes]
    for i, n in enumerate(nodes):
        with open(n.log_path, errors="replace") as f:
            for m in RUNNING_RE.finditer(f.read()):
                ran[i][m.group(1)] += 1
    ids = [q for q, _, _ in subs]
    states = collections.Counter(final[q]["Status"]["State"] for q in ids)
    ck.add("every query SUCCEEDED", states["SUCCEEDED"] == len(ids),
           ", ".join("%s %d" % kv for kv in sorted(states.items())) +
           "".join(["; %s: %s" % (q[:8], final[q]["Status"].get("StateChangeReason", ""))
                    for q in ids if final[q]["Status"]["State"] != "SUCCEEDED"][:3]))
    runs = {q: ran[0][q] + ran[1][q] for q in ids}
    twice = [q for q in ids if runs[q] > 1]
    never = [q for q in ids if runs[q] == 0]
    ck.add("every query run exactly once (log lines)", not twice and not never,
           "%d once, %d more than once %s, %d with no 'running' line %s"
           % (len(ids) - len(twice) - len(never), len(twice), twice[:3], len(never), never[:3]))
    by_node = [sum(1 for q in ids if ran[i][q]) for i in range(len(nodes))]
    pid_node = {str(n.proc.pid): n.n for n in nodes}
    cat = {r[0]: r[1:] for r in pg.psql(
        "SELECT id, state, coalesce(runner, ''), completed_at IS NOT NULL, "
        "coalesce(extract(epoch FROM started_at - submitted_at), -1) "
        "FROM fl_athena_queries")}
    # runner: host:pid:random (query.c), kept when the query ends
    ran_by = {q: pid_node.get((cat[q][1].rsplit(":", 2) + ["", ""])[1], "?")
              for q in ids if q in cat}
    ck.add("catalog: each query one row, SUCCEEDED, its runner the node that logged it",
           all(q in cat and cat[q][0] == "SUCCEEDED" and cat[q][2] == "t" and
               ran[ran_by[q] - 1][q] if ran_by.get(q) in (1, 2) else False for q in ids),
           "%d rows for %d queries; runner node 1 %d, node 2 %d"
           % (sum(1 for q in ids if q in cat), len(ids),
              sum(1 for q in ids if ran_by.get(q) == 1), sum(1 for q in ids if ran_by.get(q) == 2)))
    sampled = collections.Counter()
    sample_conflict = 0
    for q in ids:
        # runner: host:pid:random (query.c)
        owners = {pid_node.get((r.rsplit(":", 2) + ["", ""])[1], "?")
                  for r in sampler.seen.get(q, ())}
        for o in owners:
            sampled[o] += 1
        logged = {nodes[i].n for i in range(len(nodes)) if ran[i][q]}
        if owners and logged and not owners <= logged:
            sample_conflict += 1
    ck.add("catalog samples of RUNNING rows agree with the logs", sample_conflict == 0,
           "%d queries seen RUNNING (node 1 %d, node 2 %d), %d disagree"
           % (sum(1 for q in ids if sampler.seen.get(q)), sampled[1], sampled[2],
              sample_conflict))

    # Query answers.
    counts = []
    for q, sql, _ in subs:
        rows = results.get(q)
        if rows is None:
            continue
        if sql == QUERY_DISTINCT:
            c, d = int(rows[0][0]), int(rows[0][1])
            ck.add("Athena count(*) = count(DISTINCT event_uuid) = events acked",
                   c == d == acked, "count %d, distinct %d, acked %d" % (c, d, acked))
        elif sql == QUERY_MIX[0]:
            counts.append(int(rows[0][0]))
        elif sql == QUERY_MIX[1]:
            counts.append(sum(int(r[1]) for r in rows))
    ck.add("every count(*) query counted the events acked", all(c == acked for c in counts),
           "%d answers, distinct values %s, acked %d" % (len(counts), sorted(set(counts))[:5],
                                                        acked))

    # The lake and the catalog's objects.
    ck.add("lake: every event_uuid once", lake["dups"] == 0 and lake["no_uuid"] == 0,
           "%d lines, %d distinct uuids, %d duplicates, %d lines without a uuid"
           % (lake["lines"], lake["distinct"], lake["dups"], lake["no_uuid"]))
    ck.add("lake: events = events acked", lake["distinct"] == acked,
           "lake %d, acked %d (%+d)" % (lake["distinct"], acked, lake["distinct"] - acked))
    objs = {r[0] + "/" + r[1]: (r[2], int(r[3])) for r in pg.psql(
        "SELECT bucket, key, kind, records FROM fl_objects")}
    (nrows, ndistinct), = pg.psql("SELECT count(*), count(DISTINCT (bucket, key)) FROM fl_objects")
    data_files = lake["files"]
    missing = [k for k in objs if k not in data_files]
    unlisted = [k for k in data_files if k not in objs]
    wrong = [k for k, (_, rec) in objs.items() if k in data_files and data_files[k] != rec]
    ck.add("fl_objects: each key once, = the objects on disk, records = lines",
           nrows == ndistinct and not missing and not unlisted and not wrong,
           "%s rows, %s distinct keys, %d files; %d rows without a file, %d files without a "
           "row, %d record counts wrong" % (nrows, ndistinct, len(data_files), len(missing),
                                            len(unlisted), len(wrong)))
    errors = [k for k, (kind, _) in objs.items() if kind == "error"]
    ck.add("no error-output objects", not errors, "%d error objects" % len(errors))
    stage = pg.psql(
        "SELECT count(*), count(DISTINCT (s.bucket, s.key)), "
        "count(*) FILTER (WHERE o.key IS NULL), "
        "count(*) FILTER (WHERE o.key IS NOT NULL AND s.rows + s.bad <> o.records), "
        "coalesce(sum(s.rows), 0), coalesce(sum(s.bad), 0), "
        "(SELECT count(*) FROM fl_objects o2 WHERE o2.kind = 'data' AND NOT EXISTS "
        " (SELECT 1 FROM fl_stage_objects s2 WHERE s2.bucket = o2.bucket AND s2.key = o2.key)) "
        "FROM fl_stage_objects s LEFT JOIN fl_objects o USING (bucket, key)")[0]
    st = [int(x) for x in stage]
    ck.add("fl_stage_objects: each delivered object staged once, rows = records",
           st[0] == st[1] and st[2] == 0 and st[3] == 0 and st[6] == 0 and st[4] == acked,
           "%d rows, %d distinct, %d not in fl_objects, %d with other rows than records, "
           "%d delivered not staged; %d rows staged (%d bad), acked %d"
           % (st[0], st[1], st[2], st[3], st[6], st[4], st[5], acked))
    (staged_rows,), = pg.psql('SELECT count(*) FROM "default"."events"')
    ck.add("staged table rows = events acked", int(staged_rows) == acked,
           '"default"."events" %s rows, acked %d' % (staged_rows, acked))
    res = lake["results"]
    bad = [q for q in ids if res[q + ".csv"] != 1 or res[q + ".csv.metadata"] != 1]
    ck.add("one result (.csv + .csv.metadata) per query", not bad and
           sum(res.values()) == 2 * len(ids),
           "%d result files for %d queries; %d queries without both" % (sum(res.values()),
                                                                        len(ids), len(bad)))
    ck.add("no other files in the bucket", not lake["other"],
           "%d: %s" % (len(lake["other"]), lake["other"][:3]))

    return {"single": single, "single_fig": single_fig, "dual": dual, "dual_fig": dual_fig,
            "acked": acked, "metrics": metrics, "by_node": by_node, "ids": ids,
            "qwall": qwall, "lake": lake, "objs": len(objs), "checks": ck,
            "final": final, "nodes": nodes}


def report(args, r):
    eps = lambda lg: float(lg.fig("events_per_s", 0))
    one = sum(eps(lg) for lg in r["single"])
    agg = sum(eps(lg) for lg in r["dual"])
    print()
    print("scale-out: 2 firelake nodes, 1 PostgreSQL catalog, 1 bucket; 2 loadgens per run, "
          "each %d conns x %d threads, batch %d, %g s; load average %s"
          % (args.connections, args.threads, args.batch, args.duration, loadavg()))
    print()
    print("%-24s %10s %10s %8s %9s %9s %12s %13s %14s %11s" % (
        "run", "events", "events/s", "MB/s", "p50 ms", "p99 ms", "http+io errs",
        "node1/2 cores", "postgres cores", "delivered s"))
    row = "%-24s %10d %10.0f %8.2f %9s %9s %12s %13s %14s %11s"
    for name, lgs, fig in (("single", r["single"], r["single_fig"]),
                           ("both", r["dual"], r["dual_fig"])):
        for i, lg in enumerate(lgs):
            print(row % ("%s: loadgen %d > node %d" % (name, i + 1, lg.node.n), lg.acked, eps(lg),
                         float(lg.fig("mb_per_s", 0)), lg.fig("p50_ms"), lg.fig("p99_ms"),
                         "%s+%s" % (lg.fig("http_errors"), lg.fig("transport_errors")),
                         "", "", ""))
        print(row % ("%s: total" % name, sum(lg.acked for lg in lgs), sum(eps(lg) for lg in lgs),
                     sum(float(lg.fig("mb_per_s", 0)) for lg in lgs), "", "", "",
                     "%.2f/%.2f" % (fig["cores"][0], fig["cores"][1]), "%.2f" % fig["cores"][2],
                     "%.1f" % fig["deliver"]))
    print()
    print("aggregate of 2 nodes / 1 node: %.2fx (%.0f vs %.0f events/s)"
          % (agg / one if one else 0.0, agg, one))
    by = r["by_node"]
    print("queries: %d, claimed by node 1: %d, node 2: %d; all ended %.1f s after the first "
          "start" % (len(r["ids"]), by[0], by[1], r["qwall"]))
    eng = sorted(int(q["Statistics"].get("EngineExecutionTimeInMillis", 0))
                 for q in r["final"].values() if "Statistics" in q)
    if eng:
        print("  EngineExecutionTimeInMillis p50 %d, max %d" % (eng[len(eng) // 2], eng[-1]))
    ev = 'stream="events"'
    for i, m in enumerate(r["metrics"]):
        print("node %d: %d events acknowledged, %d objects delivered, %d failed delivery attempts"
              % (i + 1, m.get("firelake_incoming_events_total{%s}" % ev, 0),
                 m.get("firelake_objects_delivered_total{%s}" % ev, 0),
                 m.get("firelake_delivery_failures_total{%s}" % ev, 0)))
    print("lake: %d objects (fl_objects %d), %d events; acked by all loadgen runs "
          "(warm-up included): %d" % (len(r["lake"]["files"]), r["objs"], r["lake"]["lines"],
                                      r["acked"]))
    print()
    print("%-68s %s" % ("check", "result"))
    for name, ok, detail in r["checks"].rows:
        print("%-68s %s  %s" % (name, "ok  " if ok else "FAIL", detail))


def main():
    args = parse_args()
    # Explicitly: a shell's background job starts with SIGINT ignored.
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGTERM, on_term)
    tmp = tempfile.mkdtemp(prefix="firelake-scaleout.")
    procs = {"pg": None, "nodes": [], "loadgens": []}
    status = 1
    t0 = time.monotonic()
    try:
        r = benchmark(args, tmp, procs)
        report(args, r)
        status = 0 if r["checks"].ok else 1
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    except Exception as e:          # a benchmark: report, clean up, exit 1
        log("error: %s: %s" % (type(e).__name__, e))
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)    # the cleanup runs to its end
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for lg in list(procs["loadgens"]):
            lg.stop()
        live = [n for n in procs["nodes"] if n.alive()]
        if live:
            log("stopping the nodes (SIGTERM: they deliver what they buffer)")
        for n in live:
            n.proc.send_signal(signal.SIGTERM)           # both flush at once
        for n in procs["nodes"]:
            n.stop()
        if procs["pg"] is not None and procs["pg"].proc is not None:
            log("stopping PostgreSQL")
            procs["pg"].stop()
        if args.keep_tmp:
            log("scratch dir kept: %s (node1.log, node2.log, pg/postgres.log, loadgen-*.txt, "
                "shared/)" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        log("done in %.0f s, exit status %d" % (time.monotonic() - t0, status))
    return status


if __name__ == "__main__":
    sys.exit(main())
