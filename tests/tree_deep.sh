#!/bin/sh
# A chain 10,000 directories deep (paths far beyond PATH_MAX): tree-scan
# walks it without recursion and prints its one leaf.
. "$LEAFPACK_TESTS/lib.sh"

# Built 100 levels at a time with short relative paths: mkdir -p of 100
# levels, then the chain so far renamed to the bottom of it.
d99=$(printf 'd/%.0s' $(seq 98))d
mkdir -p "top/$d99/d"
i=1
while [ $i -lt 100 ]; do
	{ mkdir -p "n/$d99" && mv top "n/$d99/d" && mv n top; } ||
		fail "cannot build the chain"
	i=$((i + 1))
done

d100=$(printf '/d%.0s' $(seq 100))
i=0 want=top
while [ $i -lt 100 ]; do
	want=$want$d100
	i=$((i + 1))
done
printf '%s\n' "$want" >expected

expect_status 0 "$BIN/tree-scan" --stats=json top
same_file expected out
jq -e '.dirs == 10001 and .leaves == 1' err >/dev/null ||
	fail "stats: $(cat err)"
expect_status 0 "$BIN/tree-scan" -j 1 top
same_file expected out
