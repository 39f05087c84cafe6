#!/bin/sh
# A source rewritten in place between json-merge's read and jsonl-write's
# commit: its old records are in the new output, so publishing it (and
# keeping the changed source) would have the next run read them again.
# jsonl-write looks at every source again once the output is durable and
# before the rename: one that changed makes it publish nothing for the leaf
# (status 1), and give the claim back; the next run reads the leaf again.
# The identity has the ctime, so a rewrite whose mtime is set back (as
# rsync -t does) is seen too.  Last, the race in a loop: the rewrite at a
# random moment; a record is doubled only when it lands in the window left
# (between that look and the unlink, which says "changed since it was
# read; kept"), documented in jsonl-write(1).
# run.sh: alone (the share of races in a timed window grows with load)
. "$LEAFPACK_TESTS/lib.sh"

v1='[{"timestamp":"2024-01-01T00:00:00Z","id":1}]'
v2='[{"timestamp":"2024-01-01T00:00:00Z","id":1},{"timestamp":"2024-01-01T00:00:01Z","id":2}]'
merged='{"timestamp":"2024-01-01T00:00:00Z","id":1}
{"timestamp":"2024-01-01T00:00:01Z","id":2}'

# rewritten MIN_AGE TOUCH: the pair reads v1, a.txt becomes v2 (its mtime
# then set by touch -d TOUCH, if not empty) before jsonl-write commits.
rewritten() {
	rm -rf R
	mkdir -p R/L
	echo "$v1" >R/L/a.txt
	[ -z "$2" ] || touch -d '-10 min' R/L/a.txt
	{ "$BIN/json-merge" --min-age "$1" R/L 2>merge.err | { sleep 1; cat; } |
	    "$BIN/jsonl-write" --remove-sources R/L/consolidated.jsonl \
	    2>write.err; echo $? >write.st; } &
	sleep 0.3
	echo "$v2" >R/L/a.txt
	[ -z "$2" ] || touch -d "$2" R/L/a.txt
	wait
	[ "$(cat write.st)" -eq 1 ] ||
	    fail "$*: jsonl-write exited $(cat write.st): $(cat write.err)"
	grep -q 'a.txt: changed since it was read: nothing published' \
	    write.err || fail "$*: $(cat write.err)"
	[ ! -e R/L/consolidated.jsonl ] || fail "$*: an output was published"
	expect_status 0 "$BIN/leafpack" --min-age "$1" R
	[ "$(cat R/L/consolidated.jsonl)" = "$merged" ] ||
	    fail "$*: the output: $(cat R/L/consolidated.jsonl)"
	[ ! -e R/L/a.txt ] || fail "$*: a.txt left"
}
rewritten 0 ''
rewritten 2m '-5 min'

# The race in a loop: a.txt rewritten in place (dd: never created anew)
# at a random moment of the pair's run.
i=0
doubled=0
window=0
while [ $i -lt 20 ]; do
	rm -rf R
	mkdir -p R/L
	echo "$v1" >R/L/a.txt
	for f in b c d; do
		echo "[{\"timestamp\":\"2024-01-02T00:00:00Z\",\"id\":\"$f\"}]" \
		    >R/L/$f.txt
	done
	delay=$(awk -v s="$i" 'BEGIN { srand(s); printf "%.3f", rand() / 10 }')
	{ "$BIN/json-merge" --min-age 0 R/L 2>/dev/null | { sleep 0.05; cat; } |
	    "$BIN/jsonl-write" --remove-sources R/L/consolidated.jsonl \
	    2>write.err; } &
	sleep "$delay"
	rm -f dd.ok
	printf '%s\n' "$v2" | dd of=R/L/a.txt conv=notrunc,nocreat status=none \
	    2>/dev/null && touch dd.ok
	wait
	"$BIN/leafpack" --min-age 0 R 2>/dev/null
	[ $? -le 1 ] || fail "race $i: leafpack failed"
	"$BIN/leafpack" --min-age 0 R 2>/dev/null
	ones=$(grep -c '"id":1}' R/L/consolidated.jsonl)
	twos=$(grep -c '"id":2}' R/L/consolidated.jsonl)
	others=$(grep -c '"id":"' R/L/consolidated.jsonl)
	[ "$others" -eq 3 ] || fail "race $i: $others of b, c, d"
	# dd may have opened a.txt just before its unlink and written
	# after it (a live writer: only --min-age protects those).
	[ "$twos" -le 1 ] || fail "race $i: id 2 $twos times"
	[ -e dd.ok ] || [ "$twos" -eq 0 ] || fail "race $i: id 2 from nowhere"
	if [ "$ones" -ne 1 ]; then
		grep -q 'changed since it was read; kept' write.err ||
		    fail "race $i: id 1 $ones times: $(cat write.err)"
		window=$((window + 1))
	fi
	grep -q 'nothing published' write.err && doubled=$((doubled + 1))
	i=$((i + 1))
done
echo "20 races: $doubled caught before the rename, $window in the window left"
[ "$window" -le 2 ] || fail "$window of 20 races in the window left"
exit 0
