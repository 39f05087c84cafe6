#!/bin/sh
# The whole share stops answering after the first leaves were committed
# (stallfs_freeze: every request from then on hangs), in the interruptible
# and the unkillable modes: leafpack -t 1 -P 2 gives up the leaves in
# flight, finds that the share's root does not answer either, says so in
# one line and exits 1 within the time limit and a little, leaving the
# processes stuck on the share behind.  Once the share answers again (the
# freeze thawed: what it held is served), a rerun leaves every record
# exactly once and every source gone.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_stallfs

for mode in interruptible unkillable; do
	rm -rf src mnt
	gen src --entities 10 --types 1 --dates 2 --files 3
	source_records src >before.records
	# Slow enough that the run is in the middle when the share freezes.
	stallfs_mount src mnt --hang-mode "$mode" --delay-ms 5
	"$BIN/leafpack" -t 1 -P 2 --stats=json mnt >run.out 2>run.err &
	pid=$!
	n=0
	until [ "$(find src -name consolidated.jsonl | wc -l)" -ge 2 ]; do
		n=$((n + 1))
		[ $n -le 600 ] || fail "$mode: no leaf committed in 60 s"
		kill -0 $pid 2>/dev/null || fail "$mode: the run ended early"
		sleep 0.1
	done
	stallfs_freeze mnt
	frozen=$(date +%s)
	wait $pid
	status=$?
	secs=$(( $(date +%s) - frozen ))
	[ $status -eq 1 ] || { cat run.err >&2; fail "$mode: exit $status"; }
	# The limit is 1.2 s, and the root's answer is waited for 1 s more.
	echo "$mode: ended ${secs}s after the freeze" >&2
	[ $secs -le 6 ] || fail "$mode: ended ${secs}s after the freeze"
	grep -q "mnt: the share is not answering: [0-9]* leaves stalled in a row; stopping" run.err ||
	    { cat run.err >&2; fail "$mode: the share's state is not said"; }
	[ "$(grep -c 'not answering' run.err)" -eq 1 ] ||
	    fail "$mode: said more than once: $(cat run.err)"
	stuck=$(tail -n 1 run.err | jq -r '.stuck_pids[]')
	if [ "$mode" = unkillable ]; then
		[ -n "$stuck" ] || fail "$mode: no process named stuck"
		grep -q 'stuck on the share left behind' run.err ||
		    [ -n "$stuck" ] || fail "$mode: stuck processes not said"
	fi
	stallfs_thaw mnt
	for p in $stuck; do
		n=0
		while kill -0 "$p" 2>/dev/null; do
			n=$((n + 1))
			[ $n -le 200 ] || fail "$mode: pid $p never ended"
			sleep 0.1
		done
	done
	stallfs_unmount mnt
	# The share as it is once it answers again (without the delay).
	expect_status 0 "$BIN/leafpack" src
	check_consolidated src before.records
done
exit 0
