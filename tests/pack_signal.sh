#!/bin/sh
# SIGINT and SIGTERM stop leafpack with 128+n after the leaves in flight are
# done: none half done, and a rerun finishes the tree.  The run is over a
# slow share (stallfs, every request delayed), so it is still busy when the
# signal comes: the signal is sent once a first leaf of the run is
# committed, and the run must stop with leaves left.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_stallfs

gen src --entities 4 --types 3 --dates 5
total=$(leaves src | wc -l)
source_records src >before.records
stallfs_mount src mnt --delay-ms 5

# outputs: the leaves consolidated so far (read in src, not through the
# slow mount).
outputs() {
	find src -name consolidated.jsonl | wc -l
}

for sig in INT TERM; do
	done_before=$(outputs)
	"$BIN/leafpack" -P 1 mnt 2>err &
	pid=$!
	n=0
	while [ "$(outputs)" -le "$done_before" ]; do
		n=$((n + 1))
		[ $n -le 600 ] || fail "SIG$sig: no leaf committed in 60 s"
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	kill -s $sig $pid
	wait $pid
	status=$?
	case $sig:$status in
	INT:130|TERM:143) ;;
	*) cat err >&2; fail "SIG$sig: exit $status, expected 128+n" ;;
	esac
	grep -q 'stopping: waiting for 1 leaves in flight' err ||
	    fail "SIG$sig: no leaf was in flight: $(cat err)"
	[ "$(outputs)" -lt "$total" ] || fail "SIG$sig: the run did not stop"
	# No temporary and no journal: the leaves in flight finished.
	left=$(find src -name '.*' | head -n 3)
	[ -z "$left" ] || fail "SIG$sig left $left"
done
stallfs_unmount mnt
expect_status 0 "$BIN/leafpack" src
check_consolidated src before.records
exit 0
