#!/bin/sh
# leafpack -P 1024 on a tree of 960 leaves: hundreds of slots keep a pair
# each, and the poll set holds every pipe of theirs (it is sized from the
# slots, on the heap; a fixed array on the stack overflowed, which ASan
# reports, in check-asan).  Every leaf is consolidated, every record once.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

# Each busy slot holds four pipes of its pair, the driver a few more.
# ulimit -n is not POSIX, but dash, bash and busybox sh have it.
want=5000
# shellcheck disable=SC3045
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $want ]; then
	ulimit -n $want 2>/dev/null ||
	    skip "needs $want open files (ulimit -n), has $(ulimit -n)"
fi
gen root --entities 20 --types 6 --dates 8 --files 2 --records 3
[ "$(leaves root | wc -l)" -eq 960 ] || fail "gentree made no 960 leaves"
# No invalid source: every *.txt is read by one jq (source_records and
# check_consolidated start a jq per file and per leaf, minutes here).
find root -name '*.txt' -print0 | xargs -0 jq -c '.[]' | LC_ALL=C sort \
    >before.records
expect_status 0 "$BIN/leafpack" -P 1024 --stats=json root
tail -n 1 err | jq -e '.leaves_found == 960 and
    .leaves_consolidated == 960 and .leaves_failed == 0 and
    .files_removed == 1920' >/dev/null || fail "stats: $(tail -n 1 err)"
left=$(find root -type f ! -name consolidated.jsonl | head -n 3)
[ -z "$left" ] || fail "left besides outputs: $left"
[ "$(find root -name consolidated.jsonl | wc -l)" -eq 960 ] ||
    fail "not every leaf has its consolidated.jsonl"
output_records root >after.records
same_file before.records after.records
for leaf in $(leaves root | awk 'NR % 97 == 1'); do
	check_sorted "$leaf/consolidated.jsonl"
done
exit 0
