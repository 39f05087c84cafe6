#!/bin/sh
# -P 1 and -P 4 give byte-identical trees.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen one --entities 4 --bad 2
cp -a one four
expect_status 1 "$BIN/leafpack" -P 1 one
expect_status 1 "$BIN/leafpack" -P 4 four
tree_outputs one >one.sums
tree_outputs four >four.sums
same_file one.sums four.sums
[ "$(find one -name consolidated.jsonl | wc -l)" -eq 16 ] ||
    fail "not every leaf was consolidated"
exit 0
