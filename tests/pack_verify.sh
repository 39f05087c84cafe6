#!/bin/sh
# leafpack --verify (and jsonl-verify under it) checks a finished tree and
# changes nothing.  A tree consolidated removing sources, one keeping them
# (its outputs carry commit records) and one consolidated through --jq
# verify clean: exit 0, nothing on stdout.  Each kind of damage (lines out
# of order, a line not compact, an invalid line, no final newline, bytes
# changed behind a commit record, a temporary, a dead run's claim (also
# when its pid was given again), a live one's, a stray
# journal) gives exactly its one line naming the file (and the line),
# exit 1, and the tree byte for byte as it was.  Under stallfs, an output
# whose read hangs costs that leaf (stalled, named), the rest is checked,
# within the bound.
# shellcheck disable=SC2016 # the damage is eval'ed in damage(): its $ are for then
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_cmd jq

out=consolidated.jsonl

# clean FLAG...: a new tree t consolidated with FLAG... verifies clean.
clean() {
	rm -rf t
	gen t
	expect_status 0 "$BIN/leafpack" --min-age 0 "$@" t
	tree_state t >before.state
	expect_status 0 "$BIN/leafpack" --verify --stats=json t
	[ ! -s out ] || fail "clean tree ($*): $(cat out)"
	tail -n 1 err | jq -e '.verify and .leaves_checked == 12 and
	    .leaves_clean == 12 and .problems == 0 and .lines_checked == 240' \
	    >/dev/null || fail "clean tree ($*): $(tail -n 1 err)"
	tree_state t >after.state
	same_file before.state after.state
}
clean
clean --keep-sources
# The outputs carry their records: the check of sizes and hashes ran.
getfattr -n user.leafpack.journal "$(leaves t | head -n 1)/$out" \
    >/dev/null 2>&1 || fail "--keep-sources left no commit record"
clean --jq .

# damage WHAT EXPECTED [LINES]: after WHAT was done to a copy d of the
# tree k, verify prints LINES lines (default 1), one of them EXPECTED (a
# grep -x pattern), and exits 1; the tree is unchanged.
damage() {
	rm -rf d
	cp -a k d
	[ -z "${moved:-}" ] || { rm -rf d; mv k d; }
	leaf=$(leaves d | sed -n 2p)
	eval "$1"
	tree_state d >before.state
	expect_status 1 "$BIN/leafpack" --verify d
	[ "$(wc -l <out)" -eq "${3:-1}" ] ||
	    fail "$1: not ${3:-1} lines: $(cat out)"
	grep -qx "$2" out || fail "$1: got $(cat out), expected $2"
	tree_state d >after.state
	same_file before.state after.state
}
rm -rf k
gen k
expect_status 0 "$BIN/leafpack" --min-age 0 k
# Damage done to a copy of a consolidated output (the copy has no record).
damage '{ sed -n 2p "$leaf/$out"; sed -n 1p "$leaf/$out"; sed -n "3,\$p" "$leaf/$out"; } >x; cat x >"$leaf/$out"' \
    "d/.*/$out:2: out of order: its key sorts before line 1's"
damage 'sed -i "3s/,/, /" "$leaf/$out"' "d/.*/$out:3: not compact (.*)"
damage 'sed -i "4s/^{/{{/" "$leaf/$out"' "d/.*/$out:4: not one JSON value: .*"
damage 'printf "[1]" >>"$leaf/$out"' \
    "d/.*/$out:21: no newline at the end of the last line"
damage ': >"$leaf/.$out.tmp.99999999.abcdef01"' \
    "d/.*/.$out.tmp.99999999.abcdef01: a temporary file of a run (pid 99999999)"
# A run that claimed the leaf and ended before jsonl-write committed.
damage 'printf "%s\n" "[{\"timestamp\":\"2024-03-01T00:00:00Z\"}]" >"$leaf/new.txt"; "$BIN/json-merge" --min-age 0 --claim "$leaf" >/dev/null' \
    "d/.*/.$out.journal: a claim (merged) left by a run that ended (host .*, pid [0-9]*): a rerun finishes the leaf"
# Its pid given again to a live process (this shell) that started at
# another time: still a run that ended; and with this shell's start time
# the claim is taken for a live one's.
claimed='printf "%s\n" "[{\"timestamp\":\"2024-03-01T00:00:00Z\"}]" >"$leaf/new.txt"; "$BIN/json-merge" --min-age 0 --claim "$leaf" >/dev/null; j="$leaf/.$out.journal"'
damage "$claimed"'; jq -c ".holder.pid = $$" "$j" >x; cat x >"$j"' \
    "d/.*/.$out.journal: a claim (merged) left by a run that ended (host .*, pid $$): a rerun finishes the leaf"
start=$(cut -d " " -f 22 /proc/$$/stat)
damage "$claimed"'; jq -c ".holder.pid = $$ | .holder.start = $start" "$j" >x; cat x >"$j"' \
    "d/.*/.$out.journal: a claim (merged) of a run still at work (host .*, pid $$)"
# A dead claim made from this shell's process group, while a process
# named leafpack whose parent is named leafpack runs in the group (a
# driver's helper, not a driver's fork on its way to become jsonl-write,
# which would have joined another group): still a run that ended.
mkdir -p fake/bin
cp "$(command -v sleep)" fake/bin/leafpack
printf '#!/bin/sh\n"%s/fake/bin/leafpack" 60\n' "$PWD" >fake/leafpack
chmod +x fake/leafpack
./fake/leafpack &
helper=$!
damage "$claimed" \
    "d/.*/.$out.journal: a claim (merged) left by a run that ended (host .*, pid [0-9]*): a rerun finishes the leaf"
kill "$helper"
pkill -f "$PWD/fake/bin/leafpack" 2>/dev/null

# A record that no longer matches: a line appended after a commit that
# kept its sources (the attribute holds the record, which names the
# output's inode: the tree is moved, not copied).
kept() {
	rm -rf k
	gen k
	expect_status 0 "$BIN/leafpack" --min-age 0 --keep-sources k
}
moved=1
kept
damage 'tail -n 1 "$leaf/$out" >>"$leaf/$out"' \
    "d/.*/$out: the commit record (attribute) says .* bytes; the file has .*" 2
grep -qx "d/.*/$out: the commit record (attribute) says 20 records; the file has 21 lines" out ||
    fail "the records are not told: $(cat out)"
# ...and the same bytes changed in place: only the hash can tell.
kept
damage 'off=$(grep -bo "\"entity\":\"e" "$leaf/$out" | head -n 1 | cut -d: -f1); printf x | dd of="$leaf/$out" bs=1 seek=$((off + 10)) conv=notrunc 2>/dev/null' \
    "d/.*/$out: the commit record (attribute) holds hash .*; the file hashes to .* (its bytes changed after the commit)"

moved=

# jsonl-verify by hand: paths on stdin, -0, a leaf that is not there.
"$BIN/tree-scan" -0 t | expect_status 0 "$BIN/jsonl-verify" -0 --stats
grep -q '12 leaves checked, 12 clean; 0 problems' err || fail "jsonl-verify: $(cat err)"
expect_status 4 "$BIN/jsonl-verify" t/nonexistent
grep -q 't/nonexistent' err || fail "jsonl-verify: the missing leaf is not named: $(cat err)"

# Nothing that changes a tree goes with a check.
expect_status 2 "$BIN/leafpack" --verify --jq . t
grep -q -- '--verify changes nothing: not with --jq' err || fail "--jq: $(cat err)"
expect_status 2 "$BIN/leafpack" --verify --dry-run t
expect_status 0 "$BIN/jsonl-verify" --version
expect_status 0 "$BIN/jsonl-verify" --help
grep -q '^usage: jsonl-verify' out || fail "--help: $(cat out)"
expect_status 2 "$BIN/jsonl-verify" --bogus

# A read that hangs costs its leaf only.
. "$LEAFPACK_TESTS/lib/stallfs.sh"
need_stallfs
rm -rf src mnt
gen src --entities 2 --types 1 --dates 2 --files 3
expect_status 0 "$BIN/leafpack" --min-age 0 src
hung=e0001/audit/2024-03-02
stallfs_mount src mnt --rule "hang:read:$hung/$out"
start=$(date +%s)
expect_status 1 "$BIN/leafpack" --verify -t 1 -P 2 --stats=json mnt
secs=$(( $(date +%s) - start ))
stallfs_unmount mnt
# Under valgrind every process starts tens of times slower.
limit=15
[ "${LEAFPACK_VALGRIND:-0}" = 1 ] && limit=120
[ "$secs" -le "$limit" ] || fail "took ${secs}s with -t 1"
grep -q "$hung: stalled: read of .*$hung/$out" err ||
    fail "the stalled leaf is not named: $(cat err)"
tail -n 1 err | jq -e '.leaves_stalled == 1 and .leaves_checked == 3 and
    .leaves_clean == 3' >/dev/null || fail "stalled run: $(tail -n 1 err)"
exit 0
