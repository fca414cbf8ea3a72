"""Firehose API through boto3 and raw HTTP: stream lifecycle, errors, limits."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

from botocore.exceptions import ClientError  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/firehose"
TARGET = "Firehose_20150804."


def ext_config(**over):
    cfg = {"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake", "Prefix": "plain/"}
    cfg.update(over)
    return cfg


class FirehoseApi(harness.ServerTest):
    def error(self, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        return cm.exception.response

    def test_default_stream_exists(self):
        d = self.fh.describe_delivery_stream(DeliveryStreamName="events")["DeliveryStreamDescription"]
        self.assertEqual(d["DeliveryStreamStatus"], "ACTIVE")
        self.assertEqual(d["DeliveryStreamARN"],
                         "arn:aws:firehose:us-east-1:000000000000:deliverystream/events")
        dest = d["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual(dest["BucketARN"], "arn:aws:s3:::lake")
        self.assertEqual(dest["CompressionFormat"], "GZIP")
        self.assertEqual(dest["BufferingHints"], {"SizeInMBs": 64, "IntervalInSeconds": 10})
        self.assertTrue(dest["Prefix"].startswith("raw/events/event_type=!{partitionKeyFromQuery:event_type}/"))

    def test_lifecycle(self):
        arn = self.fh.create_delivery_stream(
            DeliveryStreamName="life-1", DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration=ext_config(),
            Tags=[{"Key": "team", "Value": "data"}])["DeliveryStreamARN"]
        self.assertTrue(arn.endswith(":deliverystream/life-1"))
        d = self.fh.describe_delivery_stream(DeliveryStreamName="life-1")["DeliveryStreamDescription"]
        self.assertEqual(d["VersionId"], "1")
        dest = d["Destinations"][0]
        self.assertEqual(dest["DestinationId"], "destinationId-000000000001")
        ext = dest["ExtendedS3DestinationDescription"]
        # Defaults the caller omitted are echoed.
        self.assertEqual(ext["BufferingHints"], {"SizeInMBs": 5, "IntervalInSeconds": 300})
        self.assertEqual(ext["CompressionFormat"], "UNCOMPRESSED")
        self.assertEqual(ext["EncryptionConfiguration"], {"NoEncryptionConfig": "NoEncryption"})

        err = self.error(self.fh.create_delivery_stream, DeliveryStreamName="life-1",
                         ExtendedS3DestinationConfiguration=ext_config())
        self.assertEqual(err["Error"]["Code"], "ResourceInUseException")

        self.fh.update_destination(
            DeliveryStreamName="life-1", CurrentDeliveryStreamVersionId="1",
            DestinationId="destinationId-000000000001",
            ExtendedS3DestinationUpdate={"CompressionFormat": "GZIP",
                                         "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60}})
        d = self.fh.describe_delivery_stream(DeliveryStreamName="life-1")["DeliveryStreamDescription"]
        self.assertEqual(d["VersionId"], "2")
        ext = d["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual(ext["CompressionFormat"], "GZIP")
        self.assertEqual(ext["BufferingHints"], {"SizeInMBs": 1, "IntervalInSeconds": 60})
        err = self.error(self.fh.update_destination, DeliveryStreamName="life-1",
                         CurrentDeliveryStreamVersionId="1",
                         DestinationId="destinationId-000000000001",
                         ExtendedS3DestinationUpdate={"CompressionFormat": "UNCOMPRESSED"})
        self.assertEqual(err["Error"]["Code"], "ConcurrentModificationException")

        self.fh.tag_delivery_stream(DeliveryStreamName="life-1",
                                    Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "lake"}])
        tags = self.fh.list_tags_for_delivery_stream(DeliveryStreamName="life-1")
        self.assertEqual(tags["Tags"], [{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "lake"}])
        self.assertFalse(tags["HasMoreTags"])
        page = self.fh.list_tags_for_delivery_stream(DeliveryStreamName="life-1", Limit=1)
        self.assertEqual(page["Tags"], [{"Key": "env", "Value": "dev"}])
        self.assertTrue(page["HasMoreTags"])
        self.fh.untag_delivery_stream(DeliveryStreamName="life-1", TagKeys=["env"])
        tags = self.fh.list_tags_for_delivery_stream(DeliveryStreamName="life-1")["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "lake"}])

        self.fh.delete_delivery_stream(DeliveryStreamName="life-1")
        harness.wait_for(lambda: "life-1" not in self.fh.list_delivery_streams(Limit=10000)["DeliveryStreamNames"],
                         what="stream deletion")
        err = self.error(self.fh.describe_delivery_stream, DeliveryStreamName="life-1")
        self.assertEqual(err["Error"]["Code"], "ResourceNotFoundException")

    def test_list_paging(self):
        for i in range(5):
            self.fh.create_delivery_stream(DeliveryStreamName="page-%d" % i,
                                           S3DestinationConfiguration=ext_config())
        seen, start = [], None
        while True:
            kw = {"Limit": 2}
            if start:
                kw["ExclusiveStartDeliveryStreamName"] = start
            r = self.fh.list_delivery_streams(**kw)
            self.assertLessEqual(len(r["DeliveryStreamNames"]), 2)
            seen += r["DeliveryStreamNames"]
            if not r["HasMoreDeliveryStreams"]:
                break
            start = r["DeliveryStreamNames"][-1]
        self.assertEqual(seen, sorted(seen))
        for i in range(5):
            self.assertIn("page-%d" % i, seen)
        self.assertIn("events", seen)
        # A plain S3 destination is described with both descriptions.
        d = self.fh.describe_delivery_stream(DeliveryStreamName="page-0")["DeliveryStreamDescription"]
        self.assertIn("S3DestinationDescription", d["Destinations"][0])

    def test_streams_survive_restart(self):
        self.fh.create_delivery_stream(DeliveryStreamName="durable.stream",
                                       ExtendedS3DestinationConfiguration=ext_config(
                                           CompressionFormat="GZIP"))
        srv = harness.Server(data_dir=harness.make_dir())
        try:
            srv.start()
            fh = srv.client()
            fh.create_delivery_stream(DeliveryStreamName="kept",
                                      ExtendedS3DestinationConfiguration=ext_config())
            srv.stop()
            srv.start()
            d = srv.client().describe_delivery_stream(DeliveryStreamName="kept")
            self.assertEqual(d["DeliveryStreamDescription"]["DeliveryStreamStatus"], "ACTIVE")
        finally:
            srv.cleanup()

    def test_errors(self):
        st, hdr, body = self.srv.post(TARGET + "NoSuchOperation", {})
        self.assertEqual((st, body["__type"]), (400, "UnknownOperationException"))
        self.assertTrue({k.lower(): v for k, v in hdr.items()}.get("x-amzn-requestid"))
        st, _, body = self.srv.post(TARGET + "DescribeDeliveryStream", b"{not json")
        self.assertEqual((st, body["__type"]), (400, "SerializationException"))
        st, _, body = self.srv.post(TARGET + "DescribeDeliveryStream", {"DeliveryStreamName": "bad name!"})
        self.assertEqual((st, body["__type"]), (400, "ValidationException"))
        st, _, body = self.srv.post(TARGET + "DescribeDeliveryStream", {"DeliveryStreamName": "x" * 65})
        self.assertEqual((st, body["__type"]), (400, "ValidationException"))
        st, _, body = self.srv.post(TARGET + "DescribeDeliveryStream", {"DeliveryStreamName": "missing"})
        self.assertEqual((st, body["__type"]), (400, "ResourceNotFoundException"))
        self.assertIn("missing", body["message"])
        st, _, body = self.srv.post(TARGET + "PutRecord", {"DeliveryStreamName": "missing",
                                                           "Record": {"Data": "e30="}})
        self.assertEqual((st, body["__type"]), (400, "ResourceNotFoundException"))
        st, _, body = self.srv.post(TARGET + "CreateDeliveryStream", {
            "DeliveryStreamName": "bad-buffer",
            "ExtendedS3DestinationConfiguration": ext_config(BufferingHints={"SizeInMBs": 129})})
        self.assertEqual((st, body["__type"]), (400, "ValidationException"))
        st, _, body = self.srv.post(TARGET + "CreateDeliveryStream", {"DeliveryStreamName": "no-dest"})
        self.assertEqual((st, body["__type"]), (400, "InvalidArgumentException"))
        st, _, body = self.srv.post(TARGET + "CreateDeliveryStream", {
            "DeliveryStreamName": "bad-prefix",
            "ExtendedS3DestinationConfiguration": ext_config(Prefix="a/!{nope:x}/")})
        self.assertEqual((st, body["__type"]), (400, "InvalidArgumentException"))
        # None of the refused streams exists.
        names = self.fh.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]
        for n in ("bad-buffer", "no-dest", "bad-prefix"):
            self.assertNotIn(n, names)

    def test_health_and_metrics(self):
        st, body = self.srv.get("/health")
        self.assertEqual(st, 200)
        h = json.loads(body)
        self.assertEqual(h["postgres"], "ok")
        self.assertEqual(h["wal"]["state"], "ok")
        st, text = self.srv.get("/metrics")
        self.assertEqual(st, 200)
        for name in ("firelake_incoming_records_total", "firelake_objects_delivered_total",
                     "firelake_wal_pending_bytes", "firelake_oldest_pending_record_age_seconds",
                     "firelake_request_duration_seconds_bucket", "firelake_delivery_failures_total"):
            self.assertIn(name, text)

    def test_api_examples(self):
        """Every request example in api/firehose answers with the shape of its response example."""
        root = os.path.join(harness.SRC, "api", "firehose")
        if not os.path.isdir(root):
            self.skipTest("api/firehose examples missing")
        self.fh.create_delivery_stream(DeliveryStreamName="example-target",
                                       ExtendedS3DestinationConfiguration=ext_config())
        order = ["CreateDeliveryStream", "DescribeDeliveryStream", "ListDeliveryStreams",
                 "PutRecord", "PutRecordBatch", "TagDeliveryStream", "ListTagsForDeliveryStream",
                 "UntagDeliveryStream", "UpdateDestination", "DeleteDeliveryStream"]
        ran = 0
        for op in order:
            path = os.path.join(root, op + ".request.json")
            if not os.path.exists(path):
                continue
            with open(path) as f:
                req = json.load(f)
            with open(os.path.join(root, op + ".response.json")) as f:
                want = json.load(f)
            if op == "CreateDeliveryStream":
                req["DeliveryStreamName"] = "example-created"
            elif "DeliveryStreamName" in req:
                req["DeliveryStreamName"] = "example-target"
            if op == "UpdateDestination":
                cur = self.fh.describe_delivery_stream(DeliveryStreamName="example-target")
                req["CurrentDeliveryStreamVersionId"] = cur["DeliveryStreamDescription"]["VersionId"]
            st, _, body = self.srv.post(TARGET + op, req)
            self.assertEqual(st, 200, "%s: %s" % (op, body))
            self.assertEqual(sorted(body), sorted(want), op)
            ran += 1
        self.assertEqual(ran, len(order))


class Limits(harness.ServerTest):
    """Every PutRecord/PutRecordBatch limit, violated once, changes nothing."""

    def incoming(self):
        return self.srv.metric('firelake_incoming_records_total{stream="events"}') or 0

    def batch(self, records):
        return self.srv.post(TARGET + "PutRecordBatch",
                             {"DeliveryStreamName": "events", "Records": records})

    def test_limits(self):
        ev = harness.b64(b'{"event_uuid":"u","event_name":"a:b","created_at":1767226391}\n')
        before = self.incoming()
        st, _, body = self.batch([{"Data": ev}] * 501)
        self.assertEqual((st, body["__type"]), (400, "ValidationException"))
        st, _, body = self.batch([])
        self.assertEqual((st, body["__type"]), (400, "ValidationException"))
        big = harness.b64(b"x" * 1024001)
        st, _, body = self.batch([{"Data": big}])
        self.assertEqual((st, body["__type"]), (400, "ValidationException"))
        st, _, body = self.srv.post(TARGET + "PutRecord",
                                    {"DeliveryStreamName": "events", "Record": {"Data": big}})
        self.assertEqual((st, body["__type"]), (400, "ValidationException"))
        # Five records of 1,000,000 bytes: each fine, 5 MB together is over 4 MiB.
        rec = harness.b64(b"y" * 1000000)
        st, _, body = self.batch([{"Data": rec}] * 5)
        self.assertEqual((st, body["__type"]), (400, "InvalidArgumentException"))
        st, _, body = self.batch([{"Data": "not base64!"}])
        self.assertEqual(st, 400)
        st, _, body = self.batch([{"NoData": "e30="}])
        self.assertEqual((st, body["__type"]), (400, "ValidationException"))
        st, _, body = self.srv.post(TARGET + "PutRecordBatch", {"Records": [{"Data": ev}]})
        self.assertEqual((st, body["__type"]), (400, "ValidationException"))
        self.assertEqual(self.incoming(), before)
        # At the limits exactly: accepted.
        st, _, body = self.batch([{"Data": ev}] * 500)
        self.assertEqual(st, 200, body)
        self.assertEqual(body["FailedPutCount"], 0)
        edge = harness.b64(b'{"event_uuid":"u","event_name":"a","created_at":1,"p":"' +
                           b"z" * (1024000 - 56 - 3) + b'"}\n')
        st, _, body = self.batch([{"Data": edge}])
        self.assertEqual(st, 200, body)
        self.assertEqual(self.incoming(), before + 501)

    def test_failed_put_count_bytes(self):
        """Fluent Bit looks for the exact bytes "FailedPutCount":0."""
        import urllib.request
        data = json.dumps({"DeliveryStreamName": "events", "Records": [
            {"Data": harness.b64(b'{"event_uuid":"u","event_name":"a","created_at":1}')}]}).encode()
        req = urllib.request.Request(self.srv.url + "/", data=data, headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": TARGET + "PutRecordBatch"})
        with urllib.request.urlopen(req) as r:
            raw = r.read()
            self.assertIn(b'"FailedPutCount":0', raw)
            self.assertTrue(r.headers["x-amzn-RequestId"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
