#!/usr/bin/env python3
"""Freshness: how long after PutRecord is acknowledged an event is seen by
an Athena query, with the default stream "events" (10 s buffering interval).

Starts firelake (embedded PostgreSQL, fresh data dir), then ROUNDS times:
puts one event with a new event_uuid into "events", and from the moment
it is acknowledged runs
    SELECT count(*) FROM events WHERE event_type = 'fresh' AND dt = .. AND
           hour = .. AND event_uuid = ..
back to back until the count is 1.  Prints each round's seconds from
acknowledgement to the first query that saw the event, and the query
time of that last query.  A benchmark: it prints figures, asserts nothing.

Usage: bench/freshness.py [ROUNDS]   (FIRELAKE_BIN, default build/firelake)
"""
import datetime
import json
import os
import sys
import time
import uuid

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("FIRELAKE_BIN", os.path.join(ROOT, "build", "firelake"))
import harness  # noqa: E402


def query(athena, sql):
    t0 = time.time()
    qid = athena.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": "default"})["QueryExecutionId"]
    while True:
        st = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if st["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.02)
    if st["State"] != "SUCCEEDED" and "COLUMN_NOT_FOUND" in st.get("StateChangeReason", ""):
        return 0, time.time() - t0   # nothing delivered yet: the table has no columns
    if st["State"] != "SUCCEEDED":
        raise SystemExit("query failed: %s" % st.get("StateChangeReason"))
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    return int(rows[1]["Data"][0]["VarCharValue"]), time.time() - t0


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    srv = harness.Server().start()
    try:
        fh, athena = srv.client("firehose"), srv.client("athena")
        lat = []
        for i in range(rounds):
            now = int(time.time())
            t = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
            u = str(uuid.uuid4())
            ev = {"event_uuid": u, "event_name": "fresh:probe", "created_at": now}
            fh.put_record(DeliveryStreamName="events",
                          Record={"Data": (json.dumps(ev) + "\n").encode()})
            acked = time.time()
            sql = ("SELECT count(*) FROM events WHERE event_type = 'fresh' AND dt = '%s' "
                   "AND hour = '%s' AND event_uuid = '%s'" % (t.strftime("%Y-%m-%d"),
                                                             t.strftime("%H"), u))
            while True:
                n, q = query(athena, sql)
                if n == 1:
                    break
            seen = time.time() - acked
            lat.append(seen)
            print("round %d: seen %.2f s after the ack (last query %.3f s)" % (i + 1, seen, q))
        lat.sort()
        print("freshness over %d rounds: min %.2f s, median %.2f s, max %.2f s"
              % (rounds, lat[0], lat[len(lat) // 2], lat[-1]))
    finally:
        srv.cleanup()


if __name__ == "__main__":
    main()
