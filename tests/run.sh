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
# seconds (default 300); TEST_VERBOSE=1 shows each test's output; TEST_JOBS
# is how many tests run at once (default 1).  Most of a test's time is spent
# waiting (for a deadline, a held call, a killed pipeline), so two at a time
# on two cores take little more than half as long; a test that measures
# what load changes (how many slots adaptive concurrency settles at) says
# "# run.sh: alone" at the start of a line and runs after the others, alone.
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

results=$(mktemp -d "${TMPDIR:-/tmp}/leafpack-run.XXXXXX")
trap 'rm -rf "$results"' EXIT

# one SCRIPT: runs one test; prints its line (and, failed, its output) at
# once when it is done, under a lock, so that two lanes do not mix; leaves
# pass, fail or skip in $results/NAME.status.
one() {
	script=$1
	name=$(basename "$script" .sh)
	work=$(mktemp -d "${TMPDIR:-/tmp}/leafpack-test.$name.XXXXXX")
	log=$results/$name.log
	report=$results/$name.report
	start=$(date +%s)
	(cd "$work" && TEST_WORK=$work exec timeout -k 10 "$TEST_TIMEOUT" \
	    sh "$script") >"$log" 2>&1 </dev/null
	status=$?
	secs=$(( $(date +%s) - start ))
	case $status in
	0)
		echo pass >"$results/$name.status"
		echo "PASS $name (${secs}s)" >"$report"
		;;
	77)
		echo skip >"$results/$name.status"
		echo "SKIP $name: $(tail -n 1 "$log")" >"$report"
		;;
	*)
		echo fail >"$results/$name.status"
		[ $status -eq 124 ] && echo "  (timed out after ${TEST_TIMEOUT}s)" >>"$log"
		{
			echo "FAIL $name (status $status, ${secs}s)"
			sed 's/^/    /' "$log" | tail -n 40
		} >"$report"
		;;
	esac
	[ "${TEST_VERBOSE:-0}" = 1 ] && sed 's/^/    /' "$log" >>"$report"
	# A test that failed keeps its directory for a look, unless it holds a
	# mount (tests unmount their own, but never leave one behind here).
	if [ $status -eq 0 ] || [ $status -eq 77 ]; then
		chmod -R u+rwx "$work" 2>/dev/null
		rm -rf "$work"
	else
		echo "    (kept $work)" >>"$report"
	fi
	flock "$results/.lock" cat "$report"
}

# lane QUEUE: runs the scripts of the file QUEUE, taking the next one not
# yet taken (the count of those taken is in QUEUE.next) until none is left.
lane() {
	# shellcheck disable=SC2016 # the inner sh expands them, under the lock
	while script=$(flock "$1.next" sh -c \
	    'n=$(cat "$1.next"); echo $((n + 1)) >"$1.next"; sed -n "$((n + 1))p" "$1"' \
	    sh "$1") && [ -n "$script" ]; do
		one "$script"
	done
}

# queue NAME SCRIPT...: the file NAME, to lane.
queue() {
	name=$results/$1
	shift
	printf '%s\n' "$@" >"$name"
	echo 0 >"$name.next"
	echo "$name"
}

together='' alone=''
for script in $list; do
	if grep -q '^# run.sh: alone' "$script"; then
		alone="$alone $script"
	else
		together="$together $script"
	fi
done
jobs=${TEST_JOBS:-1}
command -v flock >/dev/null 2>&1 || jobs=1
: >"$results/.lock"
# shellcheck disable=SC2086 # lists of paths without blanks, as $list
together=$(queue together $together)
k=0
while [ $k -lt "$jobs" ]; do
	lane "$together" &
	k=$((k + 1))
done
wait
# shellcheck disable=SC2086 # as above
[ -z "$alone" ] || lane "$(queue alone $alone)"

passed=0 failed=0 skipped=0 failures=
for script in $list; do
	name=$(basename "$script" .sh)
	case $(cat "$results/$name.status" 2>/dev/null) in
	pass) passed=$((passed + 1)) ;;
	skip) skipped=$((skipped + 1)) ;;
	*)
		failed=$((failed + 1))
		failures="$failures $name"
		;;
	esac
done
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
