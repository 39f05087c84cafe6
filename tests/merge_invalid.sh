# A bad source (empty, truncated, garbage, not an array, invalid UTF-8,
# trailing comma, leading zero, NaN, comment, raw control character, text
# after the closing bracket) is not consumed: none of its records come out,
# it stays byte-identical, it is named as path:line:column: reason, the
# valid sources are still merged, and the status is 1.  --strict fails the
# whole leaf instead: status 4 and nothing on stdout.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd jq

mkdir leaf
printf '[{"timestamp":"2024-03-01T00:00:01Z","ok":1}]' >leaf/good1.txt
printf '[{"timestamp":"2024-03-01T00:00:02Z","ok":2}]' >leaf/good2.txt
: >leaf/bad-empty.txt
printf '[{"timestamp":"2024-03-01T00:00:03Z","bad":1},{"a":' >leaf/bad-truncated.txt
printf 'garbage\n' >leaf/bad-garbage.txt
printf '{"timestamp":"2024-03-01T00:00:04Z","bad":2}' >leaf/bad-object.txt
printf '[{"bad":3,"s":"\377"}]' >leaf/bad-utf8.txt
printf '[{"bad":4},]' >leaf/bad-trailing-comma.txt
printf '[{"bad":5,"n":012}]' >leaf/bad-leading-zero.txt
printf '[{"bad":6,"n":NaN}]' >leaf/bad-nan.txt
printf '[{"bad":7} /* no */]' >leaf/bad-comment.txt
printf '[{"bad":8,"s":"a\tb"}]' >leaf/bad-control.txt
printf '[{"bad":9}] x' >leaf/bad-after.txt
printf '[{"bad":10},\n {"bad":11}\n ,\n  oops]' >leaf/bad-line3.txt
sums=$(cd leaf && cksum ./*)

expect_status 1 "$BIN/json-merge" --min-age 0 --stats=json leaf
printf '%s\n' '{"timestamp":"2024-03-01T00:00:01Z","ok":1}' \
    '{"timestamp":"2024-03-01T00:00:02Z","ok":2}' >want
same_file want out
for f in leaf/bad-*.txt; do
	grep -q "^json-merge: $f:[0-9]*:[0-9]*: ." err ||
		fail "$f not named as path:line:column: reason"
done
grep -qF 'leaf/bad-line3.txt:4:3: ' err || fail "wrong position for bad-line3"
grep -qF 'leaf/bad-utf8.txt:1:16: ' err || fail "wrong position for bad-utf8"
[ "$(cd leaf && cksum ./*)" = "$sums" ] || fail "a source was changed"
tail -n 1 err | jq -e '.sources == 2 and .sources_skipped.invalid == 12 and
    .records == 2' >/dev/null || fail "wrong stats: $(tail -n 1 err)"

# An unreadable source is skipped the same way (not as root: root reads all).
chmod 000 leaf/good2.txt
if ! cat leaf/good2.txt >/dev/null 2>&1; then
	expect_status 1 "$BIN/json-merge" --min-age 0 leaf
	grep -q 'leaf/good2.txt: Permission denied' err || fail "unreadable not named"
fi
chmod 644 leaf/good2.txt

# --strict: the whole leaf fails, nothing is printed.
expect_status 4 "$BIN/json-merge" --min-age 0 --strict leaf
[ -s out ] && fail "--strict printed records"
grep -q 'strict' err || fail "--strict failure not explained"

# Piped into a consumer, a failed leaf leaves its claim in state merging, so
# that the consumer (jsonl-write) refuses to commit the incomplete stream.
rm leaf/bad-*.txt
printf '[1,]' >leaf/bad.txt
"$BIN/json-merge" --min-age 0 --strict leaf 2>err | cat >out
[ -s out ] && fail "--strict printed records into the pipe"
[ "$(jq -r .state leaf/.consolidated.jsonl.journal)" = merging ] ||
	fail "failed leaf did not leave a merging claim"
[ "$(cd leaf && cksum ./good*)" = "$(printf '%s\n' "$sums" | grep good)" ] ||
	fail "a good source was changed"
exit 0
