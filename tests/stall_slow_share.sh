#!/bin/sh
# A slow share is not a stalled one: with every request delayed 4 ms, a
# leaf of 120 sources takes far longer than -t 1 to merge and commit, but
# no single call does, so nothing stalls and every record is consolidated.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_stallfs

gen src --entities 1 --types 1 --dates 1 --files 120 --records 3
source_records src >before.records
stallfs_mount src mnt --delay-ms 4
start=$(date +%s)
expect_status 0 "$BIN/leafpack" -t 1 -P 2 --stats=json mnt
secs=$(( $(date +%s) - start ))
tail -n 1 err | jq -e '.stalled == 0 and .leaves_consolidated == 1' \
    >/dev/null || fail "stats: $(tail -n 1 err)"
# Else the test shows nothing: the leaf must outlast the limit many times.
[ $secs -ge 3 ] || fail "the leaf took ${secs}s: not slow enough to tell"
stallfs_unmount mnt
check_consolidated src before.records
exit 0
