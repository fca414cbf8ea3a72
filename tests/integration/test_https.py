"""HTTPS: --tls-cert/--tls-key with a self-signed certificate.

The certificate is made here with the openssl CLI, for 127.0.0.1 and
localhost.  boto3 (verify= the certificate) and the aws cli (--ca-bundle,
AWS_CA_BUNDLE) reach the same API over TLS, signed with an access key as
Fluent Bit's firehose output would; a client that does not trust the
certificate, and plain HTTP, get nowhere.  A certificate that cannot be
read, is not PEM, or does not match its key stops firelake at start with
a message that says which.
"""
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Server, free_port, make_dir  # noqa: E402

import botocore.exceptions  # noqa: E402

KEY = ("AKIDFIRELAKETLS00001", "tls-secret/0123456789abcdefghijklmnopqrstu")
STREAM = "tls_events"


def make_cert(d, name, cn="localhost"):
    """A self-signed certificate and its key: (cert path, key path)."""
    cert, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class HttpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="firelake-tls-")
        os.chmod(cls.tmp, 0o755)
        cls.cert, cls.key = make_cert(cls.tmp, "server")
        cls.srv = Server(tls=(cls.cert, cls.key),
                         args=["--access-keys", "%s:%s" % KEY]).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def client(self, service="firehose", **kwargs):
        kwargs.setdefault("aws_access_key_id", KEY[0])
        kwargs.setdefault("aws_secret_access_key", KEY[1])
        return self.srv.client(service, **kwargs)

    def test_boto3_over_tls(self):
        self.assertTrue(self.srv.url.startswith("https://"))
        fh = self.client()
        fh.create_delivery_stream(
            DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/firelake",
                "BucketARN": "arn:aws:s3:::lake",
                "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1}})
        before = self.srv.metric('firelake_incoming_records_total{stream="%s"}' % STREAM) or 0
        r = fh.put_record_batch(DeliveryStreamName=STREAM, Records=[
            {"Data": b'{"n":%d}\n' % i} for i in range(3)])
        self.assertEqual(r["FailedPutCount"], 0)
        self.assertIn(STREAM, fh.list_delivery_streams()["DeliveryStreamNames"])
        self.assertEqual(
            self.srv.metric('firelake_incoming_records_total{stream="%s"}' % STREAM),
            before + 3)
        # Glue and Athena share the listener
        self.assertIn("DatabaseList", self.client("glue").get_databases())
        self.assertIn("WorkGroups", self.client("athena").list_work_groups())

    def test_signatures_still_checked(self):
        fh = self.client(aws_secret_access_key="wrong")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fh.list_delivery_streams()
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidSignatureException")
        status, _, answer = self.srv.post("Firehose_20150804.ListDeliveryStreams", {})
        self.assertEqual((status, answer["__type"]), (403, "MissingAuthenticationTokenException"))

    def test_untrusted_certificate_refused(self):
        # the system's CAs do not vouch for a self-signed certificate
        fh = self.client(verify=True)
        with self.assertRaises(botocore.exceptions.SSLError):
            fh.list_delivery_streams()

    def test_plain_http_refused(self):
        with self.assertRaises((OSError, http.client.HTTPException)):
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % self.srv.port,
                                        timeout=10) as r:
                r.read()

    def test_health_over_tls(self):
        status, text = self.srv.get("/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(text)["status"], "ok")
        ctx = ssl.create_default_context(cafile=self.cert)
        with ctx.wrap_socket(__import__("socket").create_connection(
                ("127.0.0.1", self.srv.port), timeout=10), server_hostname="localhost") as s:
            self.assertIn(s.version(), ("TLSv1.2", "TLSv1.3"))

    def cli(self, *args, env=None):
        e = dict(os.environ, AWS_ACCESS_KEY_ID=KEY[0], AWS_SECRET_ACCESS_KEY=KEY[1],
                 AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
        e.pop("AWS_CA_BUNDLE", None)
        e.update(env or {})
        return subprocess.run(["aws", "--endpoint-url", self.srv.url] + list(args),
                              env=e, capture_output=True, text=True, timeout=120)

    def test_aws_cli_ca_bundle(self):
        p = self.cli("--ca-bundle", self.cert, "firehose", "list-delivery-streams")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("events", json.loads(p.stdout)["DeliveryStreamNames"])
        p = self.cli("firehose", "list-delivery-streams", env={"AWS_CA_BUNDLE": self.cert})
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.cli("firehose", "list-delivery-streams")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("SSL", p.stderr)


class TlsStartErrorsTest(unittest.TestCase):
    """Bad certificate files stop firelake at start, saying which file and why."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="firelake-tls-")
        os.chmod(cls.tmp, 0o755)
        cls.cert, cls.key = make_cert(cls.tmp, "a")
        cls.cert2, cls.key2 = make_cert(cls.tmp, "b")
        cls.garbage = os.path.join(cls.tmp, "garbage.pem")
        with open(cls.garbage, "w") as f:
            f.write("not a certificate\n")
        # one data dir for every attempt: PostgreSQL is initialised once
        cls.data = make_dir()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        shutil.rmtree(cls.data, ignore_errors=True)

    def start(self, *args):
        p = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:%d" % free_port(),
                            "--data-dir", self.data] + list(args),
                           capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout + p.stderr

    def test_bad_files(self):
        missing = os.path.join(self.tmp, "missing.pem")
        cases = [
            ((missing, self.key), "cannot read --tls-cert %s: No such file or directory" % missing),
            ((self.cert, missing), "cannot read --tls-key %s: No such file or directory" % missing),
            ((self.garbage, self.key), "--tls-cert %s holds no PEM certificate" % self.garbage),
            ((self.cert, self.garbage), "--tls-key %s holds no unencrypted PEM private key"
             % self.garbage),
            ((self.cert, self.key2), "--tls-key %s is not the key of the certificate in "
             "--tls-cert %s" % (self.key2, self.cert)),
        ]
        for (cert, key), message in cases:
            with self.subTest(message=message):
                rc, out = self.start("--tls-cert", cert, "--tls-key", key)
                self.assertNotEqual(rc, 0, out)
                self.assertIn(message, out)
                self.assertNotIn("BEGIN", out)  # no key material in the message

    def test_cert_without_key(self):
        rc, out = self.start("--tls-cert", self.cert)
        self.assertEqual(rc, 2, out)
        self.assertIn("--tls-cert and --tls-key go together", out)


if __name__ == "__main__":
    unittest.main()
