#!/bin/sh
# jsonl-write --remove-sources removes exactly the sources json-merge
# consumed, and only if they are still what it read: a source rewritten
# between the two makes it publish nothing for the leaf (status 1; the next
# run reads it again), and sources that json-merge did not consume
# (invalid, too young, created later, not matching) stay.  Without a claim it removes nothing and writes nothing.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"

mkleaf leaf 6 2 s
printf '[1,]' >leaf/bad.txt
printf '[{"id":"young"}]' >leaf/young.txt
printf '[{"id":"other"}]' >leaf/other.json
touch -d '-1 hour' leaf/bad.txt leaf/other.json

# json-merge with --claim writes into a file; the leaf changes; then
# jsonl-write commits what json-merge wrote.
"$BIN/json-merge" --claim --min-age 10m leaf >merged 2>merge.err
[ $? -eq 1 ] || fail "json-merge: expected partial (bad.txt): $(cat merge.err)"
grep -q '"state":"merged"' "leaf/.$OUT.journal" || fail "no merged claim"
printf '[{"timestamp":"2024-03-01T09:00:00Z","id":"rewritten"}]' >leaf/s03.txt
printf '[{"id":"later"}]' >leaf/later.txt
# The rewritten source's old records are in what came: nothing is published
# (status 1), nothing removed, and the claim is given back.
expect_status 1 "$BIN/jsonl-write" --remove-sources "leaf/$OUT" <merged
grep -q "^jsonl-write: leaf/s03.txt: changed since it was read: nothing published for leaf; a later run consolidates it$" err ||
    fail "s03.txt not named: $(cat err)"
[ "$(wc -l <err)" -eq 1 ] || fail "unexpected messages: $(cat err)"
[ ! -e "leaf/$OUT" ] || fail "an output was published"
grep -q '"state":"merging"' "leaf/.$OUT.journal" || fail "claim not given back"
[ "$(wc -l <merged)" -eq 12 ] || fail "merged: $(wc -l <merged) records"
# The next pair: s03.txt, rewritten, is too young now; the rest goes.
"$BIN/json-merge" --claim --min-age 10m leaf >merged 2>merge.err
[ $? -eq 1 ] || fail "json-merge again: $(cat merge.err)"
expect_status 0 "$BIN/jsonl-write" --remove-sources "leaf/$OUT" <merged
ls leaf >left
printf '%s\n' bad.txt consolidated.jsonl later.txt other.json s03.txt \
    young.txt >want.left
same_file left want.left
[ -z "$(leftovers leaf)" ] || fail "left: $(leftovers leaf)"
same_file "leaf/$OUT" merged
[ "$(wc -l <merged)" -eq 10 ] || fail "merged: $(wc -l <merged) records"

# No claim: an error, and nothing written or removed.
cp "leaf/$OUT" before
printf '{"x":1}\n' | expect_status 4 "$BIN/jsonl-write" --remove-sources "leaf/$OUT"
grep -q "no claim from json-merge in leaf: nothing removed" err || fail "$(cat err)"
same_file "leaf/$OUT" before
ls leaf >left
same_file left want.left
[ -z "$(find leaf -name ".$OUT.*")" ] || fail "a temporary is left"
