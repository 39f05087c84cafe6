#!/bin/sh
# A share with no free inode (issue 12): without --staging, leafpack says
# so once ("no free inodes (0 of N)", and how to go on), changes nothing
# and exits 4; --staging on the share's own file system, or not a
# writable directory, is a usage error (2).  With --staging on another
# file system every record ends up exactly once in its leaf's output, the
# sources are gone, the fillers untouched and the staging directory empty,
# through the stream pair and through --jq, into a new output and merged
# with an existing one; inodes that run out in the middle of a run leave
# the leaves done as they are, and the rest to a run with --staging.  The
# share is a tmpfs of few inodes, filled; the staging directory is on the
# test's own file system.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
. "$LEAFPACK_TESTS/lib/inodes.sh"
need_cmd jq

share_mount share 300
gen share/root --entities 2 --types 1 --dates 2 --files 3 --records 4
source_records share/root >before.records
share_fill share
tree_state share >before

# Without --staging: the one message, exit 4, not a byte changed.
expect_status 4 "$BIN/leafpack" share/root
[ "$(grep -c 'no free inodes' err)" -eq 1 ] ||
	fail "not one message: $(cat err)"
grep -q '^leafpack: share/root: no free inodes (0 of 300): nothing can be created there;$' err ||
	fail "the message: $(cat err)"
grep -q '^ *run with --staging DIR, a directory on another file system with room for one leaf$' err ||
	fail "the hint: $(cat err)"
[ "$(wc -l <err)" -eq 2 ] || fail "more than the message: $(cat err)"
tree_state share >after
same_file before after
# The same with --leaves, and through the per-leaf pipeline.
expect_status 4 "$BIN/leafpack" --leaves share/root/e0001/*/2024-03-01
grep -q 'no free inodes (0 of 300)' err || fail "--leaves: $(cat err)"
expect_status 4 "$BIN/leafpack" --jq . share/root
grep -q 'no free inodes (0 of 300)' err || fail "--jq: $(cat err)"
tree_state share >after
same_file before after

# --staging on the share's own file system, or not a directory we can
# write in: usage errors, nothing changed.
expect_status 2 "$BIN/leafpack" --staging share share/root
grep -q 'on the same file system as share/root' err ||
	fail "same fs: $(cat err)"
grep -q '^usage: leafpack' err || fail "same fs: no usage"
expect_status 2 "$BIN/leafpack" --staging nowhere share/root
grep -q '^usage: leafpack' err || fail "missing dir: no usage"
: >plain
expect_status 2 "$BIN/leafpack" --staging plain share/root
grep -q 'not a directory we can write in' err || fail "file: $(cat err)"
tree_state share >after
same_file before after

# fillers_state: the fillers, which no run may touch.
fillers_state() {
	(cd share/.fill && find . -printf '%p %i %s %T@\n' | LC_ALL=C sort)
}
fillers_state >fillers.before

# check_staged ROOT RECORDS: every record of RECORDS once in the outputs,
# no source and nothing of the protocol left, the fillers as they were,
# the staging directory empty.
check_staged() {
	output_records "$1" >after.records
	same_file "$2" after.records
	left=$(find "$1" -type f ! -name consolidated.jsonl)
	[ -z "$left" ] || fail "left in the leaves: $left"
	[ -z "$(ls -A stage)" ] || fail "left in staging: $(ls -A stage)"
	fillers_state >fillers.after
	same_file fillers.before fillers.after
}

# With --staging on another file system: consolidated, exactly once.
mkdir stage
expect_status 0 "$BIN/leafpack" --staging stage --stats=json share/root
tail -n 1 err | jq -e '.leaves_staged >= 1 and
    .leaves_consolidated == 4 and .leaves_failed == 0' >/dev/null ||
	fail "--staging stats: $(tail -n 1 err)"
check_staged share/root before.records
for leaf in share/root/*/*/*; do
	check_sorted "$leaf/consolidated.jsonl"
done

# New sources on a full share: merged with the existing outputs, through
# --jq (the per-leaf pipeline) this time.
"$TESTBIN/gentree" --seed 2 --entities 2 --types 1 --dates 2 --files 2 \
    --records 3 new >/dev/null || fail "gentree new"
for f in $(cd new && find . -name '*.txt'); do
	cp -p "new/$f" "share/root/$(dirname "$f")/new-$(basename "$f")" ||
	    fail "no room for the new sources"
done
{ output_records share/root; source_records share/root; } |
    LC_ALL=C sort >both.records
share_fill share
fillers_state >fillers.before
expect_status 0 "$BIN/leafpack" --staging stage --jq . --stats=json share/root
tail -n 1 err | jq -e '.leaves_staged >= 1' >/dev/null ||
	fail "--jq --staging stats: $(tail -n 1 err)"
check_staged share/root both.records

# Inodes that run out in the middle of a run: one leaf at a time, slowly
# (--max-rate), and once the first is done a writer takes every inode
# that is free, as long as the run lasts.  The leaves done stay done, the
# others are untouched, the message is said once; then --staging does
# the rest.
rm -rf share/root share/.fill stage/*
gen share/root --entities 3 --types 1 --dates 2 --files 3 --records 4
source_records share/root >mid.records
mkdir share/.fill
"$BIN/leafpack" -P 1 --max-rate 6 share/root >out 2>err &
pack=$!
(
	while kill -0 $pack 2>/dev/null &&
	    [ -z "$(find share/root -name consolidated.jsonl)" ]; do
		sleep 0.01
	done
	i=0
	while kill -0 $pack 2>/dev/null; do
		while { true >"share/.fill/w$i"; } 2>/dev/null; do
			i=$((i + 1))
		done
		sleep 0.005
	done
) &
writer=$!
wait $pack
status=$?
wait $writer
[ $status -eq 4 ] || fail "mid-run exhaustion: status $status: $(cat err)"
[ "$(grep -c 'no free inodes' err)" -eq 1 ] ||
	fail "mid-run: not one message: $(cat err)"
{ output_records share/root; source_records share/root; } |
    LC_ALL=C sort >mid.after
same_file mid.records mid.after
[ -n "$(find share/root -name consolidated.jsonl)" ] ||
	fail "mid-run: no leaf done before the inodes ran out"
[ -n "$(find share/root -name '*.txt')" ] ||
	fail "mid-run: every leaf done: the inodes never ran out"
fillers_state >fillers.before
expect_status 0 "$BIN/leafpack" -P 1 --staging stage share/root
check_staged share/root mid.records

# A staged commit cut short once the records are only in the staging
# directory (jsonl-write killed as it empties the mark to copy the output
# in): leafpack without --staging says where they wait, leaves the leaf
# (exit 1, leaves_waiting), and with --staging finishes it.
if command -v strace >/dev/null 2>&1 &&
    strace -qq -o /dev/null true 2>/dev/null; then
	rm -rf share/root share/.fill stage/* stage/.[!.]*
	gen share/root --entities 1 --types 1 --dates 1 --files 3 --records 4
	source_records share/root >cut.records
	share_fill share
	fillers_state >fillers.before
	leaf=$(leaves share/root)
	"$BIN/json-merge" --min-age 0 --staging stage "$leaf" 2>/dev/null |
	    strace -qq -o /dev/null -e inject=ftruncate:signal=SIGKILL:when=2 \
	    "$BIN/jsonl-write" --remove-sources --staging stage \
	    "$leaf/consolidated.jsonl" 2>/dev/null
	[ -f "$leaf/.consolidated.jsonl.staged" ] || fail "no staged mark left"
	tree_state share/root >cut.before
	expect_status 1 "$BIN/leafpack" --stats=json share/root
	grep -q "wait in stage/leaf-[0-9]*-[0-9]* on host .*; run leafpack --staging stage on " err ||
		fail "waiting: $(cat err)"
	tail -n 1 err | jq -e '.leaves_waiting == 1' >/dev/null ||
		fail "waiting stats: $(tail -n 1 err)"
	# --verify names the mark of the commit cut short.
	expect_status 1 "$BIN/leafpack" --verify share/root
	grep -q 'consolidated.jsonl.staged.*a staged commit cut short' out ||
		fail "--verify: $(cat out)"
	tree_state share/root >cut.after
	same_file cut.before cut.after
	expect_status 0 "$BIN/leafpack" --staging stage --stats=json share/root
	tail -n 1 err | jq -e '.leaves_staged == 1' >/dev/null ||
		fail "resume stats: $(tail -n 1 err)"
	output_records share/root >after.records
	same_file cut.records after.records
	check_staged share/root cut.records
fi

# Inodes free again: the normal run, every record once.
rm -rf share/root share/.fill
gen share/root --entities 2 --types 1 --dates 2 --files 3 --records 4
source_records share/root >before.records
expect_status 0 "$BIN/leafpack" share/root
output_records share/root >after.records
same_file before.records after.records
exit 0
