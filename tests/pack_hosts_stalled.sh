#!/bin/sh
# leafpack --hosts on a share where a call hangs in one leaf on the host
# that has it (stallfs: the read of its sources; the filter here only looks
# at names and metadata, so the leaf is passed on): that job's leafpack
# gives the leaf up after -t, its report names it, and the summary adds it
# up: named, in --stalled FILE, "stalled" in the totals and on the host's
# line, exit 1; every other leaf consolidated, within bounded time.  Once
# the share answers, the rerun leaves every record exactly once.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
# The default joblogs, and our temporary files, stay in the test's
# directory.
mkdir tmp && TMPDIR=$PWD/tmp && export TMPDIR
need_stallfs
need_cmd parallel

hung=e0001/audit/2024-03-02
gen src --entities 2 --types 1 --dates 2 --files 3
all_records src >before.records
stallfs_mount src mnt --rule "hang:read:$hung/part-*"
echo : >hosts.txt
start=$(date +%s)
"$BIN/leafpack" -t 1 -P 2 -n 2 --hosts hosts.txt --stalled stalled.txt \
    --stats=json mnt >run.out 2>run.err
status=$?
secs=$(($(date +%s) - start))
[ $status -eq 1 ] || { cat run.err >&2; fail "exit $status, expected 1"; }
[ $secs -le 15 ] || fail "took ${secs}s with -t 1"
grep -q "$hung: stalled: read of .*$hung/" run.err ||
    { cat run.err >&2; fail "the leaf and the call are not named"; }
grep -q "$hung\$" stalled.txt || fail "--stalled: $(cat stalled.txt)"
tail -n 1 run.err >stats.json
jq -e '.stalled == 1 and .leaves_stalled == 1 and
    (.stalled_paths[0] | endswith("'"$hung"'")) and
    .hosts[0].stalled == 1 and .leaves_consolidated == 3' stats.json \
    >/dev/null || fail "stats: $(cat stats.json)"
for leaf in $(leaves src); do
	[ "$leaf" = "src/$hung" ] && continue
	[ -f "$leaf/consolidated.jsonl" ] || fail "$leaf not consolidated"
done
stallfs_release mnt
stallfs_unmount mnt
# The processes given up on end now that the share answers; until then the
# leaf is still theirs (busy: 1).
tries=0
while :; do
	"$BIN/leafpack" --hosts hosts.txt src >out 2>err
	status=$?
	[ $status -ne 0 ] || break
	tries=$((tries + 1))
	if [ $status -ne 1 ] || [ $tries -ge 20 ]; then
		cat err >&2
		fail "the rerun exited $status"
	fi
	sleep 0.2
done
check_consolidated src before.records
echo "stalled on a host: given up in ${secs}s, then $(tail -n 1 err)"
exit 0
