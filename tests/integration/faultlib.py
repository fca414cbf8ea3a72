"""Helpers of test_faults.py: a load generator that survives restarts, the
exactly-once check (Athena and the lake), PostgreSQL control (the embedded
cluster and an external one), a psql session that holds a lock, WAL segment
surgery, small filesystems, and a process's threads, RSS and descriptors.

Every event a Loader sends is unique and never sent again, whatever the
answer was: an acknowledged event must be in the lake exactly once, an
unacknowledged one at most once."""
import base64
import collections
import glob
import http.client
import json
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

STREAM = "events"
EVENT_NAME = "fault:load"       # event_type "fault"
CREATED_AT = 1767226391         # 2026-01-01T00:13:11Z: one partition


def pg_bindir():
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             check=True).stdout.strip()
        if os.path.exists(os.path.join(out, "initdb")):
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("no PostgreSQL binaries (pg_config --bindir)")
    return os.path.dirname(found[-1])


def _pg_user():
    """PostgreSQL refuses root: as root, run it as 'postgres' (else 'nobody'),
    as src/pgembed.c does."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        if pw.pw_uid != 0:
            return pw
    raise RuntimeError("running as root and no unprivileged user for PostgreSQL")


def run_as_pg(argv, **kw):
    """Runs a PostgreSQL program as the unprivileged user (when root)."""
    pw = _pg_user()

    def drop():
        if pw:
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C",
           "HOME": pw.pw_dir if pw else os.environ.get("HOME", "/")}
    return subprocess.run(argv, preexec_fn=drop, env=env, capture_output=True, text=True,
                          timeout=kw.pop("timeout", 120), **kw)


def chown_pg(path):
    pw = _pg_user()
    if pw:
        os.chown(path, pw.pw_uid, pw.pw_gid)


# ---- events and load ------------------------------------------------------

def event(uuid, batch, pad=60):
    return {"event_uuid": uuid, "event_name": EVENT_NAME, "created_at": CREATED_AT,
            "batch": batch, "payload": "x" * pad}


def batch_body(batch, n, stream=STREAM):
    """(uuids, JSON body of a PutRecordBatch) for batch id `batch`."""
    uuids = ["%s.%d" % (batch, k) for k in range(n)]
    recs = [{"Data": base64.b64encode(json.dumps(event(u, batch)).encode() + b"\n").decode()}
            for u in uuids]
    return uuids, json.dumps({"DeliveryStreamName": stream, "Records": recs})


def post_batch(conn, body, target="Firehose_20150804.PutRecordBatch"):
    conn.request("POST", "/", body, {"Content-Type": "application/x-amz-json-1.1",
                                     "X-Amz-Target": target})
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"{}")


class Loader:
    """Threads sending PutRecordBatch of fresh events until stopped.  A
    connection error (the server is down or restarting) makes a thread
    reconnect and go on with a new batch: the load outlives restarts.
    acked: event uuids acknowledged; batches: batch id -> acknowledged uuids;
    events: (time, what) of every failure, for assertions on when they were."""

    def __init__(self, port, tag, threads=3, batch=50, pause=0.03, stream=STREAM):
        self.port, self.tag, self.stream = port, tag, stream
        self.batch, self.pause = batch, pause
        self.acked, self.batches = set(), {}
        self.refused = 0                  # 503 ServiceUnavailableException
        self.failures = []                # (time, description)
        self.sent = 0
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(threads)]

    def _run(self, t):
        conn, seq = None, 0
        while not self.halt.is_set():
            bid = "%s-%d-%d" % (self.tag, t, seq)
            seq += 1
            uuids, body = batch_body(bid, self.batch, self.stream)
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                status, data = post_batch(conn, body)
            except (OSError, http.client.HTTPException, ValueError) as e:
                with self.lock:
                    self.failures.append((time.time(), "connection: %r" % e))
                if conn:
                    conn.close()
                conn = None
                time.sleep(0.05)
                continue
            with self.lock:
                self.sent += len(uuids)
                if status == 200:
                    ok = [u for u, rr in zip(uuids, data["RequestResponses"]) if "RecordId" in rr]
                    self.acked.update(ok)
                    if ok:
                        self.batches[bid] = ok
                    if data["FailedPutCount"]:
                        self.failures.append((time.time(), "FailedPutCount %d: %s" % (
                            data["FailedPutCount"], data["RequestResponses"][0])))
                elif status == 503:
                    self.refused += 1
                    self.failures.append((time.time(), "503 %s" % data.get("__type")))
                else:
                    self.failures.append((time.time(), "%d %s" % (status, data)))
            if self.pause:
                time.sleep(self.pause)
        if conn:
            conn.close()

    def count(self):
        with self.lock:
            return len(self.acked)

    def failures_between(self, t0, t1):
        with self.lock:
            return [f for t, f in self.failures if t0 <= t <= t1]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join(60)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def set_buffering(srv, interval_s, size_mb=64, stream=STREAM):
    """UpdateDestination of a stream's BufferingHints (firelake allows an
    interval below Firehose's 60 s; dynamic partitioning needs 64 MiB)."""
    fh = srv.client()
    d = fh.describe_delivery_stream(DeliveryStreamName=stream)["DeliveryStreamDescription"]
    fh.update_destination(
        DeliveryStreamName=stream, CurrentDeliveryStreamVersionId=d["VersionId"],
        DestinationId=d["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={"BufferingHints": {"SizeInMBs": size_mb,
                                                        "IntervalInSeconds": interval_s}})


# ---- the exactly-once check ---------------------------------------------

def lake_counts(srv, prefix="raw/events/"):
    """event_uuid -> how many times it is in the lake's objects."""
    seen = collections.Counter()
    for _, lines in srv.lines(prefix=prefix).items():
        for ln in lines:
            seen[json.loads(ln)["event_uuid"]] += 1
    return seen


def check_exactly_once(tc, srv, batches, what=""):
    """Every acknowledged event is in the lake once and an Athena query over
    default.events counts each once; no event at all is there twice.
    batches: batch id -> acknowledged uuids (as Loader.batches)."""
    acked = set(u for us in batches.values() for u in us)
    seen = lake_counts(srv)
    dup = sorted(u for u, c in seen.items() if c > 1)
    tc.assertEqual(dup[:10], [], "%s: events in the lake twice (%d)" % (what, len(dup)))
    missing = sorted(acked - set(seen))
    tc.assertEqual(missing[:10], [], "%s: acknowledged, not in the lake (%d of %d)" %
                   (what, len(missing), len(acked)))
    athena = srv.client("athena")
    total = distinct = 0
    ids = sorted(batches)
    for k in range(0, len(ids), 2000):      # keeps each statement far below 256 KiB
        chunk = ids[k:k + 2000]
        sql = ("SELECT count(*) AS n, count(DISTINCT event_uuid) AS d FROM events "
               "WHERE batch IN (%s)" % ",".join("'%s'" % b for b in chunk))
        state, rows, qe = harness.run_query(athena, sql)
        tc.assertEqual(state, "SUCCEEDED", "%s: %s" % (what, qe["Status"]))
        total += int(rows[1][0])
        distinct += int(rows[1][1])
    # Batches here are all-or-nothing, so the rows of acknowledged batches
    # are exactly the acknowledged events.
    tc.assertEqual((total, distinct), (len(acked), len(acked)),
                   "%s: Athena count(*), count(DISTINCT event_uuid) of the acknowledged events"
                   % what)
    state, rows, qe = harness.run_query(
        athena, "SELECT count(*) - count(DISTINCT event_uuid) AS extra FROM events")
    tc.assertEqual((state, rows[1:]), ("SUCCEEDED", [["0"]]), "%s: duplicates in Athena" % what)
    return len(acked)


# ---- PostgreSQL -----------------------------------------------------------

def embedded_conninfo(srv):
    return "host=%s port=5432 user=firelake dbname=firelake" % os.path.join(
        srv.data_dir, "pg", "run")


def psql(conninfo, sql, timeout=30):
    """Rows of one statement run by psql (as root: root may use the 0700
    socket directory of the embedded cluster)."""
    out = subprocess.run(["psql", "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                          "-d", conninfo, "-c", sql],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError("psql: %s" % out.stderr.strip())
    return [ln.split("\t") for ln in out.stdout.splitlines() if ln]


class TableLock:
    """A psql session holding LOCK TABLE ... IN EXCLUSIVE MODE (reads go on,
    writes wait) until release()."""

    def __init__(self, conninfo, table):
        self.proc = subprocess.Popen(["psql", "-X", "-At", "-q", "-d", conninfo],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.proc.stdin.write("BEGIN;\nLOCK TABLE %s IN EXCLUSIVE MODE;\n\\echo locked\n" % table)
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if line.strip() != "locked":
            self.release()
            raise RuntimeError("LOCK TABLE %s: %s" % (table, line))

    def release(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("ROLLBACK;\n")
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


def catalog_keys(conninfo, stream=STREAM):
    """Keys of the objects the catalog recorded for a stream."""
    return set(r[0] for r in psql(conninfo, "SELECT key FROM fl_objects WHERE stream = '%s'"
                                  % stream))


def firelake_waits_on(conninfo, table):
    """True when a firelake backend is waiting for a lock in a statement
    that names table."""
    rows = psql(conninfo, "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                "'firelake' AND wait_event_type = 'Lock' AND query ILIKE '%%%s%%'" % table)
    return int(rows[0][0]) > 0


def embedded_pgdata(srv):
    return os.path.join(srv.data_dir, "pg", "data")


def pg_ctl(pgdata, *args):
    out = run_as_pg([os.path.join(pg_bindir(), "pg_ctl"), "-D", pgdata, "-w", "-t", "60"]
                    + list(args))
    if out.returncode != 0:
        raise RuntimeError("pg_ctl %s: %s%s" % (" ".join(args), out.stdout, out.stderr))


class ExternalPG:
    """A PostgreSQL cluster of our own on 127.0.0.1:<free port>, trust
    authentication, database 'firelake', run by pg_ctl as the unprivileged
    user; cleanup() stops it and removes it."""

    def __init__(self):
        self.dir = harness.make_dir("firelake-extpg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.port = harness.free_port()
        chown_pg(self.dir)
        out = run_as_pg([os.path.join(pg_bindir(), "initdb"), "-D", self.data, "-A", "trust",
                         "-U", "fl", "--no-sync", "-E", "UTF8"])
        if out.returncode != 0:
            raise RuntimeError("initdb: %s%s" % (out.stdout, out.stderr))
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("listen_addresses = '127.0.0.1'\nport = %d\n"
                    "unix_socket_directories = ''\nfsync = off\n" % self.port)
        self.start()
        psql(self.url("postgres"), "CREATE DATABASE firelake")

    def url(self, db="firelake"):
        return "host=127.0.0.1 port=%d user=fl dbname=%s connect_timeout=5" % (self.port, db)

    def start(self):
        pg_ctl(self.data, "-l", self.log, "start")

    def stop(self, mode="fast"):
        pg_ctl(self.data, "-m", mode, "stop")

    def cleanup(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            try:
                self.stop("immediate")
            except RuntimeError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


# ---- the WAL -----------------------------------------------------------

WAL_HEADER = 48
FRAME = 8
WALREC_HEADER = 32


def wal_segments(srv, stream=STREAM):
    return sorted(glob.glob(os.path.join(srv.data_dir, "wal", "stream-" + stream, "*.wal")))


def wal_records(path):
    """[(offset, frame+payload length, [event_uuid...])] of a segment (wal.h,
    walrec.h), stopping at the first frame that does not fit."""
    with open(path, "rb") as f:
        data = f.read()
    out, off = [], WAL_HEADER
    while len(data) - off >= FRAME:
        n, _crc = struct.unpack_from("<II", data, off)
        if n == 0 or off + FRAME + n > len(data):
            break
        p = data[off + FRAME:off + FRAME + n]
        dest_len = struct.unpack_from("<H", p, 2)[0]
        lines = p[WALREC_HEADER + dest_len:].decode().splitlines()
        out.append((off, FRAME + n, [json.loads(ln)["event_uuid"] for ln in lines]))
        off += FRAME + n
    return out


def xor_byte(path, off, mask=0x20):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)[0]
        f.seek(off)
        f.write(bytes([b ^ mask]))


# ---- filesystems ---------------------------------------------------------

class Tmpfs:
    """A tmpfs of `size` mounted on path (created) until umount()."""

    def __init__(self, path, size):
        os.makedirs(path, exist_ok=True)
        self.path = path
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size, "tmpfs", path],
                       check=True, capture_output=True)
        self.mounted = True

    def remount(self, opts):
        subprocess.run(["mount", "-o", "remount," + opts, self.path], check=True,
                       capture_output=True)

    def fill(self, name="filler"):
        """Fills the filesystem to the last block; returns the file's path."""
        path = os.path.join(self.path, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for size in (1 << 20, 4096, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError:
                    pass
        finally:
            os.close(fd)
        return path

    def umount(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.path], capture_output=True)
            self.mounted = False


def can_mount():
    if os.geteuid() != 0:
        return False
    d = tempfile.mkdtemp(prefix="firelake-mnt-")
    try:
        return subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", d],
                              capture_output=True).returncode == 0 and \
            subprocess.run(["umount", d], capture_output=True).returncode == 0
    finally:
        os.rmdir(d)


# ---- the process ---------------------------------------------------------

def proc_stats(pid):
    """{'threads', 'rss_kb', 'fds'} of a live process."""
    st = {}
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            k, _, v = ln.partition(":")
            if k == "Threads":
                st["threads"] = int(v)
            elif k == "VmRSS":
                st["rss_kb"] = int(v.split()[0])
    st["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    return st


TCP_STATES = {1: "ESTABLISHED", 6: "TIME_WAIT", 8: "CLOSE_WAIT", 4: "FIN_WAIT1",
              5: "FIN_WAIT2", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}


def tcp_states(port):
    """Counter of the states of this host's IPv4 sockets whose local port
    is port (/proc/net/tcp): the server's side of its connections."""
    out = collections.Counter()
    with open("/proc/net/tcp") as f:
        next(f)
        for ln in f:
            cols = ln.split()
            if int(cols[1].split(":")[1], 16) == port:
                st = int(cols[3], 16)
                out[TCP_STATES.get(st, str(st))] += 1
    return out


def raw_connection(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def request_head(body_len, target="Firehose_20150804.PutRecordBatch"):
    return ("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n"
            "X-Amz-Target: %s\r\nContent-Length: %d\r\n\r\n" % (target, body_len)).encode()

