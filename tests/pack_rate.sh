#!/bin/sh
# --max-rate N consumes at most N source files per second over the run,
# with no burst: 48 sources at 16 per second take at least three seconds
# (the last leaf starts no sooner than its files allow), and every record
# still ends up exactly once.  With --hosts the rate is the run's: each of
# the jobs that run at once gets its part (two jobs at once on ':', 8 each).
# The rate is a usage error outside 1 to 10^9.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --entities 3 --types 2 --dates 2 --files 4
source_records root >before.records
expect_status 0 "$BIN/leafpack" --max-rate 16 -P 4 --stats=json root
tail -n 1 err | jq -e '.files_consumed == 48 and .elapsed >= 3' \
    >/dev/null || fail "the rate: $(tail -n 1 err)"
check_consolidated root before.records

if command -v parallel >/dev/null; then
	rm -rf root
	gen root --entities 3 --types 2 --dates 2 --files 4
	mkdir tmp
	printf '2/:\n' >hosts.txt
	TMPDIR=$PWD/tmp expect_status 0 "$BIN/leafpack" --max-rate 16 -n 3 \
	    --joblog jobs.log --hosts hosts.txt root
	grep -q "'--max-rate' '8' " jobs.log ||
		fail "the jobs' rate: $(cat jobs.log)"
	grep -q "'--max-rate' '16'" jobs.log && fail "a job at the whole rate"
fi

for bad in 0 -1 x 1000000001; do
	expect_status 2 "$BIN/leafpack" --max-rate "$bad" root
	grep -q '^usage: leafpack' err || fail "--max-rate $bad: $(cat err)"
done
exit 0
