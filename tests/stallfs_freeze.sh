# stallfs_freeze makes a whole stallfs mount stop answering, as a share
# whose server froze, and stallfs_thaw brings it back.  Frozen, every
# request hangs: a new lookup, a read, a write, and a read whose delay
# (a delay rule) ran out during the freeze; in the interruptible mode a
# reader's signal fails its request with EINTR, in the unkillable mode a
# SIGKILLed reader stays in state D.  Thawed, each held request is performed
# and answered (the reads read, the write reaches the source, the killed
# reader ends), and new requests are served at once.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/stallscan.sh"
not_sanitized stallfs
need_stallfs
need_cmd perl

# state PID: the process state letter.
state() {
	ps -o stat= -p "$1" | cut -c1
}

# quiet_read FILE OUT: reads FILE in the background, no signal handled but
# the default ones, into OUT (through OUT.tmp, so OUT appears complete).
quiet_read() {
	(cat "$1" >"$2.tmp" 2>&1 && mv "$2.tmp" "$2") &
}

# finished OUT WANT SECONDS: OUT holds WANT within SECONDS.
finished() {
	_tries=0
	until [ -f "$1" ]; do
		_tries=$((_tries + 1))
		[ $_tries -le $(($3 * 10)) ] || fail "$1: not there after $3 s"
		sleep 0.1
	done
	[ "$(cat "$1")" = "$2" ] || fail "$1 holds '$(cat "$1")', not '$2'"
}

mkdir -p src/d src/slow
echo a >src/d/a
echo b >src/d/b
echo s >src/slow/s

# interruptible
stallfs_mount src mnt --hang-mode interruptible --rule delay=1500:read:slow/*
[ "$(cat mnt/d/a)" = a ] || fail "mnt/d/a does not read before the freeze"
quiet_read mnt/slow/s slow.out		# delayed 1.5 s, then frozen
sleep 0.3
stallfs_freeze mnt
quiet_read mnt/d/a a.out		# new lookups hang
quiet_read mnt/d/b b.out
(echo w >mnt/d/w && echo written >w.out) &
stallfs_call eintr.out stat mnt/d/a; r=$STALLFS_CALL_PID
sleep 2.5
for f in slow.out a.out b.out w.out; do
	[ ! -e $f ] || fail "frozen: $f returned: $(cat $f)"
done
[ -f eintr.out ] || fail "frozen: a stat with SIGALRM due did not return"
[ "$(cat eintr.out)" = EINTR ] || fail "frozen: a stat got $(cat eintr.out)"
wait_gone "$r" 1
stallfs_thaw mnt
finished slow.out s 5
finished a.out a 5
finished b.out b 5
finished w.out written 5
[ "$(cat src/d/w)" = w ] || fail "the write held by the freeze is not in src"
[ "$(cat mnt/d/b)" = b ] || fail "mnt/d/b does not read after the thaw"
# Frozen again, then unmounted: what it held fails, nothing stays blocked.
stallfs_freeze mnt
quiet_read mnt/d/a a2.out
sleep 0.5
[ ! -e a2.out ] || fail "frozen again: a read returned"
stallfs_unmount mnt

# unkillable: a SIGKILLed reader stays in D until the thaw ends it.
stallfs_mount src mnt_unk --hang-mode unkillable
stallfs_freeze mnt_unk
stallfs_call unk.out read mnt_unk/d/a; r=$STALLFS_CALL_PID
sleep 1.5
kill -KILL "$r"
sleep 1
[ "$(state "$r")" = D ] ||
	fail "unkillable: the reader is in state '$(state "$r")' after SIGKILL, not D"
stallfs_thaw mnt_unk
wait_gone "$r" 5
[ ! -e unk.out ] || fail "unkillable: the killed reader went on"
[ "$(cat mnt_unk/d/a)" = a ] || fail "mnt_unk/d/a does not read after the thaw"
stallfs_unmount mnt_unk
