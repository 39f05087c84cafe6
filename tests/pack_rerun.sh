#!/bin/sh
# A second run over a finished tree changes nothing and says so: no file is
# rewritten (same inode, size and mtime), also in the leaves that hold an
# invalid source, which are read again but not committed again.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen clean
expect_status 0 "$BIN/leafpack" clean
(cd clean && find . -printf '%p %i %s %T@\n' | sort) >first
expect_status 0 "$BIN/leafpack" clean
(cd clean && find . -printf '%p %i %s %T@\n' | sort) >second
same_file first second
grep -q 'nothing to do' err || fail "the second run did not say so: $(cat err)"

gen bad --bad 2
mkdir bad/e0001/audit/only-invalid
echo '[{"timestamp":1},' >bad/e0001/audit/only-invalid/x.txt
touch -d '1 hour ago' bad/e0001/audit/only-invalid/x.txt
expect_status 1 "$BIN/leafpack" bad
[ -e bad/e0001/audit/only-invalid/consolidated.jsonl ] &&
    fail "a leaf of invalid sources got an (empty) output"
(cd bad && find . -type f -printf '%p %i %s %T@\n' | sort) >first
expect_status 1 "$BIN/leafpack" bad
(cd bad && find . -type f -printf '%p %i %s %T@\n' | sort) >second
same_file first second
[ -z "$(find bad -name '.*')" ] || fail "a claim or temporary was left"
grep -q 'nothing to do: no new sources (3 leaves' err || fail "the rerun: $(cat err)"
exit 0
