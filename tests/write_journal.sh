#!/bin/sh
# The journal module's unit tests (tests/write_journal_unit.c): hash
# independent of chunking, names of any bytes through store and load,
# malformed journals refused, exclusive claims, the absorbed-sources rule,
# holders' liveness and stale temporaries.
. "$LEAFPACK_TESTS/lib.sh"

[ -x "$TESTBIN/write_journal_unit" ] || fail "$TESTBIN/write_journal_unit missing: run make tests"
"$TESTBIN/write_journal_unit" || fail "write_journal_unit"
