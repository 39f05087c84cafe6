#!/bin/sh
# jsonl-write never commits a leaf whose status it cannot tell truly.  In
# the leaf stream with --stats=json each leaf's report goes to stdout:
# when stdout is closed, /dev/full or a pipe nobody reads, the leaf fails
# before its commit (status 4, the sources and the previous output as they
# were), instead of committing, removing the sources and then exiting 4.
# With DIR/NAME nothing goes to stdout, so a closed stdout is no failure
# (status 0, committed); a closed stdin is (status 4, nothing removed),
# even with --filtered, where an empty input could be committed.
. "$LEAFPACK_TESTS/lib.sh"

mk() {
	rm -rf L
	mkdir L
	echo '[{"timestamp":"2024-01-01T00:00:00Z","id":1}]' >L/a.txt
}
untouched() {
	[ -f L/a.txt ] || fail "$1: the source was removed"
	[ ! -e L/consolidated.jsonl ] || fail "$1: an output was committed"
	for f in L/.*.tmp.*; do
		[ -e "$f" ] && fail "$1: a temporary is left: $f"
	done
	return 0
}
stream() {
	printf 'L\0' | "$BIN/json-merge" --min-age 0 -0 |
	    "$BIN/jsonl-write" --remove-sources --stats=json
}

# The leaf stream, stdout closed.
mk
stream >&- 2>err
st=$?
[ "$st" -eq 4 ] || fail "stdout closed: status $st: $(cat err)"
grep -q 'stdout: .*nothing written' err || fail "stdout closed: $(cat err)"
untouched "stdout closed"

# The leaf stream into /dev/full.
mk
stream >/dev/full 2>err
st=$?
[ "$st" -eq 4 ] || fail "/dev/full: status $st: $(cat err)"
untouched "/dev/full"

# The leaf stream into a pipe whose reader is gone before the commit.
mk
{ sleep 0.5; printf 'L\0'; } | "$BIN/json-merge" --min-age 0 -0 |
    { "$BIN/jsonl-write" --remove-sources --stats=json 2>err; echo $? >st; } |
    true
[ "$(cat st)" -eq 4 ] || fail "reader gone: status $(cat st): $(cat err)"
untouched "reader gone"

# The next run, with a reader, finishes the leaf.
stream >reports 2>err || fail "rerun: $(cat err)"
jq -e '.status == 0 and .sources_removed == 1' reports >/dev/null ||
    fail "rerun: $(cat reports)"
[ ! -e L/a.txt ] || fail "rerun: the source is left"
[ -f L/consolidated.jsonl ] || fail "rerun: no output"

# DIR/NAME with stdout closed: committed, and status 0 says so.
mk
"$BIN/json-merge" --min-age 0 L |
    "$BIN/jsonl-write" --remove-sources L/consolidated.jsonl >&- 2>err
st=$?
[ "$st" -eq 0 ] || fail "DIR/NAME, stdout closed: status $st: $(cat err)"
[ ! -e L/a.txt ] || fail "DIR/NAME, stdout closed: the source is left"
[ -f L/consolidated.jsonl ] || fail "DIR/NAME, stdout closed: no output"

# DIR/NAME with stdin closed, --filtered: nothing is committed.
mk
"$BIN/jsonl-write" --filtered --remove-sources L/consolidated.jsonl <&- \
    2>err
st=$?
[ "$st" -eq 4 ] || fail "stdin closed: status $st: $(cat err)"
untouched "stdin closed"
exit 0
