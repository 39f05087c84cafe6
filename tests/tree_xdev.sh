#!/bin/sh
# --xdev: a file system mounted inside the tree is neither read nor
# printed, and its parent is not a leaf; without it, it is scanned.
. "$LEAFPACK_TESTS/lib.sh"
need_root "mount -t tmpfs"

mkdir -p t/a/b t/m t/c/mnt
trap 'umount t/m 2>/dev/null; umount t/c/mnt 2>/dev/null' EXIT
mount -t tmpfs leafpack-test t/m 2>/dev/null || skip "mount not permitted"
mount -t tmpfs leafpack-test t/c/mnt
mkdir -p t/m/x/y t/m/z t/c/mnt/w

expect_status 0 "$BIN/tree-scan" --xdev --stats=json t
printf '%s\n' t/a/b >expected
same_file expected out
tail -n 1 err | jq -e '.dirs == 4 and .leaves == 1' >/dev/null ||
	fail "stats: $(tail -n 1 err)"

expect_status 0 "$BIN/tree-scan" t
sort out >got
find_leaves t >expected
same_file expected got

# A ROOT on its own file system is scanned, with --xdev too.
expect_status 0 "$BIN/tree-scan" --xdev t/m
printf '%s\n' t/m/x/y t/m/z >expected
sort out >got
same_file expected got
