#!/bin/sh
# leafpack's command line: usage errors exit 2 with "usage:" and touch
# nothing, --help and --version exit 0, a full stdout fails.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --entities 1 --types 1 --dates 1
tree_state root >before
for bad in '' --bogus '-P 0' '-P x' '-j 0' '-t 0' '--min-age soon' \
    '--memory lots' '--output a/b' '--stats=xml'; do
	# shellcheck disable=SC2086
	expect_status 2 "$BIN/leafpack" $bad ${bad:+root}
	grep -q '^usage: leafpack' err || fail "$bad: no usage line"
done
tree_state root >after
same_file before after
expect_status 0 "$BIN/leafpack" --help
grep -q '^usage: leafpack' out || fail "--help: no usage"
grep -q -- '--keep-sources' out || fail "--help: no options"
expect_status 0 "$BIN/leafpack" --version
grep -q '^leafpack (leafpack) ' out || fail "--version: $(cat out)"
"$BIN/leafpack" --dry-run root >/dev/full 2>err
[ $? -eq 4 ] || fail "a full stdout did not fail with 4"
exit 0
