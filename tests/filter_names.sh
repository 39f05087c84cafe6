#!/bin/sh
# leaf-filter --name and --names-from select leaves by their own name (the
# last component, trailing slashes ignored), keep the input order, and pass
# any byte through with -0.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

gen root --entities 2 --types 1 --dates 3

# No name option: every leaf with sources, in input order.
leaves root | sort -r >in
expect_status 0 "$BIN/leaf-filter" --min-age 0 <in
same_file in out

# --name globs (repeatable), matched on the last component only.
printf '%s\n' root/e0001/audit/2024-03-01/ root/e0002/audit/2024-03-02 \
    root/e0002/audit/2024-03-03 root/e0001/audit/2024-03-03 >in
expect_status 0 "$BIN/leaf-filter" --min-age 0 --name '*-01' \
    --name '2024-03-03' <in
printf '%s\n' root/e0001/audit/2024-03-01/ root/e0002/audit/2024-03-03 \
    root/e0001/audit/2024-03-03 >want
same_file want out
expect_status 0 "$BIN/leaf-filter" --min-age 0 --name 'audit' <in
[ -s out ] && fail "--name matched a parent directory's name"

# --names-from: exact names, one per line; combined with --name (either).
printf '2024-03-02\n*\n' >names
expect_status 0 "$BIN/leaf-filter" --min-age 0 --names-from names <in
printf '%s\n' root/e0002/audit/2024-03-02 >want
same_file want out
expect_status 0 "$BIN/leaf-filter" --min-age 0 --names-from names \
    --name '*-01' <in
printf '%s\n' root/e0001/audit/2024-03-01/ root/e0002/audit/2024-03-02 >want
same_file want out
: >empty
expect_status 0 "$BIN/leaf-filter" --min-age 0 --names-from empty <in
[ -s out ] && fail "an empty --names-from file selected leaves"

# -0: a name with a space and a newline survives, and matches by its name.
nl='
'
odd="root/e0001/audit/2024-03-09 with space${nl}and newline"
mkdir "$odd"
cp root/e0001/audit/2024-03-01/*.txt "$odd/"
printf '%s\0' "$odd" root/e0001/audit/2024-03-01 >in0
expect_status 0 "$BIN/leaf-filter" -0 --min-age 0 --name '2024-03-09*' <in0
printf '%s\0' "$odd" >want0
same_file want0 out
exit 0
