# stallfs's three hang modes do what the stalled-share tests rely on, shown
# with plain readers (perl, which can catch signals around a readdir):
# interruptible listings fail with EINTR on the reader's SIGALRM; nokill
# listings survive every signal but SIGKILL; unkillable listings leave even
# SIGKILLed readers in uninterruptible sleep (state D) until the unmount,
# which frees them.  Healthy directories keep working meanwhile.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/stallscan.sh"
need_stallfs
need_cmd perl

# reader DIR OUT: lists DIR with SIGALRM armed for 1 s and handlers for the
# usual termination signals, then writes to OUT "EINTR" or the entry count.
reader() {
	perl -MPOSIX -e '
		for my $s (SIGALRM, SIGTERM, SIGINT, SIGHUP, SIGUSR1) {
			sigaction($s, POSIX::SigAction->new(sub {}));
		}
		opendir(my $d, $ARGV[0]) or die "opendir: $!\n";
		alarm 1;
		my @e = readdir $d;
		my $err = $! + 0;
		open(my $o, ">", $ARGV[1]) or die;
		print $o ($err == EINTR ? "EINTR" : scalar(@e)), "\n";
	' "$1" "$2" &
}

# state PID: the process state letter.
state() {
	ps -o stat= -p "$1" | cut -c1
}

# healthy_ok MNT: a directory that is not hung still lists.
healthy_ok() {
	[ "$(ls "$1/ok")" = f ] || fail "$1/ok does not list while another hangs"
}

mkdir -p src/hung/sub src/ok
touch src/ok/f src/hung/g

# interruptible: both of two concurrent readers get EINTR.
stallfs_mount src mnt_int --hang hung --hang-mode interruptible
reader mnt_int/hung int.1; r1=$!
reader mnt_int/hung int.2; r2=$!
healthy_ok mnt_int
wait_gone $r1 5
wait_gone $r2 5
[ "$(cat int.1 int.2)" = "EINTR
EINTR" ] || fail "interruptible: readers got '$(cat int.1 int.2)', not EINTR"
stallfs_unmount mnt_int

# nokill: the reader survives SIGALRM, SIGTERM, SIGINT, SIGHUP, SIGUSR1 and
# ends at once on SIGKILL, without the unmount.  A second reader of the same
# directory is not stuck behind the first on the kernel's directory lock
# (stallfs asks for parallel directory operations): SIGKILL ends it alone.
stallfs_mount src mnt_nokill --hang hung --hang-mode nokill
reader mnt_nokill/hung nokill.1; r1=$!
reader mnt_nokill/hung nokill.2; r2=$!
sleep 1.5
for sig in TERM INT HUP USR1; do
	kill -s $sig $r1 $r2
done
sleep 1
for r in $r1 $r2; do
	alive "$r" || fail "nokill: reader $r ended on a catchable signal"
done
if [ -e nokill.1 ] || [ -e nokill.2 ]; then
	fail "nokill: a listing returned: $(cat nokill.*)"
fi
healthy_ok mnt_nokill
kill -KILL $r2
wait_gone $r2 3
alive $r1 || fail "nokill: killing the second reader ended the first"
kill -KILL $r1
wait_gone $r1 3
stallfs_unmount mnt_nokill

# unkillable: a reader whose request stallfs holds, and a second reader that
# blocks on the kernel's directory lock, both stay in D state after SIGKILL
# until the unmount ends them.
stallfs_mount src mnt_unk --hang hung --hang-mode unkillable
reader mnt_unk/hung unk.1; r1=$!
sleep 1.5
reader mnt_unk/hung unk.2; r2=$!
sleep 1.5
healthy_ok mnt_unk
kill -KILL $r1 $r2
sleep 2
for r in $r1 $r2; do
	s=$(state "$r")
	[ "$s" = D ] || fail "unkillable: reader $r is in state '$s' after SIGKILL, not D"
done
echo "unkillable: readers in D after SIGKILL, waiting in" \
    "$(cat /proc/$r1/wchan) and $(cat /proc/$r2/wchan)"
stallfs_unmount mnt_unk
wait_gone $r1 5
wait_gone $r2 5
if [ -e unk.1 ] || [ -e unk.2 ]; then
	fail "unkillable: a killed reader went on"
fi
