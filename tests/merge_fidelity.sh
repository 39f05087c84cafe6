# json-merge prints each record exactly as its bytes appear in its source,
# minus whitespace outside strings: big integers, -0, exponents, trailing
# zeros, escapes, lone surrogates, duplicate keys, key order; pretty-printed
# and compact arrays, CRLF, a byte order mark, 1,000-deep nesting and an
# empty array are all valid sources.  The expected lines come from an
# independent compaction (a small tokenizer in python3), and every line is
# checked with jq (python's json where jq 1.6 cannot: lone surrogates,
# nesting deeper than 256).
. "$LEAFPACK_TESTS/lib.sh"
need_cmd python3
need_cmd jq

mkdir leaf
# No "timestamp" anywhere: every record ties, so the output is in input
# order (sources in byte order of their names, then file order).
cat >leaf/a.txt <<'JSON'
[
  {"n": 12345678901234567890123, "z": -0, "e": 1.0e+10, "f": 1.50,
   "neg": -12345678901234567890123.000, "small": 1E-400},
  {"s": "caf\u00e9 \"q\" \\ \/ \b\f\n\r\t", "raw": "naïve €", "lone": "\ud800", "low": "\udc00x"},
  {"d": 1, "d": 2, "b": {"z": 0, "a": 1}, "t": true, "f": false, "nul": null},
  [ 1 , [ ] , { } , "" ]
]
JSON
printf '[{"compact":1},{"x":[1,2,{"y":"a b"}]},"str",42,-0.0e-0]' >leaf/b.txt
printf '[\r\n  {"crlf": "a\\r\\n"},\r\n  {"k": 2}\r\n]\r\n' >leaf/c.txt
printf '\357\273\277[{"bom": true}]' >leaf/d.txt
printf '[]' >leaf/e.txt
printf ' \n\t[\n]\n\n' >leaf/f.txt
python3 - <<'PY'
depth = 1000
open("leaf/g.txt", "w").write("[" + "[" * depth + "1" + "]" * depth + "," +
    "{\"a\": " * 999 + "0" + "}" * 999 + "]")
PY

expect_status 0 "$BIN/json-merge" --min-age 0 leaf
mv out got

# The independent compaction: strip whitespace outside strings, split the
# top-level array into elements.
python3 - leaf/*.txt >want <<'PY'
import sys
for path in sorted(sys.argv[1:]):
    data = open(path, "rb").read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    out, depth, cur, i, instr = [], 0, bytearray(), 0, False
    while i < len(data):
        c = data[i:i+1]
        if instr:
            cur += c
            if c == b"\\":
                cur += data[i+1:i+2]
                i += 1
            elif c == b'"':
                instr = False
        elif c in b" \t\r\n":
            pass
        elif c == b'"':
            instr = True
            cur += c
        elif c in b"[{":
            depth += 1
            if depth > 1:
                cur += c
        elif c in b"]}":
            depth -= 1
            if depth >= 1:
                cur += c
            elif cur:
                out.append(bytes(cur)); cur = bytearray()
        elif c == b"," and depth == 1:
            out.append(bytes(cur)); cur = bytearray()
        else:
            cur += c
        i += 1
    for rec in out:
        sys.stdout.buffer.write(rec + b"\n")
PY
same_file want got

# The classic traps, spelled out.
grep -qF '"n":12345678901234567890123,"z":-0,"e":1.0e+10,"f":1.50,' got ||
	fail "numbers were rewritten"
grep -qF '"lone":"\ud800","low":"\udc00x"' got || fail "surrogates rewritten"
grep -qF '"s":"caf\u00e9 \"q\" \\ \/ \b\f\n\r\t"' got || fail "escapes rewritten"
grep -qF '{"d":1,"d":2,"b":{"z":0,"a":1},' got || fail "duplicate keys or order lost"
[ "$(wc -l <got)" -eq 14 ] || fail "expected 14 records, got $(wc -l <got)"

# Every line is one valid JSON value for an independent parser.
while IFS= read -r line; do
	case $line in
	*'\ud800'* | '[[[['* | '{"a":{"a":{"a":'*)
		# jq 1.6 rejects lone surrogates and depth > 256
		printf '%s\n' "$line" | python3 -c 'import json, sys
sys.setrecursionlimit(10000); json.loads(sys.stdin.read())' ||
			fail "python rejects: $line" ;;
	*)
		printf '%s\n' "$line" | jq . >/dev/null 2>&1 ||
			fail "jq rejects: $line" ;;
	esac
done <got
