#!/bin/sh
# JSONTestSuite conformance of the JSON scanner (test_parsing: y_ must be
# accepted, n_ rejected, i_ left to the implementation).
#
# Every n_ case is rejected with "path:line:column: reason".  Every y_ case
# whose top level is an array is accepted byte-exact: the records joined
# with ',' inside [] equal the input minus the whitespace outside strings,
# computed by an independent tokenizer (python3).  The other y_ cases are
# rejected as sources ("top level is not an array") but accepted byte-exact
# as single values (a JSONL line, jsonscan_cli -l).
#
# The i_ decisions: numbers of any size and exponent are valid (kept as
# written); escaped lone or inverted surrogates ("\ud800", "\uDd1e\uD834")
# are valid (kept as written); invalid UTF-8 (ISO-8859-1 bytes, overlong
# forms, encoded surrogates, > U+10FFFF, truncated sequences) and UTF-16
# input are rejected; a BOM is accepted before an array only; 500 nested
# arrays are valid.
#
# The cases run through json-merge (one leaf per case, the case its only
# source: a rejected case exits 1, outputs nothing and stays untouched) when
# it is built, else through tests/bin/jsonscan_cli.
. "$LEAFPACK_TESTS/lib.sh"

suite=$LEAFPACK_TOP/../shared/JSONTestSuite/test_parsing
[ -d "$suite" ] || skip "JSONTestSuite not found at $suite"
need_cmd python3
cli=$TESTBIN/jsonscan_cli
[ -x "$cli" ] || fail "$cli missing: run make tests"

# The i_ cases rejected on purpose; every other i_ case must be accepted.
i_rejected='
i_object_key_lone_2nd_surrogate.json
i_string_UTF-16LE_with_BOM.json
i_string_UTF-8_invalid_sequence.json
i_string_UTF8_surrogate_U+D800.json
i_string_invalid_utf-8.json
i_string_iso_latin_1.json
i_string_lone_utf8_continuation_byte.json
i_string_not_in_unicode_range.json
i_string_overlong_sequence_2_bytes.json
i_string_overlong_sequence_6_bytes.json
i_string_overlong_sequence_6_bytes_null.json
i_string_truncated-utf-8.json
i_string_utf16BE_no_BOM.json
i_string_utf16LE_no_BOM.json
i_structure_UTF-8_BOM_empty_object.json
'

if [ -x "$BIN/json-merge" ]; then
	via=json-merge
else
	via=jsonscan_cli
fi

# run CASE: scans one case as a source; its records go to got/CASE, the
# exit status to status/CASE, the message to err/CASE.
run() {
	if [ $via = json-merge ]; then
		rm -rf leaf && mkdir leaf && cp "$suite/$1" leaf/case.txt
		"$BIN/json-merge" --min-age 0 leaf >"got/$1" 2>"err/$1"
		echo $? >"status/$1"
		cmp -s "$suite/$1" leaf/case.txt ||
		    fail "$1: json-merge changed its source"
		# The message names the source as given on the command line.
		sed -i 's|leaf/case\.txt|'"$1"'|' "err/$1"
	else
		"$cli" "$suite/$1" >"got/$1" 2>"err/$1"
		echo $? >"status/$1"
		sed -i 's|^'"$suite"'/||' "err/$1"
	fi
}

mkdir got status err values
cases=$(cd "$suite" && ls)
for c in $cases; do
	run "$c"
	case $c in
	y_*)
		"$cli" -l "$suite/$c" >"values/$c" 2>&1 ||
		    fail "$c: rejected as a single value: $(cat "values/$c")"
		;;
	esac
done

# Judges every case; prints one line per failure.  ($cases is split on
# purpose: the case names hold no spaces.)
# shellcheck disable=SC2086
python3 - "$suite" "$via" "$i_rejected" $cases <<'EOF' >verdict || fail "python3 checker failed"
import os, re, sys

suite, via, i_rejected, cases = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]

def compact(data):
    """The input minus whitespace outside strings (and a leading BOM)."""
    if data.startswith(b'\xef\xbb\xbf'):
        data = data[3:]
    out, in_string, escape = bytearray(), False, False
    for b in data:
        if in_string:
            if escape:
                escape = False
            elif b == 0x5c:
                escape = True
            elif b == 0x22:
                in_string = False
        elif b == 0x22:
            in_string = True
        elif b in b' \t\n\r':
            continue
        out.append(b)
    return bytes(out)

def read(d, c):
    with open(os.path.join(d, c), 'rb') as f:
        return f.read()

message = re.compile(rb'^(?:[^:\n]*: )?(\S+):(\d+):(\d+): \S.*$', re.M)
counts = {'accepted': 0, 'rejected': 0}
for c in cases:
    src = read(suite, c)
    status = int(read('status', c))
    got, err = read('got', c), read('err', c)
    top_array = compact(src).startswith(b'[')
    if c.startswith('n_'):
        accept = False
    elif c.startswith('y_'):
        accept = top_array
    else:
        accept = c not in i_rejected
    if c.startswith('y_'):
        if read('values', c) != compact(src) + b'\n':
            print(f'{c}: single value not byte-exact: {read("values", c)[:80]!r}')
    if accept:
        counts['accepted'] += 1
        if status != 0:
            print(f'{c}: rejected ({status}): {err[:200]!r}')
            continue
        joined = b'[' + b','.join(got.split(b'\n')[:-1]) + b']'
        if joined != compact(src):
            print(f'{c}: not byte-exact: got {joined[:120]!r} want {compact(src)[:120]!r}')
    else:
        counts['rejected'] += 1
        if status == 0:
            print(f'{c}: accepted, should be rejected')
            continue
        if via == 'json-merge' and status != 1:
            print(f'{c}: json-merge exited {status}, not 1 (partial)')
        m = message.search(err)
        if m is None or m.group(1) != c.encode():
            print(f'{c}: no "path:line:column: reason" message: {err[:200]!r}')
        if via == 'json-merge' and got != b'':
            print(f'{c}: records of a rejected source were output')
print(f'checked {len(cases)} cases via {via}: {counts["accepted"]} accepted, '
      f'{counts["rejected"]} rejected', file=sys.stderr)
EOF
if [ -s verdict ]; then
	head -n 40 verdict >&2
	fail "$(wc -l <verdict) JSONTestSuite cases wrong"
fi
