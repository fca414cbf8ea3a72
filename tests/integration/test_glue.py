"""Glue Data Catalog API through boto3: databases, tables, partitions,
partition filter expressions, paging, per-entry batch errors, hostile
input, validation against botocore's model, and a restart."""
import datetime
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError, ParamValidationError  # noqa: E402

LOCATION = "s3://lake/raw/sales/"


def columns(*names, type_="string"):
    return [{"Name": n, "Type": type_} for n in names]


def table_input(name, keys=(("dt", "string"),), cols=("id", "amount"), **extra):
    ti = {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "json"},
        "StorageDescriptor": {
            "Columns": columns(*cols),
            "Location": LOCATION + name.lower() + "/",
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
        },
        "PartitionKeys": [{"Name": k, "Type": t} for k, t in keys],
    }
    ti.update(extra)
    return ti


def part_input(values, location=None, **extra):
    pi = {"Values": list(values),
          "StorageDescriptor": {"Location": location or "s3://lake/p/" + "/".join(values) + "/",
                                "Columns": columns("id")},
          "Parameters": {"records": "1"}}
    pi.update(extra)
    return pi


def raw_client(srv):
    """A client that sends what it is given: botocore's own checks off."""
    return boto3.client("glue", endpoint_url=srv.url, region_name="us-east-1",
                        config=Config(parameter_validation=False,
                                      retries={"max_attempts": 0}))


def checked_client(srv):
    """A client with botocore's parameter validation on (never sends bad input)."""
    return boto3.client("glue", endpoint_url=srv.url, region_name="us-east-1",
                        config=Config(retries={"max_attempts": 0}))


class GlueCase(unittest.TestCase):
    def error(self, fn, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(**kw)
        return cm.exception.response["Error"]

    def assertError(self, code, fn, message=None, **kw):
        e = self.error(fn, **kw)
        self.assertEqual(e["Code"], code, e)
        if message is not None:
            self.assertEqual(e["Message"], message)
        return e


class GlueApi(GlueCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server().start()
        cls.glue = cls.srv.client("glue")
        cls.raw = raw_client(cls.srv)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def new_db(self, name):
        self.glue.create_database(DatabaseInput={"Name": name})
        self.addCleanup(self._drop_db, name)
        return name.lower()

    def _drop_db(self, name):
        try:
            self.glue.delete_database(Name=name)
        except ClientError:
            pass

    def all_partitions(self, db, table, **kw):
        out, token, pages = [], None, 0
        while True:
            args = dict(kw, DatabaseName=db, TableName=table)
            if token:
                args["NextToken"] = token
            page = self.glue.get_partitions(**args)
            out += page["Partitions"]
            pages += 1
            token = page.get("NextToken")
            if not token:
                return out, pages
            self.assertLess(pages, 1000)

    # ---- databases -----------------------------------------------------

    def test_database_crud(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        self.glue.create_database(DatabaseInput={
            "Name": "SalesDB", "Description": "sales", "LocationUri": "s3://lake/sales/",
            "Parameters": {"owner": "data"}})
        self.addCleanup(self._drop_db, "salesdb")
        d = self.glue.get_database(Name="SALESDB")["Database"]
        self.assertEqual(d["Name"], "salesdb")
        self.assertEqual(d["Description"], "sales")
        self.assertEqual(d["LocationUri"], "s3://lake/sales/")
        self.assertEqual(d["Parameters"], {"owner": "data"})
        self.assertEqual(d["CatalogId"], "000000000000")
        self.assertEqual(d["CreateTableDefaultPermissions"], [
            {"Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
             "Permissions": ["ALL"]}])
        self.assertLess(abs((d["CreateTime"] - before).total_seconds()), 60)

        self.assertError("AlreadyExistsException", self.glue.create_database,
                         "Database already exists.", DatabaseInput={"Name": "salesdb"})
        names = [x["Name"] for x in self.glue.get_databases()["DatabaseList"]]
        self.assertIn("default", names)
        self.assertIn("salesdb", names)
        self.assertEqual(names, sorted(names))

        self.glue.update_database(Name="salesdb", DatabaseInput={
            "Name": "salesdb", "Description": "renamed description"})
        d = self.glue.get_database(Name="salesdb")["Database"]
        self.assertEqual(d["Description"], "renamed description")
        self.assertNotIn("LocationUri", d)  # the input replaces the definition
        self.assertError("InvalidInputException", self.glue.update_database,
                         Name="salesdb", DatabaseInput={"Name": "otherdb"})
        self.assertError("EntityNotFoundException", self.glue.update_database,
                         "Database nosuchdb not found.",
                         Name="nosuchdb", DatabaseInput={"Name": "nosuchdb"})

        self.glue.delete_database(Name="salesdb")
        self.assertError("EntityNotFoundException", self.glue.get_database,
                         "Database salesdb not found.", Name="salesdb")
        self.assertError("EntityNotFoundException", self.glue.delete_database,
                         "Database salesdb not found.", Name="salesdb")

    def test_default_database_exists(self):
        d = self.glue.get_database(Name="default")["Database"]
        self.assertEqual(d["Name"], "default")
        self.assertEqual(d["Description"], "Default Hive database")

    def test_database_paging(self):
        for i in range(5):
            self.new_db("page_db_%d" % i)
        seen, token, pages = [], None, 0
        while True:
            args = {"MaxResults": 2}
            if token:
                args["NextToken"] = token
            page = self.glue.get_databases(**args)
            self.assertLessEqual(len(page["DatabaseList"]), 2)
            seen += [d["Name"] for d in page["DatabaseList"]]
            pages += 1
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(seen, sorted(seen))
        for i in range(5):
            self.assertIn("page_db_%d" % i, seen)
        self.assertEqual(pages, (len(seen) + 1) // 2)
        only = self.glue.get_databases(AttributesToGet=["NAME"])["DatabaseList"]
        self.assertTrue(all(set(d) == {"Name"} for d in only), only)
        self.assertError("InvalidInputException", self.glue.get_databases,
                         NextToken="not-a-token")

    def test_delete_database_cascades(self):
        db = self.new_db("cascade_db")
        self.glue.create_table(DatabaseName=db, TableInput=table_input("t1"))
        self.glue.create_partition(DatabaseName=db, TableName="t1",
                                   PartitionInput=part_input(["2026-01-01"]))
        self.glue.delete_database(Name=db)
        self.glue.create_database(DatabaseInput={"Name": db})
        self.assertError("EntityNotFoundException", self.glue.get_table,
                         "Table t1 not found.", DatabaseName=db, Name="t1")
        self.glue.create_table(DatabaseName=db, TableInput=table_input("t1"))
        self.assertEqual(self.glue.get_partitions(DatabaseName=db, TableName="t1")["Partitions"], [])

    # ---- tables --------------------------------------------------------

    def test_table_crud(self):
        db = self.new_db("table_db")
        ti = table_input("MyTable", keys=(("Dt", "string"), ("hour", "int")),
                         cols=("Id", "amount"), Description="orders")
        self.glue.create_table(DatabaseName=db, TableInput=ti)
        t = self.glue.get_table(DatabaseName="TABLE_DB", Name="MYTABLE")["Table"]
        self.assertEqual(t["Name"], "mytable")
        self.assertEqual(t["DatabaseName"], db)
        self.assertEqual(t["Description"], "orders")
        self.assertEqual(t["TableType"], "EXTERNAL_TABLE")
        self.assertEqual(t["Parameters"], {"classification": "json"})
        self.assertEqual(t["PartitionKeys"], [{"Name": "dt", "Type": "string"},
                                              {"Name": "hour", "Type": "int"}])
        sd = t["StorageDescriptor"]
        self.assertEqual(sd["Columns"], [{"Name": "id", "Type": "string"},
                                         {"Name": "amount", "Type": "string"}])
        self.assertEqual(sd["Location"], LOCATION + "mytable/")
        self.assertEqual(sd["SerdeInfo"], ti["StorageDescriptor"]["SerdeInfo"])
        self.assertEqual(t["CatalogId"], "000000000000")
        self.assertFalse(t["IsRegisteredWithLakeFormation"])
        self.assertIsInstance(t["CreateTime"], datetime.datetime)
        v1 = t["VersionId"]

        self.assertError("AlreadyExistsException", self.glue.create_table,
                         "Table already exists.", DatabaseName=db, TableInput=table_input("mytable"))
        self.assertError("EntityNotFoundException", self.glue.create_table,
                         "Database nodb not found.", DatabaseName="nodb",
                         TableInput=table_input("x"))
        self.assertError("EntityNotFoundException", self.glue.get_table,
                         "Table nope not found.", DatabaseName=db, Name="nope")
        self.assertError("EntityNotFoundException", self.glue.get_table,
                         "Database nodb not found.", DatabaseName="nodb", Name="nope")

        # UpdateTable replaces the definition and makes a new version.
        self.glue.update_table(DatabaseName=db, TableInput=table_input(
            "mytable", keys=(("dt", "string"), ("hour", "int")), cols=("id", "amount", "note")))
        t = self.glue.get_table(DatabaseName=db, Name="mytable")["Table"]
        v2 = t["VersionId"]
        self.assertEqual(int(v2), int(v1) + 1)
        self.assertNotIn("Description", t)
        self.assertEqual([c["Name"] for c in t["StorageDescriptor"]["Columns"]],
                         ["id", "amount", "note"])
        self.assertGreaterEqual(t["UpdateTime"], t["CreateTime"])
        # The current VersionId is accepted, a stale one is not.
        self.glue.update_table(DatabaseName=db, VersionId=v2, SkipArchive=True,
                               TableInput=table_input("mytable", Description="v3"))
        t = self.glue.get_table(DatabaseName=db, Name="mytable")["Table"]
        self.assertEqual(int(t["VersionId"]), int(v2) + 1)
        self.assertEqual(t["Description"], "v3")
        self.assertError("ConcurrentModificationException", self.glue.update_table,
                         DatabaseName=db, VersionId=v1, TableInput=table_input("mytable"))
        t2 = self.glue.get_table(DatabaseName=db, Name="mytable")["Table"]
        self.assertEqual(t2["VersionId"], t["VersionId"])
        self.assertEqual(t2["Description"], "v3")
        self.assertError("EntityNotFoundException", self.glue.update_table,
                         "Table nope not found.", DatabaseName=db, TableInput=table_input("nope"))

        self.glue.delete_table(DatabaseName=db, Name="MyTable")
        self.assertError("EntityNotFoundException", self.glue.get_table,
                         DatabaseName=db, Name="mytable")
        self.assertError("EntityNotFoundException", self.glue.delete_table,
                         "Table mytable not found.", DatabaseName=db, Name="mytable")

    def test_batch_delete_table(self):
        db = self.new_db("batch_table_db")
        for n in ("a", "b", "c"):
            self.glue.create_table(DatabaseName=db, TableInput=table_input(n))
        out = self.glue.batch_delete_table(DatabaseName=db, TablesToDelete=["a", "C", "zz"])
        self.assertEqual(out["Errors"], [{"TableName": "zz", "ErrorDetail": {
            "ErrorCode": "EntityNotFoundException", "ErrorMessage": "Table zz not found."}}])
        left = [t["Name"] for t in self.glue.get_tables(DatabaseName=db)["TableList"]]
        self.assertEqual(left, ["b"])
        self.assertError("EntityNotFoundException", self.glue.batch_delete_table,
                         DatabaseName="nodb", TablesToDelete=["b"])

    def test_get_tables_expression(self):
        db = self.new_db("expr_tables_db")
        names = ["events_a", "events_b", "logs", "metrics_events"]
        for n in names:
            self.glue.create_table(DatabaseName=db, TableInput=table_input(n))

        def match(expr):
            return [t["Name"] for t in
                    self.glue.get_tables(DatabaseName=db, Expression=expr)["TableList"]]
        self.assertEqual(match("events*"), ["events_a", "events_b"])
        self.assertEqual(match("events.*"), ["events_a", "events_b"])
        # Matched from the start of the name, as Glue matches it.
        self.assertEqual(match("*events"), ["events_a", "events_b", "metrics_events"])
        self.assertEqual(match("metrics*"), ["metrics_events"])
        self.assertEqual(match("*_b"), ["events_b"])
        self.assertEqual(match("logs|metrics.*"), ["logs", "metrics_events"])
        self.assertEqual(match("nothing*"), [])
        self.assertEqual(match(""), names)
        self.assertEqual(match(".*"), names)
        self.assertError("InvalidInputException", self.glue.get_tables,
                         DatabaseName=db, Expression="events(")
        self.assertError("EntityNotFoundException", self.glue.get_tables,
                         "Database nodb not found.", DatabaseName="nodb")
        only = self.glue.get_tables(DatabaseName=db, AttributesToGet=["NAME", "TABLE_TYPE"])
        self.assertEqual(only["TableList"][0], {"Name": "events_a", "TableType": "EXTERNAL_TABLE"})

    def test_table_paging(self):
        db = self.new_db("paging_tables_db")
        names = sorted("t_%03d" % i for i in range(123))
        for n in names:
            self.glue.create_table(DatabaseName=db, TableInput=table_input(n, keys=()))
        for max_results, sizes in ((None, [100, 23]), (50, [50, 50, 23]), (100, [100, 23]),
                                   (1, None)):
            seen, token, got = [], None, []
            while True:
                args = {"DatabaseName": db}
                if max_results:
                    args["MaxResults"] = max_results
                if token:
                    args["NextToken"] = token
                page = self.glue.get_tables(**args)
                got.append(len(page["TableList"]))
                seen += [t["Name"] for t in page["TableList"]]
                token = page.get("NextToken")
                if not token:
                    break
            self.assertEqual(seen, names)  # each once, in order
            if sizes:
                self.assertEqual(got, sizes)
        # A filtered listing pages too.
        page = self.glue.get_tables(DatabaseName=db, Expression="t_1.*", MaxResults=15)
        self.assertEqual(len(page["TableList"]), 15)
        rest = self.glue.get_tables(DatabaseName=db, Expression="t_1.*",
                                    NextToken=page["NextToken"])
        self.assertNotIn("NextToken", rest)
        self.assertEqual([t["Name"] for t in page["TableList"] + rest["TableList"]],
                         [n for n in names if n.startswith("t_1")])

    # ---- partitions ----------------------------------------------------

    def test_partition_crud(self):
        db = self.new_db("part_db")
        self.glue.create_table(DatabaseName=db, TableInput=table_input(
            "events", keys=(("dt", "string"), ("hour", "int"))))
        self.glue.create_partition(DatabaseName=db, TableName="Events",
                                   PartitionInput=part_input(["2026-01-01", "07"]))
        p = self.glue.get_partition(DatabaseName=db, TableName="events",
                                    PartitionValues=["2026-01-01", "07"])["Partition"]
        self.assertEqual(p["Values"], ["2026-01-01", "07"])
        self.assertEqual(p["DatabaseName"], db)
        self.assertEqual(p["TableName"], "events")
        self.assertEqual(p["CatalogId"], "000000000000")
        self.assertEqual(p["Parameters"], {"records": "1"})
        self.assertEqual(p["StorageDescriptor"]["Location"], "s3://lake/p/2026-01-01/07/")
        self.assertIsInstance(p["CreationTime"], datetime.datetime)

        self.assertError("AlreadyExistsException", self.glue.create_partition,
                         "Partition already exists.", DatabaseName=db, TableName="events",
                         PartitionInput=part_input(["2026-01-01", "07"]))
        self.assertError("InvalidInputException", self.glue.create_partition,
                         DatabaseName=db, TableName="events",
                         PartitionInput=part_input(["2026-01-01"]))
        self.assertError("InvalidInputException", self.glue.get_partition,
                         DatabaseName=db, TableName="events", PartitionValues=["a", "b", "c"])
        self.assertError("EntityNotFoundException", self.glue.create_partition,
                         "Table nope not found.", DatabaseName=db, TableName="nope",
                         PartitionInput=part_input(["x", "1"]))
        self.assertError("EntityNotFoundException", self.glue.get_partition,
                         "Cannot find partition.", DatabaseName=db, TableName="events",
                         PartitionValues=["2026-01-01", "08"])

        # Update in place, then move to new values.
        self.glue.update_partition(DatabaseName=db, TableName="events",
                                   PartitionValueList=["2026-01-01", "07"],
                                   PartitionInput=part_input(["2026-01-01", "07"],
                                                             Parameters={"records": "2"}))
        p = self.glue.get_partition(DatabaseName=db, TableName="events",
                                    PartitionValues=["2026-01-01", "07"])["Partition"]
        self.assertEqual(p["Parameters"], {"records": "2"})
        self.glue.update_partition(DatabaseName=db, TableName="events",
                                   PartitionValueList=["2026-01-01", "07"],
                                   PartitionInput=part_input(["2026-01-02", "00"]))
        self.assertError("EntityNotFoundException", self.glue.get_partition,
                         DatabaseName=db, TableName="events", PartitionValues=["2026-01-01", "07"])
        self.glue.get_partition(DatabaseName=db, TableName="events",
                                PartitionValues=["2026-01-02", "00"])
        self.glue.create_partition(DatabaseName=db, TableName="events",
                                   PartitionInput=part_input(["2026-01-03", "00"]))
        self.assertError("AlreadyExistsException", self.glue.update_partition,
                         DatabaseName=db, TableName="events",
                         PartitionValueList=["2026-01-03", "00"],
                         PartitionInput=part_input(["2026-01-02", "00"]))
        self.assertError("EntityNotFoundException", self.glue.update_partition,
                         DatabaseName=db, TableName="events", PartitionValueList=["x", "1"],
                         PartitionInput=part_input(["x", "1"]))

        self.glue.delete_partition(DatabaseName=db, TableName="events",
                                   PartitionValues=["2026-01-02", "00"])
        self.assertError("EntityNotFoundException", self.glue.delete_partition,
                         "Cannot find partition.", DatabaseName=db, TableName="events",
                         PartitionValues=["2026-01-02", "00"])
        left = self.glue.get_partitions(DatabaseName=db, TableName="events")["Partitions"]
        self.assertEqual([p["Values"] for p in left], [["2026-01-03", "00"]])

        # Deleting the table deletes its partitions.
        self.glue.delete_table(DatabaseName=db, Name="events")
        self.glue.create_table(DatabaseName=db, TableInput=table_input(
            "events", keys=(("dt", "string"), ("hour", "int"))))
        self.assertEqual(self.glue.get_partitions(DatabaseName=db, TableName="events")["Partitions"], [])

    def test_values_with_quotes_and_braces(self):
        db = self.new_db("odd_values_db")
        self.glue.create_table(DatabaseName=db, TableInput=table_input("t", keys=(("k", "string"),)))
        odd = ['a"b', "c'd", "{x,y}", "back\\slash", "NULL", " sp ace ", "ünï"]
        self.glue.batch_create_partition(DatabaseName=db, TableName="t",
                                         PartitionInputList=[part_input([v]) for v in odd])
        got = sorted(p["Values"][0] for p in self.all_partitions(db, "t")[0])
        self.assertEqual(got, sorted(odd))
        for v in odd:
            p = self.glue.get_partition(DatabaseName=db, TableName="t", PartitionValues=[v])
            self.assertEqual(p["Partition"]["Values"], [v])
        eq = self.glue.get_partitions(DatabaseName=db, TableName="t",
                                      Expression="k = 'c''d'")["Partitions"]
        self.assertEqual([p["Values"] for p in eq], [["c'd"]])

    def test_batch_create_partition_errors(self):
        db = self.new_db("batch_part_db")
        self.glue.create_table(DatabaseName=db, TableInput=table_input(
            "t", keys=(("dt", "string"), ("hour", "string"))))
        self.glue.create_partition(DatabaseName=db, TableName="t",
                                   PartitionInput=part_input(["d1", "00"]))
        out = self.glue.batch_create_partition(DatabaseName=db, TableName="t", PartitionInputList=[
            part_input(["d1", "01"]),
            part_input(["d1", "00"]),          # exists already
            part_input(["d2", "00"]),
            part_input(["d2", "00"]),          # twice in one batch
            part_input(["d3"]),                # one value for two keys
        ])
        errors = out["Errors"]
        self.assertEqual(len(errors), 3, errors)
        self.assertEqual(errors[0], {"PartitionValues": ["d1", "00"], "ErrorDetail": {
            "ErrorCode": "AlreadyExistsException", "ErrorMessage": "Partition already exists."}})
        self.assertEqual(errors[1]["PartitionValues"], ["d2", "00"])
        self.assertEqual(errors[1]["ErrorDetail"]["ErrorCode"], "AlreadyExistsException")
        self.assertEqual(errors[2]["PartitionValues"], ["d3"])
        self.assertEqual(errors[2]["ErrorDetail"]["ErrorCode"], "InvalidInputException")
        self.assertTrue(errors[2]["ErrorDetail"]["ErrorMessage"])
        got = sorted(p["Values"] for p in self.all_partitions(db, "t")[0])
        self.assertEqual(got, [["d1", "00"], ["d1", "01"], ["d2", "00"]])

        ok = self.glue.batch_create_partition(DatabaseName=db, TableName="t",
                                              PartitionInputList=[part_input(["d9", "09"])])
        self.assertEqual(ok.get("Errors", []), [])
        self.assertError("EntityNotFoundException", self.glue.batch_create_partition,
                         "Table nope not found.", DatabaseName=db, TableName="nope",
                         PartitionInputList=[part_input(["a", "b"])])

        # BatchGetPartition answers what exists; BatchDeletePartition
        # reports what did not.
        got = self.glue.batch_get_partition(DatabaseName=db, TableName="t", PartitionsToGet=[
            {"Values": ["d1", "00"]}, {"Values": ["d2", "00"]}, {"Values": ["zz", "00"]}])
        self.assertEqual(sorted(p["Values"] for p in got["Partitions"]),
                         [["d1", "00"], ["d2", "00"]])
        self.assertEqual(got.get("UnprocessedKeys", []), [])
        out = self.glue.batch_delete_partition(DatabaseName=db, TableName="t", PartitionsToDelete=[
            {"Values": ["d1", "00"]}, {"Values": ["zz", "00"]}, {"Values": ["d2", "00"]}])
        self.assertEqual(len(out["Errors"]), 1)
        self.assertEqual(out["Errors"][0]["PartitionValues"], ["zz", "00"])
        self.assertEqual(out["Errors"][0]["ErrorDetail"]["ErrorCode"], "EntityNotFoundException")
        got = sorted(p["Values"] for p in self.all_partitions(db, "t")[0])
        self.assertEqual(got, [["d1", "01"], ["d9", "09"]])

    def test_get_partitions_expressions(self):
        db = self.new_db("filter_db")
        self.glue.create_table(DatabaseName=db, TableInput=table_input(
            "events", keys=(("region", "string"), ("year", "int"), ("code", "string"))))
        rows = [(r, y, c) for r in ("eu", "us", "ap") for y in (9, 10, 2020, 2021)
                for c in ("a1", "b2", "ab")]
        parts = [part_input([r, str(y), c]) for r, y, c in rows]
        for i in range(0, len(parts), 100):
            out = self.glue.batch_create_partition(DatabaseName=db, TableName="events",
                                                   PartitionInputList=parts[i:i + 100])
            self.assertEqual(out.get("Errors", []), [])
        cases = [
            ("region = 'eu'", lambda r, y, c: r == "eu"),
            ("region <> 'eu'", lambda r, y, c: r != "eu"),
            ("region != 'eu'", lambda r, y, c: r != "eu"),
            # year is an int key: numbers compare as numbers ('9' < '10')
            ("year < 10", lambda r, y, c: y < 10),
            ("year > 9", lambda r, y, c: y > 9),
            ("year <= 2020", lambda r, y, c: y <= 2020),
            ("year >= 2020", lambda r, y, c: y >= 2020),
            ("2020 = year", lambda r, y, c: y == 2020),
            ("region = 'eu' AND year = 2021", lambda r, y, c: r == "eu" and y == 2021),
            ("region = 'us' OR year = 9", lambda r, y, c: r == "us" or y == 9),
            ("region IN ('eu', 'ap')", lambda r, y, c: r in ("eu", "ap")),
            ("region NOT IN ('eu', 'ap')", lambda r, y, c: r not in ("eu", "ap")),
            ("year BETWEEN 10 AND 2020", lambda r, y, c: 10 <= y <= 2020),
            ("year NOT BETWEEN 10 AND 2020", lambda r, y, c: not 10 <= y <= 2020),
            ("code LIKE 'a%'", lambda r, y, c: c.startswith("a")),
            ("code LIKE '_b'", lambda r, y, c: len(c) == 2 and c[1] == "b"),
            ("code NOT LIKE 'a%'", lambda r, y, c: not c.startswith("a")),
            ("NOT region = 'eu'", lambda r, y, c: r != "eu"),
            ("NOT (region = 'eu' OR region = 'us') AND code = 'b2'",
             lambda r, y, c: r == "ap" and c == "b2"),
            ("code IS NULL", lambda r, y, c: False),
            ("code IS NOT NULL", lambda r, y, c: True),
            ("REGION = 'ap' and Year > 2020", lambda r, y, c: r == "ap" and y > 2020),
            ("`region` = 'us'", lambda r, y, c: r == "us"),
        ]
        for expr, pred in cases:
            with self.subTest(expr=expr):
                got, _ = self.all_partitions(db, "events", Expression=expr)
                want = sorted([r, str(y), c] for r, y, c in rows if pred(r, y, c))
                self.assertEqual(sorted(p["Values"] for p in got), want)
        bad = ["region = ", "nokey = 'x'", "region = 'x'; DROP TABLE fl_glue_partitions",
               "year = 'abc'", "region ==== 1", "(region = 'eu'", "region LIKE 5"]
        for expr in bad:
            with self.subTest(bad=expr):
                self.assertError("InvalidInputException", self.glue.get_partitions,
                                 DatabaseName=db, TableName="events", Expression=expr)
        self.assertEqual(len(self.all_partitions(db, "events")[0]), len(rows))

        # ExcludeColumnSchema drops the partition's columns; Segment 0 of 1
        # is everything, other segments are empty.
        page = self.glue.get_partitions(DatabaseName=db, TableName="events", MaxResults=1,
                                        ExcludeColumnSchema=True)["Partitions"]
        self.assertNotIn("Columns", page[0]["StorageDescriptor"])
        self.assertIn("Location", page[0]["StorageDescriptor"])
        page = self.glue.get_partitions(DatabaseName=db, TableName="events", MaxResults=1)
        self.assertEqual(page["Partitions"][0]["StorageDescriptor"]["Columns"], columns("id"))
        seg0, _ = self.all_partitions(db, "events", Segment={"SegmentNumber": 0, "TotalSegments": 1})
        self.assertEqual(len(seg0), len(rows))
        seg1 = self.glue.get_partitions(DatabaseName=db, TableName="events",
                                        Segment={"SegmentNumber": 1, "TotalSegments": 2})
        self.assertEqual(seg1["Partitions"], [])

    def test_partition_paging(self):
        db = self.new_db("paging_parts_db")
        self.glue.create_table(DatabaseName=db, TableInput=table_input(
            "t", keys=(("dt", "string"), ("n", "int"))))
        values = [["2026-01-%02d" % (i // 10 + 1), str(i)] for i in range(157)]
        for i in range(0, len(values), 100):
            out = self.glue.batch_create_partition(
                DatabaseName=db, TableName="t",
                PartitionInputList=[part_input(v) for v in values[i:i + 100]])
            self.assertEqual(out.get("Errors", []), [])
        want = sorted(values)
        for kw, pages in (({}, 2), ({"MaxResults": 40}, 4), ({"MaxResults": 1000}, 1),
                          ({"MaxResults": 157}, 1)):
            got, n = self.all_partitions(db, "t", **kw)
            self.assertEqual(sorted(p["Values"] for p in got), want)
            self.assertEqual(len({tuple(p["Values"]) for p in got}), len(values))
            self.assertEqual(n, pages, kw)
        got, n = self.all_partitions(db, "t", Expression="n >= 50 AND n < 150", MaxResults=30)
        self.assertEqual(sorted(p["Values"] for p in got),
                         sorted(v for v in values if 50 <= int(v[1]) < 150))
        self.assertEqual(n, 4)
        self.assertError("InvalidInputException", self.glue.get_partitions,
                         DatabaseName=db, TableName="t", NextToken="garbage")

    # ---- hostile input and validation ----------------------------------

    def test_hostile_names(self):
        db = self.new_db("hostile_db")
        self.glue.create_table(DatabaseName=db, TableInput=table_input("t"))
        dbs_before = self.glue.get_databases()["DatabaseList"]
        tables_before = self.glue.get_tables(DatabaseName=db)["TableList"]
        hostile = ["x'; DROP TABLE fl_glue_databases; --", 'quo"te', "Robert'); --",
                   "a b", "semi;colon", "dash-name", "ünicode", "x" * 300, "../etc",
                   "t\tab", "%", "*"]
        for name in hostile:
            with self.subTest(name=name):
                self.assertError("InvalidInputException", self.raw.create_database,
                                 DatabaseInput={"Name": name})
                self.assertError("InvalidInputException", self.raw.get_database, Name=name)
                self.assertError("InvalidInputException", self.raw.create_table,
                                 DatabaseName=db, TableInput=table_input(name))
                self.assertError("InvalidInputException", self.raw.create_table,
                                 DatabaseName=name, TableInput=table_input("ok"))
                self.assertError("InvalidInputException", self.raw.create_table,
                                 DatabaseName=db, TableInput=table_input("ok2", cols=(name,)))
                self.assertError("InvalidInputException", self.raw.create_table,
                                 DatabaseName=db, TableInput=table_input(
                                     "ok3", keys=((name, "string"),)))
                self.assertError("InvalidInputException", self.raw.get_table,
                                 DatabaseName=db, Name=name)
                self.assertError("InvalidInputException", self.raw.delete_table,
                                 DatabaseName=db, Name=name)
                self.assertError("InvalidInputException", self.raw.delete_database, Name=name)
                self.assertError("InvalidInputException", self.raw.get_partitions,
                                 DatabaseName=db, TableName=name)
        self.assertEqual(self.glue.get_databases()["DatabaseList"], dbs_before)
        self.assertEqual(self.glue.get_tables(DatabaseName=db)["TableList"], tables_before)
        self.glue.get_database(Name="default")

    def test_validation_matches_botocore(self):
        checked = checked_client(self.srv)
        model = checked.meta.service_model
        db = self.new_db("valid_db")
        self.glue.create_table(DatabaseName=db, TableInput=table_input("t"))
        # (operation, arguments, member path as AWS words it, member shape
        # path in the model).  botocore's client checks required members,
        # types and minimums itself; maximums it leaves to the service, so
        # those cases are checked against the model's own limit.
        cases = [
            ("create_database", {}, "databaseInput", None),
            ("create_database", {"DatabaseInput": {"Description": "no name"}},
             "databaseInput.name", None),
            ("get_database", {"Name": ""}, "name", None),
            ("get_table", {"DatabaseName": db}, "name", None),
            ("create_table", {"TableInput": table_input("x")}, "databaseName", None),
            ("get_tables", {"DatabaseName": db, "MaxResults": 0}, "maxResults", None),
            ("create_partition", {"DatabaseName": db, "TableName": "t"}, "partitionInput", None),
            ("get_database", {"Name": "n" * 256}, "name", ("GetDatabase", "Name")),
            ("get_tables", {"DatabaseName": db, "MaxResults": 101}, "maxResults",
             ("GetTables", "MaxResults")),
            ("get_databases", {"MaxResults": 101}, "maxResults", ("GetDatabases", "MaxResults")),
            ("get_partitions", {"DatabaseName": db, "TableName": "t", "MaxResults": 1001},
             "maxResults", ("GetPartitions", "MaxResults")),
            ("batch_create_partition", {"DatabaseName": db, "TableName": "t",
                                        "PartitionInputList": [part_input(["d%d" % i])
                                                               for i in range(101)]},
             "partitionInputList", ("BatchCreatePartition", "PartitionInputList")),
            ("batch_delete_partition", {"DatabaseName": db, "TableName": "t",
                                        "PartitionsToDelete": [{"Values": ["d%d" % i]}
                                                               for i in range(26)]},
             "partitionsToDelete", ("BatchDeletePartition", "PartitionsToDelete")),
            ("batch_delete_table", {"DatabaseName": db,
                                    "TablesToDelete": ["t%d" % i for i in range(101)]},
             "tablesToDelete", ("BatchDeleteTable", "TablesToDelete")),
            ("get_partitions", {"DatabaseName": db, "TableName": "t",
                                "Expression": "dt = '" + "x" * 2050 + "'"}, "expression",
             ("GetPartitions", "Expression")),
        ]
        for op, args, member, limit in cases:
            with self.subTest(op=op, member=member):
                if limit is None:
                    # botocore itself rejects it ...
                    with self.assertRaises(ParamValidationError):
                        getattr(checked, op)(**args)
                else:
                    # ... or its model says it is past the maximum.
                    shape = model.operation_model(limit[0]).input_shape.members[limit[1]]
                    value = args[limit[1]]
                    size = value if isinstance(value, int) else len(value)
                    self.assertGreater(size, shape.metadata["max"])
                # firelake rejects it as AWS words it.
                e = self.assertError("InvalidInputException", getattr(self.raw, op), **args)
                self.assertIn("validation error", e["Message"])
                self.assertIn("'%s'" % member, e["Message"])
        # A value of the wrong JSON type is not a request at all.
        e = self.error(self.raw.get_database, Name=5)
        self.assertEqual(e["Code"], "SerializationException")
        # Nothing was created by any of them.
        self.assertEqual(self.all_partitions(db, "t")[0], [])
        self.assertEqual([t["Name"] for t in self.glue.get_tables(DatabaseName=db)["TableList"]],
                         ["t"])


    def test_api_examples_replay(self):
        """api/glue/ examples, sent in order, answer what they show."""
        folder = os.path.join(harness.SRC, "api", "glue")
        order = ["CreateDatabase", "GetDatabase", "GetDatabases", "UpdateDatabase",
                 "CreateTable", "GetTable", "GetTables", "UpdateTable", "CreatePartition",
                 "BatchCreatePartition", "GetPartition", "GetPartitions", "BatchGetPartition",
                 "UpdatePartition", "BatchDeletePartition", "DeletePartition", "DeleteTable",
                 "CreateTable", "BatchDeleteTable", "DeleteDatabase"]
        self.addCleanup(self._drop_db, "analytics")

        def load(op, kind):
            with open(os.path.join(folder, "%s.%s.json" % (op, kind))) as f:
                return json.load(f)

        def normal(v, key=None):
            # Times are the server's clock: only their kind is compared.
            if key in ("CreateTime", "UpdateTime", "CreationTime"):
                return isinstance(v, (int, float)) and v > 1.7e9
            if isinstance(v, dict):
                return {k: normal(x, k) for k, x in v.items()}
            if isinstance(v, list):
                return [normal(x) for x in v]
            return v
        for op in order:
            with self.subTest(op=op):
                status, _, body = self.srv.post("AWSGlue." + op, load(op, "request"))
                self.assertEqual(status, 200, body)
                self.assertEqual(normal(body), normal(load(op, "response")))


class GlueRestart(GlueCase):
    def test_restart_keeps_catalog(self):
        srv = harness.Server().start()
        self.addCleanup(srv.cleanup)
        glue = srv.client("glue")
        glue.create_database(DatabaseInput={"Name": "keep", "Description": "kept"})
        glue.create_table(DatabaseName="keep", TableInput=table_input(
            "t", keys=(("dt", "string"),)))
        glue.update_table(DatabaseName="keep", TableInput=table_input(
            "t", keys=(("dt", "string"),), Description="second"))
        glue.batch_create_partition(DatabaseName="keep", TableName="t", PartitionInputList=[
            part_input(["d%d" % i]) for i in range(5)])
        before_t = glue.get_table(DatabaseName="keep", Name="t")["Table"]
        before_p = glue.get_partitions(DatabaseName="keep", TableName="t")["Partitions"]
        self.assertEqual(srv.stop(), 0)

        again = harness.Server(data_dir=srv.data_dir, port=srv.port)
        self.addCleanup(again.cleanup)
        glue = again.start().client("glue")
        self.assertEqual(glue.get_database(Name="keep")["Database"]["Description"], "kept")
        self.assertEqual(glue.get_table(DatabaseName="keep", Name="t")["Table"], before_t)
        self.assertEqual(glue.get_partitions(DatabaseName="keep", TableName="t")["Partitions"],
                         before_p)
        self.assertError("AlreadyExistsException", glue.create_database,
                         DatabaseInput={"Name": "keep"})
        again.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
