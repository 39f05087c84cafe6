#!/bin/sh
# A second run over a finished tree changes nothing and says so.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root
expect_status 0 "$BIN/leafpack" root
(cd root && find . -printf '%p %i %s %T@\n' | sort) >first
expect_status 0 "$BIN/leafpack" root
(cd root && find . -printf '%p %i %s %T@\n' | sort) >second
same_file first second
grep -q 'nothing to do' err || fail "the second run did not say so: $(cat err)"
exit 0
