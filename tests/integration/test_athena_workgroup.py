#!/usr/bin/env python3
"""Athena workgroups and named queries (athena_workgroup.c) against the real
binary, through boto3's athena client.

Workgroups: the primary workgroup and its defaults, create / get / list
(paging walks every workgroup once) / update (configuration merge, state,
description) / delete, firelake's statement timeout carried by
AdditionalConfiguration (read back from the catalog row that the query
engine reads), and Athena's errors.  Named queries: create (default
workgroup, idempotency token) / get / list (paging) / batch get with
unknown ids / update / delete, and DeleteWorkGroup with and without
RecursiveDeleteOption.
"""
import os
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ServerTest  # noqa: E402

from botocore.exceptions import ClientError, ParamValidationError  # noqa: E402

ENGINE = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}


class AthenaWorkGroupTest(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.athena = cls.srv.client("athena")

    def error(self, call, **kwargs):
        with self.assertRaises(ClientError) as cm:
            call(**kwargs)
        e = cm.exception.response
        return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]

    def assert_invalid(self, message, call, **kwargs):
        code, msg, status = self.error(call, **kwargs)
        self.assertEqual((code, status), ("InvalidRequestException", 400), msg)
        self.assertEqual(msg, message)

    def psql(self, sql):
        """One value from the catalog, read with psql over the embedded
        cluster's socket (the row the query engine reads)."""
        import subprocess
        with open(os.path.join(self.srv.data_dir, "pg", "data", "postmaster.pid")) as f:
            lines = f.read().splitlines()
        port, sockdir = lines[3], lines[4]
        cmd = ["psql", "-h", sockdir, "-p", port, "-U", "firelake", "-d", "firelake", "-At",
               "-c", sql]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()

    # ---- workgroups ---------------------------------------------------------

    def test_primary_defaults(self):
        wg = self.athena.get_work_group(WorkGroup="primary")["WorkGroup"]
        self.assertEqual(wg["Name"], "primary")
        self.assertEqual(wg["State"], "ENABLED")
        self.assertEqual(wg["Description"], "")
        self.assertEqual(wg["Configuration"], {
            "ResultConfiguration": {"OutputLocation": "s3://lake/athena-results/"},
            "EnforceWorkGroupConfiguration": False,
            "PublishCloudWatchMetricsEnabled": False,
            "RequesterPaysEnabled": False,
            "EngineVersion": ENGINE,
        })
        self.assertLess(abs(wg["CreationTime"].timestamp() - time.time()), 3600)

    def test_create_get_defaults_filled(self):
        before = time.time()
        self.athena.create_work_group(
            Name="wg_create", Description="made by the test",
            Configuration={"ResultConfiguration": {"OutputLocation": "s3://lake/out/create/"},
                           "BytesScannedCutoffPerQuery": 10000000,
                           "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3",
                                             "EffectiveEngineVersion": "ignored"}},
            Tags=[{"Key": "team", "Value": "data"}])
        wg = self.athena.get_work_group(WorkGroup="wg_create")["WorkGroup"]
        self.assertEqual(wg["Name"], "wg_create")
        self.assertEqual(wg["State"], "ENABLED")
        self.assertEqual(wg["Description"], "made by the test")
        self.assertEqual(wg["Configuration"], {
            "ResultConfiguration": {"OutputLocation": "s3://lake/out/create/"},
            "BytesScannedCutoffPerQuery": 10000000,
            "EnforceWorkGroupConfiguration": False,
            "PublishCloudWatchMetricsEnabled": False,
            "RequesterPaysEnabled": False,
            "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3",
                              "EffectiveEngineVersion": "Athena engine version 3"},
        })
        self.assertGreaterEqual(wg["CreationTime"].timestamp(), before - 2)
        self.assertLessEqual(wg["CreationTime"].timestamp(), time.time() + 2)
        # No configuration at all: only the defaults.
        self.athena.create_work_group(Name="wg_bare")
        wg = self.athena.get_work_group(WorkGroup="wg_bare")["WorkGroup"]
        self.assertEqual(wg["Description"], "")
        self.assertEqual(wg["Configuration"], {
            "EnforceWorkGroupConfiguration": False, "PublishCloudWatchMetricsEnabled": False,
            "RequesterPaysEnabled": False, "EngineVersion": ENGINE})

    def test_create_errors(self):
        self.athena.create_work_group(Name="wg_dup")
        self.assert_invalid("WorkGroup wg_dup is already created.",
                            self.athena.create_work_group, Name="wg_dup")
        self.assert_invalid("primary workGroup could not be created",
                            self.athena.create_work_group, Name="primary")
        for loc in ("http://lake/out/", "lake/out/", "s3://", "s3://a/x", "s3://Upper/x"):
            code, msg, _ = self.error(self.athena.create_work_group, Name="wg_badloc",
                                      Configuration={"ResultConfiguration": {"OutputLocation": loc}})
            self.assertEqual(code, "InvalidRequestException", loc)
            self.assertIn("S3 location", msg)
        code, _, _ = self.error(self.athena.create_work_group, Name="wg_badengine",
                                Configuration={"EngineVersion": {"SelectedEngineVersion": "PySpark engine version 3"}})
        self.assertEqual(code, "InvalidRequestException")
        # The model's pattern, checked by the server (raw request: boto3
        # would refuse it itself).
        status, _, body = self.srv.post("AmazonAthena.CreateWorkGroup", {"Name": "bad name!"})
        self.assertEqual(status, 400)
        self.assertEqual(body["__type"], "InvalidRequestException")
        self.assertIn("name", body["Message"])
        self.assertIn("failed to satisfy constraint", body["Message"])
        for name in ("wg_badloc", "wg_badengine"):
            self.assert_invalid("WorkGroup %s is not found." % name,
                                self.athena.get_work_group, WorkGroup=name)

    def test_not_found(self):
        msg = "WorkGroup wg_nope is not found."
        self.assert_invalid(msg, self.athena.get_work_group, WorkGroup="wg_nope")
        self.assert_invalid(msg, self.athena.update_work_group, WorkGroup="wg_nope",
                            Description="x")
        self.assert_invalid(msg, self.athena.delete_work_group, WorkGroup="wg_nope")
        self.assert_invalid(msg, self.athena.list_named_queries, WorkGroup="wg_nope")
        self.assert_invalid(msg, self.athena.create_named_query, WorkGroup="wg_nope",
                            Name="q", Database="default", QueryString="SELECT 1")
        # Names are case-sensitive.
        self.assert_invalid("WorkGroup Primary is not found.", self.athena.get_work_group,
                            WorkGroup="Primary")

    def test_list_pages_walk_everything(self):
        names = ["wg_page_%02d" % i for i in range(7)]
        for n in names:
            self.athena.create_work_group(Name=n, Description="page " + n)
        everything = self.athena.list_work_groups()["WorkGroups"]
        all_names = [w["Name"] for w in everything]
        self.assertIn("primary", all_names)
        for n in names:
            self.assertIn(n, all_names)
        self.assertEqual(all_names, sorted(all_names))
        summary = next(w for w in everything if w["Name"] == "wg_page_03")
        self.assertEqual(set(summary), {"Name", "State", "Description", "CreationTime", "EngineVersion"})
        self.assertEqual(summary["Description"], "page wg_page_03")
        self.assertEqual(summary["EngineVersion"], ENGINE)

        seen, token, pages = [], None, 0
        while True:
            kw = {"MaxResults": 2}
            if token:
                kw["NextToken"] = token
            page = self.athena.list_work_groups(**kw)
            pages += 1
            self.assertLessEqual(len(page["WorkGroups"]), 2)
            seen += [w["Name"] for w in page["WorkGroups"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, all_names)
        self.assertEqual(pages, (len(all_names) + 1) // 2)  # no empty last page
        code, msg, _ = self.error(self.athena.list_work_groups, NextToken="garbage")
        self.assertEqual(code, "InvalidRequestException")
        # The model's range: 1..50.
        status, _, body = self.srv.post("AmazonAthena.ListWorkGroups", {"MaxResults": 51})
        self.assertEqual((status, body["__type"]), (400, "InvalidRequestException"))

    def test_last_page_has_no_token(self):
        total = len(self.athena.list_work_groups()["WorkGroups"])
        page = self.athena.list_work_groups(MaxResults=50)
        self.assertEqual(len(page["WorkGroups"]), total)
        self.assertNotIn("NextToken", page)

    def test_update_configuration_and_state(self):
        self.athena.create_work_group(
            Name="wg_update", Description="before",
            Configuration={"ResultConfiguration": {"OutputLocation": "s3://lake/out/a/",
                                                   "ExpectedBucketOwner": "123456789012"},
                           "BytesScannedCutoffPerQuery": 20000000,
                           "PublishCloudWatchMetricsEnabled": True})
        self.athena.update_work_group(
            WorkGroup="wg_update", Description="after", State="DISABLED",
            ConfigurationUpdates={
                "EnforceWorkGroupConfiguration": True,
                "ResultConfigurationUpdates": {"OutputLocation": "s3://lake/out/b/",
                                               "RemoveExpectedBucketOwner": True,
                                               "AclConfiguration": {"S3AclOption": "BUCKET_OWNER_FULL_CONTROL"}},
                "RemoveBytesScannedCutoffPerQuery": True,
                "RequesterPaysEnabled": True,
            })
        wg = self.athena.get_work_group(WorkGroup="wg_update")["WorkGroup"]
        self.assertEqual(wg["State"], "DISABLED")
        self.assertEqual(wg["Description"], "after")
        self.assertEqual(wg["Configuration"], {
            "ResultConfiguration": {"OutputLocation": "s3://lake/out/b/",
                                    "AclConfiguration": {"S3AclOption": "BUCKET_OWNER_FULL_CONTROL"}},
            "EnforceWorkGroupConfiguration": True,
            "PublishCloudWatchMetricsEnabled": True,
            "RequesterPaysEnabled": True,
            "EngineVersion": ENGINE,
        })
        # A disabled workgroup takes no new named queries.
        code, msg, _ = self.error(self.athena.create_named_query, WorkGroup="wg_update",
                                  Name="q", Database="default", QueryString="SELECT 1")
        self.assertEqual(code, "InvalidRequestException")
        self.assertIn("wg_update", msg)
        # Only what is given changes; the output location can go.
        self.athena.update_work_group(
            WorkGroup="wg_update", State="ENABLED",
            ConfigurationUpdates={"ResultConfigurationUpdates": {"RemoveOutputLocation": True,
                                                                 "RemoveAclConfiguration": True}})
        wg = self.athena.get_work_group(WorkGroup="wg_update")["WorkGroup"]
        self.assertEqual(wg["State"], "ENABLED")
        self.assertEqual(wg["Description"], "after")
        self.assertNotIn("ResultConfiguration", wg["Configuration"])
        self.assertTrue(wg["Configuration"]["EnforceWorkGroupConfiguration"])
        # A bad location changes nothing.
        code, _, _ = self.error(self.athena.update_work_group, WorkGroup="wg_update",
                                Description="not this",
                                ConfigurationUpdates={"ResultConfigurationUpdates": {"OutputLocation": "ftp://x/"}})
        self.assertEqual(code, "InvalidRequestException")
        self.assertEqual(self.athena.get_work_group(WorkGroup="wg_update")["WorkGroup"]["Description"], "after")
        # The primary workgroup can be updated.
        self.athena.update_work_group(WorkGroup="primary", Description="the default one")
        self.assertEqual(self.athena.get_work_group(WorkGroup="primary")["WorkGroup"]["Description"],
                         "the default one")
        self.athena.update_work_group(WorkGroup="primary", Description="")

    def test_statement_timeout(self):
        extra = '{"StatementTimeoutInSeconds": 5}'
        self.athena.create_work_group(Name="wg_timeout",
                                      Configuration={"AdditionalConfiguration": extra})
        conf = self.athena.get_work_group(WorkGroup="wg_timeout")["WorkGroup"]["Configuration"]
        self.assertEqual(conf["AdditionalConfiguration"], extra)
        self.assertNotIn("StatementTimeoutInSeconds", conf)
        stored = "SELECT configuration->>'StatementTimeoutInSeconds' FROM fl_athena_workgroups " \
                 "WHERE name = 'wg_timeout'"
        self.assertEqual(self.psql(stored), "5")
        self.athena.update_work_group(WorkGroup="wg_timeout", ConfigurationUpdates={
            "AdditionalConfiguration": '{"StatementTimeoutInSeconds": 86400, "other": 1}'})
        self.assertEqual(self.psql(stored), "86400")
        conf = self.athena.get_work_group(WorkGroup="wg_timeout")["WorkGroup"]["Configuration"]
        self.assertEqual(conf["AdditionalConfiguration"], '{"StatementTimeoutInSeconds": 86400, "other": 1}')
        # Other updates keep it.
        self.athena.update_work_group(WorkGroup="wg_timeout", Description="d",
                                      ConfigurationUpdates={"RequesterPaysEnabled": True})
        self.assertEqual(self.psql(stored), "86400")
        # Out of range or not an integer: refused, nothing changes.
        for bad in ('{"StatementTimeoutInSeconds": 0}', '{"StatementTimeoutInSeconds": 86401}',
                    '{"StatementTimeoutInSeconds": "5"}', '{"StatementTimeoutInSeconds": 1.5}'):
            code, msg, _ = self.error(self.athena.update_work_group, WorkGroup="wg_timeout",
                                      ConfigurationUpdates={"AdditionalConfiguration": bad})
            self.assertEqual(code, "InvalidRequestException", bad)
            self.assertIn("StatementTimeoutInSeconds", msg)
            code, _, _ = self.error(self.athena.create_work_group, Name="wg_timeout_bad",
                                    Configuration={"AdditionalConfiguration": bad})
            self.assertEqual(code, "InvalidRequestException", bad)
        self.assertEqual(self.psql(stored), "86400")
        # Replaced by a text without the member: back to the default.
        self.athena.update_work_group(WorkGroup="wg_timeout", ConfigurationUpdates={
            "AdditionalConfiguration": "spark.executor.memory=4g"})
        self.assertEqual(self.psql(stored), "")
        self.assertEqual(self.athena.get_work_group(WorkGroup="wg_timeout")["WorkGroup"]
                         ["Configuration"]["AdditionalConfiguration"], "spark.executor.memory=4g")

    def test_delete(self):
        self.athena.create_work_group(Name="wg_delete")
        self.athena.delete_work_group(WorkGroup="wg_delete")
        self.assert_invalid("WorkGroup wg_delete is not found.", self.athena.get_work_group,
                            WorkGroup="wg_delete")
        self.assertNotIn("wg_delete", [w["Name"] for w in self.athena.list_work_groups()["WorkGroups"]])
        # The name can be used again.
        self.athena.create_work_group(Name="wg_delete")
        self.athena.delete_work_group(WorkGroup="wg_delete", RecursiveDeleteOption=False)
        self.assert_invalid("primary workGroup could not be deleted",
                            self.athena.delete_work_group, WorkGroup="primary")
        self.assert_invalid("primary workGroup could not be deleted",
                            self.athena.delete_work_group, WorkGroup="primary",
                            RecursiveDeleteOption=True)
        self.athena.get_work_group(WorkGroup="primary")

    def test_delete_with_named_queries(self):
        self.athena.create_work_group(Name="wg_full")
        ids = [self.athena.create_named_query(WorkGroup="wg_full", Name="q%d" % i,
                                              Database="default",
                                              QueryString="SELECT %d" % i)["NamedQueryId"]
               for i in range(3)]
        self.assert_invalid("WorkGroup wg_full is not empty", self.athena.delete_work_group,
                            WorkGroup="wg_full")
        self.assert_invalid("WorkGroup wg_full is not empty", self.athena.delete_work_group,
                            WorkGroup="wg_full", RecursiveDeleteOption=False)
        self.assertEqual(len(self.athena.batch_get_named_query(NamedQueryIds=ids)["NamedQueries"]), 3)
        self.athena.delete_work_group(WorkGroup="wg_full", RecursiveDeleteOption=True)
        self.assert_invalid("WorkGroup wg_full is not found.", self.athena.get_work_group,
                            WorkGroup="wg_full")
        got = self.athena.batch_get_named_query(NamedQueryIds=ids)
        self.assertEqual(got["NamedQueries"], [])
        self.assertEqual([u["NamedQueryId"] for u in got["UnprocessedNamedQueryIds"]], ids)
        # A workgroup of the same name starts empty.
        self.athena.create_work_group(Name="wg_full")
        self.assertEqual(self.athena.list_named_queries(WorkGroup="wg_full")["NamedQueryIds"], [])

    def test_delete_with_query_history(self):
        # A query execution of the workgroup (as StartQueryExecution leaves
        # it, finished) counts as content too.
        self.athena.create_work_group(Name="wg_history")
        qid = str(uuid.uuid4())
        self.psql("INSERT INTO fl_athena_queries (id, workgroup, query, statement_type, "
                  "output_location, state) VALUES ('%s', 'wg_history', 'SELECT 1', 'DML', "
                  "'s3://lake/athena-results/%s.csv', 'SUCCEEDED')" % (qid, qid))
        self.assert_invalid("WorkGroup wg_history is not empty", self.athena.delete_work_group,
                            WorkGroup="wg_history")
        self.assertEqual(self.psql("SELECT count(*) FROM fl_athena_queries WHERE id = '%s'" % qid), "1")
        self.athena.delete_work_group(WorkGroup="wg_history", RecursiveDeleteOption=True)
        self.assertEqual(self.psql("SELECT count(*) FROM fl_athena_queries WHERE id = '%s'" % qid), "0")
        self.assert_invalid("WorkGroup wg_history is not found.", self.athena.get_work_group,
                            WorkGroup="wg_history")

    # ---- named queries ------------------------------------------------------

    def test_named_query_crud(self):
        qid = self.athena.create_named_query(Name="clicks", Description="clicks per day",
                                             Database="default",
                                             QueryString="SELECT dt, count(*) FROM events GROUP BY dt"
                                             )["NamedQueryId"]
        self.assertEqual(str(uuid.UUID(qid)), qid)
        self.assertEqual(uuid.UUID(qid).version, 4)
        q = self.athena.get_named_query(NamedQueryId=qid)["NamedQuery"]
        self.assertEqual(q, {"NamedQueryId": qid, "Name": "clicks", "Description": "clicks per day",
                             "Database": "default",
                             "QueryString": "SELECT dt, count(*) FROM events GROUP BY dt",
                             "WorkGroup": "primary"})
        self.assertIn(qid, self.athena.list_named_queries()["NamedQueryIds"])
        self.assertIn(qid, self.athena.list_named_queries(WorkGroup="primary")["NamedQueryIds"])
        # Upper-case ids name the same query.
        self.assertEqual(self.athena.get_named_query(NamedQueryId=qid.upper())["NamedQuery"]["Name"], "clicks")

        self.athena.update_named_query(NamedQueryId=qid, Name="clicks2",
                                       QueryString="SELECT 2")
        q = self.athena.get_named_query(NamedQueryId=qid)["NamedQuery"]
        self.assertEqual((q["Name"], q["QueryString"], q["Description"], q["Database"], q["WorkGroup"]),
                         ("clicks2", "SELECT 2", "clicks per day", "default", "primary"))
        self.athena.update_named_query(NamedQueryId=qid, Name="clicks3", QueryString="SELECT 3",
                                       Description="")
        q = self.athena.get_named_query(NamedQueryId=qid)["NamedQuery"]
        self.assertNotIn("Description", q)
        self.assertEqual(q["Name"], "clicks3")

        self.athena.delete_named_query(NamedQueryId=qid)
        missing = "NamedQuery %s does not exist" % qid
        self.assert_invalid(missing, self.athena.get_named_query, NamedQueryId=qid)
        self.assert_invalid(missing, self.athena.delete_named_query, NamedQueryId=qid)
        self.assert_invalid(missing, self.athena.update_named_query, NamedQueryId=qid,
                            Name="x", QueryString="SELECT 1")
        self.assertNotIn(qid, self.athena.list_named_queries()["NamedQueryIds"])
        self.assert_invalid("NamedQuery not-a-uuid does not exist", self.athena.get_named_query,
                            NamedQueryId="not-a-uuid")

    def test_named_query_idempotency(self):
        token = "tok-" + "a" * 40
        kw = dict(Name="idem", Database="default", QueryString="SELECT 1", ClientRequestToken=token)
        first = self.athena.create_named_query(**kw)["NamedQueryId"]
        again = self.athena.create_named_query(**kw)["NamedQueryId"]
        self.assertEqual(first, again)
        self.assertEqual(self.athena.list_named_queries()["NamedQueryIds"].count(first), 1)
        code, _, _ = self.error(self.athena.create_named_query,
                                **dict(kw, QueryString="SELECT 2"))
        self.assertEqual(code, "InvalidRequestException")
        # boto3 fills a fresh token itself: two plain calls make two queries.
        a = self.athena.create_named_query(Name="twice", Database="default", QueryString="SELECT 1")
        b = self.athena.create_named_query(Name="twice", Database="default", QueryString="SELECT 1")
        self.assertNotEqual(a["NamedQueryId"], b["NamedQueryId"])

    def test_named_query_required_members(self):
        with self.assertRaises(ParamValidationError):
            self.athena.create_named_query(Name="x", Database="default")
        status, _, body = self.srv.post("AmazonAthena.CreateNamedQuery",
                                        {"Name": "x", "Database": "default"})
        self.assertEqual((status, body["__type"]), (400, "InvalidRequestException"))
        self.assertIn("queryString", body["Message"])

    def test_list_named_queries_paging(self):
        self.athena.create_work_group(Name="wg_nq_pages")
        ids = [self.athena.create_named_query(WorkGroup="wg_nq_pages", Name="p%d" % i,
                                              Database="default",
                                              QueryString="SELECT %d" % i)["NamedQueryId"]
               for i in range(7)]
        other = self.athena.create_named_query(Name="elsewhere", Database="default",
                                               QueryString="SELECT 0")["NamedQueryId"]
        seen, token = [], None
        while True:
            kw = {"WorkGroup": "wg_nq_pages", "MaxResults": 3}
            if token:
                kw["NextToken"] = token
            page = self.athena.list_named_queries(**kw)
            self.assertLessEqual(len(page["NamedQueryIds"]), 3)
            seen += page["NamedQueryIds"]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, ids)  # in creation order, each once
        self.assertNotIn(other, seen)
        # MaxResults 0 is the default page (the model allows 0..50).
        self.assertEqual(self.athena.list_named_queries(WorkGroup="wg_nq_pages", MaxResults=0)
                         ["NamedQueryIds"], ids)
        walked = [i for p in self.athena.get_paginator("list_named_queries").paginate(
            WorkGroup="wg_nq_pages", PaginationConfig={"PageSize": 2}) for i in p["NamedQueryIds"]]
        self.assertEqual(walked, ids)
        code, _, _ = self.error(self.athena.list_named_queries, WorkGroup="wg_nq_pages",
                                NextToken="fl1.ZXRs")
        self.assertEqual(code, "InvalidRequestException")

    def test_batch_get_named_query(self):
        self.athena.create_work_group(Name="wg_batch")
        a = self.athena.create_named_query(WorkGroup="wg_batch", Name="a", Database="db1",
                                           QueryString="SELECT 'a'")["NamedQueryId"]
        b = self.athena.create_named_query(WorkGroup="wg_batch", Name="b", Description="bee",
                                           Database="db2", QueryString="SELECT 'b'")["NamedQueryId"]
        unknown = str(uuid.uuid4())
        got = self.athena.batch_get_named_query(NamedQueryIds=[b, unknown, a, "junk", b])
        self.assertEqual(got["NamedQueries"], [
            {"NamedQueryId": b, "Name": "b", "Description": "bee", "Database": "db2",
             "QueryString": "SELECT 'b'", "WorkGroup": "wg_batch"},
            {"NamedQueryId": a, "Name": "a", "Database": "db1", "QueryString": "SELECT 'a'",
             "WorkGroup": "wg_batch"},
        ])
        self.assertEqual(got["UnprocessedNamedQueryIds"], [
            {"NamedQueryId": unknown, "ErrorCode": "INVALID_INPUT",
             "ErrorMessage": "NamedQuery %s does not exist" % unknown},
            {"NamedQueryId": "junk", "ErrorCode": "INVALID_INPUT",
             "ErrorMessage": "NamedQuery junk does not exist"},
        ])
        # 1..50 ids.
        status, _, body = self.srv.post("AmazonAthena.BatchGetNamedQuery",
                                        {"NamedQueryIds": [str(uuid.uuid4()) for _ in range(51)]})
        self.assertEqual((status, body["__type"]), (400, "InvalidRequestException"))
        status, _, body = self.srv.post("AmazonAthena.BatchGetNamedQuery", {"NamedQueryIds": []})
        self.assertEqual((status, body["__type"]), (400, "InvalidRequestException"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
