#!/bin/sh
# The leaf stream (json-merge without DIR | jsonl-write --remove-sources, as
# leafpack runs it) killed with SIGKILL before a system call of either
# program, then run again uninterrupted: both leaves end with every record
# exactly once (jq), in order, with no source, journal or temporary left.
# Two leaves go through one pair, so kills land before, in and after the
# hand-over of each, and between the two.  Each program is traced alone by
# strace (-e inject=SYSCALL:signal=SIGKILL:when=N); the other goes on as it
# would after a real crash of its partner.
#
# By default every third system call of jsonl-write and every seventh of
# json-merge; LEAFPACK_LONG=1 (make crash) every call.
# shellcheck disable=SC2154 # write_step, merge_step: set by kill_steps
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"
need_strace

kill_steps 3 7

# setup: leaf1 fresh, leaf2 with an output and new sources; want.N.
setup() {
	rm -rf leaf1 leaf2
	mkleaf leaf1 6 3 s
	mkleaf leaf2 4 3 a
	printf 'leaf2\n' | "$BIN/json-merge" --min-age 0 |
	    "$BIN/jsonl-write" --remove-sources || fail "setup"
	mkleaf leaf2 3 3 b
	records leaf1 >want.1
	records leaf2 >want.2
}

# stream [STRACE-OPTION...] PROG: the pipeline, PROG traced.
# shellcheck disable=SC2086  # $1 is several strace options
stream() {
	printf 'leaf1\nleaf2\n' >leaves
	if [ "$2" = json-merge ]; then
		{ strace $1 "$BIN/json-merge" --min-age 0 <leaves; } 2>/dev/null |
		    "$BIN/jsonl-write" --remove-sources 2>/dev/null
	else
		"$BIN/json-merge" --min-age 0 <leaves 2>/dev/null |
		    strace $1 "$BIN/jsonl-write" --remove-sources 2>/dev/null
	fi
}

setup
stream "-qq -o trace.merge" json-merge >/dev/null ||
    fail "the traced run failed"
check_done leaf1 want.1
check_done leaf2 want.2
setup
stream "-qq -o trace.write" jsonl-write >/dev/null ||
    fail "the traced run failed"
kill_points trace.write "$write_step" 3 leaf1 | sed 's/^/jsonl-write /' >points
kill_points trace.merge "$merge_step" 5 leaf1 | sed 's/^/json-merge /' >>points
# A sanity floor on the trace: at least 60 calls of jsonl-write.
[ "$(wc -l <points)" -gt $((60 / write_step)) ] ||
    fail "too few kill points: $(cat points)"

runs=0
while read -r prog call n; do
	setup
	stream "-qq -o /dev/null -e inject=$call:signal=SIGKILL:when=$n" "$prog"
	for d in leaf1 leaf2; do
		if [ -f "$d/$OUT" ]; then
			jq -c . "$d/$OUT" >/dev/null 2>&1 ||
			    fail "$prog killed at $call #$n: partial $d/$OUT"
		fi
	done
	printf 'leaf1\nleaf2\n' | "$BIN/json-merge" --min-age 0 2>merge.err |
	    "$BIN/jsonl-write" --remove-sources 2>write.err || {
		cat merge.err write.err >&2
		fail "$prog killed at $call #$n: the rerun failed"
	}
	( check_done leaf1 want.1 && check_done leaf2 want.2 ) ||
	    fail "$prog killed at $call #$n"
	runs=$((runs + 1))
done <points
echo "$runs crash runs, each followed by a rerun"
