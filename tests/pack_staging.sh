#!/bin/sh
# A share with no free inode (issue 12): without --staging, leafpack says
# so once ("no free inodes (0 of N)", and how to go on), changes nothing
# and exits 4; --staging on the share's own file system, or not a
# writable directory, is a usage error (2).  The share is a tmpfs of few
# inodes, filled; the staging directory is on the test's own file system.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
. "$LEAFPACK_TESTS/lib/inodes.sh"
need_cmd jq

share_mount share 300
gen share/root --entities 2 --types 1 --dates 2 --files 3 --records 4
source_records share/root >before.records
share_fill share
tree_state share >before

# Without --staging: the one message, exit 4, not a byte changed.
expect_status 4 "$BIN/leafpack" share/root
[ "$(grep -c 'no free inodes' err)" -eq 1 ] ||
	fail "not one message: $(cat err)"
grep -q '^leafpack: share/root: no free inodes (0 of 300): nothing can be created there;$' err ||
	fail "the message: $(cat err)"
grep -q '^ *run with --staging DIR, a directory on another file system with room for one leaf$' err ||
	fail "the hint: $(cat err)"
[ "$(wc -l <err)" -eq 2 ] || fail "more than the message: $(cat err)"
tree_state share >after
same_file before after
# The same with --leaves, and through the per-leaf pipeline.
expect_status 4 "$BIN/leafpack" --leaves share/root/e0001/*/2024-03-01
grep -q 'no free inodes (0 of 300)' err || fail "--leaves: $(cat err)"
expect_status 4 "$BIN/leafpack" --jq . share/root
grep -q 'no free inodes (0 of 300)' err || fail "--jq: $(cat err)"
tree_state share >after
same_file before after

# --staging on the share's own file system, or not a directory we can
# write in: usage errors, nothing changed.
expect_status 2 "$BIN/leafpack" --staging share share/root
grep -q 'on the same file system as share/root' err ||
	fail "same fs: $(cat err)"
grep -q '^usage: leafpack' err || fail "same fs: no usage"
expect_status 2 "$BIN/leafpack" --staging nowhere share/root
grep -q '^usage: leafpack' err || fail "missing dir: no usage"
: >plain
expect_status 2 "$BIN/leafpack" --staging plain share/root
grep -q 'not a directory we can write in' err || fail "file: $(cat err)"
tree_state share >after
same_file before after

# Inodes free again: the normal run, every record once.
share_unfill share 200
expect_status 0 "$BIN/leafpack" share/root
output_records share/root >after.records
same_file before.records after.records
exit 0
