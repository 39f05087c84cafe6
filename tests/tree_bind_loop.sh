#!/bin/sh
# A directory bind-mounted inside itself is a filesystem loop: reported
# once, counted as an error, not descended; the rest is listed.
. "$LEAFPACK_TESTS/lib.sh"
need_root "mount --bind"

mkdir -p t/a/b/loop t/a/x t/c
trap 'umount t/a/b/loop 2>/dev/null' EXIT
mount --bind t/a t/a/b/loop 2>/dev/null || skip "mount --bind not permitted"

expect_status 1 "$BIN/tree-scan" --stats=json t
printf '%s\n' t/a/x t/c >expected
sort out >got
same_file expected got
grep -qx 'tree-scan: t/a/b/loop: filesystem loop (same directory as t/a)' \
    err || fail "no loop message: $(cat err)"
tail -n 1 err | jq -e '.loops == 1 and .errors == 1' >/dev/null ||
	fail "stats: $(tail -n 1 err)"
