#!/usr/bin/env bash
# build.sh - configure (when needed) and build firelake into build/ (or
# $BUILD_DIR).  ninja re-runs meson by itself when meson.build changes.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${BUILD_DIR:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

setup() {
	if ! meson setup "$@" "$dir" >"$log" 2>&1; then
		cat "$log" >&2
		echo "build: meson setup $* $dir failed" >&2
		exit 1
	fi
}

if [ ! -f "$dir/meson-private/coredata.dat" ]; then
	setup
elif [ ! -f "$dir/build.ninja" ]; then
	setup --reconfigure
fi
ninja -C "$dir"
