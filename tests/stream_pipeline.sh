#!/bin/sh
# The leaf stream: json-merge without DIR reads leaf directories on stdin and
# jsonl-write without DIR/NAME commits each of them, so that
#     tree-scan ROOT | json-merge | jsonl-write --remove-sources
# consolidates a whole tree with one pair of processes.  Every leaf ends as
# the per-leaf pair would leave it; a bad leaf costs that leaf only; a
# stream cut off, altered or not a leaf stream at all commits nothing.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"
need_cmd jq

mkleaf root/a 5 20 s
mkleaf root/b 3 40 s
mkleaf "root/sp ace" 4 10 s
mkleaf "$(printf 'root/new\nline')" 2 10 s
mkleaf root/partial 3 10 s
printf '[{"timestamp":"2024-01-01T00:00:00Z",]' >root/partial/zbad.txt
touch -d '-1 hour' root/partial/zbad.txt
mkleaf root/badout 2 10 s
printf '{"timestamp":"x"}\nnot json\n' >"root/badout/$OUT"
for d in root/*; do
	records "$d" >"want.$(printf "%s" "${d#root/}" | tr "\n " "__")" 2>/dev/null
done
cp -a root/badout badout.before

# NUL-delimited, names with a space and a newline, a partial leaf (an
# invalid source stays) and a failed one (an invalid output) in the middle.
"$BIN/tree-scan" -0 --sort root >leaves ||
    fail "tree-scan: $(cat leaves)"
{
	"$BIN/json-merge" -0 --min-age 0 <leaves 2>merge.err
	echo $? >merge.status
} | "$BIN/jsonl-write" --remove-sources --stats=json >reports 2>write.err
write_status=$?
[ "$(cat merge.status)" -eq 4 ] || fail "json-merge: $(cat merge.status) $(cat merge.err)"
[ "$write_status" -eq 4 ] || fail "jsonl-write: $write_status $(cat write.err)"
grep -q "root/badout/$OUT:2:2: " merge.err || fail "no message for badout: $(cat merge.err)"
grep -q "root/partial/zbad.txt:1:" merge.err || fail "no message for zbad: $(cat merge.err)"
[ ! -s write.err ] || fail "jsonl-write said: $(cat write.err)"
for d in a b "sp ace" "$(printf 'new\nline')"; do
	check_done "root/$d" "want.$(printf '%s' "$d" | tr '\n ' '__')"
done
# The partial leaf: its valid sources consolidated, the invalid one kept.
jq -c . root/partial/$OUT | sort >got
[ "$(wc -l <got)" -eq 30 ] || fail "partial: $(wc -l <got) records"
[ "$(ls root/partial)" = "$(printf '%s\n%s' "$OUT" zbad.txt)" ] ||
    fail "partial leaf holds: $(ls root/partial)"
# The failed leaf: untouched, and no claim left that jsonl-write could use.
diff -r badout.before root/badout >/dev/null || fail "badout was changed"

# One report per leaf, in the order of the leaves.
[ "$(wc -l <reports)" -eq 6 ] || fail "reports: $(cat reports)"
jq -e -s 'map(.status) == [0,0,4,0,1,0]' reports >/dev/null ||
    fail "statuses: $(jq -c '[.output, .status]' reports)"
jq -e -s '.[0] | .output == "root/a/consolidated.jsonl" and .records == 100
    and .sources_removed == 5 and .merge.sources == 5 and (.unchanged | not)' \
    reports >/dev/null || fail "report of a: $(head -n 1 reports)"

# A second run: nothing new, so nothing is rewritten and no claim is left.
ls -i root/a/$OUT >inode.before
printf 'root/a\nroot/b\n' | "$BIN/json-merge" --min-age 0 |
    "$BIN/jsonl-write" --remove-sources --stats=json >reports2 ||
    fail "rerun failed"
jq -e -s 'length == 2 and all(.unchanged and .status == 0)' reports2 \
    >/dev/null || fail "rerun: $(cat reports2)"
# shellcheck disable=SC2012  # ls -i: the inode number, of a plain name
ls -i root/a/$OUT | cmp -s - inode.before || fail "rerun rewrote root/a"
[ -z "$(leftovers root/a)" ] || fail "rerun left: $(leftovers root/a)"

# Not a leaf stream: status 4, a message, nothing created.
mkdir c
mkleaf c/x 2 5 s
echo '{"a":1}' | expect_status 4 "$BIN/jsonl-write"
grep -q "stdin: byte 0: not json-merge's leaf stream" err || fail "$(cat err)"

# A stream cut off inside a leaf (json-merge died): nothing committed, no
# temporary left, the run ends with status 4.
records c/x >want.x
"$BIN/json-merge" --min-age 0 <<EOF >stream
c/x
EOF
head -c 500 stream >stream.cut
expect_status 4 "$BIN/jsonl-write" --remove-sources <stream.cut
grep -q "json-merge's stream ends inside the leaf" err || fail "$(cat err)"
[ -z "$(find c/x -name ".$OUT.tmp.*")" ] || fail "a temporary is left"
# shellcheck disable=SC2015,SC2012  # fails unless both hold; plain names
[ ! -e c/x/$OUT ] && [ "$(ls c/x | wc -l)" -eq 2 ] || fail "c/x changed"

# Records altered on the way: the claim's hash refuses them.
sed 's/"id":"s01-1"/"id":"s01-X"/' stream >altered
cmp -s stream altered && fail "the test did not alter the stream"
expect_status 4 "$BIN/jsonl-write" --remove-sources <altered
grep -q "is not what json-merge wrote: nothing written" err || fail "$(cat err)"
# shellcheck disable=SC2015,SC2012  # fails unless both hold; plain names
[ ! -e c/x/$OUT ] && [ "$(ls c/x | wc -l)" -eq 2 ] || fail "c/x changed"

# The stream itself, whole, commits (the claim json-merge left is merged).
expect_status 0 "$BIN/jsonl-write" --remove-sources <stream
check_done c/x want.x
exit 0
