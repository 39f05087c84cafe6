# stallfs --count FILE writes what it served, for the benchmarks: on
# stallfs_count (SIGHUP) while it goes on serving, and at the unmount.  The
# JSON object has the total, each operation's count (they add up to it; a
# reader that fstats 25 times makes at least 25 getattrs), the most
# requests in flight at once (8 concurrent readers of a delayed mount make
# 8), none left in flight at the end, the requests held by a hang or a
# freeze and those answered EINTR (a hung read interrupted: both count
# it), and the first and last request times.
# FILE is replaced whole (no temporary is left behind).  Without --count,
# SIGHUP still ends stallfs.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/stallscan.sh"
not_sanitized stallfs
need_stallfs
need_cmd perl
need_cmd jq

# field FILE FILTER: the jq FILTER of FILE, failing unless FILE is JSON.
field() {
	jq -e -r "$2" "$1" >field.out 2>&1 || fail "$1: $2: $(cat field.out)"
	cat field.out
}

# holds AWK_CONDITION MESSAGE: fails with MESSAGE unless the condition holds.
holds() {
	awk "BEGIN { exit !($1) }" || fail "$2"
}

mkdir -p src/d src/hung
i=0
while [ $i -lt 8 ]; do
	i=$((i + 1))
	echo $i >src/d/f$i
done
echo h >src/hung/h

start=$(date +%s.%N)
stallfs_mount src mnt --count "$PWD/counts.json" --delay-ms 20 \
    --rule hang:read:hung/* --hang-mode interruptible
perl -e 'open(my $f, "<", $ARGV[0]) or die; stat($f) for 1 .. 25' mnt/d/f1 ||
	fail "the fstat reader failed"
# 8 readers at once, each request delayed 20 ms: 8 in flight.
pids=
i=0
while [ $i -lt 8 ]; do
	i=$((i + 1))
	perl -e 'open(my $f, "<", $ARGV[0]) or die; stat($f) for 1 .. 10' \
	    mnt/d/f$i &
	pids="$pids $!"
done
# shellcheck disable=SC2086  # one pid a word
wait $pids
stallfs_call hung.out read mnt/hung/h
wait_gone "$STALLFS_CALL_PID" 5
[ "$(cat hung.out)" = EINTR ] || fail "the hung read got $(cat hung.out)"

stallfs_count mnt
[ "$(cat mnt/d/f2)" = 2 ] || fail "stallfs does not serve after SIGHUP"
cp counts.json snapshot.json
requests=$(field snapshot.json .requests)
sum=$(field snapshot.json '[.ops[]] | add')
[ "$requests" -eq "$sum" ] || fail "requests $requests, the ops add up to $sum"
[ "$(field snapshot.json .ops.getattr)" -ge 25 ] ||
	fail "getattr: $(field snapshot.json .ops.getattr), fewer than 25"
[ "$(field snapshot.json .ops.read)" -ge 1 ] || fail "no read counted"
max=$(field snapshot.json .max_in_flight)
[ "$max" -ge 8 ] || fail "max_in_flight $max with 8 readers at once"
# The kernel may retry an interrupted read once (read_folio after
# readahead), which the pending signal interrupts at once.
hung=$(field snapshot.json .hung)
[ "$hung" -ge 1 ] || fail "hung: $hung after a hung read"
[ "$(field snapshot.json .interrupted)" -eq "$hung" ] ||
	fail "interrupted: $(field snapshot.json .interrupted), hung: $hung"
first=$(field snapshot.json .first) last=$(field snapshot.json .last)
elapsed=$(field snapshot.json .elapsed) end=$(date +%s.%N)
echo "snapshot: $requests requests, at most $max in flight, $elapsed s"
holds "$start <= $first && $first <= $last && $last <= $end" \
    "first $first, last $last not within $start..$end"
holds "$elapsed - ($last - $first) < 0.001 && $elapsed >= 0.5" \
    "elapsed $elapsed for first $first, last $last"

stallfs_unmount mnt
final=$(field counts.json .requests)
[ "$final" -gt "$requests" ] || fail "final requests $final, snapshot $requests"
[ "$final" -eq "$(field counts.json '[.ops[]] | add')" ] ||
	fail "final: the ops do not add up to requests"
[ "$(field counts.json .in_flight)" -eq 0 ] ||
	fail "in flight at the end: $(field counts.json .in_flight)"
ls counts.json.* >leftover 2>/dev/null && fail "left behind: $(cat leftover)"

# Without --count, SIGHUP ends stallfs (and its mount) as before.
stallfs_mount src mnt2
kill -s HUP "$STALLFS_PID"
tries=0
while grep -q " stallfs:$STALLFS_PID " /proc/self/mountinfo; do
	tries=$((tries + 1))
	[ $tries -le 50 ] || fail "stallfs without --count survived SIGHUP"
	sleep 0.1
done
stallfs_unmount mnt2
