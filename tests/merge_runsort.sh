# json-merge's sort, spill and k-way merge (src/lib/runsort.c) give the
# stable order of a reference sort, in memory, with spills and with a
# multi-pass merge (tests/merge_runsort.c).
. "$LEAFPACK_TESTS/lib.sh"

[ -x "$TESTBIN/merge_runsort" ] || fail "$TESTBIN/merge_runsort missing: run make tests"
TMPDIR=$PWD
export TMPDIR
check "runsort order" "$TESTBIN/merge_runsort" 100000
# Run files are unlinked at once: nothing may be left in $TMPDIR.
left=$(find . -name 'json-merge-run*' | wc -l)
[ "$left" -eq 0 ] || fail "$left run files left in TMPDIR"
