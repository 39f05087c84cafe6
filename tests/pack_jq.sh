#!/bin/sh
# --jq passes every record through jq before the commit; when jq fails,
# nothing of the leaf is committed or removed.  leafpack warns when this jq
# rounds big integers.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root
valid_sources root | xargs -0 jq -c '.[] | del(.payload)' | jq -c . |
    LC_ALL=C sort >want
expect_status 0 "$BIN/leafpack" --jq 'del(.payload)' root
output_records root >got
same_file want got
if [ "$(echo 12345678901234567890123 | jq -c .)" != 12345678901234567890123 ]
then
	grep -q 'rounds big integers' err || fail "no warning about jq numbers"
fi

# A failing filter: every leaf fails, sources stay as they were.
gen two
find two -name '*.txt' -print0 | sort -z | xargs -0 sha256sum >sums
expect_status 4 "$BIN/leafpack" --jq 'if .level == "info" then error("boom") else . end' two
[ -z "$(find two -name consolidated.jsonl)" ] || fail "a leaf was committed"
find two -name '*.txt' -print0 | sort -z | xargs -0 sha256sum >sums.after
same_file sums sums.after
grep -q boom err || fail "jq's message did not pass through"
# The next run finishes the job and leaves no claim behind.
source_records two >before.records
expect_status 0 "$BIN/leafpack" two
check_consolidated two before.records
exit 0
