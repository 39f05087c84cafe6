# A source rewritten while json-merge reads it is not consumed this time:
# its records are dropped from the run, it is named ("changed while read")
# and the status is 1.  The read is held up with strace's syscall delay
# injection while the test rewrites the file.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd strace
need_cmd jq

mkdir leaf
printf '[{"timestamp":1,"v":"steady"}]' >leaf/a.txt
printf '[{"timestamp":2,"v":"moving"}]' >leaf/b.txt
touch -d '1 hour ago' leaf/a.txt leaf/b.txt

# Reading b.txt (strace -P: only its syscalls) waits 2 s on entry: it is
# rewritten during that time, after json-merge has opened and fstat()ed it.
strace -f -o /dev/null -P leaf/b.txt -e trace=pread64 \
    -e inject=pread64:delay_enter=2000000 \
    "$BIN/json-merge" --stats=json leaf >out 2>err &
pid=$!
sleep 1
printf '[{"timestamp":2,"v":"moved"}, {"timestamp":3,"v":"new"}]' >leaf/b.txt.new
# Same inode, new content and mtime: rewritten in place.
cat leaf/b.txt.new >leaf/b.txt
rm leaf/b.txt.new
wait $pid
status=$?
[ $status -eq 1 ] || { cat err >&2; fail "status $status, expected 1"; }
[ "$(jq -r .v out | tr '\n' ' ')" = "steady " ] ||
	fail "changed source consumed: $(cat out)"
grep -q 'leaf/b.txt: changed while read' err || fail "not named: $(cat err)"
grep '^{' err | tail -n 1 | jq -e '.sources_skipped.changed == 1 and .sources == 1' \
    >/dev/null || fail "stats: $(tail -n 1 err)"
