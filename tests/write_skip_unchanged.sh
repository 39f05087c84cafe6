#!/bin/sh
# jsonl-write --skip-unchanged: when json-merge found nothing new (every
# source invalid, none kept), the claim is withdrawn and the output stays the
# same file, even through a filter that changes its records; with something
# new the flag changes nothing.
. "$LEAFPACK_TESTS/lib.sh"

mkdir leaf
printf '{"timestamp":"2024-01-01T00:00:00Z","id":1}\n' >leaf/consolidated.jsonl
printf '[{"timestamp": oops' >leaf/bad.txt
ino=$(stat -c %i leaf/consolidated.jsonl)
"$BIN/json-merge" --min-age 0 leaf 2>merge.err |
    jq -c '.id = 2' | "$BIN/jsonl-write" --skip-unchanged --stats=json \
    leaf/consolidated.jsonl 2>write.err || fail "jsonl-write: $(cat write.err)"
[ "$(stat -c %i leaf/consolidated.jsonl)" = "$ino" ] || fail "output rewritten"
grep -q '"id":1' leaf/consolidated.jsonl || fail "output changed"
[ ! -e leaf/.consolidated.jsonl.journal ] || fail "claim left behind"
[ -z "$(find leaf -name '.*tmp*')" ] || fail "temporary left behind"
tail -n 1 write.err | jq -e '.unchanged == true' >/dev/null ||
    fail "stats: $(cat write.err)"
[ -f leaf/bad.txt ] || fail "the invalid source went"

# Something new: committed as without the flag.
printf '[{"timestamp":"2024-01-02T00:00:00Z","id":3}]' >leaf/new.txt
"$BIN/json-merge" --min-age 0 leaf 2>merge.err |
    "$BIN/jsonl-write" --skip-unchanged --remove-sources --stats=json \
    leaf/consolidated.jsonl 2>write.err || fail "jsonl-write: $(cat write.err)"
tail -n 1 write.err | jq -e '.unchanged == false and .records == 2' \
    >/dev/null || fail "stats: $(cat write.err)"
[ ! -e leaf/new.txt ] || fail "the new source was not removed"
[ "$(wc -l <leaf/consolidated.jsonl)" -eq 2 ] || fail "records: $(cat leaf/consolidated.jsonl)"
exit 0
