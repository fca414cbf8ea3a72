"""kill -9 during sustained load, then restart: every acknowledged event is
delivered exactly once, and nothing is delivered twice."""
import base64
import collections
import http.client
import json
import os
import random
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/firehose"


class Loader:
    """Threads that send PutRecordBatch of unique events until stopped or
    until the server goes away; they remember what was acknowledged."""

    def __init__(self, port, stream, tag, threads=4, batch=100):
        self.port, self.stream, self.tag = port, stream, tag
        self.acked, self.sent = set(), 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i, batch)) for i in range(threads)]

    def run(self, t, batch):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        seq = 0
        while not self.stop.is_set():
            ids = ["%s-%d-%d" % (self.tag, t, seq + k) for k in range(batch)]
            seq += batch
            recs = [{"Data": base64.b64encode(json.dumps({
                "event_uuid": u, "event_name": "load:test", "created_at": 1767226391,
                "payload": "x" * 100}).encode() + b"\n").decode()} for u in ids]
            body = json.dumps({"DeliveryStreamName": self.stream, "Records": recs})
            try:
                conn.request("POST", "/", body, {"Content-Type": "application/x-amz-json-1.1",
                                                 "X-Amz-Target": "Firehose_20150804.PutRecordBatch"})
                r = conn.getresponse()
                data = json.loads(r.read())
            except (OSError, http.client.HTTPException, ValueError):
                return  # the server died: whatever was not answered was not acknowledged
            with self.lock:
                self.sent += batch
                if r.status == 200:
                    for u, rr in zip(ids, data["RequestResponses"]):
                        if "RecordId" in rr:
                            self.acked.add(u)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)


class Crash(unittest.TestCase):
    def test_kill9_during_load(self):
        srv = harness.Server()
        try:
            srv.start()
            srv.client().create_delivery_stream(
                DeliveryStreamName="crash",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake", "Prefix": "crash/",
                    "ErrorOutputPrefix": "crash-errors/",
                    "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1},
                    "CompressionFormat": "GZIP"})
            acked = set()
            rounds = int(os.environ.get("FIRELAKE_CRASH_ROUNDS", "3"))
            rng = random.Random(int(os.environ.get("FIRELAKE_CRASH_SEED", "7")))
            for rnd in range(rounds):
                with Loader(srv.port, "crash", "r%d" % rnd) as load:
                    time.sleep(rng.uniform(1.0, 4.0))
                    srv.kill9()
                self.assertGreater(len(load.acked), 0, "round %d acknowledged nothing" % rnd)
                acked |= load.acked
                srv.start()
            srv.stop()  # SIGTERM: deliver everything
            seen = collections.Counter()
            for key, lines in srv.lines(prefix="crash/").items():
                for ln in lines:
                    seen[json.loads(ln)["event_uuid"]] += 1
            dup = [u for u, c in seen.items() if c > 1]
            self.assertEqual(dup, [], "events delivered twice")
            missing = acked - set(seen)
            self.assertEqual(len(missing), 0, "acknowledged but lost: %s" % sorted(missing)[:10])
            self.assertEqual(srv.objects(prefix="crash-errors/"), {})
            print("acknowledged %d events over %d crashes; delivered %d" %
                  (len(acked), rounds, len(seen)))
        finally:
            srv.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
