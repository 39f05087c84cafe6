#!/bin/sh
# Output errors: a full stdout fails loudly (exit 4), an unwritable
# --stalled file too, before scanning; a reader that stops early (head)
# ends tree-scan quietly by SIGPIPE.  Roots that are missing or not
# directories are named, and the other roots still listed.
. "$LEAFPACK_TESTS/lib.sh"

mkdir -p t/a t/b
seq 6000 | sed 's|^|t/c/a-leaf-with-a-long-enough-name-|' | xargs mkdir -p

if [ -w /dev/full ]; then
	"$BIN/tree-scan" t >/dev/full 2>err
	[ $? -eq 4 ] || fail "exit $? on /dev/full"
	grep -q '^tree-scan: stdout: No space left on device' err ||
		fail "no message: $(cat err)"
fi

expect_status 4 "$BIN/tree-scan" --stalled no/such/dir/file t/a
grep -q '^tree-scan: no/such/dir/file: No such file or directory' err ||
	fail "stalled file: $(cat err)"

{ "$BIN/tree-scan" t 2>err; echo $? >status; } | head -n 1 >first
[ -s first ] || fail "nothing read"
status=$(cat status)
[ "$status" -eq 141 ] || [ "$status" -eq 0 ] || fail "exit $status after head"
[ ! -s err ] || fail "not quiet: $(cat err)"

touch t/file
expect_status 1 "$BIN/tree-scan" t/a no-such t/file t/b
printf '%s\n' t/a t/b >expected
sort out >got
same_file expected got
grep -qx 'tree-scan: no-such: No such file or directory' err ||
	fail "missing root: $(cat err)"
grep -qx 'tree-scan: t/file: Not a directory' err ||
	fail "file root: $(cat err)"

# --stalled FILE is created (empty) when nothing stalls.
expect_status 0 "$BIN/tree-scan" --stalled stalled t/a
[ -f stalled ] || fail "no stalled file"
[ ! -s stalled ] || fail "stalled file not empty"
