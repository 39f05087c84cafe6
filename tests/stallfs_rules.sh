# stallfs's --rule makes chosen operations on chosen files hang or slow down,
# the way issue 10's tests use it.  A read that hangs by a rule does what
# each hang mode says: interruptible fails with EINTR on the reader's
# SIGALRM; nokill survives every signal but SIGKILL; unkillable leaves even a
# SIGKILLed reader in state D until the unmount, which frees it; meanwhile
# another file reads.  Rules also match files made after the mount (a
# temporary like jsonl-write's, renamed by its old or its new name; a file
# created, then written), a delay rule delays only its operation on its
# files, a stallfs_release performs what hang rules held and ends them (and
# --hang), and the xattr calls pass through (and hang by a rule).
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/stallscan.sh"
not_sanitized stallfs
need_stallfs
need_cmd perl
need_cmd getfattr
need_cmd setfattr

# state PID: the process state letter.
state() {
	ps -o stat= -p "$1" | cut -c1
}

# said OUT WANT: fails unless the stallfs_call that wrote OUT got WANT.
said() {
	[ -f "$1" ] || fail "$1: the call has not returned"
	[ "$(cat "$1")" = "$2" ] || fail "$1: the call got '$(cat "$1")', not '$2'"
}

# other_reads MNT: a file no rule names reads while another hangs.
other_reads() {
	[ "$(cat "$1/ok/b.txt")" = b ] || fail "$1/ok/b.txt does not read"
}

mkdir -p src/hung src/ok src/slow src/new src/x src/listing
echo hung >src/hung/a.txt
echo b >src/ok/b.txt
echo c >src/slow/c.txt
echo y >src/x/y

# interruptible: the read (not the open) hangs, and the alarm ends it.
stallfs_mount src mnt_int --rule hang:read:hung/* --hang-mode interruptible
stallfs_call int.out read mnt_int/hung/a.txt; r=$STALLFS_CALL_PID
other_reads mnt_int
wait_gone "$r" 5
said int.out EINTR
stallfs_unmount mnt_int

# nokill: alive after its alarm and catchable signals, gone on SIGKILL.
stallfs_mount src mnt_nokill --rule hang:read:hung/* --hang-mode nokill
stallfs_call nokill.out read mnt_nokill/hung/a.txt; r=$STALLFS_CALL_PID
sleep 1.5
kill -s TERM "$r"; kill -s INT "$r"; kill -s HUP "$r"; kill -s USR1 "$r"
sleep 1
alive "$r" || fail "nokill: the reader ended on a catchable signal"
[ ! -e nokill.out ] || fail "nokill: the read returned: $(cat nokill.out)"
other_reads mnt_nokill
kill -KILL "$r"
wait_gone "$r" 3
stallfs_unmount mnt_nokill

# unkillable: in D after SIGKILL until the unmount ends it.
stallfs_mount src mnt_unk --rule hang:read:hung/* --hang-mode unkillable
stallfs_call unk.out read mnt_unk/hung/a.txt; r=$STALLFS_CALL_PID
sleep 1.5
kill -KILL "$r"
sleep 1
[ "$(state "$r")" = D ] ||
	fail "unkillable: the reader is in state '$(state "$r")' after SIGKILL, not D"
other_reads mnt_unk
stallfs_unmount mnt_unk
wait_gone "$r" 5
[ ! -e unk.out ] || fail "unkillable: the killed reader went on"

# Files made after the mount, delays, release, xattrs.
stallfs_mount src mnt --hang-mode interruptible --hang listing \
    --rule 'hang:rename:*.tmp.*' --rule hang:write:new/* \
    --rule delay=600:open:slow/* --rule hang:getxattr:x/*
# A temporary is created and written freely; renaming it hangs, and so
# does renaming another file to such a name.
echo tmp >mnt/ok/.out.jsonl.tmp.12.ab
stallfs_call rename1.out rename mnt/ok/.out.jsonl.tmp.12.ab mnt/ok/out.jsonl
r=$STALLFS_CALL_PID
stallfs_call rename2.out rename mnt/ok/b.txt mnt/ok/b.txt.tmp.1.x
wait_gone "$r" 5
wait_gone "$STALLFS_CALL_PID" 5
said rename1.out EINTR
said rename2.out EINTR
if [ ! -f src/ok/.out.jsonl.tmp.12.ab ] || [ -e src/ok/out.jsonl ] ||
    [ -e src/ok/b.txt.tmp.1.x ]; then
	fail "a hung rename was done"
fi
# A new file is created (no rule), its write hangs.
stallfs_call write.out write mnt/new/f; wait_gone "$STALLFS_CALL_PID" 5
said write.out EINTR
if [ ! -f src/new/f ] || [ -s src/new/f ]; then
	fail "new/f: not created empty"
fi

# open of slow/ takes 600 ms more, its read and other files' opens do not.
perl -MTime::HiRes=time -e '
	my $t = time;
	open(my $f, "<", $ARGV[0]) or die "$ARGV[0]: $!\n";
	my $opened = time - $t;
	my $line = <$f>;
	my $read = time - $t - $opened;
	$t = time;
	open(my $g, "<", $ARGV[1]) or die "$ARGV[1]: $!\n";
	printf "%.3f %.3f %.3f %s", $opened, $read, time - $t, $line;
' mnt/slow/c.txt mnt/ok/b.txt >times.out
read -r opened readtime other line <times.out
echo "open of slow/c.txt: $opened s, its read: $readtime s, another open: $other s"
[ "$line" = c ] || fail "slow/c.txt reads '$line'"
awk -v o="$opened" -v r="$readtime" -v p="$other" \
    'BEGIN { exit !(o >= 0.6 && o < 5 && r < 0.5 && p < 0.5) }' ||
	fail "delay=600:open:slow/*: open $opened s, read $readtime s, other open $other s"

# xattrs pass through to the source; x/*'s getxattr hangs, setxattr not.
setfattr -n user.leafpack.journal -v v1 mnt/ok/b.txt || fail "setfattr"
[ "$(getfattr --only-values -n user.leafpack.journal src/ok/b.txt)" = v1 ] ||
	fail "setxattr did not reach the source"
[ "$(getfattr --only-values -n user.leafpack.journal mnt/ok/b.txt)" = v1 ] ||
	fail "getxattr through the mount"
getfattr -d mnt/ok/b.txt >xattrs || fail "listxattr through the mount"
grep -q -F 'user.leafpack.journal="v1"' xattrs || fail "listxattr: $(cat xattrs)"
setfattr -x user.leafpack.journal mnt/ok/b.txt || fail "removexattr"
[ -z "$(getfattr -d src/ok/b.txt)" ] || fail "removexattr did not reach the source"
setfattr -n user.k -v v2 mnt/x/y || fail "setxattr of x/y"
getfattr --only-values -n user.k mnt/x/y >getx.out 2>&1 &
g=$!
sleep 1
alive "$g" || fail "getxattr of x/y returned: $(cat getx.out)"

# stallfs_release: hang rules and --hang end and what they held is done.
stallfs_call listing.out readdir mnt/listing; wait_gone "$STALLFS_CALL_PID" 5
said listing.out EINTR
stallfs_call rename3.out rename mnt/ok/.out.jsonl.tmp.12.ab mnt/ok/out.jsonl
r=$STALLFS_CALL_PID
kill -s KILL "$g"
sleep 0.5
stallfs_release mnt
wait_gone "$r" 5
said rename3.out ok
[ "$(cat src/ok/out.jsonl)" = tmp ] || fail "the released rename was not done"
stallfs_call write2.out write mnt/new/f; wait_gone "$STALLFS_CALL_PID" 5
said write2.out ok
[ "$(getfattr --only-values -n user.k mnt/x/y)" = v2 ] ||
	fail "getxattr of x/y after the release"
stallfs_call listing2.out readdir mnt/listing; wait_gone "$STALLFS_CALL_PID" 5
said listing2.out ok
stallfs_unmount mnt
