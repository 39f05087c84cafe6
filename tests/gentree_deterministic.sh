#!/bin/sh
# gentree, the generator every other test and the benchmarks build trees
# with: the same seed and options give the same bytes, another seed other
# bytes; the shape, record count, --bad and --mtime-age do what they say,
# checked with find and jq.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd jq
gentree=$TESTBIN/gentree

check "gentree a" "$gentree" --seed 7 --entities 2 --types 2 --dates 3 \
    --files 4 --records 5 --bad 3 a
check "gentree b" "$gentree" --seed 7 --entities 2 --types 2 --dates 3 \
    --files 4 --records 5 --bad 3 b
check "gentree c" "$gentree" --seed 8 --entities 2 --types 2 --dates 3 \
    --files 4 --records 5 --bad 3 c
diff -r a b >/dev/null || fail "same seed, different trees"
diff -r a c >/dev/null && fail "different seeds, same tree"

# Shape: 2 x 2 x 3 leaves named e000N/<type>/<date>, 4 files each.
[ "$(find a -type d -links 2 | wc -l)" -eq 12 ] || fail "not 12 leaves"
[ "$(find a -type f -name '*.txt' | wc -l)" -eq 48 ] || fail "not 48 files"
[ -d a/e0002/metrics/2024-03-03 ] || fail "no a/e0002/metrics/2024-03-03"

# Exactly --bad files are invalid JSON; the others are arrays of 5 records
# with the fields the tools sort and filter on.
bad=0
for f in $(find a -type f | sort); do
	if n=$(jq -e 'if type == "array" then length else error("not an array") end' \
	    "$f" 2>/dev/null); then
		[ "$n" -eq 5 ] || fail "$f: $n records, expected 5"
	else
		bad=$((bad + 1))
	fi
done
[ "$bad" -eq 3 ] || fail "$bad invalid files, expected 3"
find a -type f | sort | head -n 1 | xargs cat >one.json 2>/dev/null
jq -e 'all(.[]; (.timestamp | type) == "string" and has("id") and has("payload"))' \
    one.json >/dev/null 2>&1 || fail "records lack timestamp, id or payload"

# mtimes: a day old by default, as asked with --mtime-age.
check "gentree d" "$gentree" --entities 1 --types 1 --dates 1 --files 1 \
    --mtime-age 3600 d
age=$(( $(date +%s) - $(stat -c %Y d/e0001/audit/2024-03-01/*.txt) ))
if [ "$age" -lt 3590 ] || [ "$age" -gt 3700 ]; then
	fail "mtime age $age, expected 3600"
fi
[ -n "$(find a -type f -mmin -1380)" ] && fail "default mtimes younger than 23 h"

expect_status 2 "$gentree" --bogus x
grep -q '^usage: gentree' err || fail "no usage line"
expect_status 2 "$gentree" --bad 10 --entities 1 --types 1 --dates 1 --files 2 x
exit 0
