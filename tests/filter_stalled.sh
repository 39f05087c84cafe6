#!/bin/sh
# leaf-filter on a share where one leaf's listing hangs (stallfs), in each
# hang mode: the leaf is named as stalled on stderr and in --stalled FILE,
# the others are printed, exit 3, within the time limit, whatever the hung
# reader does with signals (unkillable: the stuck worker is abandoned).
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_stallfs

gen src --entities 1 --types 1 --dates 3
for mode in interruptible nokill unkillable; do
	stallfs_mount src mnt --hang e0001/audit/2024-03-02 --hang-mode $mode
	printf '%s\n' mnt/e0001/audit/2024-03-01 mnt/e0001/audit/2024-03-02 \
	    mnt/e0001/audit/2024-03-03 >in
	start=$(date +%s)
	# Output to files: a stuck worker must not matter, but if it held
	# them a pipe would never end.
	"$BIN/leaf-filter" -t 1 --stalled stalled.txt <in >out 2>err
	status=$?
	secs=$(( $(date +%s) - start ))
	[ $status -eq 3 ] || { cat err >&2; fail "$mode: exit $status"; }
	[ $secs -le 10 ] || fail "$mode: took ${secs}s with -t 1"
	printf '%s\n' mnt/e0001/audit/2024-03-01 mnt/e0001/audit/2024-03-03 \
	    >want
	same_file want out
	printf '%s\n' mnt/e0001/audit/2024-03-02 >want
	same_file want stalled.txt
	grep -q 'mnt/e0001/audit/2024-03-02: stalled' err ||
	    fail "$mode: the stalled leaf is not named: $(cat err)"
	stallfs_unmount mnt
done
exit 0
