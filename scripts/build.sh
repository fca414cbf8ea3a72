#!/usr/bin/env bash
# build.sh [MESON-OPTION...] - configure (when needed) and build firelake
# into build/ (or $BUILD_DIR).  ninja re-runs meson by itself when
# meson.build changes.
#
# Options (e.g. -Db_sanitize=address,undefined) are given to `meson setup`
# for a new build directory, and to `meson configure` for an existing one
# whose values differ, so a directory always builds with what was asked.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BUILD_DIR:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

meson_quiet() {
	if ! meson "$@" >"$log" 2>&1; then
		cat "$log" >&2
		echo "build: meson $* failed" >&2
		exit 1
	fi
}

# The options among "$@" whose value in $dir differs from the one asked
# (all of them when $dir has no introspection data yet).
differing() {
	python3 - "$dir/meson-info/intro-buildoptions.json" "$@" <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as f:
        have = {o["name"]: o["value"] for o in json.load(f)}
except (OSError, ValueError):
    have = {}
for arg in sys.argv[2:]:
    name, _, value = arg[2:].partition("=") if arg.startswith("-D") else (arg, "", "")
    cur = have.get(name)
    if isinstance(cur, list):
        cur = ",".join(cur)
    elif isinstance(cur, bool):
        cur = "true" if cur else "false"
    if cur is None or str(cur) != value:
        print(arg)
PY
}

if [ ! -f "$dir/meson-private/coredata.dat" ]; then
	meson_quiet setup "$@" "$dir"
elif [ ! -f "$dir/build.ninja" ]; then
	meson_quiet setup --reconfigure "$@" "$dir"
elif [ "$#" -gt 0 ]; then
	mapfile -t change < <(differing "$@")
	if [ "${#change[@]}" -gt 0 ]; then
		meson_quiet configure "$dir" "${change[@]}"
	fi
fi
ninja -C "$dir"
