#!/bin/sh
# On a share whose latency climbs with the requests in flight (stallfs
# --congest: each request beyond 6 at once waits 4 ms more), leafpack -P 32
# halves its slots when the latency climbs and settles near the knee
# instead of at -P, and says so; with --no-adapt it keeps all 32 busy.
# Either way every record ends up exactly once and every source is gone.
# run.sh: alone (it times what load changes)
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_stallfs

# run ENTITIES FLAG...: leafpack -P 32 over the congested share of a new
# tree of 2 x ENTITIES leaves.
run() {
	rm -rf src mnt
	gen src --entities "$1" --types 2 --dates 1 --files 4
	shift
	source_records src >before.records
	stallfs_mount src mnt --delay-ms 1 --congest 6:4
	expect_status 0 "$BIN/leafpack" -P 32 "$@" mnt
	stallfs_unmount mnt
	check_consolidated src before.records
}

# Long enough for the latency to be seen, and acted on, a few times: many
# short leaves, since each halving is judged once the leaves in flight are
# down to the new number (40 leaves of 6 files ended, at times, before the
# second).
run 30
fewest=$(sed -n 's/.*share latency .* median, .* p99; 32 slots, down to \([0-9]*\) while the share was slow$/\1/p' err)
[ -n "$fewest" ] || fail "the summary: $(cat err)"
echo "settled at $fewest slots" >&2
# Under the sanitizers every process runs several times slower, so fewer
# requests are in flight and the share may never climb past its knee: the
# slots then rightly stay up.  There only the records are checked.
sanitized || [ "$fewest" -le 8 ] ||
	fail "did not settle near the knee: $(cat err)"
run 3 --no-adapt --stats=json
tail -n 1 err | jq -e '.slots_fewest == 32' >/dev/null ||
    fail "--no-adapt: $(tail -n 1 err)"
exit 0
