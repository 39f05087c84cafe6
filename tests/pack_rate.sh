#!/bin/sh
# --max-rate N consumes at most N source files per second over the run
# (with a second's worth at the start): 48 sources at 16 per second take at
# least two seconds, and every record still ends up exactly once.  The rate
# is a usage error outside 1 to 10^9.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --entities 3 --types 2 --dates 2 --files 4
source_records root >before.records
expect_status 0 "$BIN/leafpack" --max-rate 16 -P 4 --stats=json root
tail -n 1 err | jq -e '.files_consumed == 48 and .elapsed >= 2' \
    >/dev/null || fail "the rate: $(tail -n 1 err)"
check_consolidated root before.records
for bad in 0 -1 x 1000000001; do
	expect_status 2 "$BIN/leafpack" --max-rate "$bad" root
	grep -q '^usage: leafpack' err || fail "--max-rate $bad: $(cat err)"
done
exit 0
