"""Athena query executions against the real binary, through boto3's athena
client: events loaded through Firehose, answers checked against what
Python computes from the same events (counts, hours, distinct, time
ranges, struct fields, window functions, a join with a second stream's
table), paging of results, NULLs, Athena's value formats, failures
(syntax, unknown table and column, hostile SQL that must change nothing),
a workgroup's statement timeout, StopQueryExecution, partition pruning
(DataScannedInBytes = the bytes of the scanned partitions' objects on
disk), ClientRequestToken idempotency, the other read operations, and
results in the output location as Athena writes them."""
import collections
import csv
import datetime
import io
import json
import os
import sys
import time
import unittest
import uuid

import botocore.exceptions

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/firehose"
T0 = 1767225600  # 2026-01-01T00:00:00Z
NAMES = ["payment:order:completed", "login:password", "search:query", "payment:refund"]
N = 2600
STEP = 67        # seconds between events: about 48 hours in all


def make_event(i):
    # Every 50th event repeats the previous uuid (count(DISTINCT) differs).
    e = {"event_uuid": str(uuid.UUID(int=i - 1 if i % 50 == 49 else i)),
         "event_name": NAMES[i % 4], "created_at": T0 + i * STEP,
         "payload": {"amount": (i % 100) + 0.25, "item": "x%d" % i, "userId": i,
                     "Geo": {"Zip-Code": "z%d" % (i % 5)}},
         "coupon": "" if i % 7 == 0 else "c%d" % (i % 3)}
    if i % 10 == 0:
        e["note"] = 'say "hi", ok'
    return e


EVENTS = [make_event(i) for i in range(N)]


def etype(e):
    return e["event_name"].split(":")[0]


def when(e):
    return datetime.datetime.fromtimestamp(e["created_at"], datetime.timezone.utc)


def put(fh, events, stream="events"):
    for k in range(0, len(events), 500):
        recs = [{"Data": (json.dumps(e) + "\n").encode()} for e in events[k:k + 500]]
        r = fh.put_record_batch(DeliveryStreamName=stream, Records=recs)
        assert r["FailedPutCount"] == 0, r


class AthenaQuery(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server().start()
        cls.fh = cls.srv.client("firehose")
        cls.glue = cls.srv.client("glue")
        cls.athena = cls.srv.client("athena")
        cls.fh.create_delivery_stream(
            DeliveryStreamName="labels",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::lake", "Prefix": "labels/",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 1}})
        put(cls.fh, EVENTS)
        put(cls.fh, [{"event_uuid": str(uuid.UUID(int=10 ** 6 + k)), "event_name": "meta:label",
                      "created_at": T0, "kind": kind, "label": label}
                     for k, (kind, label) in enumerate([("payment", "Payments"),
                                                       ("login", "Logins"),
                                                       ("nothing", "Unused")])], "labels")
        harness.wait_for(cls.srv.delivered, timeout=90, what="delivery")

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("FIRELAKE_TEST_LOG"):
            print(cls.srv.log())
        cls.srv.cleanup()

    # ---- helpers ----------------------------------------------------------

    def start(self, sql, **kw):
        kw.setdefault("QueryExecutionContext", {"Database": "default"})
        return self.athena.start_query_execution(QueryString=sql, **kw)["QueryExecutionId"]

    def wait(self, qid, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            qe = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
            if qe["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
                return qe
            time.sleep(0.1)
        raise AssertionError("query %s did not finish" % qid)

    def run_sql(self, sql, state="SUCCEEDED", **kw):
        qe = self.wait(self.start(sql, **kw))
        self.assertEqual(qe["Status"]["State"], state, (sql, qe["Status"]))
        return qe

    def results(self, qid, max_results=None):
        """Every row (header included) as lists, None for NULL, and the pages."""
        rows, pages, token = [], [], None
        while True:
            args = {"QueryExecutionId": qid}
            if token:
                args["NextToken"] = token
            if max_results:
                args["MaxResults"] = max_results
            page = self.athena.get_query_results(**args)
            pages.append(page)
            rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
            token = page.get("NextToken")
            if not token:
                return rows, pages

    def query(self, sql):
        """Header row and data rows of a successful query."""
        qe = self.run_sql(sql)
        rows, _ = self.results(qe["QueryExecutionId"])
        return rows[0], rows[1:]

    def pairs(self, sql):
        return {r[0]: r[1] for r in self.query(sql)[1]}

    def lake_bytes(self, pred):
        """Bytes of the events objects on disk whose partition satisfies pred."""
        total = 0
        for key, data in self.srv.objects(prefix="raw/events/").items():
            parts = dict(seg.split("=", 1) for seg in key.split("/")[2:5])
            if pred(parts["event_type"], parts["dt"], parts["hour"]):
                total += len(data)
        return total

    # ---- answers ----------------------------------------------------------

    def test_counts_by_type_and_metadata(self):
        qe = self.run_sql("SELECT event_type, count(*) AS n FROM events GROUP BY event_type "
                          "ORDER BY event_type")
        qid = qe["QueryExecutionId"]
        rows, pages = self.results(qid)
        self.assertEqual(rows[0], ["event_type", "n"])
        want = collections.Counter(etype(e) for e in EVENTS)
        self.assertEqual(rows[1:], [[k, str(v)] for k, v in sorted(want.items())])
        cols = pages[0]["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        self.assertEqual([(c["Name"], c["Type"]) for c in cols],
                         [("event_type", "varchar"), ("n", "bigint")])
        self.assertEqual(qe["StatementType"], "DML")
        self.assertEqual(qe["WorkGroup"], "primary")
        self.assertEqual(qe["QueryExecutionContext"]["Database"], "default")
        loc = qe["ResultConfiguration"]["OutputLocation"]
        self.assertEqual(loc, "s3://lake/athena-results/%s.csv" % qid)
        stats = qe["Statistics"]
        for k in ("EngineExecutionTimeInMillis", "DataScannedInBytes",
                  "TotalExecutionTimeInMillis", "QueryQueueTimeInMillis",
                  "QueryPlanningTimeInMillis", "ServiceProcessingTimeInMillis"):
            self.assertIn(k, stats)
        self.assertEqual(stats["DataScannedInBytes"], self.lake_bytes(lambda *_: True))
        self.assertGreater(stats["DataScannedInBytes"], 0)
        self.assertLessEqual(stats["QueryPlanningTimeInMillis"], stats["EngineExecutionTimeInMillis"])
        self.assertGreaterEqual(qe["Status"]["CompletionDateTime"], qe["Status"]["SubmissionDateTime"])
        # The result object, as Athena writes it: quoted header and values.
        data = self.srv.objects(prefix="athena-results/")
        text = data["athena-results/%s.csv" % qid].decode()
        self.assertEqual(text.splitlines()[0], '"event_type","n"')
        self.assertEqual(list(csv.reader(io.StringIO(text)))[1:], rows[1:])
        self.assertIn("athena-results/%s.csv.metadata" % qid, data)
        # Runtime statistics.
        rs = self.athena.get_query_runtime_statistics(QueryExecutionId=qid)["QueryRuntimeStatistics"]
        self.assertEqual(rs["Rows"]["OutputRows"], len(want))
        self.assertEqual(rs["Rows"]["OutputBytes"], len(text.encode()))
        self.assertEqual(rs["Rows"]["InputRows"], N)
        self.assertEqual(rs["Rows"]["InputBytes"], stats["DataScannedInBytes"])
        self.assertIn("TotalExecutionTimeInMillis", rs["Timeline"])

    def test_struct_fields_of_any_case(self):
        # JSON keys are matched as Glue names (lower case, [a-z0-9_]) at any depth.
        t = self.glue.get_table(DatabaseName="default", Name="events")["Table"]
        payload = [c["Type"] for c in t["StorageDescriptor"]["Columns"] if c["Name"] == "payload"]
        self.assertEqual(payload, ["struct<amount:double,item:string,userid:bigint,"
                                   "geo:struct<zip_code:string>>"])
        _, rows = self.query("SELECT sum(payload.userid) AS s, count(DISTINCT payload.geo.zip_code) "
                             "AS z, count(payload.geo.zip_code) AS n FROM events")
        self.assertEqual(rows[0], [str(sum(e["payload"]["userId"] for e in EVENTS)), "5", str(N)])

    def test_counts_by_hour_distinct_and_range(self):
        got = self.pairs("SELECT date_trunc('hour', created_datetime) AS h, count(*) AS n "
                         "FROM events GROUP BY 1 ORDER BY 1")
        want = collections.Counter(when(e).strftime("%Y-%m-%d %H:00:00.000") for e in EVENTS)
        self.assertEqual(got, {k: str(v) for k, v in want.items()})
        got = self.pairs("SELECT hour(created_datetime) AS h, count(*) AS n FROM events "
                         "GROUP BY hour(created_datetime)")
        want = collections.Counter(str(when(e).hour) for e in EVENTS)
        self.assertEqual(got, {k: str(v) for k, v in want.items()})

        _, rows = self.query("SELECT count(DISTINCT event_uuid) AS d, count(*) AS n FROM events")
        self.assertEqual(rows, [[str(len({e["event_uuid"] for e in EVENTS})), str(N)]])

        lo = datetime.datetime(2026, 1, 1, 10, 0, tzinfo=datetime.timezone.utc)
        hi = datetime.datetime(2026, 1, 1, 12, 30, tzinfo=datetime.timezone.utc)
        _, rows = self.query("SELECT count(*) AS n, min(created_datetime) AS first FROM events "
                             "WHERE created_datetime >= TIMESTAMP '2026-01-01 10:00:00' "
                             "AND created_datetime < TIMESTAMP '2026-01-01 12:30:00'")
        inside = sorted(when(e) for e in EVENTS if lo <= when(e) < hi)
        self.assertEqual(rows, [[str(len(inside)), inside[0].strftime("%Y-%m-%d %H:%M:%S.000")]])

    def test_struct_field_sum(self):
        got = self.pairs("SELECT event_type, sum(payload.amount) AS total FROM events "
                         "GROUP BY event_type")
        want = collections.defaultdict(float)
        for e in EVENTS:
            want[etype(e)] += e["payload"]["amount"]
        self.assertEqual({k: float(v) for k, v in got.items()}, dict(want))

    def test_window_function(self):
        _, rows = self.query(
            "SELECT event_type, max(rn) AS m, min(rn) AS lo FROM (SELECT event_type, row_number() "
            "OVER (PARTITION BY event_type ORDER BY created_at, event_uuid) AS rn FROM events) t "
            "GROUP BY event_type ORDER BY event_type")
        want = collections.Counter(etype(e) for e in EVENTS)
        self.assertEqual(rows, [[k, str(v), "1"] for k, v in sorted(want.items())])
        _, rows = self.query(
            "SELECT event_uuid FROM (SELECT event_uuid, row_number() OVER (PARTITION BY "
            "event_type ORDER BY created_at DESC) AS rn FROM events WHERE event_type = 'login') t "
            "WHERE rn = 1")
        last = max((e for e in EVENTS if etype(e) == "login"), key=lambda e: e["created_at"])
        self.assertEqual(rows, [[last["event_uuid"]]])

    def test_join_with_second_stream(self):
        _, rows = self.query("SELECT e.event_type, l.label, count(*) AS n FROM events e "
                             "JOIN labels l ON e.event_type = l.kind "
                             "GROUP BY e.event_type, l.label ORDER BY e.event_type")
        want = collections.Counter(etype(e) for e in EVENTS)
        self.assertEqual(rows, [["login", "Logins", str(want["login"])],
                                ["payment", "Payments", str(want["payment"])]])

    def test_pagination(self):
        qe = self.run_sql("SELECT event_uuid, created_at FROM events ORDER BY created_at")
        rows, pages = self.results(qe["QueryExecutionId"])
        self.assertEqual([len(p["ResultSet"]["Rows"]) for p in pages], [1000, 1000, 601])
        self.assertEqual(rows[0], ["event_uuid", "created_at"])
        self.assertNotIn(["event_uuid", "created_at"], rows[1:])   # header on the first page only
        self.assertEqual(rows[1:], [[e["event_uuid"], str(e["created_at"])] for e in EVENTS])
        self.assertNotIn("NextToken", pages[-1])
        for p in pages:
            self.assertEqual(len(p["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]), 2)
        # Small pages, and boto3's paginator.
        rows7, pages7 = self.results(qe["QueryExecutionId"], max_results=7)
        self.assertEqual(rows7, rows)
        self.assertEqual(len(pages7), (N + 1 + 6) // 7)
        n = 0
        for page in self.athena.get_paginator("get_query_results").paginate(
                QueryExecutionId=qe["QueryExecutionId"]):
            n += len(page["ResultSet"]["Rows"])
        self.assertEqual(n, N + 1)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"],
                                          NextToken="garbage")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_nulls_and_value_formats(self):
        qe = self.run_sql("SELECT note, coupon, event_uuid FROM events WHERE created_at IN (%d, %d) "
                          "ORDER BY created_at" % (T0, T0 + STEP))
        page = self.athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"])
        data = [r["Data"] for r in page["ResultSet"]["Rows"][1:]]
        self.assertEqual(data[0][0], {"VarCharValue": 'say "hi", ok'})
        self.assertEqual(data[0][1], {"VarCharValue": ""})          # an empty string
        self.assertEqual(data[1][0], {})                            # NULL
        self.assertEqual(data[1][1], {"VarCharValue": "c1"})
        key = "athena-results/%s.csv" % qe["QueryExecutionId"]
        lines = self.srv.objects(prefix=key)[key].decode().splitlines()
        self.assertEqual(lines[1], '"say ""hi"", ok","","%s"' % EVENTS[0]["event_uuid"])
        self.assertEqual(lines[2], ',"c1","%s"' % EVENTS[1]["event_uuid"])

        qe = self.run_sql("SELECT true AS b, CAST(2.5 AS double) AS d, CAST(1e10 AS double) AS big, "
                          "CAST(0.00001 AS double) AS small, DATE '2026-01-02' AS day, "
                          "TIMESTAMP '2026-01-02 03:04:05.678' AS ts, ARRAY[1, 2, 3] AS a, "
                          "CAST(7 AS integer) AS i, NULL AS nothing")
        page = self.athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"])
        row = [d.get("VarCharValue") for d in page["ResultSet"]["Rows"][1]["Data"]]
        self.assertEqual(row, ["true", "2.5", "1.0E10", "1.0E-5", "2026-01-02",
                               "2026-01-02 03:04:05.678", "[1, 2, 3]", "7", None])
        types = [c["Type"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
        self.assertEqual(types[:8], ["boolean", "double", "double", "double", "date",
                                     "timestamp", "array", "integer"])

    # ---- failures ---------------------------------------------------------

    def test_failures(self):
        qe = self.run_sql("SELEC event_type FROM events", state="FAILED")
        self.assertIn("SYNTAX_ERROR", qe["Status"]["StateChangeReason"])
        err = qe["Status"]["AthenaError"]
        self.assertEqual((err["ErrorCategory"], err["Retryable"]), (2, False))
        self.assertEqual(err["ErrorMessage"], qe["Status"]["StateChangeReason"])

        qe = self.run_sql("SELECT * FROM nope", state="FAILED")
        self.assertEqual(qe["Status"]["StateChangeReason"],
                         "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.default.nope' does "
                         "not exist")
        self.assertEqual(qe["Status"]["AthenaError"]["ErrorCategory"], 2)

        qe = self.run_sql("SELECT nosuchcolumn FROM events", state="FAILED")
        self.assertEqual(qe["Status"]["StateChangeReason"],
                         "COLUMN_NOT_FOUND: line 1:8: Column 'nosuchcolumn' cannot be resolved")

        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestException")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.athena.get_query_execution(QueryExecutionId=str(uuid.uuid4()))
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestException")
        self.assertIn("was not found", cm.exception.response["Error"]["Message"])
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.start("SELECT 1", WorkGroup="no-such-group")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_hostile_sql_changes_nothing(self):
        marker = os.path.join(self.srv.data_dir, "pwned")
        hostile = [
            "SELECT pg_read_file('/etc/passwd')",
            "COPY (SELECT 1) TO PROGRAM 'touch %s'" % marker,
            "SELECT 1; COPY (SELECT 1) TO PROGRAM 'touch %s'" % marker,
            "DELETE FROM fl_objects",
            "SELECT 1; DROP TABLE events",
            "SELECT * FROM fl_objects",
            "SELECT * FROM pg_catalog.pg_authid",
            "SELECT current_setting('data_directory')",
            "SELECT * FROM events; DELETE FROM fl_glue_tables",
            "SELECT set_config('statement_timeout', '0', false)",
        ]
        ids = [self.start(sql) for sql in hostile]
        for sql, qid in zip(hostile, ids):
            qe = self.wait(qid)
            self.assertEqual(qe["Status"]["State"], "FAILED", sql)
            self.assertEqual(qe["Status"]["AthenaError"]["ErrorCategory"], 2, (sql, qe["Status"]))
        self.assertFalse(os.path.exists(marker))
        self.glue.get_table(DatabaseName="default", Name="events")
        _, rows = self.query("SELECT count(*) AS n FROM events")
        self.assertGreaterEqual(int(rows[0][0]), N)
        objects = len(self.srv.objects(prefix="raw/events/"))
        self.assertGreater(objects, 0)

    def test_timeout_through_the_workgroup(self):
        self.athena.create_work_group(
            Name="tight", Configuration={
                "ResultConfiguration": {"OutputLocation": "s3://lake/tight-results"},
                "AdditionalConfiguration": json.dumps({"StatementTimeoutInSeconds": 2})})
        self.run_sql("SELECT count(*) AS n FROM events", WorkGroup="tight")   # staged, fast
        t = time.time()
        qe = self.run_sql("SELECT count(*) AS n FROM events a CROSS JOIN events b CROSS JOIN "
                          "events c", state="FAILED", WorkGroup="tight")
        self.assertLess(time.time() - t, 30)
        self.assertEqual(qe["Status"]["StateChangeReason"], "Query timeout")
        self.assertEqual(qe["WorkGroup"], "tight")
        self.assertEqual(qe["ResultConfiguration"]["OutputLocation"],
                         "s3://lake/tight-results/%s.csv" % qe["QueryExecutionId"])
        ids = self.athena.list_query_executions(WorkGroup="tight")["QueryExecutionIds"]
        self.assertEqual(ids[0], qe["QueryExecutionId"])
        self.assertEqual(len(ids), 2)
        # A disabled workgroup takes no queries.
        self.athena.update_work_group(WorkGroup="tight", State="DISABLED")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.start("SELECT 1", WorkGroup="tight")
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestException")
        self.assertIn("disabled", cm.exception.response["Error"]["Message"])

    def test_stop_query_execution(self):
        qid = self.start("SELECT count(*) AS n FROM events a CROSS JOIN events b CROSS JOIN events c")
        harness.wait_for(lambda: self.athena.get_query_execution(QueryExecutionId=qid)
                         ["QueryExecution"]["Status"]["State"] == "RUNNING", timeout=60,
                         what="the query to run")
        time.sleep(0.5)
        t = time.time()
        self.athena.stop_query_execution(QueryExecutionId=qid)
        qe = self.wait(qid, timeout=30)
        self.assertEqual(qe["Status"]["State"], "CANCELLED")
        self.assertLess(time.time() - t, 10)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.athena.get_query_results(QueryExecutionId=qid)
        self.assertIn("CANCELLED", cm.exception.response["Error"]["Message"])
        # Stopping a finished execution changes nothing.
        self.athena.stop_query_execution(QueryExecutionId=qid)
        self.assertEqual(self.wait(qid)["Status"]["State"], "CANCELLED")
        # The workers are free again.
        self.assertEqual(self.query("SELECT 1 AS one")[1], [["1"]])

    # ---- pruning, idempotency, listing -------------------------------------

    def test_partition_pruning(self):
        qe = self.run_sql("SELECT count(*) AS n FROM events WHERE event_type = 'login' AND "
                          "dt = '2026-01-02' AND hour = '03'")
        want = [e for e in EVENTS if etype(e) == "login" and when(e).strftime("%Y-%m-%d %H") ==
                "2026-01-02 03"]
        self.assertTrue(want)
        rows, _ = self.results(qe["QueryExecutionId"])
        self.assertEqual(rows[1], [str(len(want))])
        scanned = qe["Statistics"]["DataScannedInBytes"]
        self.assertEqual(scanned, self.lake_bytes(
            lambda t, d, h: (t, d, h) == ("login", "2026-01-02", "03")))
        self.assertGreater(scanned, 0)

        qe = self.run_sql("SELECT count(*) AS n FROM events WHERE dt = '2026-01-01'")
        self.assertEqual(qe["Statistics"]["DataScannedInBytes"],
                         self.lake_bytes(lambda t, d, h: d == "2026-01-01"))
        qe = self.run_sql("SELECT count(*) AS n FROM events WHERE dt = '1999-01-01'")
        self.assertEqual(qe["Statistics"]["DataScannedInBytes"], 0)

    def test_client_request_token(self):
        token = "t" * 40
        a = self.start("SELECT 42 AS answer", ClientRequestToken=token)
        b = self.start("SELECT 42 AS answer", ClientRequestToken=token)
        c = self.start("SELECT 42 AS answer", ClientRequestToken="u" * 40)
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.start("SELECT 43 AS answer", ClientRequestToken=token)
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestException")
        self.assertEqual(self.results(self.wait(a)["QueryExecutionId"])[0], [["answer"], ["42"]])

    def test_execution_parameters(self):
        qe = self.run_sql("SELECT count(*) AS n FROM events WHERE event_type = ? AND "
                          "created_at < ? -- a comment with a ? in it",
                          ExecutionParameters=["'login'", str(T0 + 3600)])
        want = sum(1 for e in EVENTS if etype(e) == "login" and e["created_at"] < T0 + 3600)
        self.assertEqual(self.results(qe["QueryExecutionId"])[0][1], [str(want)])
        self.assertEqual(self.query("SELECT '?' AS q")[1], [["?"]])
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.start("SELECT ? AS a, ? AS b", ExecutionParameters=["1"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRequestException")

    def test_too_many_queries(self):
        heavy = "SELECT count(*) AS n FROM events a CROSS JOIN events b CROSS JOIN events c"
        ids = []
        try:
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                for _ in range(150):
                    ids.append(self.start(heavy))
            self.assertEqual(cm.exception.response["Error"]["Code"], "TooManyRequestsException")
            self.assertEqual(len(ids), 100)
        finally:
            for qid in ids:
                self.athena.stop_query_execution(QueryExecutionId=qid)
        for qid in ids:
            self.assertEqual(self.wait(qid, timeout=30)["Status"]["State"], "CANCELLED")

    def test_z_requeued_after_a_restart(self):
        """A query running when firelake stops goes back in the queue and runs
        again after the restart."""
        qid = self.start("SELECT count(*) AS n FROM events a CROSS JOIN events b CROSS JOIN "
                         "events c")
        harness.wait_for(lambda: self.athena.get_query_execution(QueryExecutionId=qid)
                         ["QueryExecution"]["Status"]["State"] == "RUNNING", timeout=60,
                         what="the query to run")
        self.assertEqual(self.srv.stop(), 0)
        self.srv.start()
        self.__class__.athena = self.athena = self.srv.client("athena")
        harness.wait_for(lambda: self.athena.get_query_execution(QueryExecutionId=qid)
                         ["QueryExecution"]["Status"]["State"] == "RUNNING", timeout=60,
                         what="the query to run again")
        self.athena.stop_query_execution(QueryExecutionId=qid)
        self.assertEqual(self.wait(qid, timeout=30)["Status"]["State"], "CANCELLED")
        _, rows = self.query("SELECT count(*) AS n FROM events")
        self.assertEqual(rows, [[str(N)]])

    def test_list_and_batch_get(self):
        ids = [self.start("SELECT %d AS k" % k) for k in range(3)]
        for qid in ids:
            self.wait(qid)
        listed, token = [], None
        while True:
            args = {"MaxResults": 2}
            if token:
                args["NextToken"] = token
            page = self.athena.list_query_executions(**args)
            listed += page["QueryExecutionIds"]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(listed[:3], ids[::-1])          # newest first
        self.assertEqual(len(listed), len(set(listed)))
        missing = str(uuid.uuid4())
        got = self.athena.batch_get_query_execution(QueryExecutionIds=ids + [missing])
        self.assertEqual(sorted(q["QueryExecutionId"] for q in got["QueryExecutions"]), sorted(ids))
        self.assertEqual([u["QueryExecutionId"] for u in got["UnprocessedQueryExecutionIds"]],
                         [missing])
        for q in got["QueryExecutions"]:
            self.assertEqual(q["Status"]["State"], "SUCCEEDED")

    def test_ddl_statement(self):
        qe = self.run_sql("SHOW TABLES")
        self.assertEqual(qe["StatementType"], "UTILITY")
        self.assertTrue(qe["ResultConfiguration"]["OutputLocation"].endswith(".txt"))
        rows, _ = self.results(qe["QueryExecutionId"])
        self.assertIn(["events"], rows)
        self.assertIn(["labels"], rows)
        self.assertNotIn(["tab_name"], rows)              # no header row for DDL


if __name__ == "__main__":
    unittest.main(verbosity=2)
