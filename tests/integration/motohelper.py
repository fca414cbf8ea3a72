"""moto_server as an S3 endpoint for integration tests, and a TCP proxy
in front of it that can be stopped and restarted.

MotoServer starts `moto_server -H 127.0.0.1 -p PORT` on a free loopback
port (its state lives in that process's memory), waits until it answers,
and stops it (SIGTERM, then SIGKILL) in stop() or at interpreter exit.
s3() is a boto3 S3 client on it (path-style, dummy credentials).

Proxy listens on a free 127.0.0.1 port and pipes every connection to
the target.  stop() closes the listener and cuts every open connection,
so clients see refused connections (the store is "down") while moto keeps
its data; start() listens again on the same port.  answer(status, code,
message) cuts the open connections and makes it answer every request
itself with that S3 error (as S3 does when access is denied or it is
overloaded), until answer(None).
"""
import atexit
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
         "AWS_DEFAULT_REGION": "us-east-1"}

_live = []


def available():
    """None when moto_server can run, else why not."""
    if not shutil.which("moto_server"):
        return "moto_server is not installed (pip install 'moto[server]')"
    try:
        import boto3  # noqa: F401
    except ImportError:
        return "boto3 is not installed"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    def __init__(self):
        self.port = None
        self.proc = None
        self.log_path = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=60):
        fd, self.log_path = tempfile.mkstemp(prefix="moto-", suffix=".log")
        for _ in range(3):  # another process may take the free port first
            self.port = free_port()
            env = dict(os.environ, **CREDS)
            self.proc = subprocess.Popen(
                ["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=fd, stderr=subprocess.STDOUT, env=env)
            _live.append(self)
            deadline = time.time() + timeout
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    with urllib.request.urlopen(self.url + "/moto-api/", timeout=2) as r:
                        if r.status == 200:
                            os.close(fd)
                            return self
                except OSError:
                    pass
                time.sleep(0.2)
            self.stop()
        os.close(fd)
        raise RuntimeError("moto_server did not start:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except (OSError, TypeError):
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in _live:
            _live.remove(self)

    def cleanup(self):
        self.stop()
        if self.log_path:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass

    def s3(self):
        return s3_client(self.url)

    def reset(self):
        """Forgets every bucket and object (moto's reset API)."""
        req = urllib.request.Request(self.url + "/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=30):
            pass


def s3_client(url):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=CREDS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=CREDS["AWS_SECRET_ACCESS_KEY"],
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 2}))


def create_buckets(s3, *names):
    for name in names:
        s3.create_bucket(Bucket=name)


def list_keys(s3, bucket, prefix=""):
    """{key: size} of every object under prefix."""
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = o["Size"]
    return out


def objects(s3, bucket, prefix=""):
    """{key: bytes} of every object under prefix."""
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read()
            for k in list_keys(s3, bucket, prefix)}


class Proxy:
    """A TCP proxy 127.0.0.1:port -> target that can be taken down."""

    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.lock = threading.Lock()
        self.listener = None
        self.conns = set()
        self.accepted = 0
        self.thread = None
        self.canned = None          # (status line, body) answered to every request
        self.answered = 0

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def running(self):
        return self.listener is not None

    def start(self):
        with self.lock:
            if self.listener:
                return self
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            deadline = time.time() + 30
            while True:  # the old listener's port may linger a moment
                try:
                    s.bind(("127.0.0.1", self.port))
                    break
                except OSError:
                    if time.time() > deadline:
                        s.close()
                        raise
                    time.sleep(0.1)
            s.listen(128)
            self.listener = s
            self.thread = threading.Thread(target=self._accept, args=(s,), daemon=True)
            self.thread.start()
        return self

    def stop(self):
        """Refuses new connections and cuts the open ones."""
        with self.lock:
            s, self.listener = self.listener, None
            conns, self.conns = self.conns, set()
        if s:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for c in conns:
            _close(c)
        if self.thread:
            self.thread.join(10)
            self.thread = None

    def answer(self, status, code="", message=""):
        """Answers every request with an S3 error (status None: forward
        again); connections open before are cut either way."""
        reasons = {403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
                   503: "Service Unavailable"}
        with self.lock:
            if status is None:
                self.canned = None
            else:
                body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
                        '<Message>%s</Message><RequestId>PROXY</RequestId></Error>'
                        % (code, message)).encode()
                self.canned = ("HTTP/1.1 %d %s" % (status, reasons.get(status, "Error")), body)
            conns, self.conns = self.conns, set()
        for c in conns:
            _close(c)

    def _accept(self, s):
        while True:
            try:
                client, _ = s.accept()
            except OSError:
                return  # closed by stop()
            with self.lock:
                canned = self.canned
                if canned:
                    self.conns.add(client)
            if canned:
                threading.Thread(target=self._answer, args=(client, canned),
                                 daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self.lock:
                if self.listener is not s:
                    _close(client)
                    _close(upstream)
                    return
                self.conns.update((client, upstream))
                self.accepted += 1
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _answer(self, c, canned):
        """Reads requests on c and answers each with canned, until EOF."""
        status, body = canned
        buf = b""
        c.settimeout(30)
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = c.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                hdrs = {k.strip().lower(): v.strip() for k, _, v in
                        (x.partition(":") for x in lines[1:])}
                method = lines[0].split(" ")[0]
                # Without "Expect: 100-continue" the body follows: drain it.
                if hdrs.get("expect", "").lower() != "100-continue":
                    need = int(hdrs.get("content-length", "0") or 0)
                    while len(buf) < need:
                        data = c.recv(min(need - len(buf), 1 << 20))
                        if not data:
                            return
                        buf += data
                    buf = buf[need:]
                    keep = True
                else:
                    keep = False  # the body was not sent: the connection is spent
                out = [status, "Content-Type: application/xml",
                       "Content-Length: %d" % len(body), "x-amz-request-id: PROXY",
                       "Connection: %s" % ("keep-alive" if keep else "close"), "", ""]
                c.sendall("\r\n".join(out).encode() + (b"" if method == "HEAD" else body))
                with self.lock:
                    self.answered += 1
                    if self.canned is not canned:
                        return
                if not keep:
                    return
        except (OSError, ValueError):
            return
        finally:
            with self.lock:
                self.conns.discard(c)
            _close(c)

    def _pipe(self, a, b):
        peer = {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                with self.lock:
                    if a not in self.conns:
                        return
                for src in ready:
                    data = src.recv(65536)
                    if not data:
                        return
                    peer[src].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self.lock:
                self.conns.discard(a)
                self.conns.discard(b)
            _close(a)
            _close(b)


def _close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


def stop_all():
    for m in list(_live):
        m.cleanup()


atexit.register(stop_all)
