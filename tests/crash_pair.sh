#!/bin/sh
# shellcheck disable=SC2154 # merge_status, write_status: set by pair(); the steps by kill_steps
# json-merge | jsonl-write --remove-sources killed with SIGKILL before a
# system call, for every system call either program makes, then the same
# command run again uninterrupted: every record ends up exactly once (jq),
# in order, with no source, journal or temporary left.
#
# Three starting points: a fresh leaf, a leaf with an output and new
# sources (incremental), and a leaf consolidated earlier without removing
# its sources (its journal is committed: the kept sources are already in
# the output and must not count twice).  Each program is traced alone by
# strace, whose -e inject=SYSCALL:signal=SIGKILL:when=N kills it on entering
# its Nth call of SYSCALL; the other program goes on as it would after a
# real crash of its partner.  All of it twice: with the commit record on
# the output (attribute user.leafpack.journal) and in the journal file
# (LEAFPACK_NO_XATTR=1).
#
# By default every fifth jsonl-write call and every thirteenth json-merge
# call (a different share in each scenario and mode), about 110 runs;
# LEAFPACK_LONG=1 (make crash) every call of both, and then both programs
# traced together and each killed at its Nth call of SYSCALL.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"
need_strace

kill_steps 5 13

# setup SCENARIO: a new leaf/ in the starting state, and want, the records
# a consolidation of it must end with.
setup() {
	rm -rf leaf
	case $1 in
	fresh)
		mkleaf leaf 10 3 s
		records leaf >want
		;;
	incremental)
		mkleaf leaf 6 3 a
		pair leaf --remove-sources
		[ "$write_status" -eq 0 ] || fail "setup $1: $(cat write.err)"
		mkleaf leaf 4 3 b
		records leaf >want
		;;
	kept)
		mkleaf leaf 5 3 a
		mkleaf leaf 5 3 b
		records leaf >want
		# shellcheck disable=SC2015  # deliberate: fails unless every step holds
		mkdir aside && mv leaf/b*.txt aside/ && pair leaf &&
		    mv aside/* leaf/ && rmdir aside ||
		    fail "setup $1: $(cat write.err)"
		record leaf | jq -e '.state == "committed"' >/dev/null ||
		    fail "setup $1: no commit record kept"
		;;
	esac
}

runs=0 phase=0
for mode in $modes; do
use_mode "$mode"
for scenario in fresh incremental kept; do
	# A clean traced run shows every system call of each program.
	setup $scenario
	{ strace -qq -o trace.merge "$BIN/json-merge" --min-age 0 leaf; } |
	    strace -qq -o trace.write "$BIN/jsonl-write" --remove-sources \
	    "leaf/$OUT" || fail "$scenario: the traced run failed"
	check_done leaf want
	kill_points trace.write "$write_step" $phase leaf | sed 's/^/jsonl-write /' >points
	kill_points trace.merge "$merge_step" $phase leaf | sed 's/^/json-merge /' >>points
	# A sanity floor on the trace: at least 60 calls of jsonl-write.
	[ "$(wc -l <points)" -gt $((60 / write_step)) ] ||
	    fail "$scenario: too few kill points"
	if [ "${LEAFPACK_LONG:-0}" = 1 ]; then
		{ kill_points trace.write 1 0 leaf; kill_points trace.merge 1 0 leaf; } |
		    sort -u | sed 's/^/both /' >>points
	fi
	phase=$((phase + 1))

	while read -r prog call n; do
		setup $scenario
		kill="-qq -o /dev/null -e inject=$call:signal=SIGKILL:when=$n"
		# $kill is several options; the script's $1..$3 are its own.
		# shellcheck disable=SC2086,SC2016
		if [ "$prog" = both ]; then
			strace -f $kill sh -c '"$1" --min-age 0 leaf 2>/dev/null |
			    "$2" --remove-sources "leaf/$3" 2>/dev/null' sh \
			    "$BIN/json-merge" "$BIN/jsonl-write" "$OUT"
		elif [ "$prog" = json-merge ]; then
			{ strace $kill "$BIN/json-merge" --min-age 0 leaf; } \
			    2>/dev/null | "$BIN/jsonl-write" \
			    --remove-sources "leaf/$OUT" 2>/dev/null
		else
			"$BIN/json-merge" --min-age 0 leaf 2>/dev/null |
			    strace $kill "$BIN/jsonl-write" --remove-sources \
			    "leaf/$OUT" 2>/dev/null
		fi
		# What a crash leaves is never a partial output.
		if [ -f "leaf/$OUT" ]; then
			jq -c . "leaf/$OUT" >/dev/null 2>&1 ||
			    fail "$mode, $scenario, $prog killed at $call #$n: partial output"
		fi
		pair leaf --remove-sources
		# shellcheck disable=SC2015  # deliberate: fails unless both are 0
		[ "$merge_status" -eq 0 ] && [ "$write_status" -eq 0 ] || {
			cat merge.err write.err >&2
			fail "$mode, $scenario, $prog killed at $call #$n: the rerun exited $merge_status/$write_status"
		}
		( check_done leaf want ) ||
		    fail "$mode, $scenario, $prog killed at $call #$n"
		runs=$((runs + 1))
	done <points
done
done
echo "$runs crash runs, each followed by a rerun"
