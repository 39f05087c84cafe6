#!/bin/sh
# A share whose inode numbers do not last (sshfs numbers a file anew for
# each mount, and each time the kernel forgets it; SMB with noserverino
# too): stallfs --renumber, remounted between runs, reports another number
# for every file each time.  A rerun must still know the sources an output
# holds by their names, sizes and times (fileid.h), or it merges their
# records a second time.  Kept sources: the rerun after a remount has
# nothing to do; removing then takes every source away with each record
# once.  And the case that showed it on sshfs: the share stops answering
# while jsonl-write removes the sources of a committed leaf (the unlink of
# one is held until the run gives the leaf up), the share comes back under
# other numbers, and the rerun removes what is left without merging it
# again.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_stallfs
need_cmd jq

gen src
all_records src >before.records

# run STATUS LEAFPACK-OPTION...: leafpack over a fresh --renumber mount.
run() {
	want=$1
	shift
	stallfs_mount src mnt --renumber
	expect_status "$want" "$BIN/leafpack" --min-age 0 "$@" mnt
	stallfs_unmount mnt
}

run 0 --keep-sources
output_records src >after.records
same_file before.records after.records
ino1=$(stallfs_mount src mnt --renumber && stat -c %i mnt/e0001; stallfs_unmount mnt)
ino2=$(stallfs_mount src mnt --renumber && stat -c %i mnt/e0001; stallfs_unmount mnt)
[ "$ino1" != "$ino2" ] || fail "--renumber gave the same number twice ($ino1)"
run 0 --keep-sources
grep -q "nothing to do" err ||
    fail "a rerun under new numbers did work: $(cat err)"
output_records src >after.records
same_file before.records after.records
run 0
check_consolidated src before.records

# The freeze while sources are removed: the unlink of one source of one
# leaf is held, the leaf is given up (stalled) after its commit.
rm -rf src
gen src
all_records src >before.records
leaf=$(cd src && leaves . | sed -n 2p | cut -c3-)
victim=$(find "src/$leaf" -name "part-*" | LC_ALL=C sort | sed -n 2p | xargs basename)
stallfs_mount src mnt --renumber --rule "hang:unlink:$leaf/$victim"
expect_status 1 "$BIN/leafpack" --min-age 0 -t 1 mnt
stallfs_unmount mnt
grep -q "stalled: unlink of .*$victim" err || fail "no stalled unlink: $(cat err)"
[ -e "src/$leaf/$victim" ] || fail "the held unlink happened"
run 0
check_consolidated src before.records
