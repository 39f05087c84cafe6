#!/bin/sh
# leafpack killed with SIGKILL (its process group, as a power cut would)
# at many different moments of a run, then run again, ends with the same
# tree as a run never interrupted: every record exactly once, nothing else
# (no journal, no temporary) left.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_cmd setsid

gen orig --entities 3 --files 6 --bad 1
cp -a orig ref
start=$(date +%s%N)
"$BIN/leafpack" -P 2 ref 2>/dev/null
[ $? -eq 1 ] || fail "the uninterrupted run"
span=$(( ($(date +%s%N) - start) / 1000000 ))
tree_outputs ref >ref.sums

# settle SID: waits until no process of session SID is running (the
# pipeline dies with leafpack, but a rerun must not meet its last moments).
# Zombies do not count: they hold no claim, however long init takes to
# reap them.
settle() {
	n=0
	while pgrep -s "$1" -r R,S,D,T,t >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -gt 100 ] && fail "processes of the killed run remain"
		sleep 0.05
	done
}

i=0
kills=0
runs=${LEAFPACK_KILL_RUNS:-12}
while [ $i -lt "$runs" ]; do
	rm -rf work
	cp -a orig work
	# Moments spread over the length of an uninterrupted run.
	delay=$(( span * i / runs ))
	setsid "$BIN/leafpack" -P 2 work 2>/dev/null &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	[ $? -eq 137 ] && kills=$((kills + 1))
	settle "$pid"
	"$BIN/leafpack" -P 2 work 2>err
	status=$?
	[ $status -le 1 ] || { cat err >&2; fail "rerun after ${delay}ms: $status"; }
	tree_outputs work >work.sums
	cmp -s ref.sums work.sums || {
		diff ref.sums work.sums | head >&2
		fail "killed after ${delay}ms and rerun: not the same tree"
	}
	i=$((i + 1))
done
[ $kills -gt 0 ] || fail "no run was killed"
echo "$kills of $runs runs killed"
exit 0
