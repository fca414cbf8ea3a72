"""The S3 storage backend against moto_server on loopback.

S3Lake: firelake with --storage s3:// talks to moto through a TCP proxy
(motohelper.Proxy) that can be taken down without losing moto's memory.
  - the default stream delivers into bucket "lake" with the local
    backend's layout: a second firelake on a local directory gets the
    same batch, and both lakes hold the same partitions, the same object
    names up to the segment's timestamp and uuid, the same gzip bytes,
    and the same Glue partitions;
  - keys that S3 wants URI-encoded (partition values with spaces, '+',
    '%', '&', '<', quotes, UTF-8) arrive as written and read back;
  - Athena over default.events reads the objects back from moto (and
    writes its result CSV there);
  - crawlers over s3://lake/raw/events/ and over NDJSON.gz / CSV files
    uploaded into moto with boto3 make tables the query engine reads;
  - the store goes down mid-load: /health says storage unavailable and
    delivery retrying, /metrics counts it, PutRecordBatch is still
    acknowledged; when the store is back, delivery resumes by itself and
    every acknowledged event is in moto exactly once;
  - a stream whose bucket does not exist: storage no_such_bucket, then
    the bucket is created and the events arrive without a restart;
  - the store answers 403 AccessDenied, then 503 SlowDown (the proxy
    answers itself): storage forbidden, then unavailable; delivery
    resumes when it stops.
S3Prefixed: --storage s3://fl-one/tenant-a puts logical bucket B key K at
tenant-a/B/K of the one bucket (reads too: a query, a crawl over more
objects than one ListObjectsV2 page, other tenants' objects unseen);
--s3-part-size 5MiB sends a 7 MiB uncompressed object as a multipart
upload that arrives whole and leaves no upload behind.

Skipped (exit 77) when moto_server is not installed.
"""
import collections
import concurrent.futures
import csv
import gzip
import http.client
import io
import json
import math
import os
import posixpath
import re
import signal
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import motohelper  # noqa: E402

_why = motohelper.available()
if _why:
    print("test_s3_storage skipped: " + _why, file=sys.stderr)
    sys.exit(77)

import harness  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/firehose"
T0 = 1767225600  # 2026-01-01T00:00:00Z
NAMES = ["payment:order:completed", "login", "search:query"]
NAME_RE = r"^events-1-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-" \
          r"[89ab][0-9a-f]{3}-[0-9a-f]{12}\.gz$"
MOTO = None
MANY = 1234    # objects for a listing of two pages


def setUpModule():
    global MOTO
    MOTO = motohelper.MotoServer().start()


def tearDownModule():
    if MOTO:
        MOTO.cleanup()


def _on_signal(*_):
    harness.stop_all()
    motohelper.stop_all()
    os._exit(1)


for _sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_sig, _on_signal)


def make_event(i, **extra):
    # Three types over two days and two hours of each: twelve partitions.
    e = {"event_uuid": str(uuid.UUID(int=i)), "event_name": NAMES[i % 3],
         "created_at": T0 + (i // 3 % 2) * 86400 + (i // 6 % 2) * 3600 + i,
         "amount": i * 0.5, "acct": {"id": i, "tags": ["a", str(i % 4)]}}
    e.update(extra)
    return e


def line(e):
    return json.dumps(e, separators=(",", ":"))


def put(fh, events, stream="events"):
    """Events into stream, one per record."""
    put_records(fh, [(line(e) + "\n").encode() for e in events], stream)


def put_records(fh, recs, stream="events"):
    """Records into stream, at most 500 per request; each must be acknowledged."""
    for k in range(0, len(recs), 500):
        r = fh.put_record_batch(DeliveryStreamName=stream,
                                Records=[{"Data": d} for d in recs[k:k + 500]])
        assert r["FailedPutCount"] == 0, r


def first_batch(events):
    """One request for the default stream (one WAL segment): single
    events, three-event records and a gzip-compressed record."""
    recs = [(line(e) + "\n").encode() for e in events[:60]]
    recs += [("\n".join(line(e) for e in events[k:k + 3])).encode()
             for k in range(60, len(events) - 12, 3)]
    recs.append(gzip.compress("".join(line(e) + "\n" for e in events[-12:]).encode(), mtime=0))
    assert len(recs) <= 500
    return recs


def health(srv):
    return json.loads(srv.get("/health")[1])


def uuids_in(objs):
    """Counter of event_uuid over every line of objs ({key: bytes})."""
    seen = collections.Counter()
    for key, data in objs.items():
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        for ln in data.decode().splitlines():
            seen[json.loads(ln)["event_uuid"]] += 1
    return seen


def by_folder(objs):
    """{folder: [(object name, bytes)]} of {key: bytes}."""
    out = collections.defaultdict(list)
    for key, data in objs.items():
        out[posixpath.dirname(key)].append((posixpath.basename(key), data))
    return out


def wait_crawl(glue, name, timeout=90):
    glue.start_crawler(Name=name)

    def ready():
        c = glue.get_crawler(Name=name)["Crawler"]
        return c if c["State"] == "READY" and "LastCrawl" in c else None
    c = harness.wait_for(ready, timeout=timeout, what="crawler " + name)
    assert c["LastCrawl"]["Status"] == "SUCCEEDED", c["LastCrawl"]
    return c


def query(test, athena, sql, db="default"):
    state, rows, qe = harness.run_query(athena, sql, db)
    test.assertEqual(state, "SUCCEEDED", (sql, qe["Status"]))
    return rows, qe


class Loader:
    """Threads sending PutRecordBatch of unique events to stream until
    stopped; they keep the uuids that were acknowledged."""

    def __init__(self, port, stream, tag, threads=2, batch=100, pause=0.02):
        self.port, self.stream, self.tag, self.batch, self.pause = port, stream, tag, batch, pause
        self.acked = set()
        self.errors = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(threads)]

    def count(self):
        with self.lock:
            return len(self.acked)

    def run(self, t):
        import base64
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        seq = 0
        while not self.stop.is_set():
            ids = ["%s-%d-%d" % (self.tag, t, seq + k) for k in range(self.batch)]
            seq += self.batch
            recs = [{"Data": base64.b64encode((line({
                "event_uuid": u, "event_name": "load:test", "created_at": T0 + 7200,
                "payload": "y" * 120}) + "\n").encode()).decode()} for u in ids]
            body = json.dumps({"DeliveryStreamName": self.stream, "Records": recs})
            try:
                conn.request("POST", "/", body, {
                    "Content-Type": "application/x-amz-json-1.1",
                    "X-Amz-Target": "Firehose_20150804.PutRecordBatch"})
                r = conn.getresponse()
                data = json.loads(r.read())
            except (OSError, http.client.HTTPException, ValueError) as e:
                with self.lock:
                    self.errors.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                continue
            with self.lock:
                if r.status != 200:
                    self.errors.append("%d %s" % (r.status, data))
                else:
                    for u, rr in zip(ids, data["RequestResponses"]):
                        if "RecordId" in rr:
                            self.acked.add(u)
            time.sleep(self.pause)
        conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(90)


class S3Lake(unittest.TestCase):
    """firelake --storage s3:// through a proxy to moto."""

    EVENTS = [make_event(i) for i in range(240)]

    @classmethod
    def setUpClass(cls):
        MOTO.reset()
        cls.s3 = MOTO.s3()
        cls.s3.create_bucket(Bucket="lake")
        cls.proxy = motohelper.Proxy(MOTO.port).start()
        cls.srv = harness.Server(args=["--storage", "s3://", "--s3-endpoint", cls.proxy.url],
                                 env=motohelper.CREDS)
        try:
            cls.srv.start()
            cls.fh = cls.srv.client("firehose")
            cls.glue = cls.srv.client("glue")
            cls.athena = cls.srv.client("athena")
            # One request: one WAL segment, one object per partition.
            put_records(cls.fh, first_batch(cls.EVENTS))
            harness.wait_for(cls.srv.delivered, timeout=90, what="delivery to moto")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("FIRELAKE_TEST_LOG"):
            print(cls.srv.log())
        cls.srv.cleanup()
        cls.proxy.stop()

    def setUp(self):
        if self.proxy.canned:
            self.proxy.answer(None)
        if not self.proxy.running:
            self.proxy.start()

    def wait_health(self, storage, timeout=60):
        return harness.wait_for(
            lambda: (lambda h: h if h["storage"] == storage else None)(health(self.srv)),
            timeout=timeout, what="/health to say storage " + storage)

    def moto_objects(self, prefix, bucket="lake"):
        return motohelper.objects(self.s3, bucket, prefix)

    # ---- the default stream, as the local backend writes it ----------------

    def test_1_default_stream_like_local(self):
        got = self.moto_objects("raw/events/")
        self.assertTrue(got, "nothing under s3://lake/raw/events/ in moto")
        # The events, each once, enriched, in the partition its fields name.
        seen = collections.Counter()
        for key, data in got.items():
            self.assertRegex(posixpath.basename(key), NAME_RE)
            for ln in gzip.decompress(data).decode().splitlines():
                e = json.loads(ln)
                self.assertTrue(key.startswith(
                    "raw/events/event_type=%s/dt=%s/hour=%s/" % (
                        e["event_type"], e["created_datetime"][:10],
                        e["created_datetime"][11:13])), key)
                seen[json.dumps(e, sort_keys=True)] += 1
        want = collections.Counter(json.dumps(harness.enriched(e), sort_keys=True)
                                   for e in self.EVENTS)
        self.assertEqual(seen, want)

        # The same batches through a firelake on a local directory.
        local = harness.Server()
        try:
            local.start()
            fh = local.client("firehose")
            put_records(fh, first_batch(self.EVENTS))
            harness.wait_for(local.delivered, timeout=90, what="local delivery")
            lake = local.objects(prefix="raw/events/")
            local_parts = {tuple(p["Values"]): p["StorageDescriptor"]["Location"]
                           for p in local.client("glue").get_partitions(
                               DatabaseName="default", TableName="events")["Partitions"]}
        finally:
            local.cleanup()
        s3_folders, local_folders = by_folder(got), by_folder(lake)
        self.assertEqual(sorted(s3_folders), sorted(local_folders))
        self.assertEqual(len(s3_folders), 12)
        for folder in s3_folders:
            a = sorted(s3_folders[folder], key=lambda x: x[1])
            b = sorted(local_folders[folder], key=lambda x: x[1])
            self.assertEqual(len(a), len(b), folder)
            for (name_a, data_a), (name_b, data_b) in zip(a, b):
                # Names differ only in the segment's time and uuid.
                self.assertRegex(name_b, NAME_RE)
                self.assertEqual(gzip.decompress(data_a), gzip.decompress(data_b), folder)
                self.assertEqual(data_a, data_b, "gzip bytes differ in " + folder)
        # The catalog knows the same partitions at the same locations.
        s3_parts = {tuple(p["Values"]): p["StorageDescriptor"]["Location"]
                    for p in self.glue.get_partitions(DatabaseName="default",
                                                      TableName="events")["Partitions"]}
        self.assertEqual(s3_parts, local_parts)
        self.assertEqual(len(s3_parts), 12)
        for loc in s3_parts.values():
            self.assertTrue(loc.startswith("s3://lake/raw/events/event_type="), loc)
        # Nothing anywhere else: no error output, no stray keys.
        self.assertEqual(set(motohelper.list_keys(self.s3, "lake")), set(got))
        h = health(self.srv)
        self.assertEqual((h["storage"], h["delivery"]), ("ok", "ok"), h)
        self.assertNotIn("storage_error", h)
        self.assertEqual(self.srv.metric("firelake_storage_up"), 1)

    def test_1b_keys_that_need_encoding(self):
        types = ["café", "a b", "c+d", "50%", "x~y", "q'r(s)", "e&f=g", "semi;colon",
                 "star*", "comma,sep", "<tag>", "日本"]
        self.fh.create_delivery_stream(
            DeliveryStreamName="odd",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake",
                "Prefix": "odd/kind=!{partitionKeyFromQuery:event_type}/",
                "ErrorOutputPrefix": "odd-errors/",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 1},
                "CompressionFormat": "GZIP",
                "DynamicPartitioningConfiguration": {"Enabled": True},
                "ProcessingConfiguration": {"Enabled": True, "Processors": [{
                    "Type": "MetadataExtraction", "Parameters": [
                        {"ParameterName": "MetadataExtractionQuery",
                         "ParameterValue": "{event_type: .event_type}"},
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]}})
        events = [make_event(5 * 10 ** 5 + i, event_name=types[i % len(types)] + ":sub")
                  for i in range(len(types) * 5)]
        put(self.fh, events, "odd")
        harness.wait_for(self.srv.delivered, timeout=60, what="delivery")
        got = self.moto_objects("odd/")
        self.assertEqual(sorted(by_folder(got)), sorted("odd/kind=" + t for t in types))
        for key, data in got.items():
            kind = posixpath.dirname(key)[len("odd/kind="):]
            self.assertEqual(sorted(json.loads(x)["event_uuid"] for x in
                                    gzip.decompress(data).decode().splitlines()),
                             sorted(e["event_uuid"] for e in events
                                    if e["event_name"] == kind + ":sub"), key)
        self.assertEqual(self.moto_objects("odd-errors/"), {})
        # Read back: GetObject by the catalog's keys, and a crawl that lists them.
        rows, _ = query(self, self.athena, "SELECT event_type, count(*) FROM odd "
                                           "GROUP BY event_type ORDER BY event_type")
        self.assertEqual(rows[1:], sorted([t, "5"] for t in types))
        self.glue.create_database(DatabaseInput={"Name": "oddities"})
        self.glue.create_crawler(Name="odd", Role=ROLE, DatabaseName="oddities", Targets={
            "S3Targets": [{"Path": "s3://lake/odd/"}]})
        wait_crawl(self.glue, "odd")
        m = re.search(r"crawler odd: SUCCEEDED.* files (\d+) read, (\d+) skipped; "
                      r"records (\d+) read", self.srv.log())
        self.assertTrue(m, self.srv.log())
        self.assertEqual(m.groups(), (str(len(got)), "0", str(len(events))))
        parts = self.glue.get_partitions(DatabaseName="oddities", TableName="odd")["Partitions"]
        self.assertEqual(len(parts), len(types))

    # ---- reading back ------------------------------------------------------

    def test_2_athena_over_default_events(self):
        rows, qe = query(self, self.athena,
                         "SELECT event_type, count(*) AS n, count(DISTINCT event_uuid) AS d "
                         "FROM events GROUP BY event_type ORDER BY event_type")
        want = collections.Counter(e["event_name"].split(":")[0] for e in self.EVENTS)
        self.assertEqual(rows, [["event_type", "n", "d"]] +
                         [[k, str(v), str(v)] for k, v in sorted(want.items())])
        rows, _ = query(self, self.athena,
                        "SELECT count(*) FROM events WHERE dt = '2026-01-02' AND hour = '01'")
        self.assertEqual(rows[1], [str(sum(
            1 for e in self.EVENTS if e["created_at"] - T0 >= 86400 + 3600 and
            e["created_at"] - T0 < 86400 + 7200))])
        rows, _ = query(self, self.athena,
                        "SELECT sum(acct.id), max(amount) FROM events WHERE event_type = 'login'")
        logins = [e for e in self.EVENTS if e["event_name"] == "login"]
        self.assertEqual(int(rows[1][0]), sum(e["acct"]["id"] for e in logins))
        self.assertEqual(float(rows[1][1]), max(e["amount"] for e in logins))
        # The result CSV is in moto where OutputLocation says.
        rows, qe = query(self, self.athena, "SELECT event_type, count(*) AS n FROM events "
                                            "GROUP BY event_type ORDER BY event_type")
        loc = qe["ResultConfiguration"]["OutputLocation"]
        m = re.match(r"^s3://lake/(.+)$", loc)
        self.assertTrue(m, loc)
        body = self.s3.get_object(Bucket="lake", Key=m.group(1))["Body"].read().decode()
        self.assertEqual(list(csv.reader(io.StringIO(body))), rows)

    def test_3_crawler_over_delivered_objects(self):
        self.glue.create_database(DatabaseInput={"Name": "crawled"})
        # Over what delivery wrote.
        self.glue.create_crawler(Name="raw", Role=ROLE, DatabaseName="crawled", Targets={
            "S3Targets": [{"Path": "s3://lake/raw/events/"}]})
        c = wait_crawl(self.glue, "raw")
        t = self.glue.get_table(DatabaseName="crawled", Name="events")["Table"]
        self.assertEqual([k["Name"] for k in t["PartitionKeys"]], ["event_type", "dt", "hour"])
        self.assertEqual(t["StorageDescriptor"]["Location"], "s3://lake/raw/events/")
        parts = self.glue.get_partitions(DatabaseName="crawled", TableName="events")["Partitions"]
        self.assertEqual(sorted(p["StorageDescriptor"]["Location"] for p in parts),
                         sorted("s3://lake/%s/" % f for f in by_folder(
                             self.moto_objects("raw/events/"))), c)
        cols = {k["Name"]: k["Type"] for k in t["StorageDescriptor"]["Columns"]}
        self.assertEqual(cols.get("event_uuid"), "string", cols)
        self.assertEqual(cols.get("amount"), "double", cols)
        self.assertEqual(t["Parameters"].get("compressionType"), "gzip", t["Parameters"])
        # Both tables read every object: the crawl shares the stream's
        # objects, it does not take them from default.events.
        lines = sum(len(gzip.decompress(body).splitlines())
                    for body in self.moto_objects("raw/events/").values())
        self.assertGreater(lines, 0)
        rows_c, _ = query(self, self.athena, "SELECT count(*), count(DISTINCT event_uuid) "
                                             "FROM events", db="crawled")
        rows_d, _ = query(self, self.athena, "SELECT count(*), count(DISTINCT event_uuid) "
                                             "FROM events")
        self.assertEqual(rows_c[1], [str(lines), str(lines)])
        self.assertEqual(rows_d[1], [str(lines), str(lines)])

    def test_3b_crawler_over_uploaded_files(self):
        self.glue.create_database(DatabaseInput={"Name": "landed"})
        # NDJSON.gz and CSV files put into moto by hand.
        clicks = {"2024-03-01": [{"id": i, "page": "/p%d" % i, "ms": i * 10} for i in range(40)],
                  "2024-03-02": [{"id": 100 + i, "page": "/q", "ms": 7} for i in range(25)]}
        for dt, rows_ in clicks.items():
            nd = "".join(json.dumps(r) + "\n" for r in rows_).encode()
            self.s3.put_object(Bucket="lake", Key="landing/clicks/dt=%s/part-0.json.gz" % dt,
                               Body=gzip.compress(nd))
        # One object of two gzip members.
        extra = [{"id": 900 + i, "page": "/x", "ms": 1} for i in range(3)]
        self.s3.put_object(Bucket="lake", Key="landing/clicks/dt=2024-03-02/part-1.json.gz",
                           Body=gzip.compress(json.dumps(extra[0]).encode() + b"\n") +
                           gzip.compress(b"".join(json.dumps(r).encode() + b"\n"
                                                  for r in extra[1:])))
        clicks["2024-03-02"] += extra
        orders = [(1, "Smith, Ann", 10.5), (2, "Bob", 7.25), (3, "Cy", 1.0)]
        self.s3.put_object(Bucket="lake", Key="landing/orders/orders.csv", Body=(
            "order_id,customer,total\r\n" +
            "".join('%d,"%s",%s\r\n' % o for o in orders)).encode())
        self.s3.put_object(Bucket="lake", Key="landing/orders/more.csv.gz", Body=gzip.compress(
            b"order_id,customer,total\n4,\"Di \"\"D\"\"\",2.5\n"))
        orders.append((4, 'Di "D"', 2.5))
        self.s3.put_object(Bucket="lake", Key="landing/orders/_SUCCESS", Body=b"")
        self.glue.create_crawler(Name="landing", Role=ROLE, DatabaseName="landed", Targets={
            "S3Targets": [{"Path": "s3://lake/landing/"}]})
        wait_crawl(self.glue, "landing")
        t = self.glue.get_table(DatabaseName="landed", Name="clicks")["Table"]
        self.assertEqual([(k["Name"], k["Type"]) for k in t["StorageDescriptor"]["Columns"]],
                         [("id", "bigint"), ("page", "string"), ("ms", "bigint")])
        self.assertEqual(t["PartitionKeys"], [{"Name": "dt", "Type": "string"}])
        rows, _ = query(self, self.athena, "SELECT dt, count(*), sum(ms) FROM clicks "
                                           "GROUP BY dt ORDER BY dt", "landed")
        self.assertEqual(rows[1:], [[dt, str(len(r)), str(sum(x["ms"] for x in r))]
                                    for dt, r in sorted(clicks.items())])
        t = self.glue.get_table(DatabaseName="landed", Name="orders")["Table"]
        self.assertEqual([k["Name"] for k in t["StorageDescriptor"]["Columns"]],
                         ["order_id", "customer", "total"])
        rows, _ = query(self, self.athena, "SELECT order_id, customer, total FROM orders "
                                           "ORDER BY order_id", "landed")
        self.assertEqual([(int(a), b, float(c)) for a, b, c in rows[1:]], orders)

    # ---- the store goes away and comes back ---------------------------------

    def test_4_store_down_mid_load(self):
        self.fh.create_delivery_stream(
            DeliveryStreamName="outage",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake", "Prefix": "outage/",
                "ErrorOutputPrefix": "outage-errors/",
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1},
                "CompressionFormat": "GZIP"})
        failures0 = self.srv.metric('firelake_storage_failures_total{state="unavailable"}')
        with Loader(self.srv.port, "outage", "o") as load:
            harness.wait_for(lambda: self.moto_objects("outage/"), timeout=60,
                             what="first objects while the store is up")
            self.proxy.stop()
            h = harness.wait_for(
                lambda: (lambda h: h if h["storage"] == "unavailable" and
                         h["delivery"] == "retrying" else None)(health(self.srv)),
                timeout=60, what="/health to say storage unavailable")
            self.assertEqual(h["status"], "degraded", h)
            self.assertTrue(h["storage_error"], h)
            self.assertEqual(self.srv.metric("firelake_storage_up"), 0)
            self.assertGreater(self.srv.metric(
                'firelake_storage_failures_total{state="unavailable"}'), failures0 or 0)
            # Puts are still acknowledged while the store is down.
            n = load.count()
            harness.wait_for(lambda: load.count() >= n + 2000, timeout=60,
                             what="acknowledgements while the store is down")
            self.assertGreater(self.srv.metric("firelake_wal_pending_bytes"), 0)
            self.assertEqual(health(self.srv)["storage"], "unavailable")
            self.proxy.start()
            n = load.count()
            harness.wait_for(lambda: load.count() >= n + 1000, timeout=60,
                             what="acknowledgements after the store is back")
        self.assertEqual(load.errors, [])
        # Delivery resumes by itself (backoff is at most 30 s).
        harness.wait_for(self.srv.delivered, timeout=120, what="delivery after the outage")
        h = health(self.srv)
        self.assertEqual((h["storage"], h["delivery"], h["status"]), ("ok", "ok", "ok"), h)
        self.assertEqual(self.srv.metric("firelake_storage_up"), 1)
        seen = uuids_in(self.moto_objects("outage/"))
        dup = [u for u, c in seen.items() if c > 1]
        self.assertEqual(dup, [], "events delivered twice")
        missing = load.acked - set(seen)
        self.assertEqual(len(missing), 0, "acknowledged but lost: %s" % sorted(missing)[:10])
        self.assertEqual(set(seen) - load.acked, set(), "events that were never acknowledged")
        self.assertEqual(self.moto_objects("outage-errors/"), {})
        print("outage: %d events acknowledged, each delivered once" % len(load.acked))

    def test_5_missing_bucket(self):
        bucket = "fl-late-%s" % uuid.uuid4().hex[:12]
        self.fh.create_delivery_stream(
            DeliveryStreamName="late",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::" + bucket, "Prefix": "late/",
                "ErrorOutputPrefix": "late-errors/",
                "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1},
                "CompressionFormat": "GZIP"})
        before = self.srv.metric('firelake_storage_failures_total{state="no_such_bucket"}') or 0
        events = [make_event(10 ** 5 + i) for i in range(50)]
        put(self.fh, events, "late")
        h = harness.wait_for(
            lambda: (lambda h: h if h["storage"] == "no_such_bucket" else None)(
                health(self.srv)), timeout=60, what="/health to say no_such_bucket")
        self.assertEqual(h["delivery"], "retrying", h)
        self.assertTrue(h["storage_error"], h)
        self.assertEqual(self.srv.metric("firelake_storage_up"), 0)
        self.assertGreater(self.srv.metric(
            'firelake_storage_failures_total{state="no_such_bucket"}'), before)
        self.assertGreater(self.srv.metric("firelake_wal_pending_bytes"), 0)
        self.s3.create_bucket(Bucket=bucket)
        harness.wait_for(self.srv.delivered, timeout=120, what="delivery once the bucket exists")
        h = health(self.srv)
        self.assertEqual((h["storage"], h["delivery"]), ("ok", "ok"), h)
        got = self.moto_objects("", bucket)
        self.assertTrue(all(k.startswith("late/") for k in got), sorted(got))
        self.assertEqual(uuids_in(got), collections.Counter(e["event_uuid"] for e in events))


    def test_6_store_answers_errors(self):
        for n, (status, code, state) in enumerate([(403, "AccessDenied", "forbidden"),
                                                   (503, "SlowDown", "unavailable")]):
            stream = "answers%d" % n
            self.fh.create_delivery_stream(
                DeliveryStreamName=stream,
                ExtendedS3DestinationConfiguration={
                    "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake", "Prefix": stream + "/",
                    "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1},
                    "CompressionFormat": "GZIP"})
            series = 'firelake_storage_failures_total{state="%s"}' % state
            before = self.srv.metric(series) or 0
            self.proxy.answer(status, code, "the proxy says no")
            events = [make_event(6 * 10 ** 5 + 1000 * n + i) for i in range(30)]
            put(self.fh, events, stream)
            h = self.wait_health(state)
            self.assertEqual(h["delivery"], "retrying", h)
            self.assertTrue(h["storage_error"].startswith(code + ":"), h)
            self.assertIn("the proxy says no", h["storage_error"])
            self.assertGreater(self.srv.metric(series), before)
            self.assertEqual(self.srv.metric("firelake_storage_up"), 0)
            self.assertGreater(self.proxy.answered, 0)
            self.proxy.answer(None)
            harness.wait_for(self.srv.delivered, timeout=120, what="delivery after " + code)
            h = health(self.srv)
            self.assertEqual((h["storage"], h["delivery"]), ("ok", "ok"), h)
            self.assertEqual(uuids_in(self.moto_objects(stream + "/")),
                             collections.Counter(e["event_uuid"] for e in events))


class S3Prefixed(unittest.TestCase):
    """--storage s3://fl-one/tenant-a --s3-part-size 5MiB, straight to moto."""

    EVENTS = [make_event(2 * 10 ** 5 + i) for i in range(90)]

    @classmethod
    def setUpClass(cls):
        MOTO.reset()
        cls.s3 = MOTO.s3()
        cls.s3.create_bucket(Bucket="fl-one")
        cls.srv = harness.Server(args=["--storage", "s3://fl-one/tenant-a",
                                       "--s3-endpoint", MOTO.url, "--s3-part-size", "5MiB"],
                                 env=motohelper.CREDS)
        try:
            cls.srv.start()
        except BaseException:
            cls.srv.cleanup()
            raise
        cls.fh = cls.srv.client("firehose")
        cls.glue = cls.srv.client("glue")
        cls.athena = cls.srv.client("athena")

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("FIRELAKE_TEST_LOG"):
            print(cls.srv.log())
        cls.srv.cleanup()

    def test_1_buckets_under_one_prefix(self):
        put(self.fh, self.EVENTS)
        # A decoy of another tenant, and files for a crawler of this one.
        self.s3.put_object(Bucket="fl-one", Key="tenant-b/lake/landing/t/a.json",
                           Body=b'{"x": 1}\n')
        self.s3.put_object(Bucket="fl-one", Key="tenant-a/lake/landing/t/a.json",
                           Body=b'{"x": 2}\n{"x": 3}\n')
        self.s3.put_object(Bucket="fl-one", Key="tenant-a/lakeside/landing/t/a.json",
                           Body=b'{"x": 4}\n')
        # More objects than one ListObjectsV2 page (1,000) holds.
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: self.s3.put_object(
                Bucket="fl-one", Key="tenant-a/lake/landing/many/part-%05d.json" % i,
                Body=b'{"n": %d}\n' % i), range(MANY)))
        harness.wait_for(self.srv.delivered, timeout=90, what="delivery")
        keys = motohelper.list_keys(self.s3, "fl-one", "tenant-a/lake/raw/events/")
        self.assertTrue(keys)
        for k in keys:
            self.assertRegex(k, r"^tenant-a/lake/raw/events/event_type=\w+/dt=[\d-]+/hour=\d\d/")
            self.assertRegex(posixpath.basename(k), NAME_RE)
        self.assertEqual([b["Name"] for b in self.s3.list_buckets()["Buckets"]], ["fl-one"])
        got = uuids_in(motohelper.objects(self.s3, "fl-one", "tenant-a/lake/raw/events/"))
        self.assertEqual(got, collections.Counter(e["event_uuid"] for e in self.EVENTS))
        # Small objects go up in one PUT (no multipart ETag).
        for k in keys:
            etag = self.s3.head_object(Bucket="fl-one", Key=k)["ETag"]
            self.assertNotIn("-", etag, k)
        # Reads go through the same mapping.
        rows, qe = query(self, self.athena, "SELECT count(*) FROM events")
        self.assertEqual(rows[1], [str(len(self.EVENTS))])
        loc = qe["ResultConfiguration"]["OutputLocation"]
        m = re.match(r"^s3://lake/(.+)$", loc)
        self.assertTrue(m, loc)
        self.s3.head_object(Bucket="fl-one", Key="tenant-a/lake/" + m.group(1))
        self.glue.create_database(DatabaseInput={"Name": "tenant"})
        self.glue.create_crawler(Name="t", Role=ROLE, DatabaseName="tenant", Targets={
            "S3Targets": [{"Path": "s3://lake/landing/"}]})
        wait_crawl(self.glue, "t")
        rows, _ = query(self, self.athena, "SELECT sum(x), count(*) FROM t", "tenant")
        self.assertEqual(rows[1], ["5", "2"])
        rows, _ = query(self, self.athena, "SELECT sum(n), count(*), count(DISTINCT n) "
                                           "FROM many", "tenant")
        self.assertEqual(rows[1], [str(MANY * (MANY - 1) // 2), str(MANY), str(MANY)])

    def test_9_multipart(self):
        part = 5 << 20
        self.fh.create_delivery_stream(
            DeliveryStreamName="big",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake", "Prefix": "big/",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
                "CompressionFormat": "UNCOMPRESSED"})
        # One hour of event time: one object (the default prefix is YYYY/MM/DD/HH/).
        events = [dict(make_event(3 * 10 ** 5 + i, blob=("%06d" % i) * 10900),
                       created_at=T0 + i) for i in range(112)]
        for k in range(0, len(events), 40):  # 40 x 64 KiB: under 4 MiB per request
            put(self.fh, events[k:k + 40], "big")
        # Nothing seals the segment before 60 s; SIGTERM delivers it now.
        self.assertEqual(motohelper.list_keys(self.s3, "fl-one", "tenant-a/lake/big/"), {})
        self.assertEqual(self.srv.stop(timeout=120), 0, self.srv.log())
        keys = motohelper.list_keys(self.s3, "fl-one", "tenant-a/lake/big/")
        self.assertEqual(len(keys), 1, keys)
        (key, size), = keys.items()
        self.assertRegex(key, r"^tenant-a/lake/big/2026/01/01/00/big-1-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-"
                              r"[0-9a-f-]{36}$")
        self.assertGreater(size, part)
        obj = self.s3.get_object(Bucket="fl-one", Key=key)
        body = obj["Body"].read()
        self.assertEqual(len(body), size)
        self.assertTrue(body.endswith(b"\n"))
        self.assertEqual([json.loads(x) for x in body.decode().splitlines()],
                         [harness.enriched(e) for e in events])
        # It went up in parts of --s3-part-size, and no upload is left open.
        self.assertRegex(obj["ETag"], r'^"[0-9a-f]{32}-%d"$' % math.ceil(size / part))
        self.assertEqual(self.s3.list_multipart_uploads(Bucket="fl-one").get("Uploads", []), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
