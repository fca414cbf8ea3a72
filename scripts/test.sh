#!/usr/bin/env bash
# test.sh - install what is missing, build, run every test suite, and end
# with one line `N passed, N failed` (counted from meson's test log).
# Extra arguments go to `meson test` (e.g. --suite unit).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BUILD_DIR:-build}
scripts/install-deps.sh
scripts/build.sh

rm -f "$dir/meson-logs/testlog.json" # never count a previous run
rc=0
meson test -C "$dir" --print-errorlogs "$@" || rc=$?

# One JSON object per test in testlog.json; results are meson's
# TestResult names.
counts=$(python3 - "$dir/meson-logs/testlog.json" <<'PY'
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
)
read -r passed failed <<<"$counts"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1 # meson failed before or beside the tests it logged
fi
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
