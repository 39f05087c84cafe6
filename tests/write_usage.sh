#!/bin/sh
# jsonl-write's command line: --help and --version on stdout (checked at
# exit), usage errors on stderr with status 2, nothing created.
. "$LEAFPACK_TESTS/lib.sh"

expect_status 0 "$BIN/jsonl-write" --help
grep -q '^usage: jsonl-write \[--filtered\] \[--remove-sources\] \[--skip-unchanged\]' out ||
    fail "--help: $(cat out)"
for o in --filtered --remove-sources --stats --help --version; do
	grep -q -- "^ *$o" out || fail "--help does not list $o"
done
expect_status 0 "$BIN/jsonl-write" --version
grep -q '^jsonl-write (leafpack) [0-9]' out || fail "--version: $(cat out)"
# shellcheck disable=SC2016  # $1 is the inner shell's
expect_status 4 sh -c '"$1" --help >/dev/full' sh "$BIN/jsonl-write"

mkdir d
for args in "--bogus d/x" "d/x d/y" "--stats=xml d/x" "d/" "d/." "d/.."; do
	# shellcheck disable=SC2086
	expect_status 2 "$BIN/jsonl-write" $args </dev/null
	grep -q '^usage: jsonl-write ' err || fail "'$args': $(cat err)"
	[ ! -s out ] || fail "'$args' wrote on stdout"
done
[ -z "$(ls -A d)" ] || fail "something was created: $(ls -A d)"

# Not a directory, or one that does not exist: status 4.
echo 1 | expect_status 4 "$BIN/jsonl-write" nowhere/x.jsonl
grep -q '^jsonl-write: nowhere: ' err || fail "$(cat err)"

# --stats: one line of text, or one JSON object.
printf '1\n2\n' | "$BIN/jsonl-write" --stats=json d/x 2>stats || fail "--stats=json"
jq -e '.records == 2 and .bytes == 4' stats >/dev/null || fail "stats: $(cat stats)"
printf '1\n' | "$BIN/jsonl-write" --stats d/x 2>stats || fail "--stats"
grep -q '^jsonl-write: d/x: 1 records, 2 bytes, ' stats || fail "stats: $(cat stats)"
