#!/bin/sh
# make check-valgrind: the tests again with every leafpack program under
# valgrind's memcheck, children and all (--trace-children: the driver's
# tree-scan, json-merge, jsonl-write and jsonl-verify too; jq and the
# system's programs are skipped).  Each process writes its own log; the
# run passes when every test passes and every log is empty: no invalid
# read or write, no use of uninitialised memory, no leak (definite or
# indirect; memory still reachable at exit is no leak).
#
# Tests run at valgrind's pace (ten to fifty times slower): those whose
# point is a timing, a deadline or a kill at each system call are left
# out (the ASan pass of make check runs them); VALGRIND_TESTS names others.
# Usage: sh tests/valgrind.sh [TEST...]
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
command -v valgrind >/dev/null 2>&1 || {
	echo "valgrind: not installed (apt-get install valgrind)" >&2
	exit 1
}
work=$top/build/valgrind
rm -rf "$work"
mkdir -p "$work/bin" "$work/logs"
# Some tests run the programs as nobody (as_nobody in lib.sh).
chmod 1777 "$work/logs"
for prog in "$top"/bin/*; do
	name=${prog##*/}
	cat >"$work/bin/$name" <<WRAPPER
#!/bin/sh
exec valgrind -q --tool=memcheck --leak-check=full \\
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
    --trace-children=yes --trace-children-skip='/usr/*,/bin/*,*/jq,*/stallfs' \\
    --log-file="$work/logs/%p.log" "$prog" "\$@"
WRAPPER
	chmod +x "$work/bin/$name"
done

if [ $# -eq 0 ]; then
	# What does not hang on timing, deadlines or kill points.
	if [ -z "${VALGRIND_TESTS:-}" ]; then
		for script in "$here"/merge_*.sh "$here"/write_*.sh \
		    "$here"/tree_*.sh "$here"/filter_*.sh "$here"/pack_*.sh \
		    "$here"/stats_schema.sh "$here"/json_testsuite.sh \
		    "$here"/stream_pipeline.sh "$here"/unit.sh; do
			name=$(basename "$script" .sh)
			case $name in
			pack_adapt | pack_rate | pack_signal | pack_kill | \
			    pack_no_hang | pack_many_slots | write_signal | \
			    pack_stalled | filter_stalled | tree_unreadable | \
			    pack_staging | pack_kill_staging | pack_hosts | \
			    pack_hosts_stalled | pack_hosts_netns) ;;
			*) VALGRIND_TESTS="${VALGRIND_TESTS:-} $name" ;;
			esac
		done
	fi
	# shellcheck disable=SC2086 # a list of test names
	set -- $VALGRIND_TESTS
fi
LEAFPACK_BIN=$work/bin LEAFPACK_SANITIZED=1 LEAFPACK_VALGRIND=1 TEST_TIMEOUT=${TEST_TIMEOUT:-900} \
    sh "$here/run.sh" "$@"
status=$?
errors=0
for log in "$work"/logs/*.log; do
	[ -s "$log" ] || continue
	errors=$((errors + 1))
	echo "--- $log" >&2
	head -n 40 "$log" >&2
done
echo "valgrind: $(find "$work/logs" -name '*.log' | wc -l) processes, $errors with errors"
[ "$status" -eq 0 ] && [ "$errors" -eq 0 ]
