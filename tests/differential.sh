#!/bin/sh
# The differential check of the JSON scanner (tests/differential.py): the
# scanner, through tests/bin/jsonscan_cli as a source and as a JSONL line,
# against a strict reference built on Python's json (NaN rejected, strict
# UTF-8, top-level array) for the verdict, the exact compact bytes of each
# element, the order of the members and the key, on every JSONTestSuite
# case, the fuzz fixtures and corpora (build/fuzz, if `make fuzz` made
# them), 1000 generated sources and 3000 mutations from a fixed seed
# (DIFF_SEED, DIFF_MUTATIONS change them).  Fails on any disagreement that
# is not one of the documented differences; the inputs stay in the test's
# directory as disagree-N.bin.
. "$LEAFPACK_TESTS/lib.sh"
not_sanitized the scanner against a reference, which the plain pass covers

need_cmd python3
suite=$LEAFPACK_TOP/../shared/JSONTestSuite/test_parsing
[ -d "$suite" ] || skip "JSONTestSuite not found at $suite"
cli=$TESTBIN/jsonscan_cli
[ -x "$cli" ] || fail "$cli missing: run make tests"

corpus=$LEAFPACK_TOP/build/fuzz
python3 "$LEAFPACK_TESTS/differential.py" --cli "$cli" --suite "$suite" \
    --fixtures "$LEAFPACK_TESTS/fuzz/fixtures" --gentree "$TESTBIN/gentree" \
    --corpus-array "$corpus/corpus-scan" --corpus-line "$corpus/corpus-line" \
    --seed "${DIFF_SEED:-14}" --mutations "${DIFF_MUTATIONS:-3000}" \
    --out . >report 2>&1
status=$?
grep -v '^known difference' report | tail -n 20
[ $status -eq 0 ] || fail "the scanner and the reference disagree"
