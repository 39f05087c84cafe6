# A slow share is not a stalled one: with every request delayed 2 ms and one
# directory's listing answered only after 1 s (within -t 3), tree-scan prints
# exactly the leaves find sees in the source, stalls nothing, says nothing on
# stderr and exits 0.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/stallscan.sh"
need_stallfs

share_tree src
mnt=$PWD/mnt
find_leaves src | remap src "$mnt" >expected
stallfs_mount src "$mnt" --delay-ms 2 --slow e0002/events:1000
expect_status 0 "$BIN/tree-scan" -t 3 -j 4 --stalled stalled "$mnt"
sort out >got
same_file expected got
[ ! -s stalled ] || fail "stalled: $(cat stalled)"
[ ! -s err ] || fail "stderr: $(cat err)"
