#!/bin/sh
# The C unit tests of the pure modules: the JSON scanner (unit_jsonscan:
# exact compact output, error positions, key paths, deep nesting, every
# chunking of a sample) and the sort keys (unit_sortkey: instants and
# numbers in a known order).  Each prints its failures and exits non-zero.
. "$LEAFPACK_TESTS/lib.sh"

for t in unit_jsonscan unit_sortkey; do
	[ -x "$TESTBIN/$t" ] || fail "$TESTBIN/$t missing: run make tests"
	"$TESTBIN/$t" >out 2>&1 || {
		cat out >&2
		fail "$t"
	}
done
