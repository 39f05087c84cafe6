#!/bin/sh
# Names with spaces, newlines and bytes that are not UTF-8.  With -0 every
# leaf is printed; without it a path holding a newline is not printed, it is
# named (escaped) on stderr and the exit status is 1.
. "$LEAFPACK_TESTS/lib.sh"

nl=$(printf 'nl\nx')
bad=$(printf '\377\376')
mkdir -p "t/$nl/inner" "t/with space/leaf one" "t/$bad" t/plain \
    "t/ lead/tab	in" "t/x/$nl"

printf '%s\0' "t/$nl/inner" "t/with space/leaf one" "t/$bad" t/plain \
    "t/ lead/tab	in" "t/x/$nl" | sort -z >expected0
expect_status 0 "$BIN/tree-scan" -0 t
sort -z out >got
same_file expected0 got
expect_status 0 "$BIN/tree-scan" -0 --sort t
same_file expected0 out

printf '%s\n' "t/with space/leaf one" "t/$bad" t/plain "t/ lead/tab	in" |
    sort >expected
expect_status 1 "$BIN/tree-scan" t
sort out >got
same_file expected got
grep -qF 't/nl\nx/inner: name contains a newline' err ||
	fail "not named on stderr: $(cat err)"
grep -qF 't/x/nl\nx: name contains a newline' err ||
	fail "not named on stderr: $(cat err)"
[ "$(wc -l <err)" -eq 2 ] || fail "stderr: $(cat err)"
expect_status 1 "$BIN/tree-scan" --stats=json t
tail -n 1 err | jq -e '.errors == 2 and .leaves == 4' >/dev/null ||
	fail "stats: $(tail -n 1 err)"
