# An incremental run: the existing consolidated file is an input, merged (it
# is sorted) with the new sources, its records exactly once and first among
# ties; one out of key order (another --key) is sorted with the rest; an
# invalid line in it fails the leaf (status 4, nothing printed) with
# DIR/NAME:LINE:COL.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd jq

mkdir leaf
printf '%s\n' '{"timestamp":1,"v":"old1","k":3}' '{"timestamp":3,"v":"old3","k":1}' \
    '{"timestamp":5,"v":"old5","k":2}' >leaf/consolidated.jsonl
printf '[{"timestamp":3,"v":"new3","k":0},{"timestamp":0,"v":"new0","k":9}]' >leaf/a.txt
printf '[{"timestamp":6,"v":"new6"}, {"timestamp":1,"v":"new1","k":4}]' >leaf/b.txt

expect_status 0 "$BIN/json-merge" --min-age 0 leaf
[ "$(jq -r .v out | tr '\n' ' ')" = "new0 old1 new1 old3 new3 old5 new6 " ] ||
	fail "incremental merge: $(jq -r .v out | tr '\n' ' ')"
sort out | uniq -d >dups
[ -s dups ] && fail "records twice: $(cat dups)"

# With --key k the existing output is out of order: sorted with the rest.
expect_status 0 "$BIN/json-merge" --min-age 0 --key k leaf
[ "$(jq -r .v out | tr '\n' ' ')" = "new3 old3 old5 old1 new1 new0 new6 " ] ||
	fail "unsorted output not sorted: $(jq -r .v out | tr '\n' ' ')"

# A non-compact line in the existing output comes out compact; a last line
# without a newline counts.
printf '{ "timestamp" : 2 , "v" : "spaced" }\r\n{"timestamp":9,"v":"last"}' \
    >leaf/consolidated.jsonl
expect_status 0 "$BIN/json-merge" --min-age 0 leaf
grep -qxF '{"timestamp":2,"v":"spaced"}' out || fail "line not compacted"
[ "$(tail -n 1 out)" = '{"timestamp":9,"v":"last"}' ] || fail "last line lost"

# An invalid line fails the leaf before anything is written.
printf '%s\n' '{"timestamp":1}' '' '{"timestamp":2}' >leaf/consolidated.jsonl
expect_status 4 "$BIN/json-merge" --min-age 0 leaf
[ -s out ] && fail "records printed despite an invalid output"
grep -q 'leaf/consolidated.jsonl:2:1: ' err || fail "position: $(cat err)"
printf '%s\n' '{"timestamp":1}' '{"timestamp":2,}' >leaf/consolidated.jsonl
expect_status 4 "$BIN/json-merge" --min-age 0 leaf
grep -q 'leaf/consolidated.jsonl:2:16: ' err || fail "position: $(cat err)"

# --output names another consolidated file.
rm leaf/consolidated.jsonl
printf '%s\n' '{"timestamp":2,"v":"other"}' >leaf/merged.jsonl
expect_status 0 "$BIN/json-merge" --min-age 0 --output merged.jsonl leaf
[ "$(jq -r .v out | tr '\n' ' ')" = "new0 new1 other new3 new6 " ] ||
	fail "--output: $(jq -r .v out | tr '\n' ' ')"
