# json-merge sorts by the key as instants and numbers, exactly: offsets
# normalized to UTC, fractional seconds of any precision, epoch numbers on
# the same scale, records without a usable key last, ties in input order
# (sources in byte order of their names, then position); --key follows a
# dotted path.  The expected order is computed independently with python3's
# decimal and datetime on the same fixture, and two runs give the same bytes.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd python3
need_cmd jq

mkdir leaf
# "id" numbers every record in input order (file name order, then position).
cat >leaf/b.txt <<'JSON'
[{"id":1,"timestamp":"2024-03-01T12:00:00+02:00","meta":{"ts":5}},
 {"id":2,"timestamp":"2024-03-01T10:00:00Z","meta":{"ts":"2024-03-01T00:00:00Z"}},
 {"id":3,"timestamp":"2024-03-01T09:59:59.999999999999-00:00"},
 {"id":4,"timestamp":"2024-03-01T10:00:00.000000000001Z","meta":{"ts":-1}},
 {"id":5,"timestamp":"2024-03-01T05:00:00-05:00"},
 {"id":6},
 {"id":7,"timestamp":"not a time"},
 {"id":8,"timestamp":1709287200},
 {"id":9,"timestamp":1709287200.5},
 {"id":10,"timestamp":"2024-03-01T10:00:00.5Z","meta":{"ts":1e1}},
 {"id":11,"timestamp":"2024-03-01T10:00:00.50Z"},
 {"id":12,"timestamp":null},
 {"id":13,"timestamp":"2024-02-29T23:59:60Z"},
 {"id":14,"timestamp":"2024-03-01"},
 {"id":15,"timestamp":"2024-03-01T00:00:00+00:01","meta":{"ts":10.0}},
 {"id":16,"timestamp":1.709287200e9},
 {"id":17,"timestamp":"1969-12-31T23:59:59.9Z"},
 {"id":18,"timestamp":-0.1},
 {"id":19,"timestamp":"2024-03-01T10:00:00Z","timestamp":"2023-01-01T00:00:00Z"}]
JSON
cat >leaf/a.txt <<'JSON'
[{"id":0,"timestamp":"2024-03-01T10:00:00Z"}]
JSON
cat >leaf/c.txt <<'JSON'
[{"id":20,"timestamp":"2024-03-01T10:00:00.000Z","meta":{"ts":5.00}},
 {"id":21,"timestamp":{"nested":1}},
 {"id":22,"timestamp":"2024-03-01 10:00:00z"},
 {"id":23,"timestamp":"2024-03-01t10:00:00+0000"}]
JSON

# The reference: ids in input order, sorted by (keyed?, exact value, id).
cat >ref.py <<'PY'
import json, sys, datetime, decimal, re
decimal.getcontext().prec = 200
path = sys.argv[1].split(".")
recs = []
for f in sorted(sys.argv[2:]):
    # Duplicate keys: the last one wins, as in json-merge and jq.
    recs += json.load(open(f), parse_float=decimal.Decimal,
        parse_int=decimal.Decimal)
rx = re.compile(r"^(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?"
    r"([Zz]|[+-]\d\d(?::?\d\d)?)?)?$")
epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
def key(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, decimal.Decimal):
        return v
    if not isinstance(v, str):
        return None
    m = rx.match(v)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, off = m.groups()
    sec = int(s or 0)
    t = datetime.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0),
        min(sec, 59), tzinfo=datetime.timezone.utc)
    val = decimal.Decimal(int((t - epoch).total_seconds())) + (sec - min(sec, 59))
    if frac:
        val += decimal.Decimal("0." + frac)
    if off and off not in "Zz":
        sign = 1 if off[0] == "+" else -1
        digits = off[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
        val -= sign * 60 * minutes
    return val
def lookup(r):
    for p in path:
        if not isinstance(r, dict) or p not in r:
            return None
        r = r[p]
    return r
rows = []
for r in recs:
    k = key(lookup(r))
    rows.append((k is None, k if k is not None else 0, int(r["id"])))
for row in sorted(rows):
    print(row[2])
PY

for key in timestamp meta.ts; do
	expect_status 0 "$BIN/json-merge" --min-age 0 --key "$key" leaf
	mv out got.$key
	jq -c . got.$key >/dev/null || fail "jq rejects the output"
	jq -r .id got.$key >ids
	python3 ref.py "$key" leaf/*.txt >want
	same_file want ids
done
# The exact bytes of the keys survive too (no rewriting of 1e1 or 5.00).
grep -qF '"meta":{"ts":1e1}' got.meta.ts || fail "1e1 rewritten"

# Determinism: the same input gives the same bytes.
"$BIN/json-merge" --min-age 0 leaf >again || fail "second run failed"
same_file got.timestamp again

# What json-merge(1) says of leap seconds and numeric keys, pinned: :60 in
# any minute is the next minute's :00 (a tie, in input order), a number is
# seconds (a millisecond key lands after every string instant), a number
# in a string is no key.
mkdir leap
printf '%s\n' '[{"n":"next00","timestamp":"2017-01-01T00:00:00Z"},
 {"n":"ms","timestamp":1483228800000},
 {"n":"string","timestamp":"1483228800"}]' >leap/a.txt
printf '%s\n' '[{"n":"leap","timestamp":"2016-12-31T23:59:60Z"},
 {"n":"leap.5","timestamp":"2016-12-31T23:59:60.5Z"},
 {"n":"num","timestamp":1483228800},
 {"n":"after","timestamp":"2017-01-01T00:00:00.25Z"},
 {"n":"midday60","timestamp":"2016-12-31T12:30:60Z"},
 {"n":"1231","timestamp":1483187460},
 {"n":"num.5","timestamp":1483228800.5},
 {"n":"far","timestamp":"9999-12-31T23:59:59Z"}]' >leap/b.txt
expect_status 0 "$BIN/json-merge" --min-age 0 --no-claim leap
jq -r .n out | tr '\n' ' ' >got.leap
echo "midday60 1231 next00 leap num after leap.5 num.5 far ms string " \
    >want.leap
printf "\n" >>got.leap
same_file want.leap got.leap
