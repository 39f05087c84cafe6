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
#
# stallfs_mount passes any stallfs option on, also --rule ACTION:OPS:GLOB,
# --congest KNEE:MS and --count FILE (see tests/stallfs.c).  A mounted
# stallfs is switched with these; each returns only once stallfs has
# acknowledged the switch on its stderr (./stallfs.log):
#
#   stallfs_freeze MNT        # every request from now on hangs (--hang-mode)
#   stallfs_thaw MNT          # what the freeze held is answered; serving again
#   stallfs_release MNT       # --hang and hang rules end; what they held is
#                             # performed and answered
#   stallfs_count MNT         # a mount with --count FILE writes FILE now
#
# stallfs_call OUT OP PATH [PATH2] starts one system call in the background
# and writes what it got (ok, EINTR...) to OUT, for tests of stallfs itself.

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

# _stallfs_pid MNT: the pid of the stallfs this test mounted at MNT.
_stallfs_pid() {
	printf '%s' "$_stallfs_list" | while read -r _p _m; do
		[ "$_m" = "$1" ] && echo "$_p"
	done | tail -n 1
}

# _stallfs_signal MNT SIGNAL WHAT: sends SIGNAL to the stallfs of MNT and
# waits (10 s at most) until it acknowledges with the line
# "stallfs: PID: WHAT" on its stderr, which must be a file.
_stallfs_signal() {
	_spid=$(_stallfs_pid "$1")
	[ -n "$_spid" ] || fail "stallfs $3: $1 is not mounted by this test"
	_slog=/proc/$_spid/fd/2
	[ -f "$_slog" ] || fail "stallfs $3: stallfs $_spid's stderr is no file"
	_sack="stallfs: $_spid: $3"
	_sbefore=$(grep -c -x -F "$_sack" "$_slog")
	kill -s "$2" "$_spid" || fail "stallfs $3: cannot signal stallfs $_spid"
	_stries=0
	while [ "$(grep -c -x -F "$_sack" "$_slog")" -le "$_sbefore" ]; do
		_stries=$((_stries + 1))
		[ $_stries -le 1000 ] ||
			fail "stallfs $_spid did not say '$3' in 10 s after SIG$2"
		sleep 0.01
	done
}

# stallfs_freeze MNT: from now on every request to MNT hangs (as its
# --hang-mode says), and so does every request stallfs is delaying.
stallfs_freeze() {
	_stallfs_signal "$1" USR1 frozen
}

# stallfs_thaw MNT: what the freeze of MNT held is performed and answered,
# and new requests are served again.
stallfs_thaw() {
	_stallfs_signal "$1" USR2 thawed
}

# stallfs_release MNT: MNT's --hang directories and hang rules hang nothing
# from now on; what they held is performed and answered.
stallfs_release() {
	_stallfs_signal "$1" URG released
}

# stallfs_count MNT: the stallfs of MNT, mounted with --count FILE, writes
# FILE now and goes on (without --count, SIGHUP would end it).
stallfs_count() {
	_spid=$(_stallfs_pid "$1")
	tr '\0' '\n' <"/proc/${_spid:-0}/cmdline" 2>/dev/null |
	    grep -q -e '^--count' || fail "stallfs_count: $1 has no --count FILE"
	_stallfs_signal "$1" HUP counted
}

# stallfs_call OUT OP PATH [PATH2]: starts one system call on PATH in the
# background (its pid in STALLFS_CALL_PID), with SIGALRM due after 1 s and
# handlers for SIGALRM, SIGTERM, SIGINT, SIGHUP and SIGUSR1, so that only
# SIGKILL ends it; when the call returns it writes to OUT "ok" (read: "ok
# BYTES") or the errno's name (EINTR, EIO...).  OP is open (for reading),
# read (opens, then reads), create (opens for writing, creating), write
# (opens for writing, creating, then writes a line), fsync (opens for
# writing, then fsyncs), stat, readdir, mkdir, unlink, rename (PATH to
# PATH2) or link (PATH2 a new name of PATH).  Needs perl.
stallfs_call() {
	perl -MPOSIX -MFcntl -MIO::Handle -e '
		my ($out, $op, $path, $path2) = @ARGV;
		for my $s (SIGALRM, SIGTERM, SIGINT, SIGHUP, SIGUSR1) {
			sigaction($s, POSIX::SigAction->new(sub {}));
		}
		my ($fh, $buf, $ok, $what);
		my %open = (open => O_RDONLY, read => O_RDONLY,
		    create => O_WRONLY | O_CREAT, write => O_WRONLY | O_CREAT,
		    fsync => O_WRONLY);
		alarm 1;
		if (exists $open{$op}) {
			$ok = sysopen($fh, $path, $open{$op}, 0644);
			$ok = defined($what = sysread($fh, $buf, 65536))
			    if $ok && $op eq "read";
			$ok = defined(syswrite($fh, "a line\n"))
			    if $ok && $op eq "write";
			$ok = $fh->sync if $ok && $op eq "fsync";
		} elsif ($op eq "stat") {
			$ok = stat($path);
		} elsif ($op eq "readdir") {
			$ok = opendir($fh, $path);
			$ok = defined(readdir($fh)) if $ok;
		} elsif ($op eq "mkdir") {
			$ok = mkdir($path);
		} elsif ($op eq "unlink") {
			$ok = unlink($path);
		} elsif ($op eq "rename") {
			$ok = rename($path, $path2);
		} elsif ($op eq "link") {
			$ok = link($path, $path2);
		} else {
			die "stallfs_call: unknown operation $op\n";
		}
		my ($err) = grep { $!{$_} } keys %!;
		my $said = $ok ? "ok" . (defined $what ? " $what" : "") :
		    ($err // "error");
		open(my $o, ">", $out) or die "$out: $!\n";
		print $o "$said\n";
	' "$@" &
	# shellcheck disable=SC2034  # for the caller
	STALLFS_CALL_PID=$!
}
