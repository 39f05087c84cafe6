# The readers of tree-scan's stdout and stderr see end-of-file when tree-scan
# exits, even while one of its workers is stuck in the kernel for good (an
# unkillable hung listing): both go to pipes whose readers must finish soon
# after tree-scan does.  A stuck worker holding either pipe would keep them
# open until the unmount.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/stallscan.sh"
need_stallfs

hung=e0007/events/2024-03-03
share_tree src
mnt=$PWD/mnt
find_leaves src | grep -v "^src/$hung\$" | remap src "$mnt" >expected
stallfs_mount src "$mnt" --hang-mode unkillable --hang $hung

mkfifo out.pipe err.pipe
cat out.pipe >out &
out_reader=$!
cat err.pipe >err &
err_reader=$!
timeout -k 5 60 "$BIN/tree-scan" -t 2 --retries 1 -j 4 "$mnt" \
    >out.pipe 2>err.pipe
status=$?
[ $status -eq 3 ] || fail "tree-scan exited $status, expected 3: $(cat err)"
wait_scan_procs "$mnt" 5 'd >= 1' ||
	fail "no worker is stuck in the kernel: the test shows nothing"
for reader in $out_reader $err_reader; do
	wait_gone "$reader" 10
done
sort out >got
same_file expected got
grep -F -q "tree-scan: $mnt/$hung: stalled" err ||
	fail "stderr does not name $mnt/$hung as stalled: $(cat err)"
