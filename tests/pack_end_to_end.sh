#!/bin/sh
# leafpack ROOT consolidates every leaf: one sorted consolidated.jsonl each,
# the records exactly those of the valid sources (compared by jq, not by
# leafpack's code), invalid sources left in place and named, nothing else
# left behind; --stats=json counts it.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --bad 3
source_records root >before.records
invalid_sources root >invalid
[ "$(wc -l <invalid)" -eq 3 ] || fail "gentree made $(wc -l <invalid) bad files"
nfiles=$(find root -type f | wc -l)

expect_status 1 "$BIN/leafpack" --stats=json root
check_consolidated root before.records
while IFS= read -r f; do
	grep -qF "$f" err || fail "$f: invalid but not named"
done <invalid
tail -n 1 err >stats.json
jq -e --argjson files "$nfiles" --argjson recs "$(wc -l <before.records)" '
    .leaves_consolidated == 12 and .leaves_failed == 0 and
    .files_removed == $files - 3 and .records == $recs and
    .bytes_out > 0 and .stalled == []' stats.json >/dev/null ||
    fail "stats: $(cat stats.json)"
exit 0
