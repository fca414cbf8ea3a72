"""Every delivery stream has a Glue table that keeps up with its events:
the default stream's table, columns inferred from delivered events (types,
widening, the fixed order, partition keys not repeated as columns),
partitions exactly as they are on disk (also through an Expression), a new
field adding a column, a table per created stream, and all of it kept
across a restart."""
import datetime
import json
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/firehose"
T0 = 1767225600  # 2026-01-01T00:00:00Z
NAMES = ["payment:order:completed", "login:password", "search:query"]


def event(i, **extra):
    e = {"event_uuid": str(uuid.UUID(int=i)), "event_name": NAMES[i % 3],
         "created_at": T0 + i * 1800}  # every half hour, over about two days
    e.update(extra)
    return e


def partition_of(e):
    t = datetime.datetime.fromtimestamp(int(e["created_at"]), datetime.timezone.utc)
    return (e["event_name"].split(":")[0], t.strftime("%Y-%m-%d"), t.strftime("%H"))


def put(fh, events, stream="events"):
    for k in range(0, len(events), 500):
        recs = [{"Data": (json.dumps(e) + "\n").encode()} for e in events[k:k + 500]]
        r = fh.put_record_batch(DeliveryStreamName=stream, Records=recs)
        assert r["FailedPutCount"] == 0, r


def disk_partitions(srv):
    """(event_type, dt, hour) of every object file under raw/events/."""
    out = set()
    for key in srv.objects(prefix="raw/events/"):
        parts = dict(seg.split("=", 1) for seg in key.split("/")[2:5])
        out.add((parts["event_type"], parts["dt"], parts["hour"]))
    return out


def all_partitions(glue, **kw):
    out, token = [], None
    while True:
        args = dict(DatabaseName="default", TableName="events", MaxResults=7, **kw)
        if token:
            args["NextToken"] = token
        page = glue.get_partitions(**args)
        out += page["Partitions"]
        token = page.get("NextToken")
        if not token:
            return out


class StreamTable(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server().start()
        cls.fh = cls.srv.client("firehose")
        cls.glue = cls.srv.client("glue")

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def columns(self):
        t = self.glue.get_table(DatabaseName="default", Name="events")["Table"]
        return [(c["Name"], c["Type"]) for c in t["StorageDescriptor"]["Columns"]], t

    def load(self, events):
        put(self.fh, events)
        harness.wait_for(self.srv.delivered, timeout=60, what="delivery")

    def test_1_table_exists_from_the_start(self):
        t = self.glue.get_table(DatabaseName="default", Name="events")["Table"]
        self.assertEqual(t["StorageDescriptor"]["Location"], "s3://lake/raw/events/")
        self.assertEqual([(k["Name"], k["Type"]) for k in t["PartitionKeys"]],
                         [("event_type", "string"), ("dt", "string"), ("hour", "string")])
        self.assertEqual(t["TableType"], "EXTERNAL_TABLE")
        self.assertEqual(t["Parameters"]["classification"], "json")
        self.assertEqual(t["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"],
                         "org.openx.data.jsonserde.JsonSerDe")

    def test_2_inferred_columns_and_partitions(self):
        events = []
        for i in range(120):
            extra = {"amount": i if i % 2 else i + 0.5,          # bigint and double: double
                     "flag": i % 2 == 0,
                     "tags": ["a", "b"] if i % 4 else [],
                     "payload": {"item": "x%d" % i, "qty": i}}
            if i % 5 == 0:
                extra["payload"]["note"] = "n"                 # struct fields merge
            if i % 7 == 0:
                extra["code"] = 7                              # bigint, then a clash
            if i % 7 == 1:
                extra["code"] = "seven"
            events.append(event(i, **extra))
        self.load(events)
        cols, _ = self.columns()
        self.assertEqual(cols[:5], [("event_uuid", "string"), ("event_name", "string"),
                                    ("event_subtype", "string"), ("created_at", "bigint"),
                                    ("created_datetime", "timestamp")])
        types = dict(cols)
        self.assertNotIn("event_type", types)  # a partition key, listed once
        self.assertEqual(types["amount"], "double")
        self.assertEqual(types["flag"], "boolean")
        self.assertEqual(types["tags"], "array<string>")
        self.assertEqual(types["payload"], "struct<item:string,qty:bigint,note:string>")
        self.assertEqual(types["code"], "string")
        self.assertEqual(len(cols), len(types))

        expected = {partition_of(e) for e in events}
        self.assertEqual(disk_partitions(self.srv), expected)
        got = all_partitions(self.glue)
        self.assertEqual(sorted(tuple(p["Values"]) for p in got), sorted(expected))
        for p in got:
            self.assertEqual(p["StorageDescriptor"]["Location"],
                             "s3://lake/raw/events/event_type=%s/dt=%s/hour=%s/" % tuple(p["Values"]))

        expr = "event_type = 'payment' AND hour BETWEEN '03' AND '09'"
        want = {v for v in expected if v[0] == "payment" and "03" <= v[2] <= "09"}
        self.assertTrue(want)
        got = all_partitions(self.glue, Expression=expr)
        self.assertEqual({tuple(p["Values"]) for p in got}, want)

        # Delivering the same partitions again registers nothing twice.
        self.load([event(i) for i in range(0, 120, 10)])
        self.assertEqual(len(all_partitions(self.glue)), len(expected))

    def test_3_new_field_adds_a_column(self):
        before, t = self.columns()
        self.load([event(1000, coupon="SPRING", amount=1)])
        after, t2 = self.columns()
        self.assertEqual(after[:len(before)], before)   # old columns unchanged, in place
        self.assertEqual(after[len(before):], [("coupon", "string")])
        self.assertGreater(int(t2["VersionId"]), int(t["VersionId"]))
        # Nothing new: no new version.
        self.load([event(1001, coupon="X")])
        _, t3 = self.columns()
        self.assertEqual(t3["VersionId"], t2["VersionId"])

    def test_4_created_stream_gets_a_table(self):
        self.fh.create_delivery_stream(
            DeliveryStreamName="Web-Clicks.v2",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake",
                "Prefix": "clicks/site=!{partitionKeyFromQuery:site}/!{timestamp:yyyy/MM}/",
                "ErrorOutputPrefix": "clicks-errors/!{firehose:error-output-type}/",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 1},
                "DynamicPartitioningConfiguration": {"Enabled": True},
                "ProcessingConfiguration": {"Enabled": True, "Processors": [{
                    "Type": "MetadataExtraction", "Parameters": [
                        {"ParameterName": "MetadataExtractionQuery",
                         "ParameterValue": "{site: .site}"},
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]}})
        t = self.glue.get_table(DatabaseName="default", Name="web_clicks_v2")["Table"]
        self.assertEqual(t["StorageDescriptor"]["Location"], "s3://lake/clicks/")
        self.assertEqual([k["Name"] for k in t["PartitionKeys"]], ["site"])
        put(self.fh, [event(i, site="s%d" % (i % 2)) for i in range(10)], "Web-Clicks.v2")
        harness.wait_for(self.srv.delivered, timeout=60, what="delivery")
        parts = self.glue.get_partitions(DatabaseName="default", TableName="web_clicks_v2")
        self.assertEqual(sorted(p["Values"] for p in parts["Partitions"]), [["s0"], ["s1"]])
        self.assertEqual(parts["Partitions"][0]["StorageDescriptor"]["Location"][:22],
                         "s3://lake/clicks/site=")

    def test_5_restart_keeps_everything(self):
        cols, t = self.columns()
        parts = all_partitions(self.glue)
        self.srv.stop()
        self.srv.start()
        self.glue = self.srv.client("glue")
        cols2, t2 = self.columns()
        self.assertEqual(cols2, cols)
        self.assertEqual(t2["VersionId"], t["VersionId"])
        self.assertEqual(sorted(p["Values"] for p in all_partitions(self.glue)),
                         sorted(p["Values"] for p in parts))
        self.glue.get_table(DatabaseName="default", Name="web_clicks_v2")


if __name__ == "__main__":
    unittest.main(verbosity=2)
