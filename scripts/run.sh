#!/usr/bin/env bash
# run.sh - quick start: install what is missing, build, and serve.
# Arguments go to `firelake serve` (see `firelake serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh >&2
exec "${BUILD_DIR:-build}/firelake" serve "$@"
