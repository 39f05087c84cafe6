#!/bin/sh
# --dry-run prints the leaves it would consolidate and changes no byte.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --bad 1
# A half-done leaf too: consolidated before, with a new file since.
"$BIN/leafpack" --leaves root/e0001/audit/2024-03-01 2>/dev/null; [ $? -le 1 ] ||
    fail "first leaf"
cp -p root/e0001/audit/2024-03-02/*-00000-*.txt root/e0001/audit/2024-03-01/
tree_state root >before
expect_status 1 "$BIN/leafpack" --dry-run root
tree_state root >after
same_file before after
leaves root >want
sort out >got
same_file want got
grep -q 'dry run' err || fail "the summary does not say dry run"
exit 0
