# Mounting stallfs (tests/stallfs.c) in tests: a FUSE mirror of a directory
# whose chosen directories' listings hang or are slow.  Source it after
# lib.sh:
#
#   . "$LEAFPACK_TESTS/lib/stallfs.sh"
#   need_stallfs                          # skip unless root, /dev/fuse, ...
#   stallfs_mount SRC MNT [--hang REL]... [--hang-mode MODE] [--slow REL:MS]...
#                 [--delay-ms N] [--no-dtype]
#   ... use MNT (writes go through to SRC) ...
#   stallfs_unmount MNT                   # done for every mount at exit too
#
# stallfs_mount returns once MNT is mounted and sets STALLFS_PID; stallfs's
# stderr goes to ./stallfs.log.  The first mount installs traps that unmount
# every mount of the test when it exits, fails or is killed by SIGTERM,
# SIGINT or SIGHUP; a test that sets its own EXIT trap must call
# stallfs_cleanup in it.  Unmounting releases every reader stallfs blocked,
# also those stuck in uninterruptible sleep.  See tests/stallfs.c for the
# options.
#
# The mount points must not contain newlines.

# need_stallfs: skips the test unless FUSE can mount here; fails when the
# helper itself is missing (make tests builds it, as the other helpers).
need_stallfs() {
	need_root "mounting FUSE filesystems"
	[ -c /dev/fuse ] || skip "needs /dev/fuse"
	need_cmd fusermount3
	[ -x "$TESTBIN/stallfs" ] || fail "$TESTBIN/stallfs missing: run make tests"
}

_stallfs_list=
_stallfs_trapped=

# stallfs_mount SRC MNT [OPTION]...: mounts SRC at MNT (made if missing).
stallfs_mount() {
	_src=$1 _mnt=$2
	shift 2
	mkdir -p "$_mnt" || fail "cannot make $_mnt"
	if [ -z "$_stallfs_trapped" ]; then
		trap stallfs_cleanup EXIT
		trap 'exit 129' HUP
		trap 'exit 130' INT
		trap 'exit 143' TERM
		_stallfs_trapped=1
	fi
	"$TESTBIN/stallfs" --source "$_src" "$@" "$_mnt" 2>>stallfs.log &
	STALLFS_PID=$!
	_stallfs_list="$_stallfs_list$STALLFS_PID $_mnt
"
	_tries=0
	until grep -q " stallfs:$STALLFS_PID " /proc/self/mountinfo; do
		if ! kill -0 "$STALLFS_PID" 2>/dev/null; then
			cat stallfs.log >&2
			fail "stallfs could not mount $_mnt"
		fi
		_tries=$((_tries + 1))
		[ $_tries -le 100 ] || fail "stallfs did not mount $_mnt in 10 s"
		sleep 0.1
	done
}

# stallfs_unmount MNT: lazily unmounts MNT and waits for its stallfs to exit
# (killing it after 10 s), which frees every reader blocked in it; fails
# unless stallfs exits 0 (a crash or a sanitizer report is a failure).
stallfs_unmount() {
	_pid=$(printf '%s' "$_stallfs_list" | while read -r p m; do
		[ "$m" = "$1" ] && echo "$p"
	done | tail -n 1)
	[ -n "$_pid" ] || fail "stallfs_unmount: $1 is not mounted by this test"
	fusermount3 -u -z "$1" 2>/dev/null || umount -l "$1" 2>/dev/null
	_tries=0
	while kill -0 "$_pid" 2>/dev/null; do
		_tries=$((_tries + 1))
		case $_tries in
		100) kill -TERM "$_pid" ;;
		150) kill -KILL "$_pid" ;;
		esac
		sleep 0.1
	done
	wait "$_pid" 2>/dev/null
	_status=$?
	_stallfs_list=$(printf '%s' "$_stallfs_list" | while read -r p m; do
		[ "$p" = "$_pid" ] || echo "$p $m"
	done)
	[ -z "$_stallfs_list" ] || _stallfs_list="$_stallfs_list
"
	if [ $_status -ne 0 ]; then
		tail -n 20 stallfs.log >&2
		fail "stallfs of $1 exited $_status after the unmount"
	fi
}

# stallfs_cleanup: unmounts every mount of this test (the exit trap).
stallfs_cleanup() {
	_mounts=$(printf '%s' "$_stallfs_list" | while read -r _p _m; do
		echo "$_m"
	done)
	while read -r _m; do
		[ -n "$_m" ] && stallfs_unmount "$_m"
	done <<EOF
$_mounts
EOF
}
