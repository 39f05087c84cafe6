#!/bin/sh
# shellcheck disable=SC2154 # merge_status, write_status: set by pair()
# json-merge killed in the middle of its output (SIGKILL, after part of it
# went down the pipe): its claim stays "merging", so jsonl-write commits
# nothing, with or without --filtered, and says why; the previous output and
# every source are untouched, and a rerun consolidates the leaf.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"

# Enough records (about 3 MB) that json-merge is still writing, blocked on
# the full pipe, when it is killed.
mkleaf leaf 12 3000 s
printf '{"timestamp":"2024-01-01T00:00:00Z","id":"old"}\n' >"leaf/$OUT"
records leaf >want
cp "leaf/$OUT" before
find leaf -name '*.txt' | sort >sources.before

mkfifo pipe
"$BIN/json-merge" --min-age 0 leaf >pipe 2>merge.err &
merge=$!
exec 3<pipe
head -c 200000 <&3 >partial || fail "reading json-merge's output"
kill -9 $merge
wait $merge
[ $? -eq 137 ] || fail "json-merge was not killed mid-stream"
cat <&3 >>partial
exec 3<&-
grep -q '"state":"merging"' "leaf/.$OUT.journal" ||
    fail "the claim is not merging: $(cat "leaf/.$OUT.journal")"
# Whole lines only, as a filter such as jq would pass them on.
sed '$d' partial >lines
[ "$(wc -l <lines)" -gt 100 ] || fail "too little output before the kill"

for opt in --remove-sources --filtered; do
	expect_status 4 "$BIN/jsonl-write" $opt "leaf/$OUT" <lines
	grep -q "json-merge did not finish (leaf/.$OUT.journal is still merging): nothing written" err ||
	    fail "$opt: $(cat err)"
	same_file "leaf/$OUT" before
	find leaf -name '*.txt' | sort >sources.now
	same_file sources.now sources.before
	[ -z "$(find leaf -name ".$OUT.tmp.*")" ] || fail "a temporary is left"
done

pair leaf --remove-sources
# shellcheck disable=SC2015  # deliberate: fails unless both are 0
[ "$merge_status" -eq 0 ] && [ "$write_status" -eq 0 ] ||
    fail "rerun: $(cat merge.err write.err)"
check_done leaf want
