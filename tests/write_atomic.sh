#!/bin/sh
# jsonl-write replaces its output atomically and durably: the compact form
# of each line goes to a new O_EXCL temporary in the same directory, which
# is fsync()ed, renamed over the output, and the directory fsync()ed, in
# that order (seen with strace); the output becomes a new inode, no
# temporary is left, and a reader of the old file keeps the old content.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"

mkdir d
printf '{"a":1}\n' >d/out.jsonl
exec 3<d/out.jsonl	# a reader that opened the old file
old_ino=$(stat -c %i d/out.jsonl)

# Whitespace outside strings goes, bytes inside values stay; CRLF and a
# last line without a newline are accepted.
printf '{ "b" : [1, 2.50, -0, 1.0e+10], "s":"\\u00e9 x" }\r\n  12345678901234567890123  \n"z"' |
    expect_status 0 "$BIN/jsonl-write" d/out.jsonl
printf '{"b":[1,2.50,-0,1.0e+10],"s":"\\u00e9 x"}\n12345678901234567890123\n"z"\n' >want
same_file d/out.jsonl want
[ "$(stat -c %i d/out.jsonl)" != "$old_ino" ] || fail "the output was rewritten in place"
[ "$(cat <&3)" = '{"a":1}' ] || fail "the old file changed under its reader"
exec 3<&-
[ -z "$(leftovers d)" ] || fail "left: $(leftovers d)"
[ -z "$(find d -name '.out.jsonl*')" ] || fail "a temporary is left"

# The order of the durable steps.
need_cmd strace
# LeakSanitizer cannot run under ptrace.
sanitized && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
printf '{"c":3}\n' | strace -qq -o trace -e trace=openat,fsync,rename,renameat,renameat2 \
    "$BIN/jsonl-write" d/out.jsonl || fail "traced run"
awk '
	/^openat\(AT_FDCWD, "d"/ { dir = $0; sub(/.*= /, "", dir) }
	/O_EXCL/ && /\.out\.jsonl\.tmp\./ { tmp = $0; sub(/.*= /, "", tmp); step = "created" }
	/^fsync\(/ && step == "created" && $0 ~ "^fsync\\(" tmp "\\)" { step = "synced" }
	/^rename/ && step == "synced" && /"out\.jsonl"/ { step = "renamed" }
	/^fsync\(/ && step == "renamed" && $0 ~ "^fsync\\(" dir "\\)" { step = "dirsynced" }
	END { if (step != "dirsynced") { print "stopped after: " step; exit 1 } }
' trace || { cat trace >&2; fail "not temp+O_EXCL, fsync, rename, fsync(dir)"; }
[ "$(cat d/out.jsonl)" = '{"c":3}' ] || fail "second output"

# A path without a directory part is in the current directory.
(cd d && printf '1\n' | "$BIN/jsonl-write" here.jsonl) || fail "DIR-less path"
[ "$(cat d/here.jsonl)" = 1 ] || fail "here.jsonl"
