#!/usr/bin/env bash
# bench/ingest.sh - the ingest benchmark: firelake against moto_server.
#
# Runs bench/loadgen (PutRecordBatch over keep-alive HTTP/1.1) against
#   (a) firelake: flat out for DURATION s, then at RATE events/s for
#       DURATION s (latency at a rate the server can sustain);
#   (b) moto_server (Python moto 5, firehose -> S3): flat out for
#       MOTO_DURATION s, as the baseline;
# samples each server's RSS and CPU once a second, and prints a summary
# table with the firelake/moto throughput ratio.  Everything listens on
# 127.0.0.1 on free ports; every process started here is stopped on exit.
# A benchmark, not a test: it prints figures and asserts nothing.
#
# Environment (all optional):
#   FIRELAKE_BIN   firelake binary            (default: $BUILD_DIR/firelake)
#   FIRELAKE_ARGS  extra arguments to `firelake serve`
#   LOADGEN_BIN    loadgen binary             (default: $BUILD_DIR/bench/loadgen,
#                                              else compiled with cc into the tmp dir)
#   BUILD_DIR      meson build dir            (default: build)
#   DURATION       seconds per firelake run   (default 60)
#   RATE           events/s of the paced run  (default 50000)
#   MOTO_DURATION  seconds of the moto run    (default 20)
#   CONNECTIONS    loadgen --connections      (default 16)
#   THREADS        loadgen --threads          (default 2)
#   BATCH          records per request        (default 500)
#   LOADGEN_ARGS   extra loadgen arguments
#   STARTUP_TIMEOUT seconds to wait for firelake's /health (default 180)
#   SKIP_FIRELAKE=1 / SKIP_MOTO=1  run one side only
#   KEEP_TMP=1     keep the scratch dir (logs, loadgen outputs) and print its path
#
# Exit status: 0 when every side that ran delivered events, 1 otherwise.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
FIRELAKE_BIN=${FIRELAKE_BIN:-$BUILD_DIR/firelake}
LOADGEN_BIN=${LOADGEN_BIN:-$BUILD_DIR/bench/loadgen}
DURATION=${DURATION:-60}
RATE=${RATE:-50000}
MOTO_DURATION=${MOTO_DURATION:-20}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
BATCH=${BATCH:-500}
LOADGEN_ARGS=${LOADGEN_ARGS:-}
FIRELAKE_ARGS=${FIRELAKE_ARGS:-}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-180}
SKIP_FIRELAKE=${SKIP_FIRELAKE:-0}
SKIP_MOTO=${SKIP_MOTO:-0}
KEEP_TMP=${KEEP_TMP:-0}

case $FIRELAKE_BIN in /*) ;; *) FIRELAKE_BIN=$PWD/$FIRELAKE_BIN ;; esac
case $LOADGEN_BIN in /*) ;; *) LOADGEN_BIN=$PWD/$LOADGEN_BIN ;; esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/firelake-ingest.XXXXXX")
cd "$TMP" || exit 1   # whatever a server leaves in its cwd lands here
SERVERS=()       # servers started here
SAMPLERS=()      # their RSS samplers, which end by themselves after them
STATUS=0

log() { printf '== %s\n' "$*" >&2; }

stop_pids() {  # SIGTERM, up to 10 s, then SIGKILL
	local p
	for p in "$@"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		for _ in $(seq 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
	stop_pids "${SERVERS[@]}"
	stop_pids "${SAMPLERS[@]}"
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

# key=value from a RESULT line.
kv() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }

# CPU seconds (user+sys) of a pid, from /proc/<pid>/stat.
cpu_s() {
	local f
	f=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / t }' <<<"$f"
}

# pid and all its descendants.
tree_pids() {
	local p c
	for p in "$@"; do
		echo "$p"
		if command -v pgrep >/dev/null; then
			for c in $(pgrep -P "$p"); do tree_pids "$c"; done
		fi
	done
}

# Samples once a second until the pid is gone; keeps in $2 the peak VmRSS
# and VmHWM of the pid (kB) and the peak RSS of its whole process tree.
rss_sampler() {
	local pid=$1 out=$2 rss hwm tree peak_rss=0 peak_hwm=0 peak_tree=0 p
	while kill -0 "$pid" 2>/dev/null; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		tree=0
		for p in $(tree_pids "$pid"); do
			tree=$((tree + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)))
		done
		[ "${rss:-0}" -gt "$peak_rss" ] && peak_rss=$rss
		[ "${hwm:-0}" -gt "$peak_hwm" ] && peak_hwm=$hwm
		[ "$tree" -gt "$peak_tree" ] && peak_tree=$tree
		echo "$peak_rss $peak_hwm $peak_tree" >"$out.new" && mv "$out.new" "$out"
		sleep 1
	done
}

peak_mib() {
	# max(VmHWM, sampled VmRSS) of the server, and of its tree, in MiB
	local r h t
	read -r r h t <"$1" 2>/dev/null || { echo "n/a n/a"; return; }
	[ "$h" -gt "$r" ] && r=$h
	awk -v a="$r" -v b="$t" 'BEGIN { printf "%.0f %.0f", a / 1024, b / 1024 }'
}

wait_http() {  # url pid timeout_s -> 0 when the url answers 200
	local url=$1 pid=$2 limit=$3 start=$SECONDS code
	while [ $((SECONDS - start)) -lt "$limit" ]; do
		kill -0 "$pid" 2>/dev/null || return 2
		code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null)
		[ "$code" = 200 ] && return 0
		sleep 0.25
	done
	return 1
}

stop_server() {  # pid name -> prints how it stopped
	local pid=$1 name=$2 rc
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name did not stop within 30 s of SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	log "$name exited with status $rc"
}

# Runs loadgen, keeps its output, appends a row to $ROWS.
#   run_load LABEL URL SERVER_PID RSS_FILE ARGS...
ROWS=$TMP/rows
: >"$ROWS"
run_load() {
	local label=$1 url=$2 pid=$3 rss_file=$4
	shift 4
	local out=$TMP/loadgen-${label//[^A-Za-z0-9_-]/_}.txt cpu0 cpu1 t0 t1 rc
	log "$label: loadgen $* --url $url"
	cpu0=$(cpu_s "$pid")
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	"$LOADGEN_BIN" --url "$url" --connections "$CONNECTIONS" --threads "$THREADS" \
		--batch "$BATCH" "$@" $LOADGEN_ARGS >"$out"
	rc=$?
	t1=$(date +%s.%N)
	cpu1=$(cpu_s "$pid")
	grep -v '^RESULT ' "$out" >&2
	local res srv_cores mem lg_cpu
	res=$(grep '^RESULT ' "$out" | tail -1)
	srv_cores=$(awk -v a="$cpu0" -v b="$cpu1" -v t0="$t0" -v t1="$t1" \
		'BEGIN { d = t1 - t0; c = 0; if (d > 0) c = (b - a) / d; printf "%.2f", c }')
	mem=$(peak_mib "$rss_file")
	lg_cpu=$(sed -n 's/^loadgen cpu: user=\([0-9.]*\)s sys=\([0-9.]*\)s.*/\1+\2/p' "$out")
	if [ -z "$res" ] || [ "$rc" -ne 0 ]; then
		STATUS=1
		echo "$label|failed|-|-|-|-|-|-|$srv_cores|$mem|-" >>"$ROWS"
		return 1
	fi
	echo "$label|$(kv events_per_s "$res")|$(kv mb_per_s "$res")|$(kv p50_ms "$res")|$(kv p99_ms "$res")|$(kv max_ms "$res")|$(kv failed "$res")|$(kv http_errors "$res")+$(kv transport_errors "$res")|$srv_cores|$mem|$(kv cpu_cores "$res")" >>"$ROWS"
	echo "$label $(kv events_per_s "$res")" >>"$TMP/eps"
	[ -n "$lg_cpu" ] && log "$label: loadgen cpu user+sys = ${lg_cpu}s"
	return 0
}

# Bucket and delivery stream `events` (ExtendedS3 destination) on moto.
moto_setup() {
	local url=$1
	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
		aws --endpoint-url "$url" s3api create-bucket --bucket firehose-bench >/dev/null &&
	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
		aws --endpoint-url "$url" firehose create-delivery-stream \
		--delivery-stream-name events --delivery-stream-type DirectPut \
		--extended-s3-destination-configuration '{
			"RoleARN": "arn:aws:iam::123456789012:role/firehose-bench",
			"BucketARN": "arn:aws:s3:::firehose-bench",
			"Prefix": "raw/",
			"BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
			"CompressionFormat": "UNCOMPRESSED"}' >/dev/null
}

# ---- loadgen --------------------------------------------------------------
if [ ! -x "$LOADGEN_BIN" ]; then
	log "no loadgen at $LOADGEN_BIN; compiling bench/loadgen*.c with cc"
	LOADGEN_BIN=$TMP/loadgen
	cc -std=gnu11 -O2 -D_GNU_SOURCE -o "$LOADGEN_BIN" "$ROOT/bench/loadgen.c" \
		"$ROOT/bench/loadgen_pool.c" "$ROOT/bench/loadgen_http.c" -lpthread ||
		{ log "cannot build loadgen"; exit 1; }
fi
"$LOADGEN_BIN" --help >/dev/null || { log "loadgen does not run"; exit 1; }
: >"$TMP/eps"
NOTES=()

# ---- (a) firelake ---------------------------------------------------------
if [ "$SKIP_FIRELAKE" != 1 ]; then
	if [ ! -x "$FIRELAKE_BIN" ]; then
		log "firelake: no binary at $FIRELAKE_BIN (build it, or set FIRELAKE_BIN)"
		NOTES+=("firelake: not run: no binary at $FIRELAKE_BIN")
		STATUS=1
	else
		FL_PORT=$(free_port)
		FL_DATA=$TMP/firelake-data
		mkdir -p "$FL_DATA"
		log "firelake: starting $FIRELAKE_BIN serve --listen 127.0.0.1:$FL_PORT --data-dir $FL_DATA"
		# shellcheck disable=SC2086
		"$FIRELAKE_BIN" serve --listen "127.0.0.1:$FL_PORT" --data-dir "$FL_DATA" \
			$FIRELAKE_ARGS >"$TMP/firelake.log" 2>&1 &
		FL_PID=$!
		SERVERS+=("$FL_PID")
		rss_sampler "$FL_PID" "$TMP/firelake.rss" &
		SAMPLERS+=("$!")
		t_start=$SECONDS
		wait_http "http://127.0.0.1:$FL_PORT/health" "$FL_PID" "$STARTUP_TIMEOUT"
		rc=$?
		if [ $rc -ne 0 ]; then
			if [ $rc -eq 2 ]; then
				wait "$FL_PID"
				why="exited with status $? before /health answered"
			else
				why="/health did not answer 200 within ${STARTUP_TIMEOUT}s"
			fi
			log "firelake: $why; last lines of its log:"
			tail -n 20 "$TMP/firelake.log" >&2
			NOTES+=("firelake: not run: $why")
			STATUS=1
			stop_pids "$FL_PID"
		else
			log "firelake: /health answered after $((SECONDS - t_start)) s"
			URL=http://127.0.0.1:$FL_PORT
			run_load "firelake flat-out" "$URL" "$FL_PID" "$TMP/firelake.rss" \
				--duration "$DURATION" --quiet
			run_load "firelake @${RATE}/s" "$URL" "$FL_PID" "$TMP/firelake.rss" \
				--duration "$DURATION" --rate "$RATE" --quiet
			stop_server "$FL_PID" firelake
		fi
	fi
fi

# ---- (b) moto_server ------------------------------------------------------
if [ "$SKIP_MOTO" != 1 ]; then
	if ! command -v moto_server >/dev/null || ! command -v aws >/dev/null; then
		log "moto: moto_server or aws cli missing"
		NOTES+=("moto: not run: moto_server or aws cli missing")
		STATUS=1
	else
		MOTO_PORT=$(free_port)
		log "moto: starting moto_server -H 127.0.0.1 -p $MOTO_PORT"
		moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$TMP/moto.log" 2>&1 &
		MOTO_PID=$!
		SERVERS+=("$MOTO_PID")
		rss_sampler "$MOTO_PID" "$TMP/moto.rss" &
		SAMPLERS+=("$!")
		URL=http://127.0.0.1:$MOTO_PORT
		if ! wait_http "$URL/moto-api/" "$MOTO_PID" 60; then
			log "moto: did not come up; last lines of its log:"
			tail -n 20 "$TMP/moto.log" >&2
			NOTES+=("moto: not run: server did not come up")
			STATUS=1
		else
			if ! moto_setup "$URL"; then
				log "moto: cannot create the bucket and delivery stream"
				NOTES+=("moto: not run: setup failed")
				STATUS=1
			else
				run_load "moto flat-out" "$URL" "$MOTO_PID" "$TMP/moto.rss" \
					--duration "$MOTO_DURATION" --quiet
			fi
		fi
		stop_server "$MOTO_PID" moto_server
	fi
fi

# ---- summary --------------------------------------------------------------
echo
echo "ingest benchmark on $(nproc) cores, $(uname -sr); loadgen: $CONNECTIONS connections," \
	"$THREADS threads, $BATCH records/request, 1 event/record (~280 B)"
{
	echo "run|events/s|MB/s|p50 ms|p99 ms|max ms|failed recs|http+io errs|server cores|peak RSS MiB (tree)|loadgen cores"
	while IFS='|' read -r a b c d e f g h i j k; do
		echo "$a|$b|$c|$d|$e|$f|$g|$h|$i|${j% *} (${j#* })|$k"
	done <"$ROWS"
} | awk -F'|' '
	{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
	  if (NF > nf) nf = NF }
	END { for (r = 1; r <= NR; r++) {
		line = ""
		for (i = 1; i <= nf; i++)
			line = line sprintf(i == 1 ? "%-*s" : "  %*s", w[i], cell[r, i])
		print line } }'
fl=$(awk '$1 == "firelake" && $2 == "flat-out" { print $3 }' "$TMP/eps")
mo=$(awk '$1 == "moto" && $2 == "flat-out" { print $3 }' "$TMP/eps")
if [ -n "$fl" ] && [ -n "$mo" ] && [ "$mo" != 0 ]; then
	awk -v a="$fl" -v b="$mo" 'BEGIN { printf "firelake/moto throughput ratio: %.1fx\n", a / b }'
else
	echo "firelake/moto throughput ratio: n/a"
fi
paced=$(awk -v r="$RATE" '$1 == "firelake" && $2 == "@" r "/s" { print $3 }' "$TMP/eps")
if [ -n "$paced" ] && awk -v a="$paced" -v r="$RATE" 'BEGIN { exit !(a < 0.95 * r) }'; then
	NOTES+=("firelake did not sustain $RATE events/s (got $paced): the paced row's latency is queueing, as flat out")
fi
for n in "${NOTES[@]}"; do echo "note: $n"; done
exit $STATUS
