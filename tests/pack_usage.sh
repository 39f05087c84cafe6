#!/bin/sh
# leafpack's command line: usage errors exit 2 with leafpack's own usage and
# nothing else (one line saying why, no child's usage: a value a child would
# refuse is refused before anything runs) and touch nothing (--dates with no
# date in the list among them); --help and
# --version exit 0, a full stdout fails.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --entities 1 --types 1 --dates 1
tree_state root >before
expect_status 0 "$BIN/leafpack" --help
sed -n '/^usage: leafpack/,/ROOT\.\.\.$/p' out >usage
[ -s usage ] || fail "--help: no usage"
grep -q -- '--keep-sources' out || fail "--help: no options"
# The children's limits: tree-scan -j 1..256, -t up to 24 h, json-merge
# --memory of at least 1M and --key a dotted path; -P 1..1024.
for bad in '' --bogus '-P 0' '-P x' '-P 1025' '-j 0' '-j 257' '-j 500' \
    '-t 0' '-t 25h' '--min-age soon' '--memory lots' '--memory 100k' \
    '--memory 0' '--memory 1' '--key=' '--key a..b' '--output a/b' \
    '--output .' '--output=' '--stats=xml' '--staging=' \
    '--staging . --keep-sources'; do
	# shellcheck disable=SC2086
	expect_status 2 "$BIN/leafpack" $bad ${bad:+root}
	[ ! -s out ] || fail "$bad: wrote on stdout"
	# getopt(3) names the program as it was run.
	grep -v -e '^leafpack: ' -e '^/.*/leafpack: ' err >got
	same_file usage got
	[ "$(grep -c -e '^leafpack: ' -e '^/.*/leafpack: ' err)" -le 1 ] ||
	    fail "$bad: more than one reason: $(cat err)"
	[ -z "$bad" ] || grep -q 'leafpack: ' err || fail "$bad: no reason"
done
# --dates with no date in it (a script's variable that came out empty)
# would select every leaf: a usage error, with or without --leaves.
for d in '' ',' ',,'; do
	for mode in '' --leaves; do
		# shellcheck disable=SC2086 # $mode: nothing or one word
		expect_status 2 "$BIN/leafpack" $mode --dates "$d" root
		grep -q "leafpack: --dates $d: no date in the list" err ||
		    fail "--dates '$d' $mode: $(cat err)"
		[ ! -s out ] || fail "--dates '$d' $mode: wrote on stdout"
	done
done
expect_status 2 "$BIN/leafpack" --name '*' --dates '' root
tree_state root >after
same_file before after
expect_status 0 "$BIN/leafpack" --version
grep -q '^leafpack (leafpack) ' out || fail "--version: $(cat out)"
"$BIN/leafpack" --dry-run root >/dev/full 2>err
[ $? -eq 4 ] || fail "a full stdout did not fail with 4"
exit 0
