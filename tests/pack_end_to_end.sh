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
# A source still being written (younger than --min-age): left for later.
young=root/e0002/audit/2024-03-02/young.txt
echo '[{"timestamp":"2024-03-02T00:00:00Z"}]' >"$young"

expect_status 1 "$BIN/leafpack" --stats=json root
[ -f "$young" ] || fail "the young source was consumed"
grep -qF "$young" err || fail "the young source is not named"
rm "$young"
check_consolidated root before.records
while IFS= read -r f; do
	grep -qF "$f" err || fail "$f: invalid but not named"
done <invalid
tail -n 1 err >stats.json
jq -e --argjson files "$nfiles" --argjson recs "$(wc -l <before.records)" '
    .leaves_consolidated == 12 and .leaves_failed == 0 and
    .files_removed == $files - 3 and .records == $recs and
    .bytes_out > 0 and .stalled == 0 and .stalled_paths == [] and
    .sources_skipped == {"invalid": 3, "too_young": 1}' stats.json >/dev/null ||
    fail "stats: $(cat stats.json)"
exit 0
