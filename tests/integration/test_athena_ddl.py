#!/usr/bin/env python3
"""Athena DDL and utility statements against the real binary, through
boto3's athena client, with the catalog state checked through the glue
client: SHOW DATABASES / SCHEMAS / TABLES / PARTITIONS / COLUMNS,
DESCRIBE, SHOW CREATE TABLE (its text runs again to the same table),
CREATE DATABASE, CREATE EXTERNAL TABLE over hand-written NDJSON (plain
and gzip) in dt= folders with MSCK REPAIR TABLE, and over CSV with a
header line; a table made by a Glue crawler; ALTER TABLE ADD / DROP
PARTITION seen by SELECT; DROP TABLE and DROP DATABASE (RESTRICT,
CASCADE); syntax errors; StatementType; DDL results without a header.
Every answer a SELECT gives is checked against what Python computes from
the rows it wrote.
"""
import copy
import gzip
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROLE = "arn:aws:iam::000000000000:role/firelake-crawler"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
LAZY_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
TEXT_IN = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
DDL_TASK = "FAILED: Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask. "


def click(day, i):
    """One NDJSON row of day (amounts are multiples of 1/4: exact sums)."""
    return {"id": day * 1000 + i, "amount": (i % 9) * 0.25 + day, "name": "n%d" % i,
            "ok": i % 3 == 0}


def ndjson(rows):
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def dml_rows(rows):
    """A SELECT's rows without its header row."""
    return rows[1:]


class AthenaDdl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server().start()
        cls.athena = cls.srv.client("athena")
        cls.glue = cls.srv.client("glue")

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("FIRELAKE_TEST_LOG"):
            print(cls.srv.log())
        cls.srv.cleanup()

    # ---- helpers ------------------------------------------------------------

    def write(self, key, data):
        path = os.path.join(self.srv.lake, "lake", key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def sql(self, sql, db="default", state="SUCCEEDED"):
        """Runs sql; asserts its final state; (rows, execution)."""
        got, rows, qe = harness.run_query(self.athena, sql, db)
        self.assertEqual(got, state, (sql, qe["Status"]))
        return rows, qe

    def ok(self, sql, db="default"):
        return self.sql(sql, db)[0]

    def fails(self, sql, db="default"):
        """The StateChangeReason of a statement that must fail (a user error)."""
        _, qe = self.sql(sql, db, state="FAILED")
        err = qe["Status"]["AthenaError"]
        self.assertEqual((err["ErrorCategory"], err["Retryable"]), (2, False), qe["Status"])
        self.assertEqual(err["ErrorMessage"], qe["Status"]["StateChangeReason"])
        return qe["Status"]["StateChangeReason"]

    def select(self, sql, db):
        rows = self.ok(sql, db)
        self.assertTrue(rows, sql)               # a SELECT has its header row
        return dml_rows(rows)

    def glue_error(self, fn, **kw):
        with self.assertRaises(self.glue.exceptions.ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]["Code"]

    def table(self, db, name):
        return self.glue.get_table(DatabaseName=db, Name=name)["Table"]

    def partitions(self, db, table):
        parts = self.glue.get_partitions(DatabaseName=db, TableName=table)["Partitions"]
        return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in parts}

    def write_clicks(self, prefix, days, n=12):
        """NDJSON under <prefix>dt=2024-01-0<day>/: a plain and a gzip object
        per day, plus hidden objects that must never be read; the rows."""
        rows = {}
        for day in days:
            rs = [click(day, i) for i in range(n + day)]
            folder = "%sdt=2024-01-%02d/" % (prefix, day)
            self.write(folder + "part-0.json", ndjson(rs[:5]))
            self.write(folder + "part-1.json.gz", gzip.compress(ndjson(rs[5:])))
            self.write(folder + "_SUCCESS", b"")
            self.write(folder + ".part-2.json.crc", ndjson(rs))      # hidden: never rows
            rows["2024-01-%02d" % day] = rs
        return rows

    def create_clicks(self, db, table, location):
        self.ok("CREATE EXTERNAL TABLE %s (id bigint, amount double, name string, ok boolean) "
                "PARTITIONED BY (dt string) ROW FORMAT SERDE '%s' LOCATION '%s'"
                % (table, JSON_SERDE, location), db)

    def per_day(self, db, table):
        """{dt: (count, sum(amount))} as the query answers it."""
        got = self.select("SELECT dt, count(*) AS n, sum(amount) AS total FROM %s "
                          "GROUP BY dt ORDER BY dt" % table, db)
        return {r[0]: (int(r[1]), float(r[2])) for r in got}

    @staticmethod
    def want_per_day(rows):
        return {dt: (len(rs), sum(r["amount"] for r in rs)) for dt, rs in rows.items()}

    # ---- databases ------------------------------------------------------------

    def test_create_and_show_databases(self):
        self.assertEqual(self.ok("CREATE DATABASE ddl_sales"), [])
        self.assertEqual(self.glue.get_database(Name="ddl_sales")["Database"]["Name"],
                         "ddl_sales")
        self.assertEqual(self.fails("CREATE DATABASE ddl_sales"),
                         DDL_TASK + "Database ddl_sales already exists")
        self.assertEqual(self.ok("CREATE DATABASE IF NOT EXISTS ddl_sales"), [])
        self.ok("CREATE SCHEMA `ddl_Sales2` COMMENT 'second one' "
                "LOCATION 's3://lake/ddl_sales2/' WITH DBPROPERTIES ('owner'='me', 'k'='v')")
        d = self.glue.get_database(Name="ddl_sales2")["Database"]   # Glue names are lower case
        self.assertEqual((d["Description"], d["LocationUri"], d["Parameters"]),
                         ("second one", "s3://lake/ddl_sales2/", {"owner": "me", "k": "v"}))

        everything = sorted(x["Name"] for x in self.glue.get_databases()["DatabaseList"])
        self.assertIn("default", everything)
        self.assertEqual(self.ok("SHOW DATABASES"), [[n] for n in everything])
        self.assertEqual(self.ok("SHOW SCHEMAS"), [[n] for n in everything])
        self.assertEqual(self.ok("SHOW SCHEMAS LIKE 'ddl_sales*'"),
                         [["ddl_sales"], ["ddl_sales2"]])
        self.assertEqual(self.ok("SHOW DATABASES LIKE 'ddl_sales2|def*'"),
                         [["ddl_sales2"], ["default"]])
        self.assertEqual(self.ok("SHOW DATABASES LIKE 'nothing*'"), [])

    def test_drop_database_restrict_and_cascade(self):
        self.ok("CREATE DATABASE ddl_gone")
        self.ok("CREATE DATABASE ddl_empty")
        self.write("ext/gone/a.json", ndjson([{"id": 1}]))
        self.ok("CREATE EXTERNAL TABLE t1 (id int) ROW FORMAT SERDE '%s' "
                "LOCATION 's3://lake/ext/gone/'" % JSON_SERDE, "ddl_gone")
        self.write("ext/gone2/a.json", ndjson([{"id": 2}, {"id": 3}]))
        self.ok("CREATE EXTERNAL TABLE ddl_gone.t2 (id int) ROW FORMAT SERDE '%s' "
                "LOCATION 's3://lake/ext/gone2/'" % JSON_SERDE)
        refused = (DDL_TASK + "InvalidOperationException(message:Database ddl_gone is not "
                   "empty. One or more tables exist.)")
        self.assertEqual(self.fails("DROP DATABASE ddl_gone"), refused)
        self.assertEqual(self.fails("DROP SCHEMA ddl_gone RESTRICT"), refused)
        self.assertEqual(sorted(t["Name"] for t in
                                self.glue.get_tables(DatabaseName="ddl_gone")["TableList"]),
                         ["t1", "t2"])
        self.assertEqual(self.select("SELECT (SELECT sum(id) FROM t1), (SELECT sum(id) FROM t2)",
                                     "ddl_gone"), [["1", "5"]])

        self.assertEqual(self.ok("DROP DATABASE ddl_empty RESTRICT"), [])
        self.assertEqual(self.glue_error(self.glue.get_database, Name="ddl_empty"),
                         "EntityNotFoundException")
        self.assertEqual(self.ok("DROP DATABASE ddl_gone CASCADE"), [])
        self.assertEqual(self.glue_error(self.glue.get_database, Name="ddl_gone"),
                         "EntityNotFoundException")
        self.assertEqual(self.glue_error(self.glue.get_table, DatabaseName="ddl_gone", Name="t1"),
                         "EntityNotFoundException")
        self.assertNotIn(["ddl_gone"], self.ok("SHOW DATABASES"))
        self.assertEqual(self.fails("SHOW TABLES IN ddl_gone"),
                         "FAILED: SemanticException [Error 10072]: Database does not exist: "
                         "ddl_gone")
        self.assertEqual(self.fails("DROP DATABASE ddl_gone"),
                         "FAILED: SemanticException [Error 10072]: Database does not exist: "
                         "ddl_gone")
        self.assertEqual(self.ok("DROP DATABASE IF EXISTS ddl_gone CASCADE"), [])
        self.assertIn("Can not drop default database", self.fails("DROP DATABASE default"))
        self.glue.get_database(Name="default")

    # ---- JSON table, MSCK, SHOW, DESCRIBE, partitions --------------------------------

    def test_json_table_msck_show_and_select(self):
        db = "ddl_json"
        self.ok("CREATE DATABASE %s" % db)
        rows = self.write_clicks("ext/clicks/", [1, 2, 3])
        # Not in the table's layout: a folder of another key, and a loose object.
        self.write("ext/clicks/day=2024-01-09/x.json", ndjson([click(9, 0)]))
        self.write("ext/clicks/loose.json", ndjson([click(9, 1)]))
        self.create_clicks(db, "clicks", "s3://lake/ext/clicks/")

        t = self.table(db, "clicks")
        sd = t["StorageDescriptor"]
        self.assertEqual([(c["Name"], c["Type"]) for c in sd["Columns"]],
                         [("id", "bigint"), ("amount", "double"), ("name", "string"),
                          ("ok", "boolean")])
        self.assertEqual(t["PartitionKeys"], [{"Name": "dt", "Type": "string"}])
        self.assertEqual(t["TableType"], "EXTERNAL_TABLE")
        self.assertEqual(sd["Location"], "s3://lake/ext/clicks/")
        self.assertEqual(sd["SerdeInfo"]["SerializationLibrary"], JSON_SERDE)
        self.assertEqual((sd["InputFormat"], sd["OutputFormat"]), (TEXT_IN, TEXT_OUT))
        self.assertEqual(t["Parameters"], {"EXTERNAL": "TRUE", "classification": "json"})
        self.assertEqual(self.partitions(db, "clicks"), {})
        self.assertEqual(self.ok("SHOW PARTITIONS clicks", db), [])
        self.assertEqual(self.select("SELECT count(*) FROM clicks", db), [["0"]])

        got = self.ok("MSCK REPAIR TABLE clicks", db)
        names = ["clicks:dt=2024-01-0%d" % d for d in (1, 2, 3)]
        self.assertEqual(got, [["Partitions not in metastore:\t" + "\t".join(names)]] +
                         [["Repair: Added partition to metastore " + n] for n in names])
        self.assertEqual(self.partitions(db, "clicks"), {
            (dt,): "s3://lake/ext/clicks/dt=%s/" % dt for dt in rows})
        self.assertEqual(self.ok("MSCK REPAIR TABLE clicks", db), [])    # nothing new
        self.assertEqual(len(self.partitions(db, "clicks")), 3)

        self.assertEqual(self.per_day(db, "clicks"), self.want_per_day(rows))
        everything = [r for rs in rows.values() for r in rs]
        got = self.select("SELECT count(*), sum(amount), count_if(ok), max(name) FROM clicks",
                          db)
        self.assertEqual([int(got[0][0]), float(got[0][1]), int(got[0][2]), got[0][3]],
                         [len(everything), sum(r["amount"] for r in everything),
                          sum(r["ok"] for r in everything), max(r["name"] for r in everything)])
        got = self.select("SELECT id, name FROM clicks WHERE dt = '2024-01-02' AND amount > 3.5 "
                          "ORDER BY id", db)
        self.assertEqual(got, [[str(r["id"]), r["name"]] for r in rows["2024-01-02"]
                               if r["amount"] > 3.5])

        # SHOW and DESCRIBE.
        self.assertEqual(self.ok("SHOW PARTITIONS clicks", db),
                         [["dt=2024-01-01"], ["dt=2024-01-02"], ["dt=2024-01-03"]])
        self.assertEqual(self.ok("SHOW PARTITIONS %s.clicks PARTITION (dt='2024-01-02')" % db),
                         [["dt=2024-01-02"]])
        self.ok("CREATE EXTERNAL TABLE clicks_copy (id bigint) ROW FORMAT SERDE '%s' "
                "LOCATION 's3://lake/ext/nowhere/'" % JSON_SERDE, db)
        tables = [["clicks"], ["clicks_copy"]]
        self.assertEqual(self.ok("SHOW TABLES", db), tables)
        self.assertEqual(self.ok("SHOW TABLES IN %s" % db), tables)
        self.assertEqual(self.ok("SHOW TABLES IN %s 'clicks_*'" % db), [["clicks_copy"]])
        self.assertEqual(self.ok("SHOW TABLES 'cl*s'", db), [["clicks"]])
        self.assertEqual(self.ok("SHOW TABLES 'x*'", db), [])
        self.assertEqual(sorted([t["Name"]] for t in
                                self.glue.get_tables(DatabaseName=db)["TableList"]), tables)
        cols = [["id"], ["amount"], ["name"], ["ok"], ["dt"]]
        self.assertEqual(self.ok("SHOW COLUMNS IN clicks", db), cols)
        self.assertEqual(self.ok("SHOW COLUMNS IN clicks IN %s" % db), cols)
        self.assertEqual(self.ok("SHOW COLUMNS FROM %s.clicks" % db), cols)
        described = [["id", "bigint", ""], ["amount", "double", ""], ["name", "string", ""],
                     ["ok", "boolean", ""], ["dt", "string", ""], ["", "", ""],
                     ["# Partition Information", "", ""], ["# col_name", "data_type", "comment"],
                     ["", "", ""], ["dt", "string", ""]]
        self.assertEqual(self.ok("DESCRIBE clicks", db), described)
        self.assertEqual(self.ok("DESCRIBE %s.clicks" % db), described)
        self.assertEqual(self.ok("DESCRIBE clicks_copy", db), [["id", "bigint", ""]])

        # Missing things.
        self.assertEqual(self.fails("SHOW PARTITIONS nope", db),
                         "FAILED: SemanticException [Error 10001]: Table not found ddl_json.nope")
        self.assertEqual(self.fails("DESCRIBE nope", db),
                         "FAILED: SemanticException [Error 10001]: Table not found ddl_json.nope")
        self.assertIn("is not a partitioned table", self.fails("SHOW PARTITIONS clicks_copy", db))

    def test_alter_table_add_and_drop_partition(self):
        db = "ddl_alter"
        self.ok("CREATE DATABASE %s" % db)
        rows = self.write_clicks("ext/alter/", [1, 2])
        self.create_clicks(db, "clicks", "s3://lake/ext/alter/")
        self.ok("MSCK REPAIR TABLE clicks", db)
        self.assertEqual(self.per_day(db, "clicks"), self.want_per_day(rows))

        # Without LOCATION: the table's location + dt=.../
        late = self.write_clicks("ext/alter/", [4])
        self.assertEqual(self.per_day(db, "clicks"), self.want_per_day(rows))   # not yet
        self.assertEqual(self.ok("ALTER TABLE clicks ADD PARTITION (dt = '2024-01-04')", db), [])
        rows.update(late)
        self.assertEqual(self.partitions(db, "clicks")[("2024-01-04",)],
                         "s3://lake/ext/alter/dt=2024-01-04/")
        self.assertEqual(self.per_day(db, "clicks"), self.want_per_day(rows))

        # With LOCATION: read from there, whatever the folder is called.
        moved = [click(5, i) for i in range(7)]
        self.write("ext/elsewhere/jan5/data.json.gz", gzip.compress(ndjson(moved)))
        self.ok("ALTER TABLE clicks ADD IF NOT EXISTS PARTITION (dt = '2024-01-04') "
                "PARTITION (dt='2024-01-05') LOCATION 's3://lake/ext/elsewhere/jan5/'", db)
        rows["2024-01-05"] = moved
        p = self.glue.get_partition(DatabaseName=db, TableName="clicks",
                                    PartitionValues=["2024-01-05"])["Partition"]
        self.assertEqual(p["StorageDescriptor"]["Location"], "s3://lake/ext/elsewhere/jan5/")
        self.assertEqual(p["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"], JSON_SERDE)
        self.assertEqual(self.per_day(db, "clicks"), self.want_per_day(rows))
        got = self.select("SELECT count(*) FROM clicks WHERE dt >= '2024-01-04'", db)
        self.assertEqual(got, [[str(len(rows["2024-01-04"]) + len(moved))]])
        self.assertEqual(self.fails("ALTER TABLE clicks ADD PARTITION (dt='2024-01-05')", db),
                         DDL_TASK + "AlreadyExistsException(message:Partition already exists: "
                         "clicks:dt=2024-01-05)")
        self.assertIn("Non-Partition column",
                      self.fails("ALTER TABLE clicks ADD PARTITION (day='x')", db))

        # DROP PARTITION: its rows go from the answers; its objects stay.
        self.assertEqual(self.ok("ALTER TABLE clicks DROP PARTITION (dt='2024-01-02'), "
                                 "PARTITION (dt='2024-01-05')", db), [])
        del rows["2024-01-02"], rows["2024-01-05"]
        self.assertEqual(set(self.partitions(db, "clicks")),
                         {("2024-01-01",), ("2024-01-04",)})
        self.assertEqual(self.glue_error(self.glue.get_partition, DatabaseName=db,
                                         TableName="clicks", PartitionValues=["2024-01-02"]),
                         "EntityNotFoundException")
        self.assertEqual(self.per_day(db, "clicks"), self.want_per_day(rows))
        self.assertEqual(self.select("SELECT count(*) FROM clicks WHERE dt = '2024-01-02'", db),
                         [["0"]])
        self.assertTrue(os.path.exists(os.path.join(
            self.srv.lake, "lake", "ext/alter/dt=2024-01-02/part-0.json")))
        self.assertEqual(self.ok("SHOW PARTITIONS clicks", db),
                         [["dt=2024-01-01"], ["dt=2024-01-04"]])
        self.assertEqual(self.fails("ALTER TABLE clicks DROP PARTITION (dt='2024-01-02')", db),
                         "FAILED: SemanticException [Error 10006]: Partition not found "
                         "(dt = '2024-01-02')")
        self.assertEqual(self.ok("ALTER TABLE clicks DROP IF EXISTS PARTITION "
                                 "(dt='2024-01-02')", db), [])

        # MSCK brings the dropped folder back, and only it.
        got = self.ok("MSCK REPAIR TABLE clicks", db)
        self.assertEqual(got[1:], [["Repair: Added partition to metastore clicks:dt=2024-01-02"]])
        rows["2024-01-02"] = [click(2, i) for i in range(14)]
        self.assertEqual(self.per_day(db, "clicks"), self.want_per_day(rows))

    # ---- CSV tables -------------------------------------------------------------------

    def test_csv_table_with_header(self):
        db = "ddl_csv"
        self.ok("CREATE DATABASE %s" % db)
        recs = [(i, "name %d" % i, i * 1.5, "x" if i % 4 else "") for i in range(1, 41)]
        lines = ["%d,%s,%s,%s" % r for r in recs]
        head = "id,name,price,tag\n"
        self.write("ext/csv/a.csv", (head + "\n".join(lines[:25]) + "\n").encode())
        self.write("ext/csv/b.csv.gz",
                   gzip.compress((head + "\n".join(lines[25:]) + "\n").encode()))
        self.write("ext/csv/_SUCCESS", b"")
        self.ok("CREATE EXTERNAL TABLE prices (id int, name string, price double, tag string) "
                "ROW FORMAT DELIMITED FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\n' "
                "STORED AS TEXTFILE LOCATION 's3://lake/ext/csv/' "
                "TBLPROPERTIES ('skip.header.line.count'='1')", db)
        t = self.table(db, "prices")
        sd = t["StorageDescriptor"]
        self.assertEqual(sd["SerdeInfo"]["SerializationLibrary"], LAZY_SERDE)
        self.assertEqual(sd["SerdeInfo"]["Parameters"]["field.delim"], ",")
        self.assertEqual((sd["InputFormat"], sd["OutputFormat"]), (TEXT_IN, TEXT_OUT))
        self.assertEqual(t["Parameters"]["skip.header.line.count"], "1")
        self.assertEqual(t["Parameters"]["classification"], "csv")
        self.assertEqual(t["PartitionKeys"], [])

        got = self.select("SELECT count(*), sum(price), sum(id) FROM prices", db)
        self.assertEqual([int(got[0][0]), float(got[0][1]), int(got[0][2])],
                         [len(recs), sum(r[2] for r in recs), sum(r[0] for r in recs)])
        got = self.select("SELECT id, name FROM prices WHERE price > 45 AND tag = 'x' "
                          "ORDER BY id", db)
        self.assertEqual(got, [[str(r[0]), r[1]] for r in recs if r[2] > 45 and r[3] == "x"])
        got = self.select("SELECT count(*) FROM prices WHERE name = 'name'", db)
        self.assertEqual(got, [["0"]])                      # the header lines are no rows
        # An object added later: MSCK REPAIR TABLE registers it (no partitions).
        more = [(100, "late", 0.25, "x"), (101, "later", 0.5, "x")]
        self.write("ext/csv/later/c.csv", (head + "".join("%d,%s,%s,%s\n" % r for r in more))
                   .encode())
        self.assertEqual(self.ok("MSCK REPAIR TABLE prices", db), [])
        recs += more
        got = self.select("SELECT count(*), sum(price) FROM prices", db)
        self.assertEqual([int(got[0][0]), float(got[0][1])],
                         [len(recs), sum(r[2] for r in recs)])
        self.assertEqual(self.partitions(db, "prices"), {})

    def test_crawled_csv_table(self):
        db = "ddl_crawled"
        self.glue.create_database(DatabaseInput={"Name": db})
        days = {"2024-02-01": [(1, "Smith, Ann", 10.5, True), (2, "Bob", 7.0, False)],
                "2024-02-02": [(3, "Cy", 1.25, True), (4, "Di", 3.0, True), (5, "Ed", 0.5, False)]}
        for k, (dt, recs) in enumerate(sorted(days.items())):
            body = "order_id,Customer Name,total,paid\n" + "".join(
                '%d,"%s",%s,%s\n' % (i, n, t, str(p).lower()) for i, n, t, p in recs)
            name = "landing/orders/dt=%s/orders.csv" % dt
            if k:
                self.write(name + ".gz", gzip.compress(body.encode()))
            else:
                self.write(name, body.encode())
        self.glue.create_crawler(Name="ddl_crawler", Role=ROLE, DatabaseName=db, Targets={
            "S3Targets": [{"Path": "s3://lake/landing/"}]})
        self.glue.start_crawler(Name="ddl_crawler")

        def ready():
            c = self.glue.get_crawler(Name="ddl_crawler")["Crawler"]
            return c if c["State"] == "READY" and "LastCrawl" in c else None
        c = harness.wait_for(ready, timeout=60, step=0.1, what="the crawler")
        self.assertEqual(c["LastCrawl"]["Status"], "SUCCEEDED", c["LastCrawl"])
        self.assertEqual(self.ok("SHOW TABLES", db), [["orders"]])
        self.assertEqual(self.ok("SHOW COLUMNS IN orders", db),
                         [["order_id"], ["customer_name"], ["total"], ["paid"], ["dt"]])
        self.assertEqual(self.ok("SHOW PARTITIONS orders", db),
                         [["dt=2024-02-01"], ["dt=2024-02-02"]])

        got = self.select("SELECT dt, count(*), sum(total) FROM orders GROUP BY dt ORDER BY dt",
                          db)
        self.assertEqual([(r[0], int(r[1]), float(r[2])) for r in got],
                         [(dt, len(rs), sum(r[2] for r in rs)) for dt, rs in sorted(days.items())])
        got = self.select("SELECT customer_name FROM orders WHERE paid ORDER BY order_id", db)
        self.assertEqual(got, [[r[1]] for dt in sorted(days) for r in days[dt] if r[3]])

    # ---- SHOW CREATE TABLE -------------------------------------------------------------

    def test_show_create_table_round_trip(self):
        db = "ddl_round"
        self.ok("CREATE DATABASE %s" % db)
        self.write_clicks("ext/round/", [1])
        self.ok("CREATE EXTERNAL TABLE IF NOT EXISTS events (id bigint COMMENT 'the id', "
                "amount double, name string, tags array<string>, "
                "`user` struct<id:bigint,name:string>) "
                "COMMENT 'events, as written' PARTITIONED BY (dt string, hr int COMMENT 'hour') "
                "ROW FORMAT SERDE '%s' WITH SERDEPROPERTIES ('ignore.malformed.json'='true') "
                "LOCATION 's3://lake/ext/round/' "
                "TBLPROPERTIES ('has_encrypted_data'='false', 'note'='it''s')" % JSON_SERDE, db)
        self.ok("CREATE EXTERNAL TABLE lines (a int, b string) ROW FORMAT DELIMITED "
                "FIELDS TERMINATED BY '|' ESCAPED BY '\\\\' LOCATION 's3://lake/ext/lines/' "
                "TBLPROPERTIES ('skip.header.line.count'='1')", db)
        t = self.table(db, "events")
        self.assertEqual(t["Description"], "events, as written")
        self.assertEqual(t["Parameters"]["note"], "it's")
        self.assertEqual(t["PartitionKeys"], [{"Name": "dt", "Type": "string"},
                                              {"Name": "hr", "Type": "int", "Comment": "hour"}])
        self.assertEqual(t["StorageDescriptor"]["SerdeInfo"]["Parameters"],
                         {"ignore.malformed.json": "true"})

        def comparable(table):
            table = copy.deepcopy(table)
            for k in ("CreateTime", "UpdateTime", "LastAccessTime", "VersionId"):
                table.pop(k, None)
            return table

        for name in ("events", "lines"):
            before = self.table(db, name)
            text = "\n".join(r[0] for r in self.ok("SHOW CREATE TABLE %s" % name, db))
            self.assertTrue(text.startswith("CREATE EXTERNAL TABLE `%s`.`%s`(" % (db, name)),
                            text)
            self.assertIn("LOCATION\n  '%s'" % before["StorageDescriptor"]["Location"], text)
            self.assertEqual(self.ok("DROP TABLE %s" % name, db), [])
            self.assertEqual(self.glue_error(self.glue.get_table, DatabaseName=db, Name=name),
                             "EntityNotFoundException")
            self.ok(text)                        # db.name in the text: from any database
            self.assertEqual(comparable(self.table(db, name)), comparable(before), text)

        # Another table's text, printed the same way, from the same catalog.
        self.assertIn("  `user` struct<id:bigint,name:string>)",
                      [r[0] for r in self.ok("SHOW CREATE TABLE %s.events" % db)])
        self.assertIn(["  'skip.header.line.count'='1')"],
                      self.ok("SHOW CREATE TABLE lines", db))
        self.assertEqual(self.fails("SHOW CREATE TABLE nope", db),
                         "FAILED: SemanticException [Error 10001]: Table not found ddl_round.nope")

    # ---- DROP TABLE --------------------------------------------------------------------

    def test_drop_table(self):
        db = "ddl_drop"
        self.ok("CREATE DATABASE %s" % db)
        rows = self.write_clicks("ext/drop/", [1, 2])
        self.create_clicks(db, "clicks", "s3://lake/ext/drop/")
        self.ok("MSCK REPAIR TABLE clicks", db)
        self.assertEqual(self.per_day(db, "clicks"), self.want_per_day(rows))
        self.assertEqual(self.fails("CREATE EXTERNAL TABLE clicks (id int) LOCATION "
                                    "'s3://lake/ext/drop/'", db),
                         DDL_TASK + "AlreadyExistsException(message:Table "
                         "ddl_drop.clicks already exists)")

        self.assertEqual(self.ok("DROP TABLE clicks", db), [])
        self.assertEqual(self.glue_error(self.glue.get_table, DatabaseName=db, Name="clicks"),
                         "EntityNotFoundException")
        self.assertEqual(self.ok("SHOW TABLES", db), [])
        self.assertEqual(self.fails("SELECT count(*) FROM clicks", db),
                         "TABLE_NOT_FOUND: line 1:22: Table 'awsdatacatalog.ddl_drop.clicks' "
                         "does not exist")
        self.assertEqual(self.fails("DESCRIBE clicks", db),
                         "FAILED: SemanticException [Error 10001]: Table not found "
                         "ddl_drop.clicks")
        self.assertEqual(self.fails("DROP TABLE clicks", db),
                         "FAILED: SemanticException [Error 10001]: Table not found "
                         "ddl_drop.clicks")
        self.assertEqual(self.ok("DROP TABLE IF EXISTS clicks", db), [])
        self.assertEqual(self.ok("DROP TABLE IF EXISTS %s.never_was" % db), [])
        # The objects stay; a new table over them sees them again.
        self.create_clicks(db, "clicks", "s3://lake/ext/drop/")
        self.assertEqual(self.select("SELECT count(*) FROM clicks", db), [["0"]])
        self.ok("MSCK REPAIR TABLE clicks", db)
        self.assertEqual(self.per_day(db, "clicks"), self.want_per_day(rows))

    # ---- errors, statement types, result shape -------------------------------------------

    def test_syntax_errors(self):
        self.assertEqual(self.fails("CREATE EXTERNAL TABLE broken (a int"),
                         "line 1:36: mismatched input '<EOF>'. Expecting: ')'")
        self.assertEqual(self.fails("CREATE TABLE broken (a int) LOCATION 's3://lake/x/'"),
                         "line 1:1: Only external table creation is supported. "
                         "Use CREATE EXTERNAL TABLE")
        self.assertEqual(self.fails("DROP TABLE"),
                         "line 1:11: mismatched input '<EOF>'. Expecting: <table name>")
        self.assertEqual(self.fails("SHOW TABLEZ"),
                         "line 1:6: Queries of this type are not supported")
        self.assertEqual(self.glue_error(self.glue.get_table, DatabaseName="default",
                                         Name="broken"), "EntityNotFoundException")
        _, qe = self.sql("CREATE EXTERNAL TABLE broken (a int", state="FAILED")
        self.assertEqual(qe["StatementType"], "DDL")

    def test_statement_types_and_result_shape(self):
        db = "ddl_types"
        self.write("ext/types/dt=1/a.json", ndjson([{"x": 1}]))
        cases = [
            ("CREATE DATABASE ddl_types", "DDL", "CREATE_DATABASE", []),
            ("CREATE EXTERNAL TABLE t (x int) PARTITIONED BY (dt string) "
             "ROW FORMAT SERDE '%s' LOCATION 's3://lake/ext/types/'" % JSON_SERDE,
             "DDL", "CREATE_TABLE", []),
            ("MSCK REPAIR TABLE t", "DDL", "MSCK_REPAIR_TABLE", ["result"]),
            ("ALTER TABLE t ADD PARTITION (dt='2')", "DDL", "ALTER_TABLE", []),
            ("DESCRIBE t", "DDL", "DESCRIBE_TABLE", ["col_name", "data_type", "comment"]),
            ("SHOW CREATE TABLE t", "DDL", "SHOW_CREATE_TABLE", ["createtab_stmt"]),
            ("SHOW DATABASES", "UTILITY", "SHOW_DATABASES", ["database_name"]),
            ("SHOW SCHEMAS", "UTILITY", "SHOW_DATABASES", ["database_name"]),
            ("SHOW TABLES", "UTILITY", "SHOW_TABLES", ["tab_name"]),
            ("SHOW PARTITIONS t", "UTILITY", "SHOW_PARTITIONS", ["partition"]),
            ("SHOW COLUMNS IN t", "UTILITY", "SHOW_COLUMNS", ["field"]),
            ("SELECT count(*) AS n FROM t", "DML", "SELECT", ["n"]),
            ("ALTER TABLE t DROP PARTITION (dt='2')", "DDL", "ALTER_TABLE", []),
            ("DROP TABLE t", "DDL", "DROP_TABLE", []),
            ("DROP DATABASE ddl_types", "DDL", "DROP_DATABASE", []),
        ]
        for sql, stype, sub, cols in cases:
            with self.subTest(sql=sql):
                rows, qe = self.sql(sql, db if "ddl_types" not in sql else "default")
                self.assertEqual(qe["StatementType"], stype)
                self.assertEqual(qe["SubstatementType"], sub)
                page = self.athena.get_query_results(QueryExecutionId=qe["QueryExecutionId"])
                info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
                self.assertEqual([c["Name"] for c in info], cols)
                loc = qe["ResultConfiguration"]["OutputLocation"]
                if stype == "DML":
                    self.assertTrue(loc.endswith(".csv"), loc)
                    self.assertEqual(rows, [["n"], ["1"]])          # header, then the row
                    continue
                self.assertTrue(loc.endswith(".txt"), loc)
                self.assertEqual({c["Type"] for c in info}, {"string"} if cols else set())
                if cols:
                    self.assertNotIn(cols, rows)                    # no header row
                else:
                    self.assertEqual(rows, [])
        # A DDL answer pages like any other.
        self.ok("CREATE DATABASE ddl_types2")
        self.ok("CREATE EXTERNAL TABLE t (a int, b int, c int, d int, e int) "
                "LOCATION 's3://lake/ext/types2/'", "ddl_types2")
        rows, qe = self.sql("SHOW COLUMNS IN t", "ddl_types2")
        self.assertEqual(rows, [[c] for c in "abcde"])
        paged, token = [], None
        while True:
            args = {"QueryExecutionId": qe["QueryExecutionId"], "MaxResults": 2}
            if token:
                args["NextToken"] = token
            page = self.athena.get_query_results(**args)
            self.assertLessEqual(len(page["ResultSet"]["Rows"]), 2)
            paged += [[d["VarCharValue"] for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(paged, rows)
        # The .txt result as Athena writes it: a line per row, no header.
        key = "athena-results/%s.txt" % qe["QueryExecutionId"]
        self.assertEqual(self.srv.objects(prefix=key)[key], b"a\nb\nc\nd\ne\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
