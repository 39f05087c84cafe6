#!/bin/sh
# A directory that cannot be read is named on stderr with the reason, the
# rest of the tree is still listed, and the exit status is 1.
. "$LEAFPACK_TESTS/lib.sh"

mkdir -p t/a/x t/locked/y t/c
chmod 0 t/locked
chmod 755 .
if [ "$(id -u)" -eq 0 ]; then
	# Root reads anything: check EACCES as nobody.
	as_nobody test -r t/locked && skip "cannot drop privileges"
fi
expect_status 1 as_nobody "$BIN/tree-scan" t
printf '%s\n' t/a/x t/c >expected
sort out >got
same_file expected got
grep -qx 'tree-scan: t/locked: Permission denied' err ||
	fail "no error for t/locked: $(cat err)"
[ "$(wc -l <err)" -eq 1 ] || fail "more than one message: $(cat err)"

# An unreadable ROOT, beside a readable one, with the stats.
expect_status 1 as_nobody "$BIN/tree-scan" --stats=json t/locked t/c
printf '%s\n' t/c >expected
same_file expected out
tail -n 1 err | jq -e '.errors == 1 and .leaves == 1 and .dirs == 1' \
    >/dev/null || fail "stats: $(tail -n 1 err)"
chmod 755 t/locked
