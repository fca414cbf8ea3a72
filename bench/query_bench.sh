#!/usr/bin/env bash
# bench/query_bench.sh - the query benchmark: firelake's Athena engine
# against DuckDB over the same lake objects.
#
# Loads N seed-shaped events into firelake's default stream "events"
# (PutRecordBatch, NDJSON records), waits until they are delivered and
# eagerly staged, times four queries cold (staged lake emptied, firelake
# restarted) and warm through the Athena API (boto3), and one
# one-partition query warm; then stops firelake and runs the same queries
# in DuckDB (@duckdb/node-api, 2 threads) over the same NDJSON.gz objects.
# The work is bench/query_bench.py's (and bench/query_bench_duckdb.mjs's);
# this script finds the binaries, installs DuckDB into a scratch
# node_modules, and stops everything it started on exit.  A benchmark,
# not a test: it prints figures and asserts nothing.
#
# Environment (all optional):
#   N              events to load                      (default 10000000)
#   RUNS           warm runs per query (median)        (default 3)
#   FIRELAKE_BIN   firelake binary      (default: $BUILD_DIR/firelake)
#   BUILD_DIR      meson build dir                     (default: build)
#   FIRELAKE_ARGS  extra arguments to `firelake serve`
#   CONNECTIONS    loader connections                  (default 4)
#   DUCKDB_THREADS DuckDB threads                      (default 2)
#   NPM_DIR        scratch dir for node_modules        (default /tmp/firelake-querybench-npm)
#   SKIP_DUCKDB=1  firelake only
#   QB_ARGS        extra arguments to bench/query_bench.py (--day, --hour, --type ...)
#   KEEP_TMP=1     keep the scratch dir (data dir, firelake.log) and print its path
#
# Exit status: that of bench/query_bench.py (0 when every step ran).
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
FIRELAKE_BIN=${FIRELAKE_BIN:-$BUILD_DIR/firelake}
case $FIRELAKE_BIN in /*) ;; *) FIRELAKE_BIN=$PWD/$FIRELAKE_BIN ;; esac
N=${N:-10000000}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-4}
DUCKDB_THREADS=${DUCKDB_THREADS:-2}
NPM_DIR=${NPM_DIR:-/tmp/firelake-querybench-npm}
SKIP_DUCKDB=${SKIP_DUCKDB:-0}
QB_ARGS=${QB_ARGS:-}
FIRELAKE_ARGS=${FIRELAKE_ARGS:-}
KEEP_TMP=${KEEP_TMP:-0}

log() { printf '== %s\n' "$*" >&2; }

[ -x "$FIRELAKE_BIN" ] || { log "no firelake binary at $FIRELAKE_BIN (build it, or set FIRELAKE_BIN)"; exit 1; }
command -v psql >/dev/null || { log "psql is needed (it reads the stage tables)"; exit 1; }
python3 -c 'import boto3' 2>/dev/null || { log "python3 with boto3 is needed"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/firelake-querybench.XXXXXX")
DATA=$TMP/data
DRIVER=

# Stops the driver, then whatever firelake (and PostgreSQL) it may have
# left behind if it could not stop them itself.
# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
	local pid _
	if [ -n "$DRIVER" ] && kill -0 "$DRIVER" 2>/dev/null; then
		kill -TERM "$DRIVER" 2>/dev/null
		for _ in $(seq 900); do kill -0 "$DRIVER" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$DRIVER" 2>/dev/null
	fi
	wait 2>/dev/null
	pid=$(cat "$DATA/firelake.pid" 2>/dev/null)
	if [ -n "$pid" ] && grep -q firelake "/proc/$pid/cmdline" 2>/dev/null; then
		log "stopping firelake $pid"
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	fi
	pid=$(head -1 "$DATA/pg/data/postmaster.pid" 2>/dev/null)
	if [ -n "$pid" ] && grep -q postgres "/proc/$pid/cmdline" 2>/dev/null; then
		log "stopping postgres $pid"
		kill -QUIT "$pid" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	if [ "$KEEP_TMP" = 1 ]; then
		log "scratch dir kept: $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DUCK_ARGS=()
if [ "$SKIP_DUCKDB" != 1 ]; then
	if ! command -v node >/dev/null; then
		log "no node: DuckDB skipped"
	else
		if [ ! -d "$NPM_DIR/node_modules/@duckdb/node-api" ]; then
			log "installing @duckdb/node-api into $NPM_DIR"
			if ! mkdir -p "$NPM_DIR" ||
				! npm install --prefix "$NPM_DIR" --no-audit --no-fund @duckdb/node-api >&2; then
				log "npm install failed: DuckDB skipped"
			fi
		fi
		if [ -d "$NPM_DIR/node_modules/@duckdb/node-api" ]; then
			DUCK_ARGS=(--duckdb-script "$ROOT/bench/query_bench_duckdb.mjs"
				   --node-path "$NPM_DIR/node_modules" --duckdb-threads "$DUCKDB_THREADS")
		fi
	fi
fi

FL_ARGS=()
for a in $FIRELAKE_ARGS; do FL_ARGS+=(--firelake-arg="$a"); done

cd "$TMP" || exit 1   # whatever a server leaves in its cwd lands here
# shellcheck disable=SC2086
python3 "$ROOT/bench/query_bench.py" --firelake "$FIRELAKE_BIN" --data-dir "$DATA" \
	--n "$N" --runs "$RUNS" --connections "$CONNECTIONS" "${DUCK_ARGS[@]}" "${FL_ARGS[@]}" \
	$QB_ARGS &
DRIVER=$!
wait "$DRIVER"
STATUS=$?
DRIVER=
[ "$STATUS" -ne 0 ] && [ -f "$DATA/firelake.log" ] && {
	log "last lines of firelake.log:"
	tail -n 20 "$DATA/firelake.log" >&2
}
exit "$STATUS"
