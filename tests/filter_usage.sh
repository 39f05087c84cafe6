#!/bin/sh
# leaf-filter's command line: usage errors exit 2 with "usage:", --help and
# --version exit 0, a full stdout fails.
. "$LEAFPACK_TESTS/lib.sh"

for bad in --bogus '--min-files 0' '--min-files x' '--min-age soon' \
    '-t 0' '--output a/b' '--stats=xml' extra-operand; do
	# shellcheck disable=SC2086
	expect_status 2 "$BIN/leaf-filter" $bad </dev/null
	grep -q '^usage: leaf-filter' err || fail "$bad: no usage line"
done
# --output is checked as in every program that takes it.
expect_status 2 "$BIN/leaf-filter" --output a/b </dev/null
grep -q '^leaf-filter: --output a/b: not a plain file name' err ||
	fail "--output a/b: $(cat err)"
expect_status 0 "$BIN/leaf-filter" --help
grep -q '^usage: leaf-filter' out || fail "--help: no usage"
grep -q -- '--names-from' out || fail "--help: no options"
expect_status 0 "$BIN/leaf-filter" --version
grep -q '^leaf-filter (leafpack) ' out || fail "--version: $(cat out)"

mkdir -p t
echo '[]' >t/1.txt
echo t | "$BIN/leaf-filter" --min-age 0 >/dev/full 2>err
[ $? -eq 4 ] || fail "a full stdout did not fail with 4"
grep -q 'stdout' err || fail "a full stdout was not reported"
exit 0
