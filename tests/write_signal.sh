#!/bin/sh
# SIGINT, SIGTERM, SIGHUP or SIGPIPE while jsonl-write waits for input:
# the temporary is removed, the previous output is untouched, and it exits
# 128 + the signal number.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"

mkdir d
printf '{"a":1}\n' >d/out.jsonl
cp d/out.jsonl before
mkfifo in
for pair in INT:2 TERM:15 HUP:1 PIPE:13; do
	sig=${pair%:*}
	"$BIN/jsonl-write" d/out.jsonl <in 2>err &
	pid=$!
	exec 3>in
	printf '{"b":2}\n' >&3
	# Wait (bounded) for the temporary to exist.
	n=0
	until [ -n "$(find d -name '.out.jsonl.tmp.*')" ]; do
		n=$((n + 1))
		[ $n -gt 200 ] && fail "$sig: no temporary appeared"
		sleep 0.05
	done
	kill -s "$sig" $pid
	wait $pid
	status=$?
	exec 3>&-
	want=$((128 + ${pair#*:}))
	[ $status -eq $want ] || fail "$sig: exited $status, expected $want"
	same_file d/out.jsonl before
	[ -z "$(find d -name '.out.jsonl.*')" ] || fail "$sig: a temporary is left"
done
