#!/bin/sh
# leafpack killed with SIGKILL at many different moments, then run again,
# ends with the same tree as a run never interrupted: every record exactly
# once, no journal or temporary left.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_cmd setsid

gen ref --entities 4 --files 6 --bad 1
cp -a ref work
"$BIN/leafpack" ref 2>/dev/null
[ $? -eq 1 ] || fail "the uninterrupted run"

# settle SID: waits until no process of session SID is left (the pipeline
# dies with leafpack, but a rerun must not meet its last moments).
settle() {
	n=0
	while pgrep -s "$1" >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -gt 100 ] && fail "processes of the killed run remain"
		sleep 0.05
	done
}

i=0
kills=0
while [ $i -lt 16 ]; do
	# Delays from 0 to 150 ms, spread over the run.
	delay=$(( (i * 47) % 150 ))
	setsid "$BIN/leafpack" -P 2 work 2>/dev/null &
	pid=$!
	sleep "$(printf '0.%03d' "$delay")"
	kill -KILL -- "-$pid" 2>/dev/null && kills=$((kills + 1))
	wait "$pid"
	settle "$pid"
	i=$((i + 1))
done
[ $kills -gt 0 ] || fail "no run was killed: the tree is too small"

"$BIN/leafpack" work 2>err
status=$?
[ $status -le 1 ] || { cat err >&2; fail "the final run exited $status"; }
tree_outputs ref >ref.sums
tree_outputs work >work.sums
same_file ref.sums work.sums
exit 0
