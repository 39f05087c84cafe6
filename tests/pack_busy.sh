#!/bin/sh
# A leaf another run is consolidating is left to it: named, counted as busy,
# exit 1, its files untouched; once that run is gone, the next run finishes
# the leaf from the claim it left.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --entities 1 --types 1 --records 400
source_records root >before.records
held=root/e0001/audit/2024-03-01
# json-merge blocked writing into a fifo: a live claim on $held.
mkfifo fifo
"$BIN/json-merge" "$held" >fifo 2>/dev/null &
merge=$!
exec 3<fifo
n=0
until [ -f "$held/.consolidated.jsonl.journal" ]; do
	n=$((n + 1))
	[ $n -gt 100 ] && fail "json-merge made no claim"
	sleep 0.05
done
find "$held" -name '*.txt' | sort >held.before

expect_status 1 "$BIN/leafpack" --stats=json root
grep -q "$held: busy" err || fail "the busy leaf is not named: $(cat err)"
tail -n 1 err | jq -e '.leaves_busy == 1 and .leaves_consolidated == 1' \
    >/dev/null || fail "stats: $(tail -n 1 err)"
find "$held" -name '*.txt' | sort >held.after
same_file held.before held.after
[ -f "$held/consolidated.jsonl" ] && fail "the busy leaf was written"

# The holder dies (SIGPIPE when the fifo closes); its claim is taken over.
exec 3<&-
wait $merge
expect_status 0 "$BIN/leafpack" root
check_consolidated root before.records
exit 0
