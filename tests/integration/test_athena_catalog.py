#!/usr/bin/env python3
"""Athena's catalog views (ListDataCatalogs, GetDataCatalog, ListDatabases,
GetDatabase, ListTableMetadata, GetTableMetadata) against the real binary.

Databases and tables are made through the Glue API (boto3), then read back
through Athena with boto3's athena client: shapes, paging, the Expression
filter, the flattening of storage descriptors into Parameters, and the
errors Athena gives for a wrong catalog, missing databases and tables and
hostile names.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest  # noqa: E402

from botocore.exceptions import ClientError  # noqa: E402

CATALOG = "AwsDataCatalog"
DATABASES = {
    "athcat_sales": {"Description": "Sales tables", "Parameters": {"owner": "sales", "tier": "gold"}},
    "athcat_empty": {},
    "athcat_ops": {"Description": "Operations"},
}
ORDERS = {
    "Name": "orders",
    "Description": "glue description, not a table comment in Athena",
    "TableType": "EXTERNAL_TABLE",
    "Parameters": {"classification": "json", "EXTERNAL": "TRUE", "has_encrypted_data": "false"},
    "StorageDescriptor": {
        "Columns": [
            {"Name": "order_id", "Type": "string", "Comment": "the order"},
            {"Name": "amount_cents", "Type": "bigint"},
            {"Name": "items", "Type": "array<struct<sku:string,qty:int>>"},
        ],
        "Location": "s3://lake/sales/orders/",
        "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        "SerdeInfo": {
            "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
            "Parameters": {"mapping.order_id": "orderId", "ignore.malformed.json": "true"},
        },
    },
    "PartitionKeys": [
        {"Name": "dt", "Type": "string", "Comment": "ingest day"},
        {"Name": "region", "Type": "string"},
    ],
}
SALES_TABLES = ["customers", "order_items", "orders", "orders_2024", "refunds"]


def plain_table(name):
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "bigint"}],
            "Location": "s3://lake/sales/%s/" % name,
        },
    }


class AthenaCatalogTest(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.glue = cls.srv.client("glue")
        cls.athena = cls.srv.client("athena")
        cls.created_at = time.time()
        for name, extra in DATABASES.items():
            cls.glue.create_database(DatabaseInput=dict(Name=name, **extra))
        for name in SALES_TABLES:
            cls.glue.create_table(DatabaseName="athcat_sales",
                                  TableInput=ORDERS if name == "orders" else plain_table(name))

    def error(self, call, **kwargs):
        with self.assertRaises(ClientError) as cm:
            call(**kwargs)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]

    def assert_not_found(self, code, message, status, text):
        self.assertEqual((code, status), ("MetadataException", 400))
        self.assertTrue(message.startswith(text + " (Service: AmazonDataCatalog; Status Code: 400; "
                                           "Error Code: EntityNotFoundException; Request ID: "),
                        message)
        self.assertTrue(message.endswith("; Proxy: null)"), message)

    def walk(self, call, **kwargs):
        """Every page of a list call: [(items key's list, NextToken or None)]."""
        pages, token = [], None
        while True:
            args = dict(kwargs, NextToken=token) if token else kwargs
            page = call(**args)
            token = page.get("NextToken")
            pages.append(page)
            if not token:
                return pages
            self.assertLess(len(pages), 100, "paging does not end")

    # ---- data catalogs -----------------------------------------------------

    def test_list_data_catalogs(self):
        for kwargs in ({}, {"MaxResults": 2}, {"MaxResults": 50}):
            out = self.athena.list_data_catalogs(**kwargs)
            self.assertEqual(out["DataCatalogsSummary"], [{"CatalogName": CATALOG, "Type": "GLUE"}])
            self.assertNotIn("NextToken", out)

    def test_get_data_catalog(self):
        for name in (CATALOG, "awsdatacatalog", "AWSDATACATALOG"):
            dc = self.athena.get_data_catalog(Name=name)["DataCatalog"]
            self.assertEqual(dc["Name"], CATALOG)
            self.assertEqual(dc["Type"], "GLUE")
            self.assertEqual(dc["Parameters"], {"catalog-id": "000000000000"})
        code, message, status = self.error(self.athena.get_data_catalog, Name="hive_catalog")
        self.assertEqual((code, status), ("InvalidRequestException", 400))
        self.assertEqual(message, "DataCatalog hive_catalog was not found")

    # ---- databases ---------------------------------------------------------

    def test_list_databases(self):
        out = self.athena.list_databases(CatalogName=CATALOG)
        self.assertNotIn("NextToken", out)
        by_name = {d["Name"]: d for d in out["DatabaseList"]}
        names = [d["Name"] for d in out["DatabaseList"]]
        self.assertEqual(names, sorted(names))
        self.assertIn("default", by_name)
        for name in DATABASES:
            self.assertIn(name, by_name)
        self.assertEqual(by_name["athcat_sales"], {
            "Name": "athcat_sales", "Description": "Sales tables",
            "Parameters": {"owner": "sales", "tier": "gold"}})
        self.assertEqual(by_name["athcat_empty"], {"Name": "athcat_empty"})
        self.assertEqual(by_name["athcat_ops"], {"Name": "athcat_ops", "Description": "Operations"})
        # Glue's own list agrees.
        glue_names = sorted(d["Name"] for p in self.glue.get_paginator("get_databases").paginate()
                            for d in p["DatabaseList"])
        self.assertEqual(names, glue_names)

    def test_list_databases_pages(self):
        everything = [d["Name"] for d in self.athena.list_databases(CatalogName=CATALOG)["DatabaseList"]]
        pages = self.walk(self.athena.list_databases, CatalogName=CATALOG, MaxResults=1)
        self.assertEqual([len(p["DatabaseList"]) for p in pages], [1] * len(everything))
        self.assertEqual([p["DatabaseList"][0]["Name"] for p in pages], everything)
        pages = self.walk(self.athena.list_databases, CatalogName="awsdatacatalog", MaxResults=2)
        self.assertEqual([d["Name"] for p in pages for d in p["DatabaseList"]], everything)
        self.assertTrue(all(len(p["DatabaseList"]) == 2 for p in pages[:-1]))
        # boto3's paginator walks the same pages.
        walked = [d["Name"] for p in self.athena.get_paginator("list_databases").paginate(
            CatalogName=CATALOG, PaginationConfig={"PageSize": 1}) for d in p["DatabaseList"]]
        self.assertEqual(walked, everything)

    def test_list_databases_errors(self):
        code, message, status = self.error(self.athena.list_databases, CatalogName="nope")
        self.assertEqual((code, status, message), ("InvalidRequestException", 400,
                                                   "DataCatalog nope was not found"))
        for token in ("garbage", "fl1.", "fl1.QUJD", "fl1.Li4vZXRj"):  # ABC, ../etc: not names
            code, message, status = self.error(self.athena.list_databases, CatalogName=CATALOG,
                                               NextToken=token)
            self.assertEqual((code, status), ("InvalidRequestException", 400), token)
        for max_results in (0, 51):
            status, _, body = self.srv.post("AmazonAthena.ListDatabases",
                                            {"CatalogName": CATALOG, "MaxResults": max_results})
            self.assertEqual((status, body["__type"]), (400, "InvalidRequestException"), body)
        status, _, body = self.srv.post("AmazonAthena.ListDatabases", {})
        self.assertEqual((status, body["__type"]), (400, "InvalidRequestException"), body)
        self.assertIn("catalogName", body["Message"])

    def test_get_database(self):
        db = self.athena.get_database(CatalogName=CATALOG, DatabaseName="athcat_sales")["Database"]
        self.assertEqual(db, {"Name": "athcat_sales", "Description": "Sales tables",
                              "Parameters": {"owner": "sales", "tier": "gold"}})
        # Glue names are lower case: any case finds them; the catalog too.
        db = self.athena.get_database(CatalogName="AWSDATACATALOG", DatabaseName="AthCat_Ops")
        self.assertEqual(db["Database"], {"Name": "athcat_ops", "Description": "Operations"})
        db = self.athena.get_database(CatalogName=CATALOG, DatabaseName="default")["Database"]
        self.assertEqual(db["Name"], "default")

    def test_get_database_errors(self):
        self.assert_not_found(*self.error(self.athena.get_database, CatalogName=CATALOG,
                                          DatabaseName="nope"), "Database nope not found.")
        code, message, status = self.error(self.athena.get_database, CatalogName="glue",
                                           DatabaseName="default")
        self.assertEqual((code, status, message), ("InvalidRequestException", 400,
                                                   "DataCatalog glue was not found"))
        for hostile in ("athcat_sales'; DROP TABLE fl_glue_databases; --", "../athcat_sales",
                        "athcat sales", "athcat_sales\n", "\u00e9t\u00e9", "\"default\"", "%",
                        "a" * 128):
            self.assert_not_found(*self.error(self.athena.get_database, CatalogName=CATALOG,
                                              DatabaseName=hostile),
                                  "Database %s not found." % hostile)
        # Past the model's NameString (1-128): rejected before anything runs.
        for name in ("", "a" * 129):
            status, _, body = self.srv.post("AmazonAthena.GetDatabase",
                                            {"CatalogName": CATALOG, "DatabaseName": name})
            self.assertEqual((status, body["__type"]), (400, "InvalidRequestException"), body)
        status, _, body = self.srv.post("AmazonAthena.GetDatabase",
                                        {"CatalogName": CATALOG, "DatabaseName": 7})
        self.assertEqual((status, body["__type"]), (400, "SerializationException"), body)
        # Nothing was harmed.
        self.assertEqual(self.athena.get_database(CatalogName=CATALOG, DatabaseName="athcat_sales")
                         ["Database"]["Name"], "athcat_sales")

    # ---- tables ------------------------------------------------------------

    def names(self, **kwargs):
        pages = self.walk(self.athena.list_table_metadata, CatalogName=CATALOG, **kwargs)
        return [t["Name"] for p in pages for t in p["TableMetadataList"]]

    def test_list_table_metadata(self):
        out = self.athena.list_table_metadata(CatalogName=CATALOG, DatabaseName="athcat_sales")
        self.assertNotIn("NextToken", out)
        self.assertEqual([t["Name"] for t in out["TableMetadataList"]], SALES_TABLES)
        orders = [t for t in out["TableMetadataList"] if t["Name"] == "orders"][0]
        got = self.athena.get_table_metadata(CatalogName=CATALOG, DatabaseName="athcat_sales",
                                             TableName="orders")["TableMetadata"]
        self.assertEqual(orders, got)
        plain = out["TableMetadataList"][0]
        self.assertEqual(plain["Columns"], [{"Name": "id", "Type": "bigint"}])
        self.assertEqual(plain["PartitionKeys"], [])
        self.assertEqual(plain["Parameters"], {"location": "s3://lake/sales/customers/"})
        empty = self.athena.list_table_metadata(CatalogName=CATALOG, DatabaseName="athcat_empty")
        self.assertEqual(empty["TableMetadataList"], [])
        self.assertNotIn("NextToken", empty)

    def test_list_table_metadata_pages(self):
        for size in (1, 2, 5, 50):
            pages = self.walk(self.athena.list_table_metadata, CatalogName=CATALOG,
                              DatabaseName="athcat_sales", MaxResults=size)
            self.assertEqual([t["Name"] for p in pages for t in p["TableMetadataList"]], SALES_TABLES)
            self.assertEqual(len(pages), max(1, -(-len(SALES_TABLES) // size)), size)
        walked = [t["Name"] for p in self.athena.get_paginator("list_table_metadata").paginate(
            CatalogName=CATALOG, DatabaseName="athcat_sales", PaginationConfig={"PageSize": 2})
            for t in p["TableMetadataList"]]
        self.assertEqual(walked, SALES_TABLES)

    def test_list_table_metadata_expression(self):
        cases = {
            "order*": ["order_items", "orders", "orders_2024"],
            "orders": ["orders", "orders_2024"],
            "orders$": ["orders"],
            "cust.*": ["customers"],
            ".*s": SALES_TABLES,
            "re*|cust*": ["customers", "refunds"],
            "orders_2024": ["orders_2024"],
            "zzz": [],
            "": SALES_TABLES,
        }
        for expr, want in cases.items():
            got = self.names(DatabaseName="athcat_sales", Expression=expr)
            self.assertEqual(got, want, expr)
            if expr:
                # Athena's Expression is Glue's GetTables Expression.
                glue = [t["Name"] for p in self.glue.get_paginator("get_tables").paginate(
                    DatabaseName="athcat_sales", Expression=expr) for t in p["TableList"]]
                self.assertEqual(sorted(glue), got, expr)
        # Filtering and paging together.
        got = self.names(DatabaseName="athcat_sales", Expression="order*", MaxResults=1)
        self.assertEqual(got, ["order_items", "orders", "orders_2024"])

    def test_list_table_metadata_errors(self):
        self.assert_not_found(*self.error(self.athena.list_table_metadata, CatalogName=CATALOG,
                                          DatabaseName="nope"), "Database nope not found.")
        self.assert_not_found(*self.error(self.athena.list_table_metadata, CatalogName=CATALOG,
                                          DatabaseName="x' OR '1'='1"),
                              "Database x' OR '1'='1 not found.")
        code, message, status = self.error(self.athena.list_table_metadata, CatalogName="other",
                                           DatabaseName="athcat_sales")
        self.assertEqual((code, status, message), ("InvalidRequestException", 400,
                                                   "DataCatalog other was not found"))
        code, _, status = self.error(self.athena.list_table_metadata, CatalogName=CATALOG,
                                     DatabaseName="athcat_sales", NextToken="not-ours")
        self.assertEqual((code, status), ("InvalidRequestException", 400))
        # a\q: an ERE escape PostgreSQL's regular expressions refuse.
        for expr in ("(", "a[", "a{2,1}", "a\\q"):
            code, message, status = self.error(self.athena.list_table_metadata, CatalogName=CATALOG,
                                               DatabaseName="athcat_sales", Expression=expr)
            self.assertEqual((code, status), ("InvalidRequestException", 400), expr)
            self.assertTrue(message.startswith("Invalid Expression: "), message)
        status, _, body = self.srv.post("AmazonAthena.ListTableMetadata", {
            "CatalogName": CATALOG, "DatabaseName": "athcat_sales", "Expression": "a" * 257})
        self.assertEqual((status, body["__type"]), (400, "InvalidRequestException"), body)

    def test_get_table_metadata(self):
        t = self.athena.get_table_metadata(CatalogName=CATALOG, DatabaseName="athcat_sales",
                                           TableName="orders")["TableMetadata"]
        self.assertEqual(t["Name"], "orders")
        self.assertEqual(t["TableType"], "EXTERNAL_TABLE")
        self.assertEqual(t["Columns"], ORDERS["StorageDescriptor"]["Columns"])
        self.assertEqual(t["PartitionKeys"], ORDERS["PartitionKeys"])
        self.assertEqual(t["Parameters"], {
            "classification": "json",
            "EXTERNAL": "TRUE",
            "has_encrypted_data": "false",
            "location": "s3://lake/sales/orders/",
            "inputformat": "org.apache.hadoop.mapred.TextInputFormat",
            "outputformat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "serde.serialization.lib": "org.openx.data.jsonserde.JsonSerDe",
            "serde.param.mapping.order_id": "orderId",
            "serde.param.ignore.malformed.json": "true",
        })
        created = t["CreateTime"].timestamp()
        self.assertEqual(created, int(created))  # whole seconds, as Athena gives them
        self.assertLess(abs(created - self.created_at), 120)
        self.assertNotIn("LastAccessTime", t)
        # Any case finds the table; its name comes back as stored.
        t = self.athena.get_table_metadata(CatalogName="awsdatacatalog", DatabaseName="ATHCAT_SALES",
                                           TableName="Orders")["TableMetadata"]
        self.assertEqual(t["Name"], "orders")

    def test_get_table_metadata_follows_glue_updates(self):
        self.glue.create_table(DatabaseName="athcat_ops", TableInput=plain_table("metrics"))
        table = plain_table("metrics")
        table["StorageDescriptor"]["Columns"].append({"Name": "value", "Type": "double",
                                                      "Comment": "gauge"})
        table["Parameters"] = {"classification": "csv"}
        table["LastAccessTime"] = 1767225600.75
        self.glue.update_table(DatabaseName="athcat_ops", TableInput=table)
        t = self.athena.get_table_metadata(CatalogName=CATALOG, DatabaseName="athcat_ops",
                                           TableName="metrics")["TableMetadata"]
        self.assertEqual(t["Columns"], [{"Name": "id", "Type": "bigint"},
                                        {"Name": "value", "Type": "double", "Comment": "gauge"}])
        self.assertEqual(t["Parameters"], {"classification": "csv",
                                           "location": "s3://lake/sales/metrics/"})
        self.assertEqual(t["LastAccessTime"].timestamp(), 1767225600)
        self.glue.delete_table(DatabaseName="athcat_ops", Name="metrics")
        self.assert_not_found(*self.error(self.athena.get_table_metadata, CatalogName=CATALOG,
                                          DatabaseName="athcat_ops", TableName="metrics"),
                              "Entity Not Found")

    def test_get_table_metadata_errors(self):
        for db, table in (("athcat_sales", "nope"), ("nope", "orders"),
                          ("athcat_sales", "orders; DROP TABLE fl_glue_tables"),
                          ("athcat_sales", "../orders"), ("athcat_sales", "orders\u0301"),
                          ("athcat_sales", "a" * 128)):
            self.assert_not_found(*self.error(self.athena.get_table_metadata, CatalogName=CATALOG,
                                              DatabaseName=db, TableName=table),
                                  "Entity Not Found")
        code, message, status = self.error(self.athena.get_table_metadata, CatalogName="Aws",
                                           DatabaseName="athcat_sales", TableName="orders")
        self.assertEqual((code, status, message), ("InvalidRequestException", 400,
                                                   "DataCatalog Aws was not found"))
        status, _, body = self.srv.post("AmazonAthena.GetTableMetadata",
                                        {"CatalogName": CATALOG, "DatabaseName": "athcat_sales"})
        self.assertEqual((status, body["__type"]), (400, "InvalidRequestException"), body)
        self.assertIn("tableName", body["Message"])
        status, _, body = self.srv.post("AmazonAthena.GetTableMetadata", b"{not json")
        self.assertEqual((status, body["__type"]), (400, "SerializationException"), body)
        self.assertEqual(self.names(DatabaseName="athcat_sales"), SALES_TABLES)

    def test_stream_table(self):
        """firelake's default stream's table, when this build makes one."""
        listed = self.athena.list_table_metadata(CatalogName=CATALOG, DatabaseName="default",
                                                 Expression="events")["TableMetadataList"]
        events = [t for t in listed if t["Name"] == "events"]
        if not events:
            self.skipTest("no default stream table in this build")
        t = events[0]
        self.assertEqual(t["TableType"], "EXTERNAL_TABLE")
        self.assertTrue(t["Parameters"]["location"].startswith("s3://"), t["Parameters"])
        self.assertIn("inputformat", t["Parameters"])
        self.assertIn("serde.serialization.lib", t["Parameters"])
        self.assertEqual(t, self.athena.get_table_metadata(
            CatalogName=CATALOG, DatabaseName="default", TableName="events")["TableMetadata"])

    def test_unknown_operation(self):
        status, _, body = self.srv.post("AmazonAthena.ListEverything", {})
        self.assertEqual((status, body["__type"]), (400, "UnknownOperationException"), body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
