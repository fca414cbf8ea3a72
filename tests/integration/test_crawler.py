#!/usr/bin/env python3
"""Glue crawlers against the real firelake binary, driven with boto3.

Hand-made NDJSON (plain, gzip, multi-member gzip) and CSV (plain and gzip)
files in hive dt= folders under <lake>/lake/landing/ are crawled into the
Glue catalog: one table per top folder, partition key dt, typed columns.
A crawl is held mid-way deterministically by locking fl_objects from a
psql session on the embedded PostgreSQL (registration waits on the lock),
so StartCrawler twice, StopCrawler and DeleteCrawler meet a RUNNING
crawler without any timing guess.  The last test kills firelake during a
held crawl and restarts it on the same data directory.
"""
import gzip
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, make_dir, wait_for  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/firelake-crawler"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def ndjson(rows):
    return b"".join((r if isinstance(r, str) else json.dumps(r)).encode() + b"\n" for r in rows)


def event(i, **extra):
    e = {"event_uuid": "u-%d" % i, "event_name": "shop:order:paid", "created_at": 1704067200 + i,
         "amount": i, "ok": i % 2 == 0, "tags": ["a", "b"], "user": {"id": i, "name": "n%d" % i}}
    e.update(extra)
    return e


class Psql:
    """A psql session on the server's embedded PostgreSQL."""

    def __init__(self, server):
        with open(os.path.join(server.data_dir, "pg", "data", "postmaster.pid")) as f:
            lines = f.read().splitlines()
        self.host = lines[4]
        self.port = lines[3]

    def args(self):
        return ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", self.host,
                "-p", self.port, "-U", "firelake", "-d", "firelake"]

    def query(self, sql):
        return subprocess.run(self.args() + ["-c", sql], check=True, capture_output=True,
                              text=True, timeout=30).stdout.strip()

    def hold(self, table="fl_objects"):
        """Locks table against writers until release(): a crawl stops at its
        first registration."""
        self.proc = subprocess.Popen(self.args(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.proc.stdin.write("BEGIN; LOCK TABLE %s IN SHARE MODE; SELECT 'held';\n" % table)
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "held"

    def release(self):
        self.proc.stdin.write("COMMIT;\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


class CrawlerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data_dir = make_dir()
        cls.srv = Server(data_dir=cls.data_dir).start()
        cls.glue = cls.srv.client("glue")
        cls.glue.create_database(DatabaseInput={"Name": "lake_db"})

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    # ---- helpers ---------------------------------------------------------

    def path(self, key):
        return os.path.join(self.srv.lake, "lake", key)

    def create(self, name, path, db="lake_db", exclusions=(), **kw):
        self.glue.create_crawler(Name=name, Role=ROLE, DatabaseName=db, Targets={
            "S3Targets": [{"Path": path, "Exclusions": list(exclusions)}]}, **kw)

    def crawl(self, name, timeout=60):
        self.glue.start_crawler(Name=name)
        return wait_for(lambda: self.ready(name), timeout=timeout, what="crawler " + name)

    def ready(self, name):
        c = self.glue.get_crawler(Name=name)["Crawler"]
        return c if c["State"] == "READY" and "LastCrawl" in c else None

    def columns(self, table, db="lake_db"):
        t = self.glue.get_table(DatabaseName=db, Name=table)["Table"]
        return [(c["Name"], c["Type"]) for c in t["StorageDescriptor"]["Columns"]], t

    def partitions(self, table, db="lake_db"):
        parts = self.glue.get_partitions(DatabaseName=db, TableName=table)["Partitions"]
        return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in parts}

    def error(self, fn, **kw):
        with self.assertRaises(self.glue.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]

    # ---- tests -------------------------------------------------------------

    def test_1_crawl_tables_partitions_and_recrawl(self):
        rows1 = [event(1), event(2), "{not json", "", event(3, price=1.5)]
        write(self.path("landing/events/dt=2024-01-01/part-0.json.gz"), gzip.compress(ndjson(rows1)))
        # Two gzip members in one object, and a double for amount.
        write(self.path("landing/events/dt=2024-01-02/part-0.json.gz"),
              gzip.compress(ndjson([event(4)])) + gzip.compress(ndjson([event(5, amount=2.5)])))
        csv1 = (b'order_id,Customer Name,total,paid,note\r\n'
                b'1,"Smith, Ann",10.5,true,"said ""hi"""\r\n'
                b'2,Bob,7,false,"two\nlines"\r\n')
        write(self.path("landing/orders/dt=2024-01-01/orders.csv"), csv1)
        write(self.path("landing/orders/dt=2024-01-02/orders.csv.gz"),
              gzip.compress(b"order_id,Customer Name,total,paid,note\n3,Cy,1e3,TRUE,\n"))
        write(self.path("landing/events/dt=2024-01-01/_SUCCESS"), b"")
        write(self.path("landing/events/dt=2024-01-01/README.txt"), b"not data\n")
        write(self.path("landing/orders/dt=2024-01-01/.hidden.csv"), b"x\n1\n")
        # Objects that inflate to many chunks: lines and quoted CSV cells
        # across chunk ends, and one line longer than a chunk (1 MiB).
        big = [event(i) for i in range(20000)]
        big.insert(7000, event(99, blob="x" * (3 << 19)))
        write(self.path("landing/big/dt=2024-01-01/part-0.json.gz"),
              gzip.compress(ndjson(big), compresslevel=1))
        rows = b"".join(b'%d,"line one\nline ""two"" %d",%d.5\r\n' % (i, i, i) for i in range(30000))
        write(self.path("landing/bigcsv/all.csv.gz"), gzip.compress(b"id,note,x\r\n" + rows))

        self.create("landing", "s3://lake/landing/", exclusions=["**.txt"])
        c = self.crawl("landing")
        self.assertEqual(c["LastCrawl"]["Status"], "SUCCEEDED", c["LastCrawl"])
        self.assertEqual(c["LastCrawl"]["LogGroup"], "/aws-glue/crawlers")
        self.assertEqual(c["Targets"]["S3Targets"][0]["Exclusions"], ["**.txt"])

        names = sorted(t["Name"] for t in self.glue.get_tables(DatabaseName="lake_db")["TableList"])
        self.assertEqual(names, ["big", "bigcsv", "events", "orders"])

        cols, t = self.columns("events")
        self.assertEqual(dict(cols), {
            "event_uuid": "string", "event_name": "string", "created_at": "bigint",
            "amount": "double", "ok": "boolean", "tags": "array<string>",
            "user": "struct<id:bigint,name:string>", "price": "double"})
        self.assertEqual(cols[0][0], "event_uuid")
        self.assertEqual(t["PartitionKeys"], [{"Name": "dt", "Type": "string"}])
        self.assertEqual(t["StorageDescriptor"]["Location"], "s3://lake/landing/events/")
        self.assertEqual(t["Parameters"]["classification"], "json")
        self.assertEqual(self.partitions("events"), {
            ("2024-01-01",): "s3://lake/landing/events/dt=2024-01-01/",
            ("2024-01-02",): "s3://lake/landing/events/dt=2024-01-02/"})

        cols, t = self.columns("orders")
        self.assertEqual(cols, [("order_id", "bigint"), ("customer_name", "string"),
                                ("total", "double"), ("paid", "boolean"), ("note", "string")])
        self.assertEqual(t["Parameters"]["classification"], "csv")
        self.assertEqual(set(self.partitions("orders")), {("2024-01-01",), ("2024-01-02",)})

        # The malformed line is skipped and counted; the good ones recorded.
        psql = Psql(self.srv)
        self.assertEqual(psql.query(
            "SELECT records FROM fl_objects WHERE key = "
            "'landing/events/dt=2024-01-01/part-0.json.gz' AND kind = 'crawled'"), "3")
        self.assertEqual(psql.query(
            "SELECT string_agg(records::text, ',' ORDER BY key) FROM fl_objects "
            "WHERE key LIKE 'landing/orders/%'"), "2,1")
        self.assertIn("1 malformed records skipped", self.srv.log())
        self.assertEqual(psql.query(
            "SELECT string_agg(records::text, ',' ORDER BY key) FROM fl_objects "
            "WHERE key LIKE 'landing/big%'"), "20001,30000")
        self.assertEqual(dict(self.columns("big")[0])["blob"], "string")
        cols, t = self.columns("bigcsv")
        self.assertEqual(cols, [("id", "bigint"), ("note", "string"), ("x", "double")])
        self.assertEqual(t["PartitionKeys"], [])
        self.assertEqual(t["StorageDescriptor"]["Location"], "s3://lake/landing/bigcsv/")
        last = json.loads(psql.query(
            "SELECT last_crawl::text FROM fl_glue_crawlers WHERE name = 'landing'"))
        self.assertEqual(last["Summary"]["RecordsSkipped"], 1)
        self.assertEqual(last["Summary"]["FilesRead"], 6)

        m = self.glue.get_crawler_metrics(CrawlerNameList=["landing"])["CrawlerMetricsList"]
        self.assertEqual((m[0]["CrawlerName"], m[0]["TablesCreated"], m[0]["TablesUpdated"]),
                         ("landing", 4, 0))
        self.assertGreater(m[0]["LastRuntimeSeconds"], 0)

        # A new field and a new folder: a new column and partition.
        write(self.path("landing/events/dt=2024-01-03/part-0.json"),
              ndjson([event(6, country="SE")]))
        c = self.crawl("landing")
        self.assertEqual(c["LastCrawl"]["Status"], "SUCCEEDED", c["LastCrawl"])
        cols, t = self.columns("events")
        self.assertEqual(dict(cols)["country"], "string")
        self.assertEqual(len(cols), 9)
        self.assertEqual(set(self.partitions("events")),
                         {("2024-01-01",), ("2024-01-02",), ("2024-01-03",)})
        m = self.glue.get_crawler_metrics(CrawlerNameList=["landing"])["CrawlerMetricsList"]
        self.assertEqual((m[0]["TablesCreated"], m[0]["TablesUpdated"]), (0, 1))

    def test_2_running_stop_delete(self):
        write(self.path("held/t1/x.json"), ndjson([event(1)]))
        self.create("held", "s3://lake/held/")
        psql = Psql(self.srv)
        psql.hold()
        try:
            self.glue.start_crawler(Name="held")
            self.assertEqual(self.glue.get_crawler(Name="held")["Crawler"]["State"], "RUNNING")
            e = self.error(self.glue.start_crawler, Name="held")
            self.assertEqual(e["Code"], "CrawlerRunningException")
            self.assertEqual(self.error(self.glue.delete_crawler, Name="held")["Code"],
                             "CrawlerRunningException")
            self.assertEqual(self.error(self.glue.update_crawler, Name="held",
                                        TablePrefix="x_")["Code"], "CrawlerRunningException")
            self.glue.stop_crawler(Name="held")
            self.assertEqual(self.glue.get_crawler(Name="held")["Crawler"]["State"], "STOPPING")
            self.assertEqual(self.error(self.glue.stop_crawler, Name="held")["Code"],
                             "CrawlerStoppingException")
        finally:
            psql.release()
        c = wait_for(lambda: self.ready("held"), timeout=30, what="stopped crawl")
        self.assertEqual(c["LastCrawl"]["Status"], "CANCELLED")
        self.assertEqual(self.error(self.glue.stop_crawler, Name="held")["Code"],
                         "CrawlerNotRunningException")
        self.glue.update_crawler(Name="held", TablePrefix="p_", Description="held one")
        c = self.glue.get_crawler(Name="held")["Crawler"]
        self.assertEqual((c["TablePrefix"], c["Description"], c["Version"]), ("p_", "held one", 2))
        self.glue.delete_crawler(Name="held")
        e = self.error(self.glue.get_crawler, Name="held")
        self.assertEqual(e["Code"], "EntityNotFoundException")
        self.assertEqual(e["Message"], "Crawler entry with name held does not exist")
        self.assertEqual(self.error(self.glue.start_crawler, Name="held")["Code"],
                         "EntityNotFoundException")
        self.assertEqual(self.error(self.glue.delete_crawler, Name="held")["Code"],
                         "EntityNotFoundException")

    def test_3_paging(self):
        for i in range(5):
            self.glue.create_crawler(Name="page-%d" % i, Role=ROLE, DatabaseName="lake_db",
                                     Targets={"S3Targets": [{"Path": "s3://lake/p%d/" % i}]},
                                     Tags={"team": "a" if i < 2 else "b"})
        seen, token = [], None
        while True:
            kw = {"NextToken": token} if token else {}
            page = self.glue.get_crawlers(MaxResults=2, **kw)
            self.assertLessEqual(len(page["Crawlers"]), 2)
            seen += [c["Name"] for c in page["Crawlers"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual([n for n in seen if n.startswith("page-")],
                         ["page-%d" % i for i in range(5)])
        self.assertEqual(len(seen), len(set(seen)))
        names, token = [], None
        while True:
            kw = {"NextToken": token} if token else {}
            page = self.glue.list_crawlers(MaxResults=3, Tags={"team": "b"}, **kw)
            names += page["CrawlerNames"]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(names, ["page-2", "page-3", "page-4"])
        e = self.error(self.glue.get_crawlers, NextToken="not-a-token")
        self.assertEqual(e["Code"], "InvalidInputException")

    def test_4_errors(self):
        self.create("dup", "s3://lake/dup/")
        e = self.error(self.create, name="dup", path="s3://lake/dup/")
        self.assertEqual(e["Code"], "AlreadyExistsException")
        e = self.error(self.create, name="bad-path", path="lake/no-scheme/")
        self.assertEqual(e["Code"], "InvalidInputException")
        # Role is required (boto3 would refuse to send this: raw request).
        status, _, body = self.srv.post("AWSGlue.CreateCrawler", {
            "Name": "no-role", "Targets": {"S3Targets": [{"Path": "s3://lake/x/"}]}})
        self.assertEqual((status, body["__type"]), (400, "InvalidInputException"))
        self.assertIn("'role'", body["Message"])
        e = self.error(self.glue.create_crawler, Name="jdbc", Role=ROLE,
                       Targets={"JdbcTargets": [{"ConnectionName": "c", "Path": "db/%"}]})
        self.assertEqual(e["Code"], "InvalidInputException")
        # The database is looked for when the crawl runs, as Glue does.
        write(self.path("nodb/t/x.json"), ndjson([event(1)]))
        self.create("nodb", "s3://lake/nodb/", db="missing_db")
        c = self.crawl("nodb")
        self.assertEqual(c["LastCrawl"]["Status"], "FAILED")
        self.assertEqual(c["LastCrawl"]["ErrorMessage"], "Database missing_db not found.")

    def test_5_exclusions(self):
        """Exclusions are globs relative to the path: * and ? stay in a
        folder, ** crosses folders, [..] and {a,b} as Glue documents."""
        for key in ("globs/t/a.json", "globs/t/x1.json", "globs/t/xa.json", "globs/t/d.bak",
                    "globs/skip/b.json", "globs/c.tmp", "globs/t/e.tmp"):
            write(self.path(key), ndjson([event(1)]))
        self.create("globs", "s3://lake/globs", TablePrefix="g_",
                    exclusions=["skip/**", "*.{tmp,bak}", "**/x[0-9].json"])
        c = self.crawl("globs")
        self.assertEqual(c["LastCrawl"]["Status"], "SUCCEEDED", c["LastCrawl"])
        keys = Psql(self.srv).query(
            "SELECT string_agg(key, ' ' ORDER BY key) FROM fl_objects WHERE key LIKE 'globs/%'")
        self.assertEqual(keys, "globs/t/a.json globs/t/d.bak globs/t/e.tmp globs/t/xa.json")
        tables = {t["Name"] for t in self.glue.get_tables(DatabaseName="lake_db")["TableList"]}
        self.assertIn("g_t", tables)
        self.assertFalse({"g_skip", "g_globs"} & tables, tables)

    def test_6_csv_columns_by_position(self):
        """A CSV table is read by position: its columns keep the header's
        order, the common event fields (created_at, event_uuid) included,
        and columns a later crawl finds are appended in the order seen."""
        write(self.path("positional/people/dt=2024-01-01/part-0.csv"),
              b"id,created_at,name\n1,1704067200,Ann\n2,1704067201,Bob\n")
        self.create("positional", "s3://lake/positional/")
        c = self.crawl("positional")
        self.assertEqual(c["LastCrawl"]["Status"], "SUCCEEDED", c["LastCrawl"])
        cols, t = self.columns("people")
        self.assertEqual(t["Parameters"]["classification"], "csv")
        self.assertEqual(cols, [("id", "bigint"), ("created_at", "bigint"), ("name", "string")])
        self.assertEqual(t["PartitionKeys"], [{"Name": "dt", "Type": "string"}])

        # A file with more columns, a common field last among them.
        write(self.path("positional/people/dt=2024-01-02/part-0.csv"),
              b"id,created_at,name,country,event_uuid\n3,1704067202,Cy,SE,u-3\n")
        c = self.crawl("positional")
        self.assertEqual(c["LastCrawl"]["Status"], "SUCCEEDED", c["LastCrawl"])
        cols, t = self.columns("people")
        self.assertEqual(cols, [("id", "bigint"), ("created_at", "bigint"), ("name", "string"),
                                ("country", "string"), ("event_uuid", "string")])
        self.assertEqual(set(self.partitions("people")), {("2024-01-01",), ("2024-01-02",)})

    def test_9_restart(self):
        """A crawl lost with its process ends FAILED; crawlers and tables stay."""
        write(self.path("lost/t/x.json"), ndjson([event(1)]))
        self.create("lost", "s3://lake/lost/")
        psql = Psql(self.srv)
        psql.hold()
        try:
            self.glue.start_crawler(Name="lost")
            self.srv.kill9()
        finally:
            psql.release()
        srv = Server(data_dir=self.data_dir).start()
        glue = srv.client("glue")
        c = glue.get_crawler(Name="lost")["Crawler"]
        self.assertEqual(c["State"], "READY")
        self.assertEqual(c["LastCrawl"]["Status"], "FAILED")
        self.assertIn("stopped", c["LastCrawl"]["ErrorMessage"])
        self.assertEqual(glue.get_crawler(Name="landing")["Crawler"]["LastCrawl"]["Status"],
                         "SUCCEEDED")
        names = {t["Name"] for t in glue.get_tables(DatabaseName="lake_db")["TableList"]}
        self.assertTrue({"events", "orders"} <= names, names)
        glue.start_crawler(Name="lost")
        c = wait_for(lambda: (lambda c: c if c["State"] == "READY" else None)(
            glue.get_crawler(Name="lost")["Crawler"]), timeout=60, what="crawl after restart")
        self.assertEqual(c["LastCrawl"]["Status"], "SUCCEEDED")
        self.assertEqual(glue.get_table(DatabaseName="lake_db", Name="t")["Table"]["Name"], "t")
        self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
