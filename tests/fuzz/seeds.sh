#!/bin/sh
# Builds the seed corpora of the fuzz harnesses under DIR (made at run time,
# never committed):
#   DIR/seeds-scan     every file of JSONTestSuite's test_parsing, and the
#                      sources of a small generated tree (tests/bin/gentree)
#   DIR/seeds-line     the same files, and each generated record alone
#   DIR/seeds-sortkey  numbers and instants, three to an input (one a line),
#                      and the generated records' timestamps
# A part whose tool is missing (the suite, or tests/bin: make tests) is left
# out with a note on stderr.
#
#   sh tests/fuzz/seeds.sh DIR
set -eu

[ $# -eq 1 ] || { echo "usage: seeds.sh DIR" >&2; exit 2; }
out=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
suite=$top/../shared/JSONTestSuite/test_parsing
gentree=$top/tests/bin/gentree
cli=$top/tests/bin/jsonscan_cli

rm -rf "$out/seeds-scan" "$out/seeds-line" "$out/seeds-sortkey"
mkdir -p "$out/seeds-scan" "$out/seeds-line" "$out/seeds-sortkey"
if [ -d "$suite" ]; then
	cp "$suite"/* "$out/seeds-scan/"
	cp "$suite"/* "$out/seeds-line/"
else
	echo "seeds: no JSONTestSuite at $suite" >&2
fi

# Lines for the nested key path of the line check (meta.ts).
i=0
for line in '{"meta":{"ts":"2024-03-01T12:34:56Z"},"ts":1}' \
    '{ "meta" : { "a" : [ ], "ts" : -1.5e3 } , "meta" : { "ts" : null } }' \
    '{"m\u0065ta":{"t\u0073":"x\"y"},"meta":{"ts":{"ts":1}}}' \
    '[{"meta":{"ts":1}}]'; do
	i=$((i + 1))
	printf '%s' "$line" >"$out/seeds-line/meta-$i.json"
done

# Values the sort keys must order: edges of every part of an instant and of
# a number, as JSON text (a string in quotes) or bare (a string body).
values=$out/seeds-sortkey.values
cat >"$values" <<'VALUES'
0
-0
1
-1
1.5
-0.5
0.000
1e18
1e308
1e400
-1e400
1e-400
1e9999999999999999999
-1e9999999999999999999
1e-9999999999999999999
0.001e1000000000000000000
1e999999999999999998
9223372036854775807
-9223372036854775808
9223372036854775808
12345678901234567890123
1709296496.123456
"2024-03-01T12:34:56Z"
2024-03-01T12:34:56Z
"2024-03-01T12:34:56.123456789Z"
"2024-03-01T12:34:56+02:00"
"2024-03-01 12:34:56-0530"
"2024-03-01T12:34:60Z"
"2024-02-29"
"2023-02-29T00:00:00Z"
"0000-01-01T00:00:00Z"
"9999-12-31T23:59:59Z"
"1969-12-31T23:59:59.5Z"
"\u0032024-03-01T12:34:56Z"
"hello"
true
null
{"a":1}
VALUES
if [ -x "$gentree" ] && [ -x "$cli" ]; then
	tree=$out/seeds-tree
	rm -rf "$tree"
	"$gentree" --seed 14 --entities 1 --types 3 --dates 1 --files 4 \
	    --records 3 --bad 2 "$tree" >/dev/null
	i=0
	for f in $(find "$tree" -name '*.txt' | sort); do
		i=$((i + 1))
		cp "$f" "$out/seeds-scan/gentree-$i.txt"
		"$cli" -k timestamp "$f" 2>/dev/null >"$out/records" || true
		j=0
		while IFS= read -r line; do
			j=$((j + 1))
			printf '%s' "${line#*	*	}" \
			    >"$out/seeds-line/gentree-$i-$j.json"
			printf '"%s"\n' "$(echo "$line" | cut -f 2)" >>"$values"
		done <"$out/records"
	done
	rm -rf "$tree" "$out/records"
else
	echo "seeds: no $gentree or $cli (make tests): no generated seeds" >&2
fi
# Three values to an input, in a sliding window, so that neighbours meet.
awk -v dir="$out/seeds-sortkey" '
	{ v[NR] = $0 }
	END {
		for (i = 1; i <= NR; i++) {
			f = sprintf("%s/values-%03d.txt", dir, i)
			printf "%s\n%s\n%s", v[i], v[i % NR + 1],
			    v[(i + 1) % NR + 1] >f
			close(f)
		}
	}' "$values"
rm -f "$values"
for k in scan line sortkey; do
	echo "seeds: $(find "$out/seeds-$k" -type f | wc -l) in $out/seeds-$k"
done
