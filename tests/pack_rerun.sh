#!/bin/sh
# A second run over a finished tree changes nothing and says so: no file is
# rewritten (same inode, size and mtime), also in the leaves that hold an
# invalid source, which are read again but not committed again; with --jq
# too, where jsonl-write --skip-unchanged leaves them as they are.
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

# The per-leaf pipeline (--jq): the same, and the stats count them
# unchanged (the leaves of invalid sources) or idle (the others), with no
# record merged anew.
expect_status 1 "$BIN/leafpack" --jq . --stats=json bad
(cd bad && find . -type f -printf '%p %i %s %T@\n' | sort) >third
same_file first third
[ -z "$(find bad -name '.*')" ] || fail "--jq: a claim or temporary was left"
tail -n 1 err | jq -e '.leaves_found == 13 and .leaves_unchanged == 3 and
    .leaves_idle == 10 and
    .leaves_consolidated == 0 and .leaves_failed == 0 and .records == 0 and
    .bytes_out == 0' >/dev/null || fail "--jq rerun: $(tail -n 1 err)"
expect_status 1 "$BIN/leafpack" --jq . bad
grep -q 'nothing to do: no new sources (3 leaves' err ||
    fail "the --jq rerun: $(cat err)"
exit 0
