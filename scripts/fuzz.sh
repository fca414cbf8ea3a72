#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets of fuzz/ and run them.
#
#   scripts/fuzz.sh [--replay] [target ...]
#
# 1. Configures $FUZZ_BUILD_DIR (default build-fuzz) if needed: clang,
#    -Db_sanitize=address,undefined, -Dfuzz=true, the core library
#    instrumented with -fsanitize=fuzzer-no-link; builds the fuzz targets
#    only.
# 2. Replays every found crash kept in fuzz/regressions/<target>/ (each
#    file run once): a crash that comes back fails the script.
# 3. Unless --replay (or FUZZ_SECONDS=0): runs each target for
#    $FUZZ_SECONDS (default 60) from a copy of its committed seeds
#    fuzz/corpus/<target>/ in a temp dir (new inputs never go into the
#    repository), with its dictionary fuzz/dict/<target>.dict,
#    -timeout=10 and -rss_limit_mb=2048, and prints one summary line per
#    target (runs, exec/s, coverage, features, corpus).
#
# Targets default to all of fuzz/fuzz_*.c.  Ends with one line `N passed,
# N failed` (a target's regressions count as one test, its fuzzing as
# another; scripts/test.sh reads that line).  Exits non-zero when any
# target crashed, printing the reproducer's path: minimise it with
#   build-fuzz/fuzz/fuzz_<target> -minimize_crash=1 -runs=100000 <file>
# and commit it as fuzz/regressions/<target>/<what-it-is>.
# FUZZ_KEEP=1 keeps the temp dir (grown corpora) of every target.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'fuzz: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

dir=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
cc=${CC:-clang}
replay_only=no
if [ "${1:-}" = "--replay" ]; then
	replay_only=yes
	shift
fi
case $seconds in
0) replay_only=yes ;; # libFuzzer would take 0 for "no limit"
*[!0-9]* | '') die "FUZZ_SECONDS must be a number of seconds, not '$seconds'" ;;
esac

# -max_len per target: a little past the largest real input.
max_len() {
	case "$1" in
	firehose) echo 16384 ;;
	awsshape | athena_sql) echo 8192 ;;
	prefix) echo 2048 ;;
	*) echo 4096 ;;
	esac
}

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
	for f in fuzz/fuzz_*.c; do
		t=${f#fuzz/fuzz_}
		targets+=("${t%.c}")
	done
fi
for t in "${targets[@]}"; do
	[ -f "fuzz/fuzz_$t.c" ] || die "no target '$t' (fuzz/fuzz_$t.c)"
done

# libFuzzer's runtime comes with clang's compiler-rt (Debian:
# libclang-rt-<version>-dev); say so plainly instead of a link error.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
	>"$probe/p.c"
command -v "$cc" >/dev/null 2>&1 || die "$cc not found: install clang (scripts/install-deps.sh)"
"$cc" -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" >/dev/null 2>&1 ||
	die "$cc cannot link -fsanitize=fuzzer,address,undefined: install libclang-rt-dev"

# 1. Configure (once) and build.
if [ ! -f "$dir/build.ninja" ]; then
	say "configuring $dir with $cc"
	CC=$cc meson setup "$dir" -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false \
		-Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
		-Dc_link_args="-fsanitize=fuzzer-no-link" >/dev/null
fi
exes=()
for t in "${targets[@]}"; do
	exes+=("fuzz/fuzz_$t")
done
ninja -C "$dir" "${exes[@]}" >/dev/null || die "build failed: ninja -C $dir ${exes[*]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# Symbolized stacks need llvm-symbolizer (Debian: llvm-<version>).
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
	for s in "$(command -v llvm-symbolizer || true)" /usr/bin/llvm-symbolizer-* \
		/usr/lib/llvm-*/bin/llvm-symbolizer; do
		if [ -n "$s" ] && [ -x "$s" ]; then
			export ASAN_SYMBOLIZER_PATH=$s
			break
		fi
	done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/firelake-fuzz.XXXXXX")
failed=0
passed_n=0 failed_n=0

# 2. Regressions: every kept crash runs once.
for t in "${targets[@]}"; do
	files=()
	if [ -d "fuzz/regressions/$t" ]; then
		for f in "fuzz/regressions/$t"/*; do
			[ -f "$f" ] && files+=("$f")
		done
	fi
	[ "${#files[@]}" -gt 0 ] || continue
	log="$work/$t.regressions.log"
	if "$dir/fuzz/fuzz_$t" -timeout=10 -rss_limit_mb=2048 "${files[@]}" >"$log" 2>&1; then
		printf '%-11s regressions: %d inputs, all pass\n' "$t" "${#files[@]}"
		passed_n=$((passed_n + 1))
	else
		failed_n=$((failed_n + 1))
		printf '%-11s regressions: FAILED (log %s)\n' "$t" "$log"
		grep -a -m1 -E 'Running: ' "$log" | tail -1 >&2 || true
		grep -a -E 'ERROR|contract broken|runtime error' "$log" | head -5 >&2 || true
		failed=1
	fi
done

# 3. Fuzzing, one target at a time.
if [ "$replay_only" = no ]; then
	for t in "${targets[@]}"; do
		corpus="$work/$t/corpus"
		artifacts="$work/$t/artifacts"
		log="$work/$t/fuzz.log"
		mkdir -p "$corpus" "$artifacts"
		if [ -d "fuzz/corpus/$t" ]; then
			cp fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
		fi
		dict=()
		if [ -f "fuzz/dict/$t.dict" ]; then
			dict=(-dict="fuzz/dict/$t.dict")
		fi
		rc=0
		"$dir/fuzz/fuzz_$t" "$corpus" -max_total_time="$seconds" -max_len="$(max_len "$t")" \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
			-artifact_prefix="$artifacts/" >"$log" 2>&1 || rc=$?
		# "#123 DONE cov: 704 ft: 1657 corp: 817/37Kb lim: 196 exec/s: 14670 rss: 436Mb"
		stats=$(grep -a -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 || true)
		runs=$(grep -a -oE 'stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}' || true)
		cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$stats")
		ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$stats")
		corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9A-Za-z]+).*/\1/p' <<<"$stats")
		eps=$(grep -a -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | awk '{print $2}' || true)
		if [ "$rc" -eq 0 ]; then
			passed_n=$((passed_n + 1))
			printf '%-11s ok      %ss: %s runs, %s exec/s, cov %s, ft %s, corpus %s\n' \
				"$t" "$seconds" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
		else
			failed=1
			failed_n=$((failed_n + 1))
			repro=$(grep -a -oE 'Test unit written to [^ ]+' "$log" | tail -1 | cut -d' ' -f5 || true)
			printf '%-11s CRASHED (exit %d) after %s runs; reproducer: %s; log: %s\n' \
				"$t" "$rc" "${runs:-?}" "${repro:-none}" "$log"
			grep -a -E 'ERROR:|contract broken|runtime error|SUMMARY' "$log" | head -5 >&2 || true
		fi
	done
fi

if [ "$failed" -ne 0 ] || [ "${FUZZ_KEEP:-0}" = 1 ]; then
	say "logs, corpora and reproducers kept in $work"
else
	rm -rf "$work"
fi
echo "$passed_n passed, $failed_n failed"
[ "$failed" -eq 0 ]
