#!/bin/sh
# Installs the Debian packages that building and testing leafpack need, when
# they are missing.  As root it runs apt-get; otherwise it prints the command
# and stops, so that `make check`, `make demo` and `make bench` never fail
# later for an obscure reason.  With the argument "bench" it also installs
# the peers `make bench` measures (bench/run.sh stops, naming them, if one
# is still missing).
set -eu

packages="build-essential pkg-config libjson-c-dev libfuse3-dev fuse3 jq
mandoc shellcheck strace parallel time procps attr iproute2 openssh-server
openssh-client python3 sshfs"
# The fuzz harnesses (tests/fuzz/README.md): clang and its libFuzzer runtime.
packages="$packages clang libclang-rt-14-dev"
# make lint, which make check runs: cppcheck, clang-tidy, scan-build.
packages="$packages cppcheck clang-tidy clang-tools"
[ "${1:-}" = bench ] && packages="$packages bfs fd-find miller python3"
missing=
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case $status in
	*"ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -z "$missing" ]; then
	echo "deps: all present"
	exit 0
fi
echo "deps: missing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: run as root, then make again:" >&2
	echo "    apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
