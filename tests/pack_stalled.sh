#!/bin/sh
# leafpack on a share where one leaf's listing hangs (stallfs): that leaf is
# reported (stderr, --stalled FILE, --stats=json) and left untouched, every
# other leaf is consolidated, and the run ends in bounded time with exit 1.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_stallfs

gen src --entities 2 --types 1 --dates 2
hung=e0001/audit/2024-03-02
find "src/$hung" -type f | sort >hung.before
stallfs_mount src mnt --hang "$hung" --hang-mode nokill
start=$(date +%s)
"$BIN/leafpack" -t 1 --stalled stalled.txt --stats=json mnt >out 2>err
status=$?
secs=$(( $(date +%s) - start ))
[ $status -eq 1 ] || { cat err >&2; fail "exit $status, expected 1"; }
[ $secs -le 20 ] || fail "took ${secs}s with -t 1"
printf '%s\n' "mnt/$hung" >want
same_file want stalled.txt
grep -q "mnt/$hung" err || fail "the stalled leaf is not named"
# "stalled" counts the stalled directories, "stalled_paths" names them, and
# "elapsed" has three decimals, as in every program's --stats=json.
tail -n 1 err >stats.json
jq -e --arg d "mnt/$hung" '.stalled == 1 and .stalled_paths == [$d] and
    .leaves_consolidated == 3' stats.json >/dev/null ||
    fail "stats: $(cat stats.json)"
grep -Eq '"elapsed":[0-9]+\.[0-9]{3}[,}]' stats.json ||
    fail "elapsed without three decimals: $(cat stats.json)"
stallfs_unmount mnt
find "src/$hung" -type f | sort >hung.after
same_file hung.before hung.after
[ "$(find src -name consolidated.jsonl | wc -l)" -eq 3 ] ||
    fail "not every other leaf was consolidated"
exit 0
