#!/usr/bin/env bash
# bench/ingest_s3.sh - firelake's ingest with the local-directory store and
# with S3 (moto_server) as the store, side by side.
#
# The store is off the hot path (PutRecordBatch is acknowledged once the
# WAL has it; delivery to the store runs behind), so ingest throughput with
# --storage s3:// should stay within 15% of the local-directory figure.
# This runs the same load twice through bench/ingest.sh (its firelake side
# only, SKIP_MOTO=1: the same loadgen, the same flat-out and paced runs):
#   local  firelake serve ... (default storage file://<data-dir>/lake)
#   s3     firelake serve ... --storage s3:// --s3-endpoint http://127.0.0.1:P
#          against a moto_server started here on a free loopback port, with
#          the bucket "lake" created (dummy credentials "testing")
# and prints records/s, events/s, MB/s and ack latency (p50/p99/max) of
# both, and the s3/local ratio of flat-out throughput.  After the s3 run
# (firelake stopped with SIGTERM, which delivers what it holds) it counts
# the objects that reached moto.  With ROUNDS=N the two alternate N times
# and the ratio is of the summed throughput.  A benchmark: it asserts
# nothing; the exit status says only whether every run produced figures.
#
# Environment (all optional; the rest is bench/ingest.sh's and passes
# through: FIRELAKE_BIN, BUILD_DIR, LOADGEN_BIN, CONNECTIONS, THREADS,
# BATCH, STARTUP_TIMEOUT, KEEP_TMP):
#   DURATION           seconds of each loadgen run   (default 30)
#   RATE               events/s of the paced run     (default 20000)
#   EVENTS_PER_RECORD  loadgen --events-per-record   (default 1)
#   ROUNDS             local/s3 pairs                (default 1)
#   FIRELAKE_ARGS      extra `firelake serve` arguments, both runs
#   S3_ARGS            extra `firelake serve` arguments, the s3 run only
#                      (e.g. "--s3-part-size 16MiB")
#   LOADGEN_ARGS       extra loadgen arguments
#   KEEP_TMP=1         keep the scratch dir (ingest.sh outputs, moto logs)
#
# Example: DURATION=10 bench/ingest_s3.sh 2>/dev/null   (a smoke run)
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-30}
RATE=${RATE:-20000}
EVENTS_PER_RECORD=${EVENTS_PER_RECORD:-1}
ROUNDS=${ROUNDS:-1}
FIRELAKE_ARGS=${FIRELAKE_ARGS:-}
S3_ARGS=${S3_ARGS:-}
LOADGEN_ARGS=${LOADGEN_ARGS:-}
KEEP_TMP=${KEEP_TMP:-0}
export DURATION RATE

log() { printf '== %s\n' "$*" >&2; }

case $EVENTS_PER_RECORD in '' | *[!0-9]* | 0) log "EVENTS_PER_RECORD must be a positive integer"; exit 2 ;; esac
case $ROUNDS in '' | *[!0-9]* | 0) log "ROUNDS must be a positive integer"; exit 2 ;; esac
for tool in moto_server curl python3; do
	command -v "$tool" >/dev/null || { log "$tool is not installed"; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/firelake-ingest-s3.XXXXXX")
MOTO_PID=
STATUS=0
ROWS=$TMP/rows
: >"$ROWS"

stop_moto() {
	[ -n "$MOTO_PID" ] || return 0
	kill -TERM "$MOTO_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$MOTO_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$MOTO_PID" 2>/dev/null
	wait "$MOTO_PID" 2>/dev/null
	MOTO_PID=
}

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
	stop_moto
	if [ "$KEEP_TMP" = 1 ]; then
		log "scratch dir kept: $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

S3_ENV=(AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1)

# Runs python code with boto3's S3 client on $MOTO_URL as s3.
moto_py() {
	env "${S3_ENV[@]}" MOTO_URL="$MOTO_URL" python3 -c "
import os, boto3
from botocore.config import Config
s3 = boto3.client('s3', endpoint_url=os.environ['MOTO_URL'], region_name='us-east-1',
                  config=Config(s3={'addressing_style': 'path'}))
$1"
}

# Starts a fresh moto_server with the bucket "lake": sets MOTO_PID, MOTO_URL.
start_moto() {
	local port log_file=$TMP/moto-$1.log
	port=$(free_port)
	MOTO_URL=http://127.0.0.1:$port
	env "${S3_ENV[@]}" moto_server -H 127.0.0.1 -p "$port" >"$log_file" 2>&1 &
	MOTO_PID=$!
	for _ in $(seq 240); do
		kill -0 "$MOTO_PID" 2>/dev/null || break
		if [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$MOTO_URL/moto-api/")" = 200 ]; then
			moto_py "s3.create_bucket(Bucket='lake')" && return 0
			break
		fi
		sleep 0.25
	done
	log "moto_server did not come up; last lines of its log:"
	tail -n 20 "$log_file" >&2
	stop_moto
	return 1
}

# "objects bytes" under s3://lake in moto.
moto_count() {
	moto_py "
n = b = 0
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='lake'):
    for o in page.get('Contents', []):
        n += 1
        b += o['Size']
print(n, b)" 2>/dev/null || echo "n/a n/a"
}

# One firelake run of bench/ingest.sh: appends its rows to $ROWS as
#   round|storage|run|events/s|MB/s|p50|p99|max|failed|errs|server cores
run_side() {
	local round=$1 storage=$2 extra=$3 out=$TMP/ingest-$2-$1.txt rc
	log "round $round, $storage: bench/ingest.sh (firelake only) DURATION=$DURATION RATE=$RATE" \
		"FIRELAKE_ARGS='$FIRELAKE_ARGS $extra'"
	# shellcheck disable=SC2086
	SKIP_MOTO=1 FIRELAKE_ARGS="$FIRELAKE_ARGS $extra" \
		LOADGEN_ARGS="--events-per-record $EVENTS_PER_RECORD $LOADGEN_ARGS" \
		"$ROOT/bench/ingest.sh" >"$out"
	rc=$?
	cat "$out" >&2
	[ "$rc" -eq 0 ] || STATUS=1
	# ingest.sh's summary rows: "firelake flat-out  N ..." and "firelake @R/s  N ...".
	awk -v round="$round" -v storage="$storage" '
		$1 == "firelake" && ($2 == "flat-out" || $2 ~ /^@/) {
			if ($3 == "failed") { print round "|" storage "|" $2 "|failed|-|-|-|-|-|-|-"; next }
			print round "|" storage "|" $2 "|" $3 "|" $4 "|" $5 "|" $6 "|" $7 "|" $8 "|" $9 "|" $10
		}' "$out" >"$out.rows"
	if [ ! -s "$out.rows" ]; then
		log "round $round, $storage: no figures from bench/ingest.sh"
		STATUS=1
	fi
	cat "$out.rows" >>"$ROWS"
	while IFS= read -r n; do
		NOTES+=("round $round, $storage: ${n#note: }")
	done < <(grep '^note: ' "$out")
}

NOTES=()
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for round in $(seq "$ROUNDS"); do
	run_side "$round" local ""
	if start_moto "$round"; then
		log "round $round: moto_server at $MOTO_URL (bucket lake)"
		# The credentials are for moto only; firelake reads them from the env.
		export "${S3_ENV[@]}"
		run_side "$round" s3 "--storage s3:// --s3-endpoint $MOTO_URL $S3_ARGS"
		read -r objs bytes <<<"$(moto_count)"
		NOTES+=("round $round: s3://lake in moto holds $objs objects, $bytes bytes after the s3 run")
		[ "$objs" = 0 ] && STATUS=1
		stop_moto
	else
		NOTES+=("round $round: s3 not run: moto_server did not start")
		STATUS=1
	fi
done

echo
echo "ingest, local directory vs S3 (moto_server) as the store: $(nproc) cores, $(uname -sr);" \
	"DURATION=${DURATION}s RATE=$RATE/s, $EVENTS_PER_RECORD event(s)/record;" \
	"load average at start $LOAD0, now $(cut -d' ' -f1-3 /proc/loadavg)"
{
	echo "round|storage|run|records/s|events/s|MB/s|p50 ms|p99 ms|max ms|failed recs|http+io errs|server cores"
	awk -F'|' -v epr="$EVENTS_PER_RECORD" 'BEGIN { OFS = "|" }
		{ rps = ($4 ~ /^[0-9.]+$/) ? sprintf("%.0f", $4 / epr) : "-"
		  print $1, $2, $3, rps, $4, $5, $6, $7, $8, $9, $10, $11 }' "$ROWS"
} | awk -F'|' '
	{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
	  if (NF > nf) nf = NF }
	END { for (r = 1; r <= NR; r++) {
		line = ""
		for (i = 1; i <= nf; i++)
			line = line sprintf(i <= 3 ? "%-*s  " : "%*s  ", w[i], cell[r, i])
		sub(/ +$/, "", line)
		print line } }'
awk -F'|' '
	$3 == "flat-out" && $4 ~ /^[0-9.]+$/ { sum[$2] += $4; n[$2]++ }
	$3 ~ /^@/ && $7 ~ /^[0-9.]+$/ { p99[$2] += $7; m[$2]++ }
	END {
		if (n["local"] && n["s3"] && sum["local"] > 0) {
			r = (sum["s3"] / n["s3"]) / (sum["local"] / n["local"])
			verdict = "NOT within"
			if (r >= 0.85)
				verdict = "within"
			printf "s3/local flat-out throughput ratio: %.2f (%s 15%% of the local figure)\n",
				r, verdict
		} else
			print "s3/local flat-out throughput ratio: n/a"
		if (m["local"] && m["s3"])
			printf "paced p99 ack latency: local %.1f ms, s3 %.1f ms\n",
				p99["local"] / m["local"], p99["s3"] / m["s3"]
	}' "$ROWS"
for n in "${NOTES[@]}"; do echo "note: $n"; done
exit $STATUS
