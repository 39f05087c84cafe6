#!/bin/sh
# -P beyond the descriptor limit: leafpack raises its soft RLIMIT_NOFILE to
# the hard one, and cuts -P to the slots that fit (4 descriptors a slot, 24
# for the rest of the run), saying so once on stderr, instead of failing
# leaves with "Too many open files" and exiting 4.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

# ulimit -n is not POSIX, but dash, bash and busybox sh have it.
# shellcheck disable=SC3045
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge 400 ] ||
    skip "needs a hard limit of 400 open files, has $hard"

gen root --entities 10 --types 2 --dates 4 --files 2 --records 3
source_records root >before.records

# Hard and soft limit 64: 10 slots fit.
# shellcheck disable=SC3045
(ulimit -n 64 && exec "$BIN/leafpack" --min-age 0 --no-adapt -P 64 \
    --stats=json root) >out 2>err
st=$?
[ "$st" -eq 0 ] || fail "ulimit -n 64: status $st: $(grep -v '^{' err | head)"
! grep -q 'open files' err || fail "ulimit -n 64: $(grep 'open files' err)"
[ "$(grep -c 'descriptor limit' err)" -eq 1 ] ||
    fail "ulimit -n 64: not said once: $(cat err)"
grep -q '^leafpack: -P 64: the descriptor limit (64) fits 10 slots: running 10$' \
    err || fail "ulimit -n 64: $(head -n 1 err)"
tail -n 1 err | jq -e '.leaves_consolidated == 80 and .leaves_failed == 0' \
    >/dev/null || fail "ulimit -n 64: stats: $(tail -n 1 err)"
output_records root >after.records
same_file before.records after.records

# Soft limit 64 under a higher hard one: raised, every slot runs, nothing
# is said.
rm -rf root
gen root --entities 10 --types 2 --dates 4 --files 2 --records 3
# shellcheck disable=SC3045
(ulimit -Sn 64 && exec "$BIN/leafpack" --min-age 0 --no-adapt -P 64 \
    --stats=json root) >out 2>err
st=$?
[ "$st" -eq 0 ] || fail "ulimit -Sn 64: status $st: $(head err)"
! grep -q 'open files\|descriptor limit' err ||
    fail "ulimit -Sn 64: $(grep -v '^{' err | head)"
tail -n 1 err | jq -e '.leaves_consolidated == 80' >/dev/null ||
    fail "ulimit -Sn 64: stats: $(tail -n 1 err)"
output_records root >after.records
same_file before.records after.records
exit 0
