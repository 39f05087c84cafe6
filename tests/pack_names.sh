#!/bin/sh
# Leaves whose paths hold spaces, newlines and bytes that are not UTF-8 are
# consolidated like any other.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --entities 2 --types 1
nl='
'
mv root/e0001 "root/entity one${nl}x"
mv "root/entity one${nl}x/audit/2024-03-01" \
    "root/entity one${nl}x/audit/2024-03-01 $(printf '\377')${nl}z"
mv root/e0002/audit/2024-03-02/part-00001-*.txt \
    "root/e0002/audit/2024-03-02/a b${nl}$(printf '\001').txt"
source_records root >before.records
expect_status 0 "$BIN/leafpack" root
[ "$(find root -name consolidated.jsonl -printf x)" = xxxx ] ||
    fail "not every leaf was consolidated"
[ -z "$(find root -name '*.txt')" ] || fail "sources left"
output_records root >after.records
same_file before.records after.records

# --dry-run -0 prints such a path whole.
gen again --entities 1 --types 1 --dates 1
mv again/e0001/audit/2024-03-01 "again/e0001/audit/2024-03-01${nl}odd"
expect_status 0 "$BIN/leafpack" --dry-run -0 again
printf '%s\0' "again/e0001/audit/2024-03-01${nl}odd" >want
same_file want out
exit 0
