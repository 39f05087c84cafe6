# One record far bigger than --memory and than any buffer is held once:
# json-merge validates it where it lies, compacts it over its own bytes and
# writes it to a run of its own, the merge of such runs holds one of them
# at a time, jsonl-write compacts a long line in place.
# Peak memory stays near the record's size (it was three times that), the
# bytes and the order of equal keys are those of an in-memory merge, and an
# error inside such a record is still placed exactly.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd python3

mkdir tmp
TMPDIR=$PWD/tmp
export TMPDIR
mkdir -p leaf

# b.txt: one pretty-printed record of 48 MiB (whitespace to compact, a
# nested array, an escape) between small ones of the same timestamp in
# a.txt and c.txt; the merge keeps the order of adding: a, b, c.
python3 - <<'PY' || fail "python3 failed"
import json
ts = "2024-01-01T00:00:00Z"
blob = "x" * (48 * 1024 * 1024)
big = {"timestamp": ts, "id": 2, "list": [1, 2, [3, "\u00e9"]], "blob": blob}
with open("leaf/a.txt", "w") as f:
    json.dump([{"timestamp": ts, "id": 1}, {"timestamp": "2023-12-31T00:00:00Z", "id": 0}], f, indent=2)
with open("leaf/b.txt", "w") as f:
    f.write("[\n" + json.dumps(big, indent=2) + ",\n" +
            json.dumps({"timestamp": "2024-01-02T00:00:00Z", "id": 4}) + "\n]\n")
with open("leaf/c.txt", "w") as f:
    json.dump([{"timestamp": ts, "id": 3}], f)
want = [{"timestamp": "2023-12-31T00:00:00Z", "id": 0}, {"timestamp": ts, "id": 1},
        big, {"timestamp": ts, "id": 3}, {"timestamp": "2024-01-02T00:00:00Z", "id": 4}]
with open("want", "w") as f:
    for r in want:
        f.write(json.dumps(r, separators=(",", ":")) + "\n")
PY

# same: like same_file, without printing 48 MiB lines.
same() {
	cmp -s "$1" "$2" || fail "$2 is not $1: $(cmp "$1" "$2" 2>&1 | head -c 200)"
}

# Peak RSS in KiB of a command, or nothing where it cannot be measured
# (no /usr/bin/time, or a sanitizer's shadow memory).
peak() {
	rm -f rss
	if [ -x /usr/bin/time ] && ! sanitized; then
		/usr/bin/time -f %M -o rss "$@"
	else
		"$@"
	fi
}
# The record is 48 MiB: once, plus buffers and the program, is well under
# 64 MiB; held twice it is over 96.
bounded() {
	[ ! -s rss ] || [ "$(tail -n 1 rss)" -lt $((64 * 1024)) ] ||
		fail "$1: peak RSS $(tail -n 1 rss) KiB for a 48 MiB record"
}

for memory in 1M 64M 1G; do
	peak "$BIN/json-merge" --min-age 0 --no-claim --memory "$memory" leaf \
	    >out 2>err || fail "json-merge --memory $memory: $(cat err)"
	same want out
	bounded "json-merge --memory $memory"
done
[ -z "$(ls -A tmp)" ] || fail "left in TMPDIR: $(ls -A tmp)"

# Six records of 17 MiB, each a run of its own: the merge reads each when
# its turn comes, into one buffer, rather than all six at once (102 MiB).
mkdir -p six
python3 - <<'PY' || fail "python3 failed"
import json
blob = "z" * (17 * 1024 * 1024)
recs = [{"timestamp": "2024-01-01T00:00:%02dZ" % (10 - i), "i": i, "blob": blob}
        for i in range(6)]
for i, r in enumerate(recs):
    with open("six/s%d.txt" % i, "w") as f:
        json.dump([r], f)
with open("want_six", "w") as f:
    for r in reversed(recs):
        f.write(json.dumps(r, separators=(",", ":")) + "\n")
PY
for memory in 1M 64M; do
	peak "$BIN/json-merge" --min-age 0 --no-claim --memory "$memory" six \
	    >out 2>err || fail "json-merge --memory $memory (six): $(cat err)"
	same want_six out
	bounded "json-merge --memory $memory, six records of 17 MiB"
done
rm -rf six want_six
[ -z "$(ls -A tmp)" ] || fail "left in TMPDIR: $(ls -A tmp)"

# jsonl-write takes the 48 MiB line (here with spaces to remove) from stdin.
python3 - <<'PY' || fail "python3 failed"
import json
with open("want") as f, open("spaced", "w") as g:
    for line in f:
        g.write(json.dumps(json.loads(line)) + "\n")
PY
mkdir plain
peak "$BIN/jsonl-write" plain/consolidated.jsonl <spaced >out 2>err ||
	fail "jsonl-write: $(cat err)"
same want plain/consolidated.jsonl
bounded "jsonl-write"

# The whole job, the stream between the two programs included.
peak "$BIN/leafpack" --min-age 0 --keep-sources --memory 1M . >out 2>err ||
	fail "leafpack: $(cat err)"
same want leaf/consolidated.jsonl
bounded "leafpack (its biggest child)"

# An error after the big string is placed by line and column in the file,
# and the source stays where it was, the output untouched.
python3 - <<'PY' || fail "python3 failed"
with open("leaf/b.txt") as f:
    text = f.read()
cut = text.index('"blob"')
bad = text[:cut] + '"blob": 01' + text[cut + len('"blob": '):]
with open("leaf/b.txt", "w") as f:
    f.write(bad)
line = bad.count("\n", 0, cut) + 1
col = cut - (bad.rfind("\n", 0, cut) + 1) + len('"blob": 0') + 1
print("leaf/b.txt:%d:%d: leading zero" % (line, col), file=open("want_err", "w"))
PY
cp leaf/consolidated.jsonl before
for memory in 1M 1G; do
	expect_status 1 "$BIN/json-merge" --min-age 0 --no-claim --memory "$memory" leaf
	grep -qF "$(cat want_err)" err || fail "--memory $memory: $(cat err), expected $(cat want_err)"
done
[ -f leaf/b.txt ] || fail "the invalid source is gone"
same before leaf/consolidated.jsonl
