#!/bin/sh
# --keep-sources consolidates and removes nothing; a rerun with it has
# nothing to do; a normal run afterwards removes the sources, and each
# record is still there exactly once.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root
source_records root >before.records
find root -name '*.txt' | sort >sources
expect_status 0 "$BIN/leafpack" --keep-sources root
find root -name '*.txt' | sort >still
same_file sources still
output_records root >kept.records
same_file before.records kept.records

expect_status 0 "$BIN/leafpack" --keep-sources root
grep -q 'nothing to do' err || fail "a rerun with --keep-sources: $(cat err)"

# A new file in one leaf: merged once, the kept ones not again.
leaf=root/e0001/audit/2024-03-01
"$TESTBIN/gentree" --seed 7 --entities 1 --types 1 --dates 1 --files 1 \
    --records 3 new >/dev/null || fail gentree
cp -p new/*/*/*/*.txt "$leaf/extra.txt"
source_records root >before.records
expect_status 0 "$BIN/leafpack" root
check_consolidated root before.records
exit 0
