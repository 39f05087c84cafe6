#!/bin/sh
# A share that stops answering in the middle of a staged commit (issue
# 12): the removal of the sources hangs once the leaf is marked, so the
# leaf is given up at -t (status 1, stalled) with its records safe in the
# staging directory; once the share answers again, the same command with
# the same --staging finishes it: every record exactly once, nothing left
# in the leaf nor in the staging directory.  The share is stallfs over a
# tmpfs of few inodes, filled (statvfs goes through to it).
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/inodes.sh"
need_stallfs
need_cmd jq

share_mount back 200
gen back/root --entities 1 --types 1 --dates 1 --files 3 --records 4
source_records back/root >want
share_fill back
mkdir stage
# The second source in byte order: the first becomes the mark.
stallfs_mount back mnt --rule 'hang:unlink:*part-00001-*.txt'
trap 'stallfs_cleanup; share_umount_all' EXIT

expect_status 1 "$BIN/leafpack" -t 2 --staging stage --stats=json mnt/root
tail -n 1 err | jq -e '.leaves_stalled == 1' >/dev/null ||
	fail "not stalled: $(cat err)"
[ -f mnt/root/e0001/audit/2024-03-01/.consolidated.jsonl.staged ] ||
	fail "no mark: the stall was not in the staged commit"
[ -n "$(ls stage)" ] || fail "nothing waits in staging"

# The share answers again: the next run finishes the leaf.
stallfs_release mnt
expect_status 0 "$BIN/leafpack" -t 5 --staging stage --stats=json mnt/root
tail -n 1 err | jq -e '.leaves_staged == 1' >/dev/null ||
	fail "not finished from staging: $(tail -n 1 err)"
output_records back/root >got
same_file want got
left=$(find back/root -type f ! -name consolidated.jsonl)
[ -z "$left" ] || fail "left in the leaf: $left"
[ -z "$(ls -A stage)" ] || fail "left in staging: $(ls -A stage)"
exit 0
