# A healthy stallfs mount mirrors its source: the same names, types and
# bytes, and tree-scan over it prints exactly the leaves find sees in the
# source; also when the mount reports every entry as DT_UNKNOWN, so that
# tree-scan must stat to tell directories from the rest.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/stallscan.sh"
need_stallfs

share_tree src
mkdir src/e0001/empty
ln -s ../e0002 src/e0001/link_to_dir
ln -s audit/2024-03-01 src/e0003/link_to_leaf
mnt=$PWD/mnt
(cd src && find . -printf '%y %p\n' | sort) >expected_tree
find_leaves src | remap src "$mnt" >expected
for dtype in --dtype --no-dtype; do
	if [ $dtype = --dtype ]; then
		stallfs_mount src "$mnt"
	else
		stallfs_mount src "$mnt" --no-dtype
	fi
	(cd "$mnt" && find . -printf '%y %p\n' | sort) >got_tree
	same_file expected_tree got_tree
	diff -r --no-dereference src "$mnt" >/dev/null ||
		fail "$dtype: file contents differ through the mount"
	expect_status 0 "$BIN/tree-scan" -j 4 "$mnt"
	sort out >got
	same_file expected got
	stallfs_unmount "$mnt"
done
