#!/bin/sh
# --max-rate does not save up the time nobody could use: the scan finds
# half the leaves only after seconds (stallfs answers the listings of two
# entities 2 s late), and those leaves then start one at a time at the
# rate (16 files a second, leaves of 4 files: one each 0.25 s, one leaf's
# credit at most), not all at once on the credit of the seconds waited.
# Their outputs' times tell: the 8 late leaves end over at least 1.2 s.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_stallfs

gen src --entities 3 --types 2 --dates 2 --files 4
all_records src >before.records
stallfs_mount src mnt --slow e0002:2000 --slow e0003:2000
expect_status 0 "$BIN/leafpack" --min-age 0 --max-rate 16 -P 8 mnt
stallfs_unmount mnt
check_consolidated src before.records
find src/e0002 src/e0003 -name consolidated.jsonl -exec stat -c %.9Y {} + |
    sort -n >late.times
[ "$(wc -l <late.times)" -eq 8 ] || fail "late leaves: $(cat late.times)"
spread=$(awk 'NR == 1 { first = $1 } { last = $1 } END { print last - first }' \
    late.times)
echo "the late leaves ended over $spread s" >&2
awk -v s="$spread" 'BEGIN { exit !(s >= 1.2) }' ||
	fail "the late leaves rushed: they ended within $spread s"
exit 0
