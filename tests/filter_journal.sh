#!/bin/sh
# leaf-filter reads the leaf's journal: a leaf a live json-merge holds is
# left to it; a dead run's claim is work whatever --min-files says; sources
# the output already holds are not new.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --entities 1 --types 1 --dates 3 --records 400
a=root/e0001/audit/2024-03-01
b=root/e0001/audit/2024-03-02
c=root/e0001/audit/2024-03-03
printf '%s\n' "$a" "$b" "$c" >in

# a: json-merge blocked writing to a pipe nobody reads holds a live claim.
mkfifo fifo
"$BIN/json-merge" "$a" >fifo 2>/dev/null &
merge=$!
exec 3<fifo
n=0
until [ -f "$a/.consolidated.jsonl.journal" ]; do
	n=$((n + 1))
	[ $n -gt 100 ] && fail "json-merge made no claim"
	sleep 0.05
done
# b: a claim whose holder died: json-merge ran into a pipe, and left.
"$BIN/json-merge" "$b" | cat >/dev/null
[ -f "$b/.consolidated.jsonl.journal" ] || fail "no claim left in $b"

expect_status 0 "$BIN/leaf-filter" --min-files 100 --stats=json <in
printf '%s\n' "$b" >want
same_file want out
tail -n 1 err | jq -e '.leaves_busy == 1' >/dev/null ||
    fail "stats: $(tail -n 1 err)"
exec 3<&-
wait $merge

# After a --keep-sources consolidation, the sources are in the output: only
# the leaf with a new file has work; without --keep-sources every leaf has
# (its sources are still to be removed).
"$BIN/leafpack" --keep-sources --leaves "$a" "$b" "$c" 2>/dev/null ||
    fail "leafpack --keep-sources"
cp -p "$b"/part-00000-*.txt "$c/new.txt"
expect_status 0 "$BIN/leaf-filter" --keep-sources <in
printf '%s\n' "$c" >want
same_file want out
expect_status 0 "$BIN/leaf-filter" <in
same_file in out
exit 0
