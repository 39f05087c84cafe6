#!/bin/sh
# --sort prints the same leaves as a plain run, byte-sorted, with or
# without -0, whatever the number of workers.
. "$LEAFPACK_TESTS/lib.sh"

for e in 3 1 2 10 20; do
	for s in B a Z _b é; do
		mkdir -p "t/e$e/$s/x" "t/e$e/$s-y" "t/e$e/${s}0"
	done
done
expect_status 0 "$BIN/tree-scan" -j 3 t
sort out >expected
[ "$(wc -l <expected)" -eq 75 ] || fail "$(wc -l <expected) leaves"
for j in 1 4; do
	expect_status 0 "$BIN/tree-scan" --sort -j "$j" t
	same_file expected out
done
expect_status 0 "$BIN/tree-scan" --sort -0 t
tr '\n' '\0' <expected >expected0
same_file expected0 out
