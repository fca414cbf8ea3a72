#!/usr/bin/env bash
# test.sh - install what is missing, build, and run every test, in runs:
#
#   plain     build/ (or $BUILD_DIR): every meson suite (unit, integration,
#             api)
#   asan      build-asan/ (or $ASAN_BUILD_DIR), built with AddressSanitizer
#             and UndefinedBehaviorSanitizer: every suite again, the
#             firelake servers that integration tests start included
#   valgrind  build/: the unit suite under valgrind's memcheck (meson test
#             setup 'valgrind' in tests/meson.build)
#   fuzz      scripts/fuzz.sh (libFuzzer, $FUZZ_SECONDS per target, 60 by
#             default), when the script is there
#
# TEST_RUNS picks runs, comma separated (default: all, in that order), e.g.
# TEST_RUNS=plain scripts/test.sh for the plain suites only.  Extra
# arguments go to every `meson test` (e.g. test names: scripts/test.sh db
# wal; a run whose selection is empty is skipped), except fuzz.sh, which
# fuzzes every target.
#
# Prints one line per run and ends with one line `N passed, N failed`
# summing every run (counted from meson's test logs; skipped tests count
# in neither).  Exits non-zero when anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

plain_dir=${BUILD_DIR:-build}
asan_dir=${ASAN_BUILD_DIR:-build-asan}
runs=${TEST_RUNS:-plain,asan,valgrind,fuzz}
export FUZZ_SECONDS=${FUZZ_SECONDS:-60}

IFS=, read -r -a selected <<<"$runs"
for r in "${selected[@]}"; do
	case $r in
	plain | asan | valgrind | fuzz) ;;
	*)
		echo "test: unknown run '$r' in TEST_RUNS (plain, asan, valgrind, fuzz)" >&2
		exit 2
		;;
	esac
done

scripts/install-deps.sh

total_passed=0
total_failed=0
summary=()
setup= # a meson test setup for meson_run, set by the valgrind run

# Adds one run's counts to the totals and to the summary.
tally() { # name passed failed seconds [note]
	total_passed=$((total_passed + $2))
	total_failed=$((total_failed + $3))
	summary+=("$(printf '%-9s %s passed, %s failed (%dm%02ds)%s' \
		"$1:" "$2" "$3" $(($4 / 60)) $(($4 % 60)) "${5:+, $5}")")
}

# "passed failed" from a meson testlog.json: one JSON object per test,
# results are meson's TestResult names.
count_log() {
	python3 - "$1" <<'PY'
import json, sys
passed = failed = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line).get("result", "")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r != "SKIP":
                failed += 1
except FileNotFoundError:
    pass
print(passed, failed)
PY
}

# Runs `meson test` in $1 with the other arguments; sets passed/failed.
# Nothing selected: 0 and 0, and a note.  $setup names a meson test setup
# (its log is testlog-<setup>.json).
meson_run() {
	local dir=$1 rc=0 list log
	shift
	passed=0 failed=0 note=
	log=$dir/meson-logs/testlog${setup:+-$setup}.json
	list=$(meson test -C "$dir" --no-rebuild ${setup:+--setup "$setup"} --list "$@" 2>&1) || true
	if [[ $list == *"No suitable tests defined"* ]]; then
		note="no test selected"
		return 0
	fi
	rm -f "$log" # never count a previous run
	meson test -C "$dir" --no-rebuild ${setup:+--setup "$setup"} --print-errorlogs "$@" || rc=$?
	read -r passed failed < <(count_log "$log")
	if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		failed=1 # meson failed before or beside the tests it logged
	fi
}

# Builds $BUILD_DIR with the given meson options; a failure is one failed
# test of the run.
build() {
	if ! scripts/build.sh "$@"; then
		passed=0 failed=1 note="build failed"
		return 1
	fi
}

want() { [[ ",$runs," == *",$1,"* ]]; }

run_plain() {
	BUILD_DIR=$plain_dir build || return 0
	meson_run "$plain_dir" "$@"
}

# Sanitizer reports go to stderr, except for AddressSanitizer's and
# LeakSanitizer's, which go to one file per process under $reports: a
# firelake started by an integration test writes its stderr to a log that
# the test deletes, and leaks are only found when it exits.  Every report
# is shown after the run; reports that no failed test accounts for (a
# server's leak found at shutdown) count as failures.  UBSan stops the
# process at its first report (halt_on_error), which the test notices.
# FIRELAKE_SANITIZE tells a test that the binaries are sanitized (a test
# of memory use or of linked libraries can allow for it).
run_asan() {
	BUILD_DIR=$asan_dir build -Db_sanitize=address,undefined || return 0
	local reports=$asan_dir/meson-logs/sanitizer
	[[ $reports == /* ]] || reports=$PWD/$reports
	rm -rf "$reports"
	mkdir -p "$reports"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$reports/asan \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		FIRELAKE_SANITIZE=address,undefined \
		meson_run "$asan_dir" "$@"
	local f n=0
	for f in "$reports"/asan.*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		echo "---- sanitizer report $f" >&2
		cat "$f" >&2
	done
	if [ "$n" -gt 0 ]; then
		note="$n sanitizer report(s) in $reports"
		if [ "$failed" -eq 0 ]; then
			failed=$n
		fi
	fi
}

run_valgrind() {
	BUILD_DIR=$plain_dir build || return 0
	if ! command -v valgrind >/dev/null 2>&1; then
		passed=0 failed=1 note="valgrind not found"
		return 0
	fi
	setup=valgrind meson_run "$plain_dir" "$@"
}

# fuzz.sh's own last line `N passed, N failed` when it prints one; else
# the whole of it is one test.
run_fuzz() {
	passed=0 failed=0 note=
	if [ ! -x scripts/fuzz.sh ]; then
		note="no scripts/fuzz.sh"
		return 0
	fi
	local out rc=0 last
	out=$(mktemp)
	scripts/fuzz.sh 2>&1 | tee "$out" || rc=$?
	last=$(tail -n 1 "$out")
	rm -f "$out"
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
		if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
			failed=1
		fi
	elif [ "$rc" -eq 0 ]; then
		passed=1
	else
		failed=1
	fi
}

for r in plain asan valgrind fuzz; do
	want "$r" || continue
	echo "==== test: $r" >&2
	start=$SECONDS
	passed=0 failed=0 note=
	"run_$r" "$@"
	tally "$r" "$passed" "$failed" $((SECONDS - start)) "$note"
done

printf '%s\n' "${summary[@]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
