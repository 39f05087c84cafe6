#!/bin/sh
# jsonl-write commits a claim only if the output is still the file
# json-merge read, and an empty input for a claim with records only with
# --filtered; other differences from what json-merge wrote (records, bytes,
# hash) mean a filter sat between them, and are committed.  Otherwise status 4, the previous output
# untouched, no source removed, and the claim stays for a rerun.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"

mkleaf leaf 3 4 s
printf '{"timestamp":"2024-01-01T00:00:00Z","id":"old"}\n' >"leaf/$OUT"
records leaf >want
cp "leaf/$OUT" before

# untouched: the output, the sources and the claim are as they were.
untouched() {
	same_file "leaf/$OUT" before
	# shellcheck disable=SC2012  # counts plain names
	[ "$(ls leaf/*.txt | wc -l)" -eq 3 ] || fail "$1: a source was removed"
	grep -q '"state":"merged"' "leaf/.$OUT.journal" || fail "$1: claim gone"
	[ -z "$(find leaf -name ".$OUT.tmp.*")" ] || fail "$1: a temporary is left"
}

"$BIN/json-merge" --claim --min-age 0 leaf >merged || fail "json-merge"

# An empty input for a claim with records: refused unless --filtered (it is
# what a refused second run on a busy leaf would send).
expect_status 4 "$BIN/jsonl-write" --remove-sources "leaf/$OUT" </dev/null
grep -q "no input, but json-merge wrote 13 records for leaf (use --filtered" err ||
    fail "empty input: $(cat err)"
untouched empty

# The output replaced since json-merge read it: refused, even --filtered.
cp "leaf/$OUT" saved
cp saved "leaf/$OUT.new" && mv "leaf/$OUT.new" "leaf/$OUT"
cp "leaf/$OUT" before
expect_status 4 "$BIN/jsonl-write" --filtered --remove-sources "leaf/$OUT" <merged
grep -q "leaf/$OUT changed since json-merge read it" err || fail "$(cat err)"
untouched replaced
rm "leaf/$OUT"
expect_status 4 "$BIN/jsonl-write" "leaf/$OUT" <merged
grep -q "leaf/$OUT changed since json-merge read it" err || fail "$(cat err)"
[ ! -e "leaf/$OUT" ] || fail "an output appeared"

# The real run, through a filter that keeps everything: --filtered commits.
cp saved "leaf/$OUT"
{ "$BIN/json-merge" --min-age 0 leaf; echo $? >ms; } | jq -c . |
    "$BIN/jsonl-write" --filtered --remove-sources "leaf/$OUT" ||
    fail "--filtered run"
[ "$(cat ms)" -eq 0 ] || fail "json-merge exited $(cat ms)"
check_done leaf want

# Issue 3's filter example, without --filtered: the filtered records are
# committed, the sources stay (no --remove-sources) and are known to be in
# the output, so a later removing run deletes them without doubling records.
mkleaf leaf3 3 4 s
records leaf3 | grep -v '"s02-2"' >want3
"$BIN/json-merge" --min-age 0 leaf3 | jq -c 'select(.id != "s02-2")' |
    "$BIN/jsonl-write" "leaf3/$OUT" || fail "filter example"
jq -c . "leaf3/$OUT" | sort >got3
same_file got3 want3
"$BIN/json-merge" --min-age 0 leaf3 | "$BIN/jsonl-write" --remove-sources "leaf3/$OUT" ||
    fail "removing run after the filter example"
jq -c . "leaf3/$OUT" | sort >got3
same_file got3 want3
[ -z "$(ls leaf3/*.txt 2>/dev/null)" ] || fail "sources left after the removing run"

# A journal that is not one: refused, named.
mkleaf leaf2 1 1 s
echo 'not json' >"leaf2/.$OUT.journal"
printf '1\n' | expect_status 4 "$BIN/jsonl-write" "leaf2/$OUT"
grep -q "leaf2/.$OUT.journal: not a valid journal" err || fail "$(cat err)"
[ ! -e "leaf2/$OUT" ] || fail "written despite the bad journal"
