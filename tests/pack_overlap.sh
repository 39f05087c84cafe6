#!/bin/sh
# Overlapping runs over one tree: a leaf another run holds is busy (status
# 1), never failed, whichever way the runs go (the leaf stream, --jq, the
# per-leaf command under xargs), and afterwards every record is in its
# output exactly once.  A claim names its holder's process group: a
# json-merge that exited while its jsonl-write still commits holds its
# leaf, and the driver hands a busy json-merge's empty output to no
# jsonl-write (both once failed leaves of the run that lost the race).
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

# overlap N OPTION...: N runs of leafpack OPTION... at once on a fresh
# tree; none may exit 4, and a last run finds nothing to do.
overlap() {
	n=$1
	shift
	rm -rf root st.* err.*
	gen root --entities 4 --types 2 --dates 3 --files 3 --records 4
	find root -name '*.txt' -exec cat {} + | jq -c '.[]' | LC_ALL=C sort >before.records
	i=0
	while [ $i -lt "$n" ]; do
		{ "$BIN/leafpack" --min-age 0 "$@" root 2>"err.$i"
		  echo $? >"st.$i"; } &
		i=$((i + 1))
	done
	wait
	i=0
	while [ $i -lt "$n" ]; do
		st=$(cat "st.$i")
		case $st in
		0 | 1) ;;
		*) fail "$n runs $*: run $i exited $st: $(grep -v busy \
		    "err.$i" | head -n 5)" ;;
		esac
		! grep -q 'not consolidated' "err.$i" ||
		    fail "$n runs $*: run $i: $(grep -v busy "err.$i" | head)"
		i=$((i + 1))
	done
	expect_status 0 "$BIN/leafpack" --min-age 0 --stats=json root
	tail -n 1 err | jq -e '.leaves_consolidated == 0' >/dev/null ||
	    fail "$n runs $*: left work: $(tail -n 1 err)"
	output_records root >after.records
	same_file before.records after.records
	left=$(find root -type f ! -name consolidated.jsonl | head -n 3)
	[ -z "$left" ] || fail "$n runs $*: left: $left"
}

need_cmd jq

# A claim whose json-merge is gone, in a group where a child of the driver
# has not yet become jsonl-write (a process named leafpack whose parent is
# named leafpack, and which has joined json-merge's group, as the driver's
# fork does before its exec): held.  A script named leafpack stands for the
# driver, in the test's group; it starts, in a new group, the json-merge
# that claims and then, in its place, a copy of sleep named leafpack.
rm -rf root fake
gen root --entities 1 --types 1 --dates 1 --files 2
leaf=$(find root -mindepth 3 -maxdepth 3 -type d)
mkdir -p fake/driver fake/child
cp "$(command -v sleep)" fake/child/leafpack
cat >fake/driver/leafpack <<'EOS'
#!/bin/sh
# shellcheck disable=SC2016 # expanded by the inner sh
setsid sh -c '"$1" --min-age 0 --claim "$2" >/dev/null; exec fake/child/leafpack 30' \
    sh "$1" "$2" &
echo $! >fake.pid
wait
EOS
chmod +x fake/driver/leafpack
fake/driver/leafpack "$BIN/json-merge" "$leaf" &
n=0
until [ -s fake.pid ] &&
    [ "$(cat "/proc/$(cat fake.pid)/comm" 2>/dev/null)" = leafpack ]; do
	n=$((n + 1))
	[ $n -gt 100 ] && fail "the stand-in did not start"
	sleep 0.05
done
[ -e "$leaf/.consolidated.jsonl.journal" ] || fail "the first claim"
expect_status 4 "$BIN/json-merge" --min-age 0 --claim --stats=json "$leaf"
tail -n 1 err | jq -e '.busy == true' >/dev/null ||
	fail "a claim whose partner is about to exec was taken: $(cat err)"
kill "$(cat fake.pid)"
sleep 0.2
expect_status 0 "$BIN/json-merge" --min-age 0 --claim --stats=json "$leaf"
tail -n 1 err | jq -e '.busy == false' >/dev/null ||
	fail "an abandoned claim stayed held: $(cat err)"

overlap 2 -P 4
overlap 2 --jq .
overlap 4 --jq . -P 4

# The per-leaf command, the way xargs spreads it.
rm -rf root
gen root --entities 4 --types 2 --dates 3 --files 3 --records 4
find root -name '*.txt' -exec cat {} + | jq -c '.[]' | LC_ALL=C sort >before.records
for i in 0 1 2; do
	# shellcheck disable=SC2016 # expanded by the inner sh
	{ "$BIN/tree-scan" -0 root | xargs -0 -n 2 -P 2 sh -c \
	    '"$0" --leaves --min-age 0 "$@" 2>/dev/null; echo $? >>statuses' \
	    "$BIN/leafpack"; } &
done
wait
! grep -qv '^[01]$' statuses || fail "xargs: statuses $(sort statuses | uniq -c)"
output_records root >after.records
same_file before.records after.records
exit 0
