"""The fault matrix.  Each test breaks something under load and then checks
that what was acknowledged is queryable exactly once: an Athena query over
default.events counts every acknowledged event_uuid once, and the lake's
objects hold each once (faultlib.check_exactly_once).  Unacknowledged
events may be there or not, never twice.

  KillNine       kill -9 five times at random moments of a sustained load,
                 then once while delivery is between storing an object and
                 recording it, and once in the middle of staging.
  PostgresDown   the embedded cluster stopped (fast), an external one
                 stopped (immediate: a crash, its unlogged stage tables
                 are emptied) while load goes on.
  StorageDown    the lake's filesystem read-only, then full (a tmpfs).
  CorruptWal     a segment with a flipped payload byte, a flipped length
                 byte and a torn tail.
  SlowClients    a body trickled over 60 s, 1,000 idle connections and
                 clients that vanish mid-request, beside a normal client.

Environment: FIRELAKE_FAULT_SEED (kill moments), FIRELAKE_FAULT_TRICKLE_S
(60)."""
import http.client
import json
import os
import random
import resource
import socket
import sys
import threading
import time
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import faultlib as fl  # noqa: E402
from faultlib import Loader  # noqa: E402

SEED = int(os.environ.get("FIRELAKE_FAULT_SEED", "11"))
TRICKLE_S = float(os.environ.get("FIRELAKE_FAULT_TRICKLE_S", "60"))


def timed(tc):
    t0 = time.time()
    tc.addCleanup(lambda: print("  [%s: %.1f s]" % (tc.id().rsplit(".", 1)[-1],
                                                   time.time() - t0), flush=True))


def new_server(tc, **kw):
    srv = harness.Server(**kw)
    tc.addCleanup(srv.cleanup)
    return srv


class KillNine(unittest.TestCase):
    def kill_while(self, srv, conninfo, table):
        """Holds a write lock on table until a firelake backend waits for
        it, then kills firelake; returns the lake's keys and the catalog's
        keys at that moment."""
        lock = fl.TableLock(conninfo, table)
        try:
            harness.wait_for(lambda: fl.firelake_waits_on(conninfo, table), timeout=30,
                             step=0.05, what="firelake to write to " + table)
            lake = set(srv.objects(prefix="raw/events/"))
            catalog = fl.catalog_keys(conninfo)
            srv.kill9()
        finally:
            lock.release()
        return lake, catalog

    def test_kill9_during_load_delivery_and_staging(self):
        timed(self)
        srv = new_server(self)
        srv.start()
        fl.set_buffering(srv, 1)     # deliver (and stage) every second
        conninfo = fl.embedded_conninfo(srv)
        rng = random.Random(SEED)
        load = Loader(srv.port, "k").start()
        self.addCleanup(load.stop)

        acked_at = [0]
        for _ in range(5):
            time.sleep(rng.uniform(0.8, 2.5))
            srv.kill9()
            acked_at.append(load.count())
            srv.start()
        # Delivery: objects are stored, their catalog rows wait.
        lake, catalog = self.kill_while(srv, conninfo, "fl_objects")
        self.assertTrue(lake - catalog, "the kill did not fall between storing and recording")
        acked_at.append(load.count())
        srv.start()
        # Staging: the claim of an object (its transaction with the COPY) waits.
        self.kill_while(srv, conninfo, "fl_stage_objects")
        acked_at.append(load.count())
        srv.start()
        time.sleep(1.0)
        load.stop()
        acked_at.append(load.count())
        rounds = [b - a for a, b in zip(acked_at, acked_at[1:])]
        self.assertTrue(all(n > 0 for n in rounds), "a round acknowledged nothing: %s" % rounds)

        harness.wait_for(srv.delivered, timeout=90, what="delivery after the last restart")
        n = fl.check_exactly_once(self, srv, load.batches, "kill -9")
        # The catalog caught up with every object the lake holds.
        self.assertEqual(set(srv.objects(prefix="raw/events/")) - fl.catalog_keys(conninfo),
                         set())
        print("  kill -9: %d acknowledged over 7 kills (per round %s)" % (n, rounds))


class PostgresDown(unittest.TestCase):
    OUTAGE_S = 6

    def outage(self, srv, conninfo, stop_pg, start_pg):
        """Stops PostgreSQL for OUTAGE_S under load and checks what must hold
        meanwhile and after it returns."""
        fl.set_buffering(srv, 1)
        athena = srv.client("athena")
        load = Loader(srv.port, "pg").start()
        self.addCleanup(load.stop)
        harness.wait_for(lambda: load.count() > 500, timeout=30, what="load")
        qid = athena.start_query_execution(QueryString="SELECT 1", QueryExecutionContext={
            "Database": "default"})["QueryExecutionId"]
        failures_before = srv.metric('firelake_delivery_failures_total{stream="events"}')

        stop_pg()
        t_down, n_down = time.time(), load.count()
        time.sleep(self.OUTAGE_S / 2)
        # Queries fail with a retryable error (HTTP 503), quickly.
        for call in (lambda: athena.start_query_execution(
                         QueryString="SELECT count(*) FROM events",
                         QueryExecutionContext={"Database": "default"}),
                     lambda: athena.get_query_execution(QueryExecutionId=qid)):
            t0 = time.time()
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                call()
            meta = cm.exception.response["ResponseMetadata"]
            self.assertEqual(meta["HTTPStatusCode"], 503, cm.exception.response)
            self.assertEqual(cm.exception.response["Error"]["Code"], "InternalServerException")
            self.assertIn("PostgreSQL is unavailable", cm.exception.response["Error"]["Message"])
            self.assertLess(time.time() - t0, 12)
        _, health = srv.get("/health")
        self.assertEqual(json.loads(health)["postgres"], "unavailable", health)
        time.sleep(self.OUTAGE_S / 2)
        t_up, n_up = time.time(), load.count()
        # Ingest never noticed: it kept acknowledging, and failed nothing.
        self.assertGreater(n_up - n_down, 500, "ingest stalled while PostgreSQL was down")
        self.assertEqual(load.failures_between(t_down, t_up), [])
        # Delivery waited: failed attempts, records still in the WAL.
        self.assertGreater(srv.metric('firelake_delivery_failures_total{stream="events"}'),
                           failures_before)
        self.assertGreater(srv.metric("firelake_wal_pending_bytes"), 0)

        start_pg()
        t0 = time.time()
        time.sleep(1.0)
        load.stop()
        harness.wait_for(srv.delivered, timeout=60, what="delivery after PostgreSQL returned")
        caught_up = time.time() - t0
        _, health = srv.get("/health")
        self.assertEqual(json.loads(health)["postgres"], "ok", health)
        n = fl.check_exactly_once(self, srv, load.batches, "PostgreSQL outage")
        # Catalog registration caught up: every object of the lake is recorded.
        self.assertEqual(set(srv.objects(prefix="raw/events/")) - fl.catalog_keys(conninfo),
                         set())
        print("  %d acknowledged, %d during the %d s outage; caught up %.1f s after it "
              "returned" % (n, n_up - n_down, self.OUTAGE_S, caught_up))

    def test_embedded_stopped(self):
        timed(self)
        srv = new_server(self)
        srv.start()
        pgdata = fl.embedded_pgdata(srv)
        log = os.path.join(srv.data_dir, "pg", "log", "restart.log")
        self.outage(srv, fl.embedded_conninfo(srv),
                    lambda: fl.pg_ctl(pgdata, "-m", "fast", "stop"),
                    lambda: fl.pg_ctl(pgdata, "-l", log, "start"))

    def test_external_crashed(self):
        timed(self)
        pg = fl.ExternalPG()
        self.addCleanup(pg.cleanup)
        srv = new_server(self, args=["--pg", pg.url()])
        srv.start()
        self.outage(srv, pg.url(), lambda: pg.stop("immediate"), pg.start)


@unittest.skipUnless(fl.can_mount(), "needs root and mount(2) for a tmpfs")
class StorageDown(unittest.TestCase):
    def test_read_only_then_full(self):
        timed(self)
        srv = new_server(self, args=["--wal-budget", "2M"])
        lake = fl.Tmpfs(srv.lake, "16m")
        self.addCleanup(srv.stop)
        self.addCleanup(lake.umount)     # first: cleanups run last-in first-out
        srv.start()
        fl.set_buffering(srv, 1)
        load = Loader(srv.port, "st", threads=2, pause=0.05).start()
        self.addCleanup(load.stop)
        harness.wait_for(lambda: srv.metric(
            'firelake_objects_delivered_total{stream="events"}'), timeout=30, what="a delivery")

        for phase in ("read-only", "full"):
            delivered = srv.metric('firelake_objects_delivered_total{stream="events"}')
            t0 = time.time()
            if phase == "read-only":
                lake.remount("ro")
            else:
                filler = lake.fill()
            before = load.count()
            refused = load.refused
            harness.wait_for(lambda: load.refused > refused, timeout=60,
                             what="503 once the WAL budget is reached (%s)" % phase)
            t_full = time.time() - t0
            self.assertGreater(load.count(), before, "nothing acknowledged into the WAL")
            kinds = set(load.failures_between(t0, time.time()))
            self.assertEqual(kinds, {"503 ServiceUnavailableException"})
            self.assertEqual(srv.metric('firelake_objects_delivered_total{stream="events"}'),
                             delivered)
            _, h = srv.get("/health")
            h = json.loads(h)
            self.assertEqual(h["delivery"], "retrying", h)
            self.assertGreater(h["wal"]["pending_bytes"], h["wal"]["budget_bytes"] * 0.9, h)
            # Storage returns: delivery resumes by itself, ingest too.
            if phase == "read-only":
                lake.remount("rw")
            else:
                os.remove(filler)
            t0 = time.time()
            harness.wait_for(lambda: srv.metric("firelake_wal_pending_bytes") < 512 * 1024,
                             timeout=90, what="delivery after storage returned (%s)" % phase)
            n = load.count()
            harness.wait_for(lambda: load.count() > n + 200, timeout=30,
                             what="acknowledgements after storage returned (%s)" % phase)
            print("  %s: WAL budget reached after %.1f s, recovered in %.1f s" %
                  (phase, t_full, time.time() - t0))
        load.stop()
        harness.wait_for(srv.delivered, timeout=90, what="delivery")
        self.assertEqual(srv.objects(prefix="errors/"), {})
        with open(srv.log_path, errors="replace") as f:
            log = f.read()
        self.assertRegex(log, "Read-only file system")
        self.assertRegex(log, "No space left on device")
        leftovers = [os.path.join(d, f) for d, _, fs in os.walk(srv.lake) for f in fs
                     if f.startswith(".tmp.")]
        self.assertEqual(leftovers, [], "temporary files of failed puts left in the lake")
        fl.check_exactly_once(self, srv, load.batches, "storage down")


class CorruptWal(unittest.TestCase):
    def test_flipped_bytes_and_torn_tail(self):
        timed(self)
        srv = new_server(self)
        srv.start()
        fl.set_buffering(srv, 900)       # nothing is delivered before the kill
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        batches = {}
        for i in range(12):
            uuids, body = fl.batch_body("w-%d" % i, 20)
            status, data = fl.post_batch(conn, body)
            self.assertEqual((status, data["FailedPutCount"]), (200, 0))
            batches["w-%d" % i] = uuids
        conn.close()
        srv.kill9()

        segs = fl.wal_segments(srv)
        self.assertEqual(len(segs), 1, segs)
        recs = fl.wal_records(segs[0])
        self.assertEqual(len(recs), 12)
        by_uuid = {u: i for i, (_, _, us) in enumerate(recs) for u in us}
        self.assertEqual(set(by_uuid), set(u for us in batches.values() for u in us))
        # Record 3: a byte of its JSON flipped.  Record 7: a byte of its
        # length flipped (the next frame is not where it says).  Record 11
        # (the last): cut in the middle, as a crash mid-write leaves it.
        off3, len3, _ = recs[3]
        fl.xor_byte(segs[0], off3 + len3 - 10, 0x01)
        off7, len7, _ = recs[7]
        fl.xor_byte(segs[0], off7 + 1, 0x01)
        off11, len11, _ = recs[11]
        os.truncate(segs[0], off11 + len11 // 2)
        damaged = len3 + len7 + len11 // 2
        bad = {3, 7, 11}

        srv.start()
        harness.wait_for(srv.delivered, timeout=30, what="recovery delivery")
        self.assertEqual(srv.metric("firelake_wal_quarantined_bytes_total"), damaged)
        self.assertRegex(srv.log(), r"WAL segment \S+ damaged")
        qdir = os.path.join(os.path.dirname(segs[0]), "quarantine")
        qbytes = sum(os.path.getsize(os.path.join(qdir, f)) for f in os.listdir(qdir))
        self.assertEqual(qbytes, damaged)
        self.assertEqual(fl.wal_segments(srv), [])
        intact = {b: us for b, us in batches.items() if by_uuid[us[0]] not in bad}
        seen = fl.lake_counts(srv)
        lost = {u for u in seen if by_uuid[u] in bad}
        self.assertEqual(lost, set(), "events of damaged records delivered")
        fl.check_exactly_once(self, srv, intact, "corrupt WAL")


class SlowClients(unittest.TestCase):
    IDLE = 1000

    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < self.IDLE + 200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))

    def test_trickle_idle_and_vanishing_clients(self):
        timed(self)
        srv = new_server(self)
        srv.start()
        fl.set_buffering(srv, 1)
        pid = srv.proc.pid
        with open("/proc/%d/limits" % pid) as f:
            nofile = [ln for ln in f if ln.startswith("Max open files")][0].split()[3]
        # Warm up every HTTP thread (each keeps per-thread buffers).
        warm = Loader(srv.port, "warm", threads=8, pause=0).start()
        time.sleep(3)
        warm.stop()
        time.sleep(1)
        base = fl.proc_stats(pid)

        stop = threading.Event()
        errors = []
        batches = dict()
        batches_lock = threading.Lock()

        def trickle():
            uuids, body = fl.batch_body("slow-0", 20)
            data = body.encode()
            s = fl.raw_connection(srv.port)
            try:
                s.sendall(fl.request_head(len(data)))
                steps = int(TRICKLE_S)
                for k in range(steps):
                    s.sendall(data[k * len(data) // steps:(k + 1) * len(data) // steps])
                    time.sleep(TRICKLE_S / steps)
                resp = http.client.HTTPResponse(s)
                resp.begin()
                out = json.loads(resp.read())
                if resp.status != 200 or out["FailedPutCount"]:
                    errors.append("trickle: %d %s" % (resp.status, out))
                else:
                    with batches_lock:
                        batches["slow-0"] = uuids
            except OSError as e:
                errors.append("trickle: %r" % e)
            finally:
                s.close()

        def vanish():
            k = 0
            while not stop.is_set():
                uuids, body = fl.batch_body("gone-%d" % k, 10)
                data = body.encode()
                s = fl.raw_connection(srv.port)
                if k % 3 == 0:      # half a body, then gone
                    s.sendall(fl.request_head(len(data)) + data[:len(data) // 2])
                elif k % 3 == 1:    # a whole request, gone before the answer
                    s.sendall(fl.request_head(len(data)) + data)
                else:               # half the headers, then a reset
                    s.sendall(fl.request_head(len(data))[:40])
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                s.close()
                k += 1
                time.sleep(0.02)

        latencies = []

        def normal():
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            k = 0
            while not stop.is_set():
                uuids, body = fl.batch_body("norm-%d" % k, 20)
                t0 = time.time()
                try:
                    status, data = fl.post_batch(conn, body)
                except (OSError, http.client.HTTPException) as e:
                    errors.append("normal: %r" % e)
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
                    continue
                latencies.append(time.time() - t0)
                if status != 200 or data["FailedPutCount"]:
                    errors.append("normal: %d %s" % (status, data))
                else:
                    with batches_lock:
                        batches["norm-%d" % k] = uuids
                k += 1
                time.sleep(0.05)
            conn.close()

        idle = []
        try:
            for _ in range(self.IDLE):
                idle.append(socket.create_connection(("127.0.0.1", srv.port), timeout=10))
            threads = [threading.Thread(target=f, daemon=True) for f in (trickle, vanish, normal)]
            for t in threads:
                t.start()
            time.sleep(2)
            busy = fl.proc_stats(pid)
            threads[0].join(TRICKLE_S + 60)
            stop.set()
            for t in threads[1:]:
                t.join(60)
            # The idle connections are still there, and still served.
            for s in idle[:5]:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertIn(b"200", s.recv(100).split(b"\r\n")[0])
        finally:
            for s in idle:
                s.close()
        self.assertEqual(errors, [])
        latencies.sort()
        self.assertGreater(len(latencies), 100)
        p99 = latencies[int(len(latencies) * 0.99)]
        self.assertLess(p99, 1.0, "other clients were slowed down")
        self.assertEqual(busy["fds"] >= base["fds"] + self.IDLE, True,
                         "the idle connections were not all accepted: %s vs %s (limit %s)" %
                         (busy, base, nofile))

        # No connection, thread, descriptor or memory left behind.
        deadline = time.time() + 15
        while True:
            after, tcp = fl.proc_stats(pid), fl.tcp_states(srv.port)
            if (after["threads"] == base["threads"] and after["fds"] <= base["fds"] + 2 and
                    not tcp["CLOSE_WAIT"]) or time.time() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(tcp["CLOSE_WAIT"], 0,
                         "connections that clients closed mid-request are still open "
                         "(%s; descriptors %d, were %d)" % (dict(tcp), after["fds"], base["fds"]))
        self.assertEqual(after["threads"], base["threads"])
        self.assertLessEqual(after["fds"], base["fds"] + 2, (base, after))
        # (AddressSanitizer holds freed memory back in its quarantine, 256
        # MiB by default: RSS says nothing about leaks there; LeakSanitizer
        # does, at the server's exit.)
        if not os.environ.get("FIRELAKE_SANITIZE"):
            self.assertLess(after["rss_kb"], base["rss_kb"] + 16 * 1024,
                            "RSS grew: %s -> %s" % (base, after))
        harness.wait_for(srv.delivered, timeout=30, what="delivery")
        fl.check_exactly_once(self, srv, dict(batches, **warm.batches), "slow clients")
        print("  base %s, busy %s, after %s; %d normal requests, p99 %.3f s" %
              (base, busy, after, len(latencies), p99))


if __name__ == "__main__":
    unittest.main(verbosity=2)
