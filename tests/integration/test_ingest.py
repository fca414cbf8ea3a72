"""Ingest to objects: a mixed 500-record batch, gzip records, the error
output, the default stream through the aws cli, and objects that
decompress to exactly the enriched events."""
import base64
import collections
import gzip
import json
import os
import subprocess
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/firehose"


def event(i, name=None, created_at=None, **extra):
    e = {"event_uuid": str(uuid.UUID(int=i)), "event_name": name or "payment:order:completed",
         "created_at": 1767226391 + i if created_at is None else created_at}
    e.update(extra)
    return e


def line(e):
    return json.dumps(e, separators=(",", ":"))


class Ingest(harness.ServerTest):
    def test_mixed_batch(self):
        self.fh.create_delivery_stream(
            DeliveryStreamName="mixed",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake",
                "Prefix": "mixed/event_type=!{partitionKeyFromQuery:event_type}/dt=!{timestamp:yyyy-MM-dd}/",
                "ErrorOutputPrefix": "mixed-errors/!{firehose:error-output-type}/",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 1},
                "CompressionFormat": "GZIP",
                "DynamicPartitioningConfiguration": {"Enabled": True},
                "ProcessingConfiguration": {"Enabled": True, "Processors": [{
                    "Type": "MetadataExtraction", "Parameters": [
                        {"ParameterName": "MetadataExtractionQuery",
                         "ParameterValue": "{event_type: .event_type}"},
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]}})
        names = ["payment:order:completed", "login", "search:query", "cart:add:item", "page:view"]
        records, good, bad, n = [], [], [], 0
        for r in range(500):
            kind = r % 10
            if kind < 6:       # one event, with Fluent Bit's trailing newline
                e = event(n, names[n % 5], amount=n * 1.5, nested={"a": [1, 2, {"b": None}]})
                n += 1
                good.append(e)
                records.append((line(e) + "\n").encode())
            elif kind < 8:     # three events in one record
                es = [event(n + k, names[(n + k) % 5], created_at=1767226391.25 + n + k) for k in range(3)]
                n += 3
                good += es
                records.append("\n".join(line(e) for e in es).encode())
            elif kind == 8:    # a gzip-compressed record of two events
                es = [event(n + k, names[(n + k) % 5]) for k in range(2)]
                n += 2
                good += es
                records.append(gzip.compress(("\n".join(line(e) for e in es) + "\n").encode()))
            else:              # malformed events: they go to the error output
                raw = [b"not json at all", b'{"event_uuid":"x","event_name":"a"}',
                       b'{"event_uuid":"x","event_name":"a","created_at":"yesterday"}',
                       b"[1,2,3]", b'{"event_uuid":"x","event_name":"a","created_at":1,}'][r // 10 % 5]
                bad.append(raw)
                records.append(raw + b"\n")
        resp = self.fh.put_record_batch(DeliveryStreamName="mixed",
                                        Records=[{"Data": d} for d in records])
        self.assertEqual(resp["FailedPutCount"], 0)
        self.assertEqual(len(resp["RequestResponses"]), 500)
        ids = [x["RecordId"] for x in resp["RequestResponses"]]
        self.assertEqual(len(set(ids)), 500)

        harness.wait_for(lambda: self.srv.delivered() and self.srv.objects(prefix="mixed-errors/"),
                         timeout=60, what="delivery")
        harness.wait_for(self.srv.delivered, what="delivery")
        got = collections.Counter()
        for key, lines in self.srv.lines(prefix="mixed/").items():
            self.assertTrue(key.endswith(".gz"), key)
            self.assertTrue(key.split("/")[-1].startswith("mixed-1-"), key)
            for ln in lines:
                e = json.loads(ln)
                # Each event sits in the partition its own fields name.
                self.assertIn("event_type=%s/" % e["event_type"], key)
                self.assertIn("dt=%s/" % e["created_datetime"][:10], key)
                got[json.dumps(e, sort_keys=True)] += 1
        want = collections.Counter(json.dumps(harness.enriched(e), sort_keys=True) for e in good)
        self.assertEqual(got, want)

        # The enriched event keeps the original bytes and appends the new fields.
        originals = {e["event_uuid"]: line(e) for e in good}
        for lines in self.srv.lines(prefix="mixed/").values():
            for ln in lines:
                u = json.loads(ln)["event_uuid"]
                self.assertTrue(ln.startswith(originals[u][:-1] + ","), ln)

        errors = []
        for key, lines in self.srv.lines(prefix="mixed-errors/processing-failed/").items():
            errors += [json.loads(x) for x in lines]
        self.assertEqual(sorted(base64.b64decode(e["rawData"]) for e in errors), sorted(bad))
        for e in errors:
            self.assertEqual(e["errorCode"], "Enrichment.InvalidEvent")
            self.assertTrue(e["errorMessage"])
            self.assertEqual(e["attemptsMade"], 1)
        _, text = self.srv.get("/metrics")
        self.assertIn('firelake_events_processing_failed_total{stream="mixed"} %d' % len(bad), text)
        self.assertIn('firelake_incoming_records_total{stream="mixed"} 500', text)

    def test_default_stream_with_aws_cli(self):
        e = event(10 ** 6, "signup:email", created_at=1767229200)  # 2026-01-01T01:00:00Z
        v2 = subprocess.run(["aws", "--version"], capture_output=True, text=True).stdout.startswith("aws-cli/2")
        out = subprocess.run(
            ["aws", "firehose", "put-record", "--endpoint-url", self.srv.url,
             "--delivery-stream-name", "events",
             "--record", json.dumps({"Data": line(e) + "\n"})] +
            (["--cli-binary-format", "raw-in-base64-out"] if v2 else []),
            capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(json.loads(out.stdout)["RecordId"])
        prefix = "raw/events/event_type=signup/dt=2026-01-01/hour=01/"
        found = harness.wait_for(lambda: self.srv.lines(prefix=prefix), timeout=60,
                                 what="the default stream's object")
        (key, lines), = found.items()
        self.assertRegex(key.split("/")[-1],
                         r"^events-1-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f-]{36}\.gz$")
        self.assertEqual([json.loads(x) for x in lines], [harness.enriched(e)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
