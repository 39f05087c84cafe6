#!/bin/sh
# SIGINT and SIGTERM stop leafpack with 128+n after the leaves in flight are
# done: none half done, and a rerun finishes the tree.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --entities 10 --types 3
source_records root >before.records
for sig in INT TERM; do
	"$BIN/leafpack" -P 1 root 2>err &
	pid=$!
	sleep 0.2
	kill -s $sig $pid
	wait $pid
	status=$?
	case $sig:$status in
	INT:130|TERM:143) ;;
	*:0) ;;		# finished before the signal: nothing to check
	*) cat err >&2; fail "SIG$sig: exit $status" ;;
	esac
	# No temporary and no journal: the leaves in flight finished.
	left=$(find root -name '.*' | head -n 3)
	[ -z "$left" ] || fail "SIG$sig left $left"
done
expect_status 0 "$BIN/leafpack" root
check_consolidated root before.records
exit 0
