#!/bin/sh
# Symbolic links are never followed and never count as subdirectories: a
# link to an ancestor, to a file, to a directory, a dangling one.  A ROOT
# that is a link to a directory is followed (like find -H).
. "$LEAFPACK_TESTS/lib.sh"

mkdir -p t/a/b t/c/d t/e t/g
touch t/a/file
ln -s ../.. t/a/b/up		# to an ancestor: a loop if followed
ln -s file t/a/flink		# to a file
ln -s ../a t/c/alink		# to a directory, beside a real one
ln -s ../c t/e/clink		# e holds only a link: a leaf
ln -s nowhere t/g/dangling
ln -s t rootlink

expect_status 0 "$BIN/tree-scan" t
printf '%s\n' t/a/b t/c/d t/e t/g >expected
sort out >got
same_file expected got
find_leaves t >oracle
same_file expected oracle

expect_status 0 "$BIN/tree-scan" rootlink
sed 's|^t/|rootlink/|' expected >expected.link
sort out >got
same_file expected.link got

# A link given as a ROOT with a trailing slash: no double slash.
expect_status 0 "$BIN/tree-scan" rootlink/
sort out >got
same_file expected.link got
