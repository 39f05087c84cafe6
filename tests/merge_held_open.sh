#!/bin/sh
# A source another process holds open (a writer still at it, or a reader)
# is left alone on a local file system whatever --min-age says: json-merge
# takes a write lease (F_SETLEASE F_WRLCK), which the kernel refuses while
# any other descriptor of the file is open; the source counts as too young,
# and a later run, once it is closed, consumes it.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

mkdir -p root/e/t/L
for f in a b c; do
	echo "[{\"timestamp\":\"2024-01-01T00:00:00Z\",\"id\":\"$f\"}]" \
	    >root/e/t/L/$f.txt
done
touch -d '-1 hour' root/e/t/L/*.txt
source_records root >before.records
exec 3>>root/e/t/L/a.txt 4<root/e/t/L/b.txt
"$BIN/json-merge" --min-age 0 --no-claim --list-young root/e/t/L \
    >/dev/null 2>young.err || fail "json-merge: $(cat young.err)"
[ "$(grep -c 'held open by another process; left for a later run' \
    young.err)" -eq 2 ] || fail "--list-young: $(cat young.err)"
expect_status 0 "$BIN/leafpack" --min-age 0 --stats=json root
exec 3>&- 4<&-
tail -n 1 err | jq -e '.files_removed == 1 and
    .sources_skipped.too_young == 2' >/dev/null ||
    fail "held open: $(tail -n 1 err)"
for f in a b; do
	[ -f root/e/t/L/$f.txt ] || fail "$f.txt, held open, was consumed"
done
[ ! -e root/e/t/L/c.txt ] || fail "c.txt was not consumed"
expect_status 0 "$BIN/leafpack" --min-age 0 root
output_records root >after.records
same_file before.records after.records
for f in a b; do
	[ ! -e root/e/t/L/$f.txt ] || fail "$f.txt, closed, was not consumed"
done
exit 0
