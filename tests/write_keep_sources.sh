#!/bin/sh
# shellcheck disable=SC2154 # merge_status, write_status: set by pair()
# Consolidating without --remove-sources keeps the sources and leaves the
# commit record (on the output as attribute user.leafpack.journal, with no
# journal file left; or, with LEAFPACK_NO_XATTR=1, the journal file); the
# next json-merge knows those sources are in the output (each record stays
# once), new sources join, a plain jsonl-write may not replace that output,
# and a later --remove-sources run removes the kept sources too and the
# record with them.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"

for mode in $modes; do
use_mode "$mode"
rm -rf leaf

mkleaf leaf 4 3 a
records leaf >want.a
pair leaf
# shellcheck disable=SC2015  # deliberate: fails unless both are 0
[ "$merge_status" -eq 0 ] && [ "$write_status" -eq 0 ] || fail "first run"
jq -c . "leaf/$OUT" | sort >got
same_file got want.a
# shellcheck disable=SC2012  # counts plain names
[ "$(ls leaf/*.txt | wc -l)" -eq 4 ] || fail "sources were removed"
record leaf | jq -e '.state == "committed" and (.sources | length) == 4' \
    >/dev/null || fail "$mode: record: $(record leaf)"
if [ "$mode" = xattr ]; then
	[ ! -e "leaf/.$OUT.journal" ] || fail "a journal file is left"
else
	[ -f "leaf/.$OUT.journal" ] || fail "no journal file"
fi

# Again with nothing new: same records, once each.
pair leaf
[ "$write_status" -eq 0 ] || fail "second run: $(cat write.err)"
jq -c . "leaf/$OUT" | sort >got
same_file got want.a

# New sources join; the old ones still count once.
mkleaf leaf 3 3 b
{ cat want.a; find leaf -name 'b*.txt' -exec jq -c '.[]' {} +; } | sort >want
pair leaf
[ "$write_status" -eq 0 ] || fail "third run: $(cat write.err)"
jq -c . "leaf/$OUT" | sort >got
same_file got want
record leaf | jq -e '(.kept | length) == 4 and (.sources | length) == 3' \
    >/dev/null || fail "$mode: record: $(record leaf)"

# Replacing that output outside json-merge is refused.
cp "leaf/$OUT" before
printf '{"x":1}\n' | expect_status 4 "$BIN/jsonl-write" "leaf/$OUT"
grep -q "records sources already in leaf/$OUT" err || fail "$(cat err)"
same_file "leaf/$OUT" before

# A kept source rewritten since is read again: its new record joins (its
# old ones are in the output already).  The removing run takes the kept and
# the new sources away, and the journal with them.
printf '[{"timestamp":"2024-03-02T00:00:00Z","id":"new-a01"}]' >leaf/a01.txt
{ cat want; echo '{"timestamp":"2024-03-02T00:00:00Z","id":"new-a01"}'; } |
    sort >want2
pair leaf --remove-sources
[ "$write_status" -eq 0 ] || fail "removing run: $(cat write.err)"
check_done leaf want2
done
