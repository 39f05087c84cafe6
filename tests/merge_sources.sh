# Which files json-merge consumes: regular files matching --match (default
# *.txt, repeatable), opened with O_NOFOLLOW; a symlink or a FIFO named like
# a source is named on stderr and not consumed (status 1); a source younger
# than --min-age is left for later without an error; the output, its journal
# and temporaries are never sources, whatever --match says.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd jq

mkdir leaf outside
printf '[{"timestamp":1,"f":"a"}]' >leaf/a.txt
printf '[{"timestamp":2,"f":"b"}]' >leaf/b.log
printf '[{"timestamp":3,"f":"c"}]' >leaf/c.json
printf '[{"timestamp":4,"f":"outside"}]' >outside/x.txt
ln -s ../outside/x.txt leaf/link.txt
mkfifo leaf/fifo.txt
mkdir leaf/dir.txt
touch -d '1 hour ago' leaf/a.txt leaf/b.log leaf/c.json

# Default: *.txt only; symlink and fifo named, not followed, not read.
expect_status 1 timeout 20 "$BIN/json-merge" --stats=json leaf
[ "$(jq -r .f out | tr '\n' ' ')" = "a " ] || fail "wrong records: $(cat out)"
grep -q 'leaf/link.txt: symbolic link; not consumed' err || fail "symlink not named"
grep -q 'leaf/fifo.txt: not a regular file' err || fail "fifo not named"
grep -q 'leaf/dir.txt: not a regular file' err || fail "directory not named"
tail -n 1 err | jq -e '.sources_skipped.symlink == 1 and
    .sources_skipped.not_regular == 2' >/dev/null || fail "stats: $(tail -n 1 err)"
rm leaf/link.txt leaf/fifo.txt
rmdir leaf/dir.txt

# --match is repeatable and replaces the default.
expect_status 0 "$BIN/json-merge" --match '*.log' --match 'c.*' leaf
[ "$(jq -r .f out | tr '\n' ' ')" = "b c " ] || fail "--match: $(cat out)"

# Too young: left for later, not an error, counted in --stats.
printf '[{"timestamp":5,"f":"young"}]' >leaf/young.txt
expect_status 0 "$BIN/json-merge" --min-age 10m --stats=json leaf
[ "$(jq -r .f out | tr '\n' ' ')" = "a " ] || fail "young consumed: $(cat out)"
tail -n 1 err | jq -e '.sources_skipped.too_young == 1' >/dev/null ||
	fail "too young not counted: $(tail -n 1 err)"
expect_status 0 "$BIN/json-merge" --min-age 0 leaf
[ "$(jq -r .f out | tr '\n' ' ')" = "a young " ] || fail "--min-age 0: $(cat out)"

# The protocol's own files are never sources, whatever --match says.
printf '{"timestamp":0,"f":"out"}\n' >leaf/out.jsonl
printf '[{"f":"tmp"}]' >leaf/.out.jsonl.tmp.1.abc
printf '[{"f":"jtmp"}]' >leaf/.out.jsonl.journal.tmp.1.abc
expect_status 0 "$BIN/json-merge" --no-claim --min-age 0 --match '*' \
    --match '.*' --output out.jsonl leaf
[ "$(jq -r .f out | tr '\n' ' ')" = "out a b c young " ] ||
	fail "protocol files read as sources: $(cat out)"
