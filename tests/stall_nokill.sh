# tree-scan over a share with two hung directories, where a hung listing
# ignores every signal but SIGKILL, as on a hard NFS mount: bounded time,
# every other leaf, the stalled directories named, exit 3, no worker left but
# those stuck in the kernel (see stall_scan in lib/stallscan.sh).
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/stallscan.sh"
need_stallfs

stall_scan nokill
