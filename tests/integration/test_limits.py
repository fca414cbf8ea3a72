"""Limits probed at their edges and one past.

Each limit is sent at its edge (accepted, and the data delivered into the
lake exactly) and one past it (the AWS error, exactly), and after each the
server must still be healthy: GET /health answers 200 and a normal
PutRecord is acknowledged.  Requests go raw (Server.post, sockets) where
boto3 would refuse them on the client side.

The limits: 500 records and 4 MiB per PutRecordBatch, 1,024,000 bytes per
record, an event's JSON (nesting, huge numbers, invalid UTF-8, NUL bytes,
duplicate keys, a decompressed event too large for a WAL record), the
request's own JSON, HTTP headers and URLs past libmicrohttpd's 64 KiB
connection pool, Athena's 262,144-character QueryString and Glue's
255-character names.
"""
import base64
import gzip
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

FH = "Firehose_20150804."
ROLE = "arn:aws:iam::000000000000:role/firehose"
STREAM = "edge"
CREATED_AT = 1767226391
CREATED_DT = "2026-01-01T00:13:11Z"
MAX_RECORD = 1024000
MAX_BATCH = 4 * 1024 * 1024
MAX_QUERY = 262144


def event_bytes(uuid, name="edge:probe", body=b""):
    """An event of the stream's shape; body is more members (raw JSON)."""
    head = b'{"event_uuid":"%s","event_name":"%s","created_at":%d' % (
        uuid.encode(), name.encode(), CREATED_AT)
    return head + (b"," + body if body else b"") + b"}"


def padded(uuid, size):
    """One record of exactly size bytes: an event padded by a string, then
    a newline (Fluent Bit's framing)."""
    head = event_bytes(uuid, body=b'"pad":"')[:-1]
    n = size - len(head) - len(b'"}\n')
    assert n >= 0
    return head + b"p" * n + b'"}\n'


def enriched_line(raw, name="edge:probe"):
    """The line firelake must deliver for the event raw (bytes, no newline):
    its own bytes, then the three members enrichment adds."""
    parts = name.split(":")
    sub = json.dumps(parts[1]) if len(parts) > 1 else "null"
    tail = ',"created_datetime":"%s","event_type":%s,"event_subtype":%s}' % (
        CREATED_DT, json.dumps(parts[0]), sub)
    assert raw.endswith(b"}")
    return raw[:-1].decode() + tail


def raw_http(port, data, timeout=20):
    """Sends raw bytes, reads until the server closes: (status, reply, how)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading it all
        reply = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return _status(reply), reply, "reset"
            if not chunk:
                return _status(reply), reply, "closed"
            reply += chunk
    return _status(reply), reply, "timeout"


def _status(reply):
    line = reply.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[1].isdigit() else None


class Limits(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fh.create_delivery_stream(
            DeliveryStreamName=STREAM,
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake",
                "Prefix": "edge/", "ErrorOutputPrefix": "edge-errors/",
                "BufferingHints": {"SizeInMBs": 16, "IntervalInSeconds": 1},
                "CompressionFormat": "UNCOMPRESSED"})
        cls.seq = 0

    # ---- helpers ----------------------------------------------------------

    def uuid(self, tag):
        Limits.seq += 1
        return "%s-%d" % (tag, Limits.seq)

    def batch(self, records, stream=STREAM):
        """PutRecordBatch of raw bytes records: (status, body)."""
        st, _, body = self.srv.post(FH + "PutRecordBatch", {
            "DeliveryStreamName": stream,
            "Records": [{"Data": harness.b64(r)} for r in records]})
        return st, body

    def put(self, record, stream=STREAM):
        st, _, body = self.srv.post(FH + "PutRecord", {
            "DeliveryStreamName": stream, "Record": {"Data": harness.b64(record)}})
        return st, body

    def incoming(self):
        return self.srv.metric('firelake_incoming_records_total{stream="%s"}' % STREAM) or 0

    def assert_accepted(self, st, body, n):
        self.assertEqual(st, 200, body)
        self.assertEqual(body["FailedPutCount"], 0, body)
        self.assertEqual(len(body["RequestResponses"]), n)
        ids = [r["RecordId"] for r in body["RequestResponses"]]
        self.assertEqual(len(set(ids)), n)

    def assert_error(self, st, body, status, type_, message):
        self.assertEqual((st, body.get("__type"), body.get("message") or body.get("Message")),
                         (status, type_, message))

    def lake(self, prefix):
        """Waits until every acknowledged record is delivered; then every
        line under prefix, as text."""
        harness.wait_for(self.srv.delivered, timeout=90, what="delivery")
        return [line for lines in self.srv.lines(prefix=prefix).values() for line in lines]

    def delivered(self, uuids):
        """{uuid: delivered line} for the events uuids, each exactly once."""
        want = set(uuids)
        found = {}
        for line in self.lake("edge/"):
            u = json.loads(line)["event_uuid"]
            if u in want:
                self.assertNotIn(u, found, "event %s delivered twice" % u)
                found[u] = line
        self.assertEqual(set(found), want)
        return found

    def error_lines(self, raws):
        """{raw bytes: error line (dict)} for raws, from the error output."""
        want = set(raws)
        found = {}
        for line in self.lake("edge-errors/"):
            e = json.loads(line)
            raw = base64.b64decode(e["rawData"])
            if raw in want:
                found[raw] = e
        self.assertEqual(set(found), want)
        return found

    def assert_healthy(self):
        st, text = self.srv.get("/health")
        self.assertEqual(st, 200, text)
        self.assertEqual(json.loads(text)["status"], "ok", text)
        u = self.uuid("health")
        st, body = self.put(event_bytes(u) + b"\n")
        self.assertEqual(st, 200, body)
        self.assertTrue(body["RecordId"])
        self.assertIn(u, self.delivered([u]))

    # ---- PutRecordBatch: 500 records -------------------------------------

    def test_records_per_batch(self):
        before = self.incoming()
        uuids = [self.uuid("r500") for _ in range(500)]
        st, body = self.batch([event_bytes(u) + b"\n" for u in uuids])
        self.assert_accepted(st, body, 500)
        got = self.delivered(uuids)
        for u in uuids:
            self.assertEqual(got[u], enriched_line(event_bytes(u)))

        st, body = self.batch([event_bytes(self.uuid("r501")) + b"\n" for _ in range(501)])
        self.assert_error(st, body, 400, "ValidationException",
                          "1 validation error detected: Value at 'records' failed to satisfy "
                          "constraint: Member must have length less than or equal to 500")
        st, body = self.batch([])
        self.assert_error(st, body, 400, "ValidationException",
                          "1 validation error detected: Value '[]' at 'records' failed to "
                          "satisfy constraint: Member must have length greater than or equal to 1")
        self.assertEqual(self.incoming(), before + 500)
        self.assert_healthy()

    # ---- 1,024,000 bytes per record ------------------------------------------

    def test_record_size(self):
        before = self.incoming()
        a, b = self.uuid("rec-edge"), self.uuid("rec-edge-put")
        edge_a, edge_b = padded(a, MAX_RECORD), padded(b, MAX_RECORD)
        self.assertEqual((len(edge_a), len(edge_b)), (MAX_RECORD, MAX_RECORD))
        st, body = self.batch([edge_a])
        self.assert_accepted(st, body, 1)
        st, body = self.put(edge_b)
        self.assertEqual(st, 200, body)
        got = self.delivered([a, b])
        self.assertEqual(got[a], enriched_line(edge_a[:-1]))
        self.assertEqual(got[b], enriched_line(edge_b[:-1]))

        past = padded(self.uuid("rec-past"), MAX_RECORD + 1)
        st, body = self.batch([past])
        self.assert_error(st, body, 400, "ValidationException",
                          "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 "
                          "lim=1024001 cap=1024001]' at 'records.1.member.data' failed to satisfy "
                          "constraint: Member must have length less than or equal to 1024000")
        st, body = self.put(past)
        self.assert_error(st, body, 400, "ValidationException",
                          "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 "
                          "lim=1024001 cap=1024001]' at 'record.data' failed to satisfy "
                          "constraint: Member must have length less than or equal to 1024000")
        # Every violation is reported, as AWS does; the good records are not kept.
        small = event_bytes(self.uuid("rec-small")) + b"\n"
        st, body = self.batch([small, past, small, padded(self.uuid("rec-past2"), 2000000)])
        self.assert_error(st, body, 400, "ValidationException",
                          "2 validation errors detected: "
                          "Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at "
                          "'records.2.member.data' failed to satisfy constraint: Member must "
                          "have length less than or equal to 1024000; "
                          "Value 'java.nio.HeapByteBuffer[pos=0 lim=2000000 cap=2000000]' at "
                          "'records.4.member.data' failed to satisfy constraint: Member must "
                          "have length less than or equal to 1024000")
        st, _, body = self.srv.post(FH + "PutRecordBatch", {
            "DeliveryStreamName": STREAM, "Records": [{}, {"Data": "e30="}, {"data": "e30="}]})
        self.assert_error(st, body, 400, "ValidationException",
                          "2 validation errors detected: Value null at 'records.1.member.data' "
                          "failed to satisfy constraint: Member must not be null; Value null at "
                          "'records.3.member.data' failed to satisfy constraint: Member must "
                          "not be null")
        self.assertEqual(self.incoming(), before + 2)
        self.assert_healthy()

    # ---- 4 MiB per request ---------------------------------------------------

    def test_request_size(self):
        before = self.incoming()
        uuids = [self.uuid("req4m") for _ in range(5)]
        rest = MAX_BATCH - 4 * MAX_RECORD
        records = [padded(u, MAX_RECORD) for u in uuids[:4]] + [padded(uuids[4], rest)]
        self.assertEqual(sum(map(len, records)), MAX_BATCH)
        st, body = self.batch(records)
        self.assert_accepted(st, body, 5)
        got = self.delivered(uuids)
        for u, r in zip(uuids, records):
            self.assertEqual(got[u], enriched_line(r[:-1]))

        over = [padded(self.uuid("req4m+1"), MAX_RECORD) for _ in range(4)]
        over.append(padded(self.uuid("req4m+1"), rest + 1))
        st, body = self.batch(over)
        self.assert_error(st, body, 400, "InvalidArgumentException",
                          "Records size exceeds 4 MB limit")
        # 500 records that add up to one byte past 4 MiB.
        each, extra = divmod(MAX_BATCH + 1, 500)
        many = [padded(self.uuid("req500"), each + (i < extra)) for i in range(500)]
        self.assertEqual(sum(map(len, many)), MAX_BATCH + 1)
        st, body = self.batch(many)
        self.assert_error(st, body, 400, "InvalidArgumentException",
                          "Records size exceeds 4 MB limit")
        # A record over its own limit is a ValidationException even when
        # the request is over 4 MiB too (validation comes first).
        st, body = self.batch(over[:3] + [padded(self.uuid("req-both"), MAX_RECORD + 1)])
        self.assertEqual((st, body["__type"]), (400, "ValidationException"), body)
        self.assertIn("'records.4.member.data'", body["message"])
        # Past the HTTP body limit (6 MiB): refused before it is parsed.
        st, body = self.batch([padded(self.uuid("req-body"), MAX_RECORD)] * 5 + [b"x" * 1000])
        self.assertEqual((st, body["__type"]), (400, "InvalidArgumentException"), body)
        self.assertEqual(self.incoming(), before + 5)
        self.assert_healthy()

    # ---- what an event may hold ------------------------------------------------

    def test_event_content(self):
        """Firehose takes any bytes; firelake delivers every event it can
        enrich byte for byte, and sends the others to the error output with
        their raw bytes: the record is acknowledged either way."""
        u = {k: self.uuid(k) for k in (
            "deep63", "deepobj", "deep64", "huge", "bigint", "nul-esc", "nul-raw",
            "nul-outside", "bad-byte", "overlong", "surrogate", "truncated", "dup", "utf8")}
        good = {
            # The event object is level 1: 63 more levels are allowed.
            "deep63": event_bytes(u["deep63"], body=b'"deep":' + b"[" * 63 + b"]" * 63),
            "deepobj": event_bytes(u["deepobj"], body=b'"tree":' + b'{"a":' * 63 + b"1" + b"}" * 63),
            "huge": event_bytes(u["huge"], body=b'"inf":1e400,"tiny":-1e-400,'
                                b'"big":99999999999999999999999,'
                                b'"long":123456789012345678901234567890.5e-3'),
            "bigint": event_bytes(u["bigint"], body=b'"i64":9223372036854775807,'
                                  b'"u64":9223372036854775808'),
            "nul-esc": event_bytes(u["nul-esc"], body=b'"nul":"a\\u0000b"'),
            "utf8": event_bytes(u["utf8"], body='"text":"\u00e9\u4e2d\U0001f600"'.encode()),
        }
        bad = {
            "deep64": (event_bytes(u["deep64"], body=b'"deep":' + b"[" * 64 + b"]" * 64),
                       "nested too deeply"),
            "nul-raw": (event_bytes(u["nul-raw"], body=b'"nul":"a\x00b"'),
                        "control character in string"),
            "nul-outside": (event_bytes(u["nul-outside"], body=b'"n":1\x00'), "not valid JSON"),
            "bad-byte": (event_bytes(u["bad-byte"], body=b'"s":"\xff\xfe"'), "invalid UTF-8"),
            "overlong": (event_bytes(u["overlong"], body=b'"s":"\xc0\xaf"'), "invalid UTF-8"),
            "surrogate": (event_bytes(u["surrogate"], body=b'"s":"\xed\xa0\x80"'), "invalid UTF-8"),
            "truncated": (event_bytes(u["truncated"], body=b'"s":"\xe4\xb8"'), "invalid UTF-8"),
        }
        # Duplicate keys are valid JSON: kept as they are; the last
        # event_name is the one enrichment reads.
        dup = event_bytes(u["dup"], name="edge:first", body=b'"x":1,"x":"two","event_name":"dup:second"')
        records = [r + b"\n" for r in good.values()] + [r + b"\n" for r, _ in bad.values()]
        records.append(dup + b"\n")
        before = self.incoming()
        st, body = self.batch(records)
        self.assert_accepted(st, body, len(records))
        self.assertEqual(self.incoming(), before + len(records))

        got = self.delivered([u[k] for k in good] + [u["dup"]])
        for k, raw in good.items():
            self.assertEqual(got[u[k]], enriched_line(raw), k)
        self.assertEqual(got[u["dup"]], enriched_line(dup, name="dup:second"))
        self.assertEqual(json.loads(got[u["nul-esc"]])["nul"], "a\x00b")
        errors = self.error_lines([r for r, _ in bad.values()])
        for k, (raw, why) in bad.items():
            e = errors[raw]
            self.assertEqual((e["errorCode"], e["errorMessage"]), ("Enrichment.InvalidEvent", why), k)
            self.assertEqual(e["attemptsMade"], 1)

        # The catalog types the numbers: past bigint is double.
        cols = {c["Name"]: c["Type"] for c in self.srv.client("glue").get_table(
            DatabaseName="default", Name=STREAM)["Table"]["StorageDescriptor"]["Columns"]}
        self.assertEqual((cols["i64"], cols["u64"], cols["big"], cols["long"]),
                         ("bigint", "double", "double", "double"))
        self.assertEqual(cols["text"], "string")
        self.assert_healthy()

    def test_decompressed_event_too_large(self):
        """A gzip record may inflate to 16 MiB; an event too large for a WAL
        record fails its record alone (error output, compressed bytes), and
        the rest of the batch is kept."""
        ok = self.uuid("gz-ok")
        big = gzip.compress(padded(self.uuid("gz-16m"), 16 << 20))
        bomb = gzip.compress(padded(self.uuid("gz-16m+1"), (16 << 20) + 1))
        mid = self.uuid("gz-8m")
        fine = padded(mid, 8 << 20)
        # Not JSON, and its error line (base64) would not fit a WAL record.
        junk = gzip.compress(b"x" * (13 << 20) + b"\n")
        st, body = self.batch([big, event_bytes(ok) + b"\n", bomb, gzip.compress(fine), junk])
        self.assert_accepted(st, body, 5)
        got = self.delivered([ok, mid])
        self.assertEqual(got[ok], enriched_line(event_bytes(ok)))
        self.assertEqual(got[mid], enriched_line(fine[:-1]))
        errors = self.error_lines([big, bomb, junk])
        self.assertEqual(errors[big]["errorCode"], "Enrichment.EventTooLarge")
        self.assertEqual(errors[junk]["errorCode"], "Enrichment.EventTooLarge")
        self.assertEqual(errors[bomb]["errorCode"], "Decompression.Failed")
        self.assert_healthy()

    # ---- the request's own JSON ---------------------------------------------

    def test_request_json(self):
        before = self.incoming()
        ev = harness.b64(event_bytes(self.uuid("dupreq")) + b"\n")
        name = '"DeliveryStreamName":"%s"' % STREAM
        for body, key in (
                ('{%s,"Records":[{"Data":"%s"}],"Records":[{"Data":"%s"}]}' % (name, ev, ev), "Records"),
                ('{"DeliveryStreamName":"events",%s,"Records":[{"Data":"%s"}]}' % (name, ev),
                 "DeliveryStreamName"),
                ('{%s,"Records":[{"Data":"%s","Data":"%s"}]}' % (name, ev, ev), "Data")):
            st, _, b = self.srv.post(FH + "PutRecordBatch", body.encode())
            self.assert_error(st, b, 400, "SerializationException",
                              "Request body is not valid JSON: duplicate object key near "
                              "'\"%s\"'" % key)
        st, _, b = self.srv.post(FH + "PutRecord", ('{%s,"Record":{"Data":"%s"},"Record":{"Data":"%s"}}'
                                                    % (name, ev, ev)).encode())
        self.assert_error(st, b, 400, "SerializationException",
                          "Request body is not valid JSON: duplicate object key near '\"Record\"'")
        self.assertEqual(self.incoming(), before)
        # Bytes after the object: refused whole, as jansson refuses them
        # for every other operation; white space is fine.
        for target, body in (("PutRecordBatch", '{%s,"Records":[{"Data":"%s"}]} x' % (name, ev)),
                             ("PutRecord", '{%s,"Record":{"Data":"%s"}}{}' % (name, ev))):
            st, _, b = self.srv.post(FH + target, body.encode())
            self.assertEqual((st, b.get("__type")), (400, "SerializationException"), (target, b))
        self.assertEqual(self.incoming(), before)
        st, _, b = self.srv.post(FH + "PutRecord", ('{%s,"Record":{"Data":"%s"}} \r\n'
                                                    % (name, ev)).encode())
        self.assertEqual(st, 200, b)
        before = self.incoming()

        deep = b"[" * 100000 + b"]" * 100000
        for target, body in (
                (FH + "PutRecordBatch", b'{"X":%s,"DeliveryStreamName":"edge","Records":[]}' % deep),
                (FH + "DescribeDeliveryStream", b'{"DeliveryStreamName":"edge","X":%s}' % deep),
                ("AWSGlue.GetDatabase", b'{"Name":"default","X":%s}' % deep),
                ("AmazonAthena.StartQueryExecution", b'{"QueryString":"SELECT 1","X":%s}' % deep),
                (FH + "ListDeliveryStreams", b'{"Limit":99999999999999999999999}'),
                (FH + "ListDeliveryStreams", b'{"Limit":1e400}'),
                ("AWSGlue.GetTables", b'{"DatabaseName":"default","MaxResults":99999999999999999999999}'),
                ("AmazonAthena.ListQueryExecutions", b'{"MaxResults":1e400}'),
                (FH + "PutRecordBatch", b'{"DeliveryStreamName":"edge","Records":[{"Data":"e30=","x":"\xff"}]}'),
                ("AWSGlue.GetDatabase", b'{"Name":"d\xff"}'),
                ("AWSGlue.GetDatabase", b'{"Name":"de\\u0000fault"}'),
                ("AmazonAthena.StartQueryExecution", b'{"QueryString":"SELECT \'\\u0000\'"}')):
            st, _, b = self.srv.post(target, body)
            self.assertEqual((st, b.get("__type")), (400, "SerializationException"), (target, body[:80], b))
        st, _, b = self.srv.post(FH + "PutRecordBatch",
                                 b'{"DeliveryStreamName":"ed\\u0000ge","Records":[{"Data":"e30="}]}')
        self.assertEqual((st, b.get("__type")), (400, "ValidationException"), b)
        self.assertEqual(self.incoming(), before)
        self.assert_healthy()

    # ---- HTTP headers and URLs --------------------------------------------------

    def http_put(self, uuid, header_lines, path=b"/"):
        data = json.dumps({"DeliveryStreamName": STREAM, "Records": [
            {"Data": harness.b64(event_bytes(uuid) + b"\n")}]}).encode()
        return raw_http(self.srv.port, b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Connection: close\r\nContent-Type: application/x-amz-json-1.1\r\n"
                        b"X-Amz-Target: Firehose_20150804.PutRecordBatch\r\n" + header_lines +
                        b"Content-Length: %d\r\n\r\n" % len(data) + data)

    def test_headers(self):
        """An 8 KiB header (and more) is served; headers past the 64 KiB
        connection pool get 431 and the connection is closed, at once."""
        ok = []
        for n in (8192, 8193, 32768):
            u = self.uuid("hdr%d" % n)
            st, reply, how = self.http_put(u, b"X-Big: " + b"b" * n + b"\r\n")
            self.assertEqual((st, how), (200, "closed"), reply[:200])
            self.assertIn(b'"FailedPutCount":0', reply)
            ok.append(u)
        self.delivered(ok)
        for lines in (b"X-Big: " + b"b" * (64 << 10) + b"\r\n",
                      b"X-Big: " + b"b" * (1 << 20) + b"\r\n",
                      b"".join(b"X-H%d: v\r\n" % i for i in range(8000))):
            t0 = time.time()
            st, reply, how = self.http_put(self.uuid("hdr-big"), lines)
            self.assertEqual(st, 431, reply[:200])
            self.assertNotEqual(how, "timeout")
            self.assertLess(time.time() - t0, 10)
        st, reply, how = raw_http(self.srv.port, b"GET /health?" + b"q" * (8 << 10) +
                                  b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(st, 200, reply[:200])
        st, reply, how = raw_http(self.srv.port, b"GET /health?" + b"q" * (64 << 10) +
                                  b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(st, 414, reply[:200])
        self.assert_healthy()

    # ---- Athena: QueryString of 262,144 characters ------------------------------

    def query_string(self, n, fill="c"):
        head = "SELECT 1 AS x /*"
        q = head + fill * (n - len(head) - 2) + "*/"
        self.assertEqual(len(q), n)
        return q

    def test_query_string(self):
        import boto3
        from botocore.config import Config
        from botocore.exceptions import ClientError
        athena = self.srv.client("athena")
        for fill in ("c", "\u00e9"):   # characters, not bytes, are counted
            q = self.query_string(MAX_QUERY, fill)
            qid = athena.start_query_execution(QueryString=q)["QueryExecutionId"]
            harness.wait_for(lambda: athena.get_query_execution(QueryExecutionId=qid)[
                "QueryExecution"]["Status"]["State"] in ("SUCCEEDED", "FAILED"), what="query")
            qe = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            self.assertEqual(qe["Status"]["State"], "SUCCEEDED", qe["Status"])
            self.assertEqual(qe["Query"], q)
            rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
            self.assertEqual([[d.get("VarCharValue") for d in r["Data"]] for r in rows],
                             [["x"], ["1"]])

        q = self.query_string(MAX_QUERY + 1)
        st, _, body = self.srv.post("AmazonAthena.StartQueryExecution", {"QueryString": q})
        self.assertEqual((st, body["__type"], body["AthenaErrorCode"]),
                         (400, "InvalidRequestException", "INVALID_INPUT"), body)
        self.assertTrue(body["Message"].startswith("1 validation error detected: Value '" + q[:300]),
                        body["Message"][:200])
        self.assertTrue(body["Message"].endswith(
            "...' at 'queryString' failed to satisfy constraint: Member must have length "
            "less than or equal to 262144"), body["Message"][-200:])
        unvalidated = boto3.client(
            "athena", endpoint_url=self.srv.url, region_name="us-east-1",
            config=Config(parameter_validation=False, retries={"max_attempts": 0}))
        with self.assertRaises(ClientError) as cm:
            unvalidated.start_query_execution(QueryString=self.query_string(MAX_QUERY + 1, "\u00e9"))
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestException")
        with self.assertRaises(ClientError) as cm:
            unvalidated.start_query_execution(QueryString="")
        self.assertEqual(cm.exception.response["Error"]["Message"],
                         "1 validation error detected: Value '' at 'queryString' failed to satisfy "
                         "constraint: Member must have length greater than or equal to 1")
        self.assert_healthy()

    # ---- Glue: names of 255 characters ------------------------------------------

    def test_glue_names(self):
        glue = self.srv.client("glue")
        db, tbl, col, crawler = "d" * 255, "t" * 255, "c" * 255, "k" * 255
        glue.create_database(DatabaseInput={"Name": db})
        self.assertEqual(glue.get_database(Name=db)["Database"]["Name"], db)
        os.makedirs(os.path.join(self.srv.lake, "lake", "longnames"))
        with open(os.path.join(self.srv.lake, "lake", "longnames", "part-0.json"), "w") as f:
            f.write(json.dumps({col: "v"}) + "\n")
        glue.create_table(DatabaseName=db, TableInput={
            "Name": tbl, "TableType": "EXTERNAL_TABLE", "StorageDescriptor": {
                "Columns": [{"Name": col, "Type": "string"}],
                "Location": "s3://lake/longnames/",
                "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"}}})
        t = glue.get_table(DatabaseName=db, Name=tbl)["Table"]
        self.assertEqual((t["Name"], t["DatabaseName"]), (tbl, db))
        self.assertEqual([c["Name"] for c in t["StorageDescriptor"]["Columns"]], [col])
        self.assertIn(tbl, [x["Name"] for x in glue.get_tables(DatabaseName=db)["TableList"]])
        glue.create_crawler(Name=crawler, Role=ROLE, DatabaseName=db,
                            Targets={"S3Targets": [{"Path": "s3://lake/longnames/"}]})
        self.assertEqual(glue.get_crawler(Name=crawler)["Crawler"]["Name"], crawler)
        # PostgreSQL names stop at 63 bytes: such a table is in the catalog
        # but a query over it fails cleanly (or, one day, reads its rows).
        st, rows, qe = harness.run_query(self.srv.client("athena"),
                                         'SELECT * FROM "%s"."%s"' % (db, tbl), db=db)
        if st == "SUCCEEDED":
            self.assertEqual(rows, [[col], ["v"]])
        else:
            self.assertEqual(st, "FAILED")
            self.assertIn("longer than 63 characters", qe["Status"]["StateChangeReason"])

        def past(target, body, path, value):
            st, _, b = self.srv.post(target, body)
            self.assert_error(st, b, 400, "InvalidInputException",
                              "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                              "constraint: Member must have length less than or equal to 255"
                              % (value, path))
        past("AWSGlue.CreateDatabase", {"DatabaseInput": {"Name": "d" * 256}},
             "databaseInput.name", "d" * 256)
        past("AWSGlue.GetDatabase", {"Name": "d" * 256}, "name", "d" * 256)
        past("AWSGlue.CreateTable", {"DatabaseName": db, "TableInput": {"Name": "t" * 256}},
             "tableInput.name", "t" * 256)
        past("AWSGlue.CreateTable", {"DatabaseName": db, "TableInput": {
            "Name": "t2", "StorageDescriptor": {"Columns": [{"Name": "c" * 256, "Type": "string"}]}}},
             "tableInput.storageDescriptor.columns.1.member.name", "c" * 256)
        past("AWSGlue.GetTable", {"DatabaseName": db, "Name": "t" * 256}, "name", "t" * 256)
        past("AWSGlue.CreateCrawler", {"Name": "k" * 256, "Role": ROLE, "DatabaseName": db,
                                       "Targets": {"S3Targets": [{"Path": "s3://lake/x/"}]}},
             "name", "k" * 256)
        self.assertEqual([x["Name"] for x in glue.get_databases()["DatabaseList"]
                          if len(x["Name"]) > 200], [db])
        self.assert_healthy()


if __name__ == "__main__":
    unittest.main(verbosity=2)
