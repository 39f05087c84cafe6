# A leaf bigger than --memory is sorted in runs spilled to $TMPDIR and
# merged: the same bytes as an in-memory sort, with an existing output
# merged in too, nothing left in $TMPDIR, and memory bounded.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd jq
need_cmd python3
[ -x "$TESTBIN/gentree" ] || skip "tests/bin/gentree not built (make tests)"

"$TESTBIN/gentree" --seed 7 --entities 1 --types 1 --dates 1 --files 30 \
    --records 300 tree >/dev/null || fail "gentree failed"
leaf=$(find tree -mindepth 3 -maxdepth 3 -type d | head -n 1)
mkdir tmp
TMPDIR=$PWD/tmp
export TMPDIR

expect_status 0 "$BIN/json-merge" --min-age 0 "$leaf"
mv out inmemory
size=$(wc -c <inmemory)
[ "$size" -gt 3000000 ] || fail "fixture too small to spill: $size bytes"
jq -c . inmemory >/dev/null || fail "jq rejects the output"

expect_status 0 "$BIN/json-merge" --min-age 0 --memory 1M --stats=json "$leaf"
same_file inmemory out
tail -n 1 err | jq -e '.runs >= 3' >/dev/null || fail "no spill: $(tail -n 1 err)"
[ -z "$(ls -A tmp)" ] || fail "left in TMPDIR: $(ls -A tmp)"

# A sorted existing output is merged with spilled runs; records once each.
head -n 1000 inmemory >"$leaf/consolidated.jsonl"
expect_status 0 "$BIN/json-merge" --min-age 0 --memory 1M "$leaf"
mv out spilled
expect_status 0 "$BIN/json-merge" --min-age 0 "$leaf"
same_file out spilled
[ "$(wc -l <spilled)" -eq $(( $(wc -l <inmemory) + 1000 )) ] ||
	fail "wrong record count"

# Memory stays bounded: peak RSS under --memory plus 16 MiB.
if [ -x /usr/bin/time ] && ! sanitized; then
	/usr/bin/time -f %M -o rss "$BIN/json-merge" --min-age 0 --memory 4M \
	    "$leaf" >/dev/null || fail "run under time failed"
	[ "$(tail -n 1 rss)" -lt $((20 * 1024)) ] || fail "peak RSS $(tail -n 1 rss) KiB"
fi

# One source bigger than the whole --memory: validated first, then read
# with spills; an invalid one contributes nothing.
mkdir big
python3 - "$leaf" <<'PY' || fail "python3 failed"
import glob, sys
recs = []
for f in sorted(glob.glob(sys.argv[1] + "/*.txt")):
    body = open(f, "rb").read().strip()
    recs.append(body[1:-1])
open("big/all.txt", "wb").write(b"[" + b",\n".join(recs) + b"]")
open("big/bad.txt", "wb").write(b"[" + b",\n".join(recs) + b",]")
PY
mv big/bad.txt big/bad.skip
expect_status 0 "$BIN/json-merge" --min-age 0 --memory 1M big
same_file inmemory out
mv big/bad.skip big/bad.txt
expect_status 1 "$BIN/json-merge" --min-age 0 --memory 1M big
same_file inmemory out
grep -q 'big/bad.txt:[0-9]*:[0-9]*: trailing comma' err || fail "big bad source: $(cat err)"
[ -z "$(ls -A tmp)" ] || fail "left in TMPDIR: $(ls -A tmp)"
