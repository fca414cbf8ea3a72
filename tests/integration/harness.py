"""Starts the real firelake binary for integration tests.

Each server gets a fresh data directory and a free port on 127.0.0.1, runs
the embedded PostgreSQL (or --pg when given), and is stopped (SIGTERM, then
SIGKILL) by stop() or at interpreter exit, whatever the test did.
"""
import atexit
import base64
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

BIN = os.environ.get("FIRELAKE_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "firelake")
SRC = os.environ.get("FIRELAKE_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")

os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)

_live = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_dir(prefix="firelake-test-"):
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)  # the embedded PostgreSQL runs as an unprivileged user under root
    return d


class Server:
    """tls=(cert, key): serve HTTPS with those PEM files (--tls-cert,
    --tls-key); clients then verify the server against ca (default: cert,
    i.e. a self-signed certificate)."""

    def __init__(self, data_dir=None, port=None, args=(), env=None, tls=None, ca=None):
        self.data_dir = data_dir or make_dir()
        self.port = port or free_port()
        self.args = list(args)
        self.tls = tls
        self.ca = ca or (tls[0] if tls else None)
        if tls:
            self.args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "firelake.log")

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def ssl_context(self):
        """What urllib needs to reach this server (None for plain HTTP)."""
        if not self.tls:
            return None
        import ssl
        return ssl.create_default_context(cafile=self.ca)

    @property
    def lake(self):
        return os.path.join(self.data_dir, "lake")

    def start(self, timeout=120):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:%d" % self.port,
             "--data-dir", self.data_dir] + self.args,
            stdout=log, stderr=subprocess.STDOUT, env=self.env)
        log.close()
        _live.append(self)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("firelake exited with %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2,
                                            context=self.ssl_context()) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("firelake did not become healthy:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=90):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.stop()
        # A killed firelake leaves its PostgreSQL running: stop it too.
        pgdata = os.path.join(self.data_dir, "pg")
        pidfile = os.path.join(pgdata, "postmaster.pid")
        if os.path.exists(pidfile):
            try:
                with open(pidfile) as f:
                    pid = int(f.readline())
                os.kill(pid, signal.SIGQUIT)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.1)
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self in _live:
            _live.remove(self)

    def client(self, service="firehose", **kwargs):
        """A boto3 client; kwargs go to boto3.client (aws_access_key_id ...)."""
        import boto3
        from botocore.config import Config
        if self.tls:
            kwargs.setdefault("verify", self.ca)
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            config=Config(retries={"max_attempts": 0}, read_timeout=120),
                            **kwargs)

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10,
                                    context=self.ssl_context()) as r:
            return r.status, r.read().decode()

    def post(self, target, body, content_type="application/x-amz-json-1.1"):
        """Raw AWS JSON request; returns (status, headers, parsed body)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/", data=data, method="POST", headers={
            "Content-Type": content_type, "X-Amz-Target": target})
        try:
            with urllib.request.urlopen(req, timeout=60, context=self.ssl_context()) as r:
                return r.status, dict(r.headers), json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.loads(e.read() or b"{}")

    def metric(self, series):
        """The value of one /metrics series, e.g. 'firelake_wal_pending_bytes'
        or 'firelake_incoming_records_total{stream="events"}'; None if absent."""
        _, text = self.get("/metrics")
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            if name == series:
                return float(value)
        return None

    def delivered(self):
        """True when every acknowledged record has left the WAL."""
        return self.metric("firelake_wal_pending_bytes") == 0

    def objects(self, bucket="lake", prefix=""):
        """Every object file under the local lake: {key: bytes}."""
        root = os.path.join(self.lake, bucket)
        out = {}
        for dirpath, _, files in os.walk(root):
            for name in files:
                if name.startswith(".tmp."):
                    continue
                path = os.path.join(dirpath, name)
                key = os.path.relpath(path, root)
                if key.startswith(prefix):
                    with open(path, "rb") as f:
                        out[key] = f.read()
        return out

    def lines(self, bucket="lake", prefix=""):
        """Every line of every object under prefix, decompressed: {key: [lines]}."""
        out = {}
        for key, data in self.objects(bucket, prefix).items():
            if key.endswith(".gz"):
                data = gzip.decompress(data)
            out[key] = data.decode().splitlines()
        return out


class ServerTest(unittest.TestCase):
    """One firelake (fresh data dir, embedded PostgreSQL) for a test class."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.fh = cls.srv.client()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()


def stop_all():
    for s in list(_live):
        s.cleanup()


atexit.register(stop_all)
for _sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_sig, lambda *_: (stop_all(), os._exit(1)))


def b64(data):
    return base64.b64encode(data).decode()


def iso(created_at):
    """created_datetime as firelake must write it, computed independently:
    seconds, or milliseconds (truncated) when created_at has a fraction."""
    import datetime
    import decimal
    d = decimal.Decimal(repr(created_at))
    secs = int(d)
    t = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(created_at, float):
        return t + ".%03dZ" % int((d - secs) * 1000)
    return t + "Z"


def enriched(event):
    """The enriched form of an event dict, computed independently."""
    out = {k: v for k, v in event.items() if k not in ("created_datetime", "event_type", "event_subtype")}
    parts = event["event_name"].split(":")
    out["created_datetime"] = iso(event["created_at"])
    out["event_type"] = parts[0]
    out["event_subtype"] = parts[1] if len(parts) > 1 else None
    return out


def wait_for(pred, timeout=60, step=0.2, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


def run_query(athena, sql, db="default", timeout=120):
    """Runs sql through StartQueryExecution in database db and waits for it:
    (state, rows, execution), rows every row GetQueryResults gives (a
    SELECT's header row included, none for DDL) as lists of strings, None
    for NULL, all pages read; [] unless SUCCEEDED."""
    qid = athena.start_query_execution(QueryString=sql, QueryExecutionContext={
        "Database": db})["QueryExecutionId"]
    deadline = time.time() + timeout
    while True:
        qe = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        state = qe["Status"]["State"]
        if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        if time.time() > deadline:
            raise AssertionError("query %s (%s) did not finish" % (qid, sql))
        time.sleep(0.05)
    rows, token = [], None
    while state == "SUCCEEDED":
        args = {"QueryExecutionId": qid}
        if token:
            args["NextToken"] = token
        page = athena.get_query_results(**args)
        rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
        token = page.get("NextToken")
        if not token:
            break
    return state, rows, qe
