#!/bin/sh
# Nested, empty and wide directories, files beside them: tree-scan prints
# exactly the directories with no subdirectory, as find sees them, with any
# number of workers.  A directory of 10,000 subdirectories makes the names
# come back in several chunks.
. "$LEAFPACK_TESTS/lib.sh"

mkdir -p t/a/b/c t/a/d t/e t/f/g/h/i t/f/j t/k
touch t/a/file t/a/b/c/file t/f/g/x t/k/only-a-file
seq 10000 | sed 's|^|t/w/a-subdirectory-with-a-longer-name-|' | xargs mkdir -p
mkdir t/w/a-subdirectory-with-a-longer-name-7/inner

find_leaves t >expected
[ "$(wc -l <expected)" -eq 10006 ] || fail "oracle found $(wc -l <expected)"
for j in 1 2 4 16; do
	expect_status 0 "$BIN/tree-scan" -j "$j" t
	sort out >got
	same_file expected got
	[ ! -s err ] || fail "-j $j wrote on stderr: $(head -n 3 err)"
done

# Two roots, one of them a leaf itself.
expect_status 0 "$BIN/tree-scan" t/f t/e
printf '%s\n' t/e t/f/g/h/i t/f/j >expected
sort out >got
same_file expected got
