# Helpers every test script sources:  . "$LEAFPACK_TESTS/lib.sh"
# A test runs in its own empty directory ($TEST_WORK, the current directory)
# and exits 0 to pass, 77 to skip, anything else to fail.

set -u
: "${LEAFPACK_BIN:?run tests through tests/run.sh}"
# The programs under test and the test helpers, for the scripts that source
# this file (which is why shellcheck sees no use of them here).
# shellcheck disable=SC2034
BIN=$LEAFPACK_BIN
# shellcheck disable=SC2034
TESTBIN=$LEAFPACK_TOP/tests/bin
export LC_ALL=C

# fail MESSAGE: the test fails with MESSAGE.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# skip REASON: the test is skipped; REASON is its last line of output.
skip() {
	echo "$*"
	exit 77
}

# check DESCRIPTION COMMAND...: runs COMMAND; fails the test if it fails.
check() {
	what=$1
	shift
	"$@" || fail "$what"
}

# expect_status N COMMAND...: runs COMMAND, fails unless it exits N.
# Its stdout and stderr are left in ./out and ./err.
expect_status() {
	want=$1
	shift
	"$@" >out 2>err
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "--- stdout" >&2; head -n 20 out >&2
		echo "--- stderr" >&2; head -n 20 err >&2
		fail "$* exited $got, expected $want"
	fi
}

# same_file A B: fails unless files A and B have the same bytes.
same_file() {
	cmp -s "$1" "$2" || {
		diff "$1" "$2" | head -n 20 >&2
		fail "$1 and $2 differ"
	}
}

# need_root REASON / need_cmd CMD: skip unless the condition holds.
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root: $*"
}
need_cmd() {
	command -v "$1" >/dev/null 2>&1 || skip "needs $1"
}

# as_nobody COMMAND...: runs COMMAND as an unprivileged user (when root),
# so that permission checks apply.
as_nobody() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
	else
		"$@"
	fi
}

# sanitized: true when the programs under test are built with ASan/UBSan.
sanitized() {
	[ "${LEAFPACK_SANITIZED:-0}" = 1 ]
}

# not_sanitized WHAT: skips the test in the sanitizer pass of make check,
# for a test of the test tools themselves (WHAT), which runs no leafpack
# program that the sanitizers build.
not_sanitized() {
	if sanitized; then
		skip "tests $* only, which the sanitizers do not build"
	fi
}

# find_leaves ROOT...: the leaf directories (no subdirectory; symlinks not
# followed below a ROOT, a ROOT that is a symlink followed) under each ROOT,
# one per line, byte-sorted: an oracle for tree-scan built on find alone.
# ROOT without a trailing slash; no path may hold a newline.
find_leaves() {
	for root in "$@"; do
		find -H "$root" -type d | awk '
		    NR > 1 { p = $0; sub(/\/[^\/]*$/, "", p); has[p] = 1 }
		    { d[NR] = $0 }
		    END { for (i = 1; i <= NR; i++) if (!(d[i] in has)) print d[i] }'
	done | sort
}
