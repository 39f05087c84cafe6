# shellcheck shell=sh
# Helpers of the tests of a share with no free inode (tests/pack_staging.sh,
# tests/crash_staging.sh): a small tmpfs the test mounts (never the root
# file system: the fill loop runs only where it mounted one), filled until
# no inode is free.  Source after lib.sh and lib/pack.sh:
#     . "$LEAFPACK_TESTS/lib/inodes.sh"

# share_mount DIR INODES: a tmpfs of INODES inodes (and 64M) on DIR, which
# it creates; unmounted at exit, also on failure.  Skips without root.
share_mount() {
	need_root "mount -t tmpfs for a share with few inodes"
	mkdir -p "$1"
	mount -t tmpfs -o "size=64m,nr_inodes=$2" leafpack-inodes "$1" \
	    2>/dev/null || skip "mount -t tmpfs not permitted"
	_inodes_mounts="${_inodes_mounts:-} $1"
	# shellcheck disable=SC2064  # the mount points, now
	trap "share_umount_all" EXIT
}

share_umount_all() {
	for m in ${_inodes_mounts:-}; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}

# share_free_inodes DIR: the free inodes of DIR's file system.
share_free_inodes() {
	stat -f -c %d "$1"
}

# share_fill DIR: creates empty files in DIR/.fill (on a tmpfs we mounted
# only) until no inode is free; fails if DIR is not one.  (Its variables
# are its own: _fill_*.)
share_fill() {
	case " ${_inodes_mounts:-} " in
	*" $1 "*) ;;
	*) fail "share_fill $1: not a tmpfs this test mounted" ;;
	esac
	mkdir -p "$1/.fill" || fail "share_fill: no room for .fill"
	_fill_n=$(share_free_inodes "$1")
	_fill_i=0
	# true, not ":": a failed redirection of a special builtin ends sh.
	while [ "$_fill_i" -le "$_fill_n" ] &&
	    { true >"$1/.fill/f$_fill_i"; } 2>/dev/null; do
		_fill_i=$((_fill_i + 1))
	done
	[ "$(share_free_inodes "$1")" -eq 0 ] ||
	    fail "share_fill: $(share_free_inodes "$1") inodes still free"
}

# share_unfill DIR N: removes N of the filler files (inodes free again).
share_unfill() {
	find "$1/.fill" -type f | head -n "$2" | xargs -r rm -f
}
