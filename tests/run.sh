#!/bin/sh
# Runs the test scripts: every tests/*.sh except this runner and its helpers,
# or only those named on the command line (run.sh tree_nested merge_fidelity).
#
# A test script exits 0 to pass, 77 to skip (its last line of output says
# why) and anything else to fail.  Each runs in a fresh temporary directory
# with a time limit, and the runner prints one line per test and, last,
# "N passed, N failed, N skipped".
#
# Environment: LEAFPACK_BIN is the directory of the programs under test
# (default: bin/ of this checkout); TEST_TIMEOUT is the per-test limit in
# seconds (default 300); TEST_VERBOSE=1 shows each test's output.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
: "${LEAFPACK_BIN:=$top/bin}"
: "${TEST_TIMEOUT:=300}"
export LEAFPACK_BIN LEAFPACK_TOP="$top" LEAFPACK_TESTS="$here"

if [ $# -gt 0 ]; then
	list=
	for name in "$@"; do
		list="$list $here/${name%.sh}.sh"
	done
else
	list=
	for script in "$here"/*.sh; do
		case ${script##*/} in
		run.sh | lib.sh | deps.sh | demo.sh | valgrind.sh) ;;
		*) list="$list $script" ;;
		esac
	done
fi

passed=0 failed=0 skipped=0 failures=
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for script in $list; do
	name=$(basename "$script" .sh)
	work=$(mktemp -d "${TMPDIR:-/tmp}/leafpack-test.$name.XXXXXX")
	start=$(date +%s)
	(cd "$work" && TEST_WORK=$work exec timeout -k 10 "$TEST_TIMEOUT" \
	    sh "$script") >"$log" 2>&1 </dev/null
	status=$?
	secs=$(( $(date +%s) - start ))
	case $status in
	0)
		passed=$((passed + 1))
		echo "PASS $name (${secs}s)"
		;;
	77)
		skipped=$((skipped + 1))
		echo "SKIP $name: $(tail -n 1 "$log")"
		;;
	*)
		failed=$((failed + 1))
		failures="$failures $name"
		[ $status -eq 124 ] && echo "  (timed out after ${TEST_TIMEOUT}s)" >>"$log"
		echo "FAIL $name (status $status, ${secs}s)"
		sed 's/^/    /' "$log" | tail -n 40
		;;
	esac
	[ "${TEST_VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$log"
	# A test that failed keeps its directory for a look, unless it holds a
	# mount (tests unmount their own, but never leave one behind here).
	if [ $status -eq 0 ] || [ $status -eq 77 ]; then
		chmod -R u+rwx "$work" 2>/dev/null
		rm -rf "$work"
	else
		echo "    (kept $work)"
	fi
done
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
