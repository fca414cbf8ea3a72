"""SigV4 authentication against the real binary, with real clients.

With --access-keys every AWS request must be signed by one of the keys:
boto3 and the aws cli with the right key work; a wrong secret, an unknown
key, an expired date, a tampered body, a wrong service and an unsigned
request each get AWS's error and change nothing (no stream created, no
record acknowledged).  The query-string form (botocore's SigV4QueryAuth)
works too.  /health stays open; /metrics wants a signature with
--metrics-auth on and exports the failure counters.  Without keys,
firelake starts only on a loopback address unless --allow-anonymous.
"""
import datetime
import json
import os
import subprocess
import sys
import unittest
import urllib.error
import urllib.request
from unittest import mock

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN, Server, b64, free_port, make_dir, wait_for  # noqa: E402

import botocore.exceptions  # noqa: E402
from botocore.auth import SigV4Auth, SigV4QueryAuth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

KEY_A = ("AKIDFIRELAKETEST0001", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
KEY_B = ("AKIDFIRELAKETEST0002", "s3cond+secret/with=odd:chars")
STREAM = "auth_test"
BAD_SIGNATURE = ("The request signature we calculated does not match the signature you "
                 "provided. Check your AWS Secret Access Key and signing method. Consult "
                 "the service documentation for details.")
REASONS = ("missing", "incomplete", "unknown_key", "bad_signature")


class BodyInPlaceQueryAuth(SigV4QueryAuth):
    """botocore's query-string signer, but the JSON body stays the body
    (SigV4QueryAuth moves a body into the query, as the query protocol
    wants; the JSON protocol sends it as is)."""

    def _modify_request_before_signing(self, request):
        data = request.data
        request.data = b""
        super()._modify_request_before_signing(request)
        request.data = data


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def sign(url, target, body, key=KEY_A, service="firehose", when=None, query=False,
         expires=300, method="POST"):
    """A request signed by botocore: (url, headers, body)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {}
    if target:
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    req = AWSRequest(method=method, url=url, data=data if method == "POST" else None,
                     headers=headers)
    creds = Credentials(*key)
    signer = (BodyInPlaceQueryAuth(creds, service, "us-east-1", expires=expires) if query
              else SigV4Auth(creds, service, "us-east-1"))
    with mock.patch("botocore.auth.get_current_datetime", return_value=when or utcnow()):
        signer.add_auth(req)
    return req.url, dict(req.headers.items()), data if method == "POST" else None


def send(url, headers, body, method="POST", context=None):
    """(status, body: parsed JSON or text)."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60, context=context) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, raw.decode()


def metrics_text(srv, key=KEY_A):
    url, headers, _ = sign(srv.url + "/metrics", None, b"", key=key, method="GET")
    status, text = send(url, headers, None, method="GET", context=srv.ssl_context())
    assert status == 200, (status, text)
    return text


def metric(text, series):
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return None


def run_cli(srv, key, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1],
               AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1",
               AWS_RETRY_MODE="standard")
    env.pop("AWS_PROFILE", None)
    return subprocess.run(["aws", "--endpoint-url", srv.url] + list(args), env=env,
                          capture_output=True, text=True, timeout=120)


class KeyedServerTest(unittest.TestCase):
    """One firelake with two keys and --metrics-auth on."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(args=["--access-keys", "%s:%s,%s:%s" % (KEY_A + KEY_B),
                               "--metrics-auth", "on", "--log-level", "debug"]).start()
        try:
            cls.fh = cls.srv.client(aws_access_key_id=KEY_A[0],
                                    aws_secret_access_key=KEY_A[1])
            cls.fh.create_delivery_stream(
                DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": "arn:aws:iam::000000000000:role/firelake",
                    "BucketARN": "arn:aws:s3:::lake",
                    "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1}})
        except Exception:
            cls.srv.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    # -- state that a rejected request must leave alone --

    def state(self):
        text = metrics_text(self.srv)
        return {
            "streams": sorted(self.fh.list_delivery_streams()["DeliveryStreamNames"]),
            "records": metric(text, 'firelake_incoming_records_total{stream="%s"}' % STREAM)
            or 0.0,
            "failures": {r: metric(text, 'firelake_auth_failures_total{reason="%s"}' % r)
                         for r in REASONS},
        }

    def assert_rejected(self, before, reason):
        """Nothing acknowledged or created; exactly one failure of reason
        counted (the state() calls themselves are signed and succeed)."""
        after = self.state()
        self.assertEqual(after["streams"], before["streams"])
        self.assertEqual(after["records"], before["records"])
        want = dict(before["failures"])
        want[reason] += 1
        self.assertEqual(after["failures"], want)

    def put_target(self):
        return "Firehose_20150804.PutRecord", {"DeliveryStreamName": STREAM,
                                               "Record": {"Data": b64(b'{"a":1}\n')}}

    # -- accepted --

    def test_boto3_right_keys(self):
        before = self.state()
        for key in (KEY_A, KEY_B):
            fh = self.srv.client(aws_access_key_id=key[0], aws_secret_access_key=key[1])
            r = fh.put_record(DeliveryStreamName=STREAM, Record={"Data": b'{"a":1}\n'})
            self.assertTrue(r["RecordId"])
        # glue and athena are signed for their own service names
        glue = self.srv.client("glue", aws_access_key_id=KEY_B[0],
                               aws_secret_access_key=KEY_B[1])
        self.assertIn("DatabaseList", glue.get_databases())
        athena = self.srv.client("athena", aws_access_key_id=KEY_A[0],
                                 aws_secret_access_key=KEY_A[1])
        self.assertIn("WorkGroups", athena.list_work_groups())
        after = self.state()
        self.assertEqual(after["records"], before["records"] + 2)
        self.assertEqual(after["failures"], before["failures"])

    def test_aws_cli_right_key(self):
        before = self.state()
        p = run_cli(self.srv, KEY_B, "firehose", "put-record", "--delivery-stream-name",
                    STREAM, "--record", "Data=hello")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(json.loads(p.stdout)["RecordId"])
        p = run_cli(self.srv, KEY_A, "firehose", "list-delivery-streams")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(STREAM, json.loads(p.stdout)["DeliveryStreamNames"])
        self.assertEqual(self.state()["records"], before["records"] + 1)

    def test_query_string_form(self):
        before = self.state()
        target, body = self.put_target()
        url, headers, data = sign(self.srv.url + "/", target, body, key=KEY_B, query=True)
        self.assertIn("X-Amz-Signature=", url)
        self.assertNotIn("Authorization", headers)
        status, answer = send(url, headers, data)
        self.assertEqual(status, 200, answer)
        self.assertTrue(answer["RecordId"])
        self.assertEqual(self.state()["records"], before["records"] + 1)

    def test_health_open(self):
        status, answer = send(self.srv.url + "/health", {}, None, method="GET")
        self.assertEqual(status, 200)
        self.assertEqual(answer["status"], "ok")

    def test_metrics_needs_signature(self):
        before = self.state()
        status, answer = send(self.srv.url + "/metrics", {}, None, method="GET")
        self.assertEqual(status, 403)
        self.assertEqual(answer["__type"], "MissingAuthenticationTokenException")
        self.assertEqual(answer["message"], "Missing Authentication Token")
        self.assert_rejected(before, "missing")
        # a wrong secret is refused too; the right one answers
        url, headers, _ = sign(self.srv.url + "/metrics", None, b"", method="GET",
                               key=(KEY_A[0], "wrong"))
        status, answer = send(url, headers, None, method="GET")
        self.assertEqual(status, 400)
        self.assertEqual(answer["__type"], "InvalidSignatureException")
        text = metrics_text(self.srv, KEY_B)
        self.assertIn("# TYPE firelake_auth_failures_total counter", text)
        self.assertGreaterEqual(metric(text, "firelake_auth_accepted_total"), 1)

    # -- rejected, each with AWS's error, changing nothing --

    def expect_client_error(self, fn, code, status, message=None):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn()
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status)
        if message is not None:
            self.assertEqual(err["Error"]["Message"], message)
        return err["Error"]["Message"]

    def test_wrong_secret(self):
        before = self.state()
        fh = self.srv.client(aws_access_key_id=KEY_A[0], aws_secret_access_key=KEY_B[1])
        msg = self.expect_client_error(
            lambda: fh.put_record(DeliveryStreamName=STREAM, Record={"Data": b"x\n"}),
            "InvalidSignatureException", 400, BAD_SIGNATURE)
        self.assertNotIn(KEY_A[1], msg)
        self.assertNotIn(KEY_B[1], msg)
        self.assert_rejected(before, "bad_signature")

    def test_unknown_key(self):
        before = self.state()
        fh = self.srv.client(aws_access_key_id="AKIDNOBODYKNOWS00001",
                             aws_secret_access_key=KEY_A[1])
        self.expect_client_error(
            lambda: fh.create_delivery_stream(DeliveryStreamName="intruder"),
            "UnrecognizedClientException", 400,
            "The security token included in the request is invalid.")
        self.assert_rejected(before, "unknown_key")

    def test_expired_date(self):
        before = self.state()
        when = utcnow() - datetime.timedelta(minutes=20)
        fh = self.srv.client(aws_access_key_id=KEY_A[0], aws_secret_access_key=KEY_A[1])
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            msg = self.expect_client_error(
                lambda: fh.put_record(DeliveryStreamName=STREAM, Record={"Data": b"x\n"}),
                "InvalidSignatureException", 400)
        self.assertRegex(msg, r"^Signature expired: %s is now earlier than \d{8}T\d{6}Z "
                              r"\(\d{8}T\d{6}Z - 15 min\.\)$" % when.strftime("%Y%m%dT%H%M%SZ"))
        self.assert_rejected(before, "bad_signature")

    def test_date_in_future(self):
        before = self.state()
        when = utcnow() + datetime.timedelta(minutes=20)
        target, body = self.put_target()
        url, headers, data = sign(self.srv.url + "/", target, body, when=when)
        status, answer = send(url, headers, data)
        self.assertEqual(status, 400)
        self.assertEqual(answer["__type"], "InvalidSignatureException")
        self.assertTrue(answer["message"].startswith("Signature not yet current: "))
        self.assert_rejected(before, "bad_signature")

    def test_tampered_body(self):
        before = self.state()
        target, body = self.put_target()
        url, headers, data = sign(self.srv.url + "/", target, body)
        tampered = data.replace(b'"%s"' % STREAM.encode(), b'"other"')
        self.assertNotEqual(tampered, data)
        status, answer = send(url, headers, tampered)
        self.assertEqual(status, 400)
        self.assertEqual(answer, {"__type": "InvalidSignatureException",
                                  "message": BAD_SIGNATURE})
        # the untampered request goes through: the signature was good
        self.assert_rejected(before, "bad_signature")
        status, answer = send(url, headers, data)
        self.assertEqual(status, 200, answer)

    def test_unsigned(self):
        before = self.state()
        target, body = self.put_target()
        status, headers, answer = self.srv.post(target, body)
        self.assertEqual(status, 403)
        self.assertEqual(headers.get("x-amzn-ErrorType"), "MissingAuthenticationTokenException")
        self.assertEqual(answer, {"__type": "MissingAuthenticationTokenException",
                                  "message": "Missing Authentication Token"})
        self.assert_rejected(before, "missing")

    def test_wrong_service(self):
        before = self.state()
        target, body = self.put_target()
        url, headers, data = sign(self.srv.url + "/", target, body, service="glue")
        status, answer = send(url, headers, data)
        self.assertEqual(status, 400)
        self.assertEqual(answer, {"__type": "InvalidSignatureException", "message":
                                  "Credential should be scoped to correct service: "
                                  "'firehose'. "})
        self.assert_rejected(before, "bad_signature")

    def test_incomplete_signature(self):
        before = self.state()
        target, body = self.put_target()
        url, headers, data = sign(self.srv.url + "/", target, body)
        headers["Authorization"] = headers["Authorization"].split(", Signature=")[0]
        status, answer = send(url, headers, data)
        self.assertEqual(status, 400)
        self.assertEqual(answer["__type"], "IncompleteSignatureException")
        self.assertIn("Authorization header requires 'Signature' parameter.",
                      answer["message"])
        self.assert_rejected(before, "incomplete")

    def test_query_string_form_rejections(self):
        target, body = self.put_target()
        # a tampered body
        before = self.state()
        url, headers, data = sign(self.srv.url + "/", target, body, query=True)
        status, answer = send(url, headers, data.replace(b"eyJhIjoxfQo=", b"eyJhIjoyfQo="))
        self.assertEqual((status, answer["__type"]), (400, "InvalidSignatureException"))
        self.assert_rejected(before, "bad_signature")
        # past X-Amz-Expires (60 s), though within the 15 minutes
        before = self.state()
        when = utcnow() - datetime.timedelta(minutes=2)
        url, headers, data = sign(self.srv.url + "/", target, body, query=True, when=when,
                                  expires=60)
        status, answer = send(url, headers, data)
        self.assertEqual((status, answer["__type"]), (400, "InvalidSignatureException"))
        self.assertTrue(answer["message"].startswith("Signature expired: "), answer)
        self.assert_rejected(before, "bad_signature")
        # an unknown key
        before = self.state()
        url, headers, data = sign(self.srv.url + "/", target, body, query=True,
                                  key=("AKIDNOBODYKNOWS00001", KEY_A[1]))
        status, answer = send(url, headers, data)
        self.assertEqual((status, answer["__type"]), (400, "UnrecognizedClientException"))
        self.assert_rejected(before, "unknown_key")

    def test_aws_cli_wrong_secret(self):
        before = self.state()
        p = run_cli(self.srv, (KEY_B[0], KEY_A[1]), "firehose", "put-record",
                    "--delivery-stream-name", STREAM, "--record", "Data=hello")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidSignatureException", p.stderr)
        self.assertNotIn(KEY_A[1], p.stderr)
        self.assert_rejected(before, "bad_signature")

    def test_secrets_not_logged(self):
        log = self.srv.log()
        self.assertTrue(log)
        for secret in (KEY_A[1], KEY_B[1]):
            self.assertNotIn(secret, log)
        self.assertNotIn("Signature=", log)


class ExposureTest(unittest.TestCase):
    """Without keys: loopback only, unless --allow-anonymous."""

    def test_non_loopback_without_keys_refused(self):
        d = make_dir()
        try:
            env = dict(os.environ)
            env.pop("FIRELAKE_ACCESS_KEYS", None)
            p = subprocess.run([BIN, "serve", "--listen", "0.0.0.0:%d" % free_port(),
                                "--data-dir", d], env=env, capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("refusing to listen on 0.0.0.0 without access keys", p.stderr)
            self.assertIn("--allow-anonymous", p.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "pg")))
        finally:
            import shutil
            shutil.rmtree(d, ignore_errors=True)

    def test_allow_anonymous_and_dummy_credentials(self):
        port = free_port()
        # 0.0.0.0 is every interface, loopback included: the test reaches it
        # on 127.0.0.1.
        srv = Server(port=port, args=["--listen", "0.0.0.0:%d" % port,
                                      "--allow-anonymous"]).start()
        try:
            self.assertIn("--allow-anonymous", srv.log())
            # aws cli with its usual dummy credentials, and unsigned requests
            p = run_cli(srv, ("test", "test"), "firehose", "list-delivery-streams")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("events", json.loads(p.stdout)["DeliveryStreamNames"])
            status, _, answer = srv.post("Firehose_20150804.ListDeliveryStreams", {})
            self.assertEqual(status, 200, answer)
            # /metrics stays open without keys; nothing was refused
            self.assertEqual(srv.metric('firelake_auth_failures_total{reason="missing"}'), 0)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()
