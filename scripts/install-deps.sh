#!/usr/bin/env bash
# install-deps.sh - install what firelake needs to build, run and test, on
# Debian 12, with apt-get.
#
# Idempotent: only packages that are missing are installed, and `apt-get
# update` runs only when something is missing.  Silent when nothing is to
# do; one line naming the packages otherwise; apt's output is shown only
# when it fails.  Runs as root (CI) or through sudo.
#
# Python test clients: boto3 and the aws cli are installed from Debian when
# the python3 on PATH cannot import boto3 / there is no `aws`.  moto (for
# S3 tests) is optional: installed from Debian when a package for it exists,
# otherwise the tests that need it skip.
set -euo pipefail

say() { printf 'install-deps: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
	SUDO=()
elif command -v sudo >/dev/null 2>&1; then
	SUDO=(sudo)
else
	die "not root and no sudo: cannot install packages"
fi
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: Debian 12 is expected"

# Runs apt-get quietly; on failure shows its output and fails.
apt_get() {
	local log rc=0
	log=$(mktemp)
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q \
		-o Dpkg::Use-Pty=0 "$@" >"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		cat "$log" >&2
		rm -f "$log"
		die "apt-get $* failed (exit $rc)"
	fi
	rm -f "$log"
}

updated=no
update_once() {
	if [ "$updated" = no ]; then
		apt_get update
		updated=yes
	fi
}

install() {
	[ "$#" -gt 0 ] || return 0
	say "installing $*"
	update_once
	apt_get install --no-install-recommends "$@"
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# 1. Build, run and test.
required=(
	build-essential meson ninja-build pkg-config
	libmicrohttpd-dev libjansson-dev libpq-dev libcurl4-openssl-dev
	libssl-dev zlib1g-dev libjq-dev libcmocka-dev
	curl python3 ca-certificates
)
missing=()
for p in "${required[@]}"; do
	installed "$p" || missing+=("$p")
done
# The PostgreSQL server, any major version (Debian 12 ships 15).
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
	missing+=(postgresql)
fi
install "${missing[@]+"${missing[@]}"}"

# 2. Checkers that scripts/test.sh runs: valgrind (the unit suite under
# memcheck), clang with libFuzzer (scripts/fuzz.sh).  gcc's AddressSanitizer
# and UBSan runtimes come with build-essential.
missing=()
for p in valgrind clang libclang-rt-dev; do
	installed "$p" || missing+=("$p")
done
install "${missing[@]+"${missing[@]}"}"

# 3. Python test clients, checked against the python3 that tests will run.
missing=()
python3 -c 'import boto3' >/dev/null 2>&1 || missing+=(python3-boto3)
command -v aws >/dev/null 2>&1 || missing+=(awscli)
install "${missing[@]+"${missing[@]}"}"
if ! python3 -c 'import boto3' >/dev/null 2>&1; then
	# python3-boto3 lands in Debian's python; a python3 of its own
	# (pyenv, venv) on PATH does not see it.
	die "$(command -v python3) still cannot import boto3; install boto3 for it"
fi

# 4. Optional: moto, for S3 tests.  Never fails the install and never
# forces an `apt-get update` by itself.
if ! python3 -c 'import moto' >/dev/null 2>&1; then
	if apt-cache show python3-moto >/dev/null 2>&1; then
		say "installing python3-moto (optional)"
		update_once
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q \
			install --no-install-recommends python3-moto >/dev/null 2>&1 ||
			say "python3-moto could not be installed; S3 tests that need moto will skip"
	fi
fi
exit 0
