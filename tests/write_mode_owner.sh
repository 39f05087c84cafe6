#!/bin/sh
# shellcheck disable=SC2154 # merge_status, write_status: set by pair()
# The output's mode and owner follow the rule of jsonl-write(1): those of
# the first consumed source in byte order of names; else those of the
# existing output; else 0666 minus the umask and the caller's ids.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"
need_root "chown of sources"

mkleaf leaf 2 2 s
# "B.txt" comes before "s01.txt" in byte order.
cp leaf/s01.txt leaf/B.txt
sed -i 's/"s01-/"B01-/g' leaf/B.txt
chown nobody:nogroup leaf/B.txt && chmod 640 leaf/B.txt
chown root:root leaf/s0*.txt && chmod 644 leaf/s0*.txt
pair leaf
[ "$write_status" -eq 0 ] || fail "first run: $(cat write.err)"
[ "$(stat -c '%a %U %G' "leaf/$OUT")" = "640 nobody nogroup" ] ||
    fail "from the first source: $(stat -c '%a %U %G' "leaf/$OUT")"
# nobody can read it, as they could read their source.
chmod 755 .
as_nobody cat "leaf/$OUT" >/dev/null || fail "nobody cannot read the output"

# No new source: the existing output's mode and owner stay.
chown daemon:daemon "leaf/$OUT" && chmod 604 "leaf/$OUT"
pair leaf
[ "$write_status" -eq 0 ] || fail "second run: $(cat write.err)"
[ "$(stat -c '%a %U %G' "leaf/$OUT")" = "604 daemon daemon" ] ||
    fail "from the output: $(stat -c '%a %U %G' "leaf/$OUT")"

# Neither: the umask and our ids.
mkdir plain
(umask 027 && printf '1\n' | "$BIN/jsonl-write" plain/x.jsonl) ||
    fail "plain write"
[ "$(stat -c '%a %u %g' plain/x.jsonl)" = "640 $(id -u) $(id -g)" ] ||
    fail "from the umask: $(stat -c '%a %u %g' plain/x.jsonl)"
