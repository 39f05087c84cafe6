#!/bin/sh
# leafpack killed with SIGKILL leaves nothing in $TMPDIR: tree-scan's list
# of stalled directories is a memory file (its --stalled /dev/fd/3), not a
# named temporary that only a run that ends can remove.  The run still
# reads that list back (pack_stalled tests what it holds).
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --entities 3 --files 6
mkdir tmp
TMPDIR=$PWD/tmp
export TMPDIR
# --max-rate 2 keeps the run going for seconds: the kill finds it at work.
"$BIN/leafpack" --min-age 0 --max-rate 2 root 2>err &
pid=$!
sleep 1
kill -0 $pid 2>/dev/null || fail "the run ended before the kill: $(cat err)"
left=$(ls -A tmp)
[ -z "$left" ] || { kill -9 $pid; fail "a name in \$TMPDIR while running: $left"; }
kill -9 $pid
wait $pid 2>/dev/null
left=$(ls -A tmp)
[ -z "$left" ] || fail "left in \$TMPDIR after SIGKILL: $left"

# And a run to its end: nothing left either, every record once.
rm -rf root
gen root --entities 3 --files 6
source_records root >before.records
expect_status 0 "$BIN/leafpack" --min-age 0 root
left=$(ls -A tmp)
[ -z "$left" ] || fail "left in \$TMPDIR after a run: $left"
output_records root >after.records
same_file before.records after.records
exit 0
