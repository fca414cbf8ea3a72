"""Storage down: records keep being acknowledged into the WAL until its
budget is full, then are refused with ServiceUnavailableException (503);
when storage returns, delivery resumes by itself and nothing is lost."""
import base64
import collections
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/firehose"


class Backpressure(unittest.TestCase):
    def test_budget_and_recovery(self):
        srv = harness.Server(args=["--wal-budget", "2M"])
        try:
            srv.start()
            srv.client().create_delivery_stream(
                DeliveryStreamName="bp",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::blocked", "Prefix": "bp/",
                    "ErrorOutputPrefix": "bp-errors/",
                    "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0}})
            # A file where the bucket's directory must go: every put fails
            # (even as root, which permissions would not stop).
            os.makedirs(srv.lake, exist_ok=True)
            blocker = os.path.join(srv.lake, "blocked")
            with open(blocker, "w") as f:
                f.write("not a directory")

            acked, refused, n = [], 0, 0
            while refused == 0 and n < 40000:
                ids = ["e%d" % (n + k) for k in range(100)]
                n += 100
                recs = [{"Data": base64.b64encode(json.dumps({
                    "event_uuid": u, "event_name": "bp:test", "created_at": 1767226391,
                    "pad": "p" * 200}).encode()).decode()} for u in ids]
                st, _, body = srv.post("Firehose_20150804.PutRecordBatch",
                                       {"DeliveryStreamName": "bp", "Records": recs})
                if st == 200:
                    self.assertEqual(body["FailedPutCount"], 0)
                    acked += ids
                else:
                    self.assertEqual((st, body["__type"]), (503, "ServiceUnavailableException"))
                    refused += 1
            self.assertGreater(refused, 0, "the WAL budget never refused a record")
            self.assertGreater(len(acked), 1000)
            # The WAL can fill before delivery's first attempt has failed.
            failing = re.compile(r'firelake_delivery_failures_total\{stream="bp"\} [1-9]')

            def failed_once():
                m = srv.get("/metrics")[1]
                return m if failing.search(m) else None
            metrics = harness.wait_for(failed_once, timeout=30, what="a failed delivery attempt")
            self.assertIn('firelake_objects_delivered_total{stream="bp"} 0\n', metrics)

            os.remove(blocker)  # storage is back
            harness.wait_for(srv.delivered, timeout=120, what="delivery after storage returned")
            st, _, body = srv.post("Firehose_20150804.PutRecord", {
                "DeliveryStreamName": "bp",
                "Record": {"Data": base64.b64encode(b'{"event_uuid":"last","event_name":"a","created_at":1}').decode()}})
            self.assertEqual(st, 200, body)
            srv.stop()
            seen = collections.Counter()
            for key, lines in srv.lines("blocked", "bp/").items():
                for ln in lines:
                    seen[json.loads(ln)["event_uuid"]] += 1
            self.assertEqual([u for u, c in seen.items() if c > 1], [])
            self.assertEqual(set(acked) - set(seen), set())
            self.assertIn("last", seen)
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
