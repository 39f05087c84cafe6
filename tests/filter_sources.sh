#!/bin/sh
# leaf-filter prints a leaf only when it holds at least --min-files eligible
# sources: regular files matching --match, older than --min-age, not the
# output, its journal or a temporary; symlinks never count.
. "$LEAFPACK_TESTS/lib.sh"

mkdir -p t/a t/b t/c t/d t/e t/f
echo '[]' >t/a/1.txt
echo '[]' >t/b/1.json
echo '[]' >t/c/1.txt
echo '[]' >t/c/2.txt
ln -s ../a/1.txt t/d/1.txt
mkdir t/d/2.txt
echo '{}' >t/e/consolidated.jsonl
echo '{}' >t/e/.consolidated.jsonl.tmp.1.x
echo '[]' >t/f/young.txt
touch -d '1 hour ago' t/a/1.txt t/b/1.json t/c/1.txt t/c/2.txt t/e/*  \
    t/e/.consolidated.jsonl.tmp.1.x
printf '%s\n' t/a t/b t/c t/d t/e t/f t/missing >in

expect_status 1 "$BIN/leaf-filter" <in
printf '%s\n' t/a t/c >want
same_file want out
grep -q 't/missing' err || fail "the missing directory is not named"

# --min-files
expect_status 1 "$BIN/leaf-filter" --min-files 2 <in
printf '%s\n' t/c >want
same_file want out

# --match (repeatable) replaces the default.
expect_status 1 "$BIN/leaf-filter" --match '*.json' <in
printf '%s\n' t/b >want
same_file want out
expect_status 1 "$BIN/leaf-filter" --match '*.json' --match '*.txt' <in
printf '%s\n' t/a t/b t/c >want
same_file want out

# --min-age: the young file counts only with --min-age 0.
expect_status 1 "$BIN/leaf-filter" --min-age 0 <in
printf '%s\n' t/a t/c t/f >want
same_file want out

# --list-young names the young file; --stats=json counts it.
expect_status 1 "$BIN/leaf-filter" --list-young --stats=json <in
grep -q 't/f/young.txt: modified within --min-age' err ||
    fail "--list-young did not name t/f/young.txt"
tail -n 1 err | jq -e '.sources_too_young == 1' >/dev/null ||
    fail "stats: $(tail -n 1 err)"

# The output is never a source, whatever --match says.
expect_status 0 "$BIN/leaf-filter" --match "*" --min-age 0 --name e <in
[ -s out ] && fail "the output or a temporary counted as a source"
expect_status 0 "$BIN/leaf-filter" --match "*" --output other --name e <in
printf '%s\n' t/e >want
same_file want out

# --stats=json: one object, the last line of stderr.
expect_status 1 "$BIN/leaf-filter" --stats=json <in
tail -n 1 err | jq -e '.leaves_read == 7 and .leaves_printed == 2 and
    .unreadable == 1' >/dev/null || fail "stats: $(tail -n 1 err)"
exit 0
