# json-merge's side of the hand-over journal: it claims the leaf when its
# stdout is a pipe (or with --claim, never with --no-claim) and ends with a
# "merged" journal naming the consumed sources and the records/bytes of what
# it wrote; a live holder makes the leaf busy (status 4, nothing printed); a
# dead one is taken over and its temporaries removed; sources that a
# committed journal says are in the current output are not read again; a
# failure puts the previous journal back.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd jq
need_cmd python3

J=leaf/.consolidated.jsonl.journal
mkdir leaf
printf '[{"timestamp":2,"v":"a"}]' >leaf/a.txt
printf '[{"timestamp":1,"v":"b"},{"timestamp":3,"v":"b2"}]' >leaf/b.txt

# Into a file: no claim.  Into a pipe: a merged claim.
expect_status 0 "$BIN/json-merge" --min-age 0 leaf
[ -e $J ] && fail "claimed although stdout is a file"
expect_status 0 "$BIN/json-merge" --min-age 0 --no-claim --claim leaf
[ -e $J ] || fail "--claim did not claim"
rm $J
"$BIN/json-merge" --min-age 0 leaf 2>err | cat >out || fail "piped run failed"
jq -e --argjson bytes "$(wc -c <out)" '.state == "merged" and .records == 3 and
    .bytes == $bytes and (.sources | map(.name)) == ["a.txt", "b.txt"]
    and .base == null' $J >/dev/null || fail "merged journal: $(cat $J)"
rm $J
"$BIN/json-merge" --min-age 0 --no-claim leaf | cat >/dev/null
[ -e $J ] && fail "--no-claim claimed"

# A live holder on this host: busy.
host=$(python3 -c 'import socket; print(socket.gethostname())')
sleep 30 &
live=$!
write_journal() {	# STATE PID [OUTPUT_INO KEPT_NAME...]
	python3 - "$@" <<'PY' >$J
import json, os, sys, socket
state, pid = sys.argv[1], int(sys.argv[2])
ino = int(sys.argv[3]) if len(sys.argv) > 3 else 0
def entry(name):
    st = os.stat("leaf/" + name)
    return {"name_hex": name.encode().hex(), "ino": st.st_ino,
        "size": st.st_size, "mtime_ns": st.st_mtime_ns, "mode": st.st_mode,
        "uid": st.st_uid, "gid": st.st_gid}
base = None
if os.path.exists("leaf/consolidated.jsonl"):
    st = os.stat("leaf/consolidated.jsonl")
    base = {"ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
print(json.dumps({"version": 1, "state": state,
    "holder": {"host": socket.gethostname(), "pid": pid}, "base": base,
    "output_ino": ino, "kept": [], "sources": [entry(n) for n in sys.argv[4:]],
    "records": 0, "bytes": 0, "hash": "0000000000000000"}))
PY
}
write_journal merging $live
"$BIN/json-merge" --min-age 0 leaf 2>err | cat >out
[ -s out ] && fail "busy leaf printed records"
grep -q "leaf: busy: being consolidated by $host pid $live" err ||
	fail "busy message: $(cat err)"
jq -e --argjson pid $live '.pid == $pid or .holder.pid == $pid' $J >/dev/null ||
	fail "the live claim was touched"
kill $live
wait $live 2>/dev/null

# A dead holder: taken over; its temporaries go, other files stay.
sh -c 'exit 0' &
dead=$!
wait $dead
write_journal merged $dead
touch leaf/.consolidated.jsonl.tmp.$dead.x1 leaf/.consolidated.jsonl.journal.tmp.$dead.x2
touch leaf/.consolidated.jsonl.tmp.$$.x3
"$BIN/json-merge" --min-age 0 leaf 2>err | cat >out
[ "$(wc -l <out)" -eq 3 ] || fail "dead claim not taken over: $(cat err)"
[ -e leaf/.consolidated.jsonl.tmp.$dead.x1 ] && fail "dead temporary left"
[ -e leaf/.consolidated.jsonl.journal.tmp.$dead.x2 ] && fail "dead journal temporary left"
[ -e leaf/.consolidated.jsonl.tmp.$$.x3 ] || fail "a live process's temporary removed"
rm leaf/.consolidated.jsonl.tmp.$$.x3

# Committed with --keep-sources: a.txt is in the current output already.
printf '%s\n' '{"timestamp":2,"v":"a"}' >leaf/consolidated.jsonl
write_journal committed $dead "$(stat -c %i leaf/consolidated.jsonl)" a.txt
cp $J committed.json
"$BIN/json-merge" --min-age 0 leaf 2>err | cat >out
[ "$(jq -r .v out | tr '\n' ' ')" = "b a b2 " ] ||
	fail "absorbed source read again: $(jq -r .v out | tr '\n' ' ')"
jq -e '(.kept | map(.name)) == ["a.txt"] and
    (.sources | map(.name)) == ["b.txt"] and .base != null' $J \
    >/dev/null || fail "claim over a committed journal: $(cat $J)"

# A failure after claiming leaves the claim in state merging (so that a
# jsonl-write downstream refuses), still naming the kept sources of the
# committed journal it replaced.
cp committed.json $J
printf '[1,]' >leaf/c.txt
"$BIN/json-merge" --min-age 0 --strict leaf 2>err | cat >out
[ -s out ] && fail "--strict failure printed records"
[ "$(jq -r .state $J)" = merging ] || fail "failed claim not merging: $(cat $J)"
# (committed.json names a.txt hex-encoded; ours is plain)
[ "$(jq -c '[.kept[].name]' $J)" = '["a.txt"]' ] ||
	fail "kept sources of the committed journal lost: $(cat $J)"

# Once the output is replaced (another inode), the kept sources count again.
cp leaf/consolidated.jsonl new && mv new leaf/consolidated.jsonl
rm leaf/c.txt
"$BIN/json-merge" --min-age 0 --no-claim leaf >out 2>err
[ "$(jq -r .v out | tr '\n' ' ')" = "b a a b2 " ] ||
	fail "stale journal trusted: $(jq -r .v out | tr '\n' ' ')"

# A leaf we may not write: no claim, but the records still come out.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	mkdir ro
	printf '[{"timestamp":1,"v":"ro"}]' >ro/a.txt
	chmod 755 . ro
	chmod 644 ro/a.txt
	as_nobody "$BIN/json-merge" --min-age 0 "$PWD/ro" 2>err | cat >out
	[ "$(jq -r .v out)" = ro ] || fail "read-only leaf: $(cat err)"
	[ -e ro/.consolidated.jsonl.journal ] && fail "claimed a read-only leaf"
fi
exit 0
