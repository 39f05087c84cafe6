#!/bin/sh
# leafpack's status line on a slow share (stallfs, 2 ms a request): on an
# 80-column terminal every drawing fits in 79 columns and still shows the
# leaves, the rates, the latency and the slots, and, once the scan is done,
# the time left; forced onto a file with --progress it is drawn whole, with
# every field.  Either way the records end up exactly once.  A --hosts run
# (two jobs at once on ':') draws the jobs' totals, rates and time left.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_stallfs
command -v script >/dev/null || skip "script(1) not installed"

# run FLAG...: leafpack over a new tree of 24 leaves behind the slow share.
run() {
	rm -rf src mnt
	gen src --entities 8 --types 3 --dates 1 --files 20
	all_records src >before.records
	stallfs_mount src mnt --delay-ms 2
	"$@"
	stallfs_unmount mnt
	check_consolidated src before.records
}

# The drawings in FILE, one a line, escapes gone.
drawings() {
	tr '\r' '\n' <"$1" | sed 's/\x1b\[K//g' | grep '^leaves ' || true
}

# On a terminal of 80 columns (script(1) gives leafpack one).
run script -qec "stty cols 80 rows 24; '$BIN/leafpack' --min-age 0 -P 8 mnt >/dev/null" tty.out
drawings tty.out >tty.lines
[ -s tty.lines ] || fail "no status line on the terminal: $(cat tty.out)"
long=$(awk 'length($0) > 79' tty.lines | head -n 1)
[ -z "$long" ] || fail "a drawing wider than 79 columns: $long"
for field in 'slots [0-9]' ', [0-9]* files/s, [0-9.]*[KMG]*B/s' \
    'latency [0-9.-]'; do
	grep -q "$field" tty.lines ||
		fail "no '$field' on the terminal: $(tail -n 3 tty.lines)"
done
grep -q ', ETA [0-9]' tty.lines ||
	fail "no ETA once the scan was done: $(tail -n 3 tty.lines)"
# Nothing of a field is ever cut: each drawing ends in a whole field.
bad=$(grep -Ev '(\+|[0-9]|/s|ms|-|, ETA [0-9hms]+)$' tty.lines | head -n 1)
[ -z "$bad" ] || fail "a drawing ends inside a field: $bad"

# --progress onto a file: whole drawings, every field.
run expect_status 0 "$BIN/leafpack" --min-age 0 -P 8 --progress mnt
drawings err >log.lines
[ -s log.lines ] || fail "--progress drew nothing: $(cat err)"
grep -q 'running, slots .*, files [0-9]*, [0-9]* files/s, [0-9.]*[KMG]*B/s, in [0-9.]*[BKMG], out .*, inodes freed [0-9]*, errors 0, stalled 0, latency .* p99 ' log.lines ||
	fail "--progress lost fields: $(tail -n 2 log.lines)"

if command -v parallel >/dev/null; then
	rm -rf root tmp
	mkdir tmp
	gen root --entities 4 --types 3 --dates 1 --files 10
	all_records root >before.records
	printf '2/:\n' >hosts.txt
	TMPDIR=$PWD/tmp expect_status 0 "$BIN/leafpack" --min-age 0 \
	    --max-rate 100 -n 2 --progress --hosts hosts.txt root
	drawings err >hosts.lines
	grep -q '^leaves [0-9]*/12, jobs [0-9]/6, files [0-9]*, [0-9]* files/s, [0-9.]*[KMG]*B/s, inodes freed [0-9]*, records [0-9]*, failed 0, stalled 0, ETA [0-9]' hosts.lines ||
		fail "--hosts: $(tail -n 3 hosts.lines)"
	check_consolidated root before.records
fi
exit 0
