#!/bin/sh
# leafpack --staging on a share with no free inode, killed with SIGKILL
# (its process group, as a power cut would) at moments spread over a run,
# then run again with the same --staging: every record exactly once, no
# source left, the staging directory empty, the fillers untouched (issue
# 12).  The share is a tmpfs of few inodes, filled; the staging directory
# is on the test's own file system.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
. "$LEAFPACK_TESTS/lib/inodes.sh"
need_cmd setsid
need_cmd jq

share_mount share 200
mkdir stage

# setup: a full share with share/root to consolidate; want, its records.
setup() {
	rm -rf share/root share/.fill stage/* stage/.[!.]* 2>/dev/null
	gen share/root --entities 2 --types 1 --dates 2 --files 4 --records 6
	source_records share/root >want
	share_fill share
	(cd share/.fill && find . -printf '%p %i\n' | sort) >fillers.before
}

# settle SID: waits until no process of session SID is running.
settle() {
	k=0
	while pgrep -s "$1" -r R,S,D,T,t >/dev/null 2>&1; do
		k=$((k + 1))
		[ $k -gt 100 ] && fail "processes of the killed run remain"
		sleep 0.05
	done
}

setup
start=$(date +%s%N)
expect_status 0 "$BIN/leafpack" -P 2 --staging stage share/root
span=$(( ($(date +%s%N) - start) / 1000000 ))

i=0 kills=0
runs=${LEAFPACK_KILL_RUNS:-8}
while [ $i -lt "$runs" ]; do
	setup
	delay=$(( span * i / runs ))
	setsid "$BIN/leafpack" -P 2 --staging stage share/root 2>/dev/null &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	[ $? -eq 137 ] && kills=$((kills + 1))
	settle "$pid"
	"$BIN/leafpack" -P 2 --staging stage share/root 2>err
	status=$?
	[ $status -eq 0 ] || { cat err >&2; fail "rerun after ${delay}ms: $status"; }
	output_records share/root >got
	same_file want got
	left=$(find share/root -type f ! -name consolidated.jsonl)
	[ -z "$left" ] || fail "killed after ${delay}ms: left: $left"
	[ -z "$(ls -A stage)" ] ||
		fail "killed after ${delay}ms: left in staging: $(ls -A stage)"
	(cd share/.fill && find . -printf '%p %i\n' | sort) >fillers.after
	same_file fillers.before fillers.after
	i=$((i + 1))
done
[ $kills -gt 0 ] || fail "no run was killed"
echo "$kills of $runs runs killed"
exit 0
