#!/bin/sh
# An invalid line fails jsonl-write with "stdin:LINE:COLUMN: reason" and
# status 4; the previous output is untouched and no temporary is left.
# Empty and blank lines are invalid; so are a truncated value, two values
# on a line, trailing commas, NaN and invalid UTF-8.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"

mkdir d
printf '{"keep":1}\n' >d/out.jsonl
cp d/out.jsonl before
ino=$(stat -c %i d/out.jsonl)

# invalid LINE-NUMBER COLUMN INPUT
invalid() {
	printf '%b' "$3" >input
	expect_status 4 "$BIN/jsonl-write" d/out.jsonl <input
	grep -q "^jsonl-write: stdin:$1:$2: " err ||
	    fail "input '$3': expected stdin:$1:$2 in: $(cat err)"
	same_file d/out.jsonl before
	[ "$(stat -c %i d/out.jsonl)" = "$ino" ] || fail "output replaced"
	[ -z "$(find d -name '.out.jsonl*')" ] || fail "a temporary is left"
}
invalid 2 8 '{"a":1}\n{"b":2,}\n'
invalid 1 1 '\n{"a":1}\n'
invalid 3 4 '1\n2\n   \n'
invalid 1 6 '[1, 2'
invalid 1 3 '1 2\n'
invalid 1 1 'NaN\n'
invalid 1 2 '"\377"\n'
invalid 1 3 '[01]\n'
invalid 2 1 '{}\n// comment\n'

# A big file with one bad line at its end: still nothing replaced.
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{\"i\":%d}\n", i; print "{" }' >big
expect_status 4 "$BIN/jsonl-write" d/out.jsonl <big
grep -q '^jsonl-write: stdin:200001:2: ' err || fail "big: $(cat err)"
same_file d/out.jsonl before
[ -z "$(find d -name '.out.jsonl*')" ] || fail "a temporary is left"

# No output yet: none is created.
printf 'x\n' | expect_status 4 "$BIN/jsonl-write" d/new.jsonl
[ ! -e d/new.jsonl ] || fail "d/new.jsonl created"
