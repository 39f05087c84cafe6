#!/bin/sh
# jsonl-write --remove-sources holds each source it will remove open
# (O_PATH) from its look before publishing to its unlink, and looks at it
# again through that descriptor: one request on a share instead of a look
# by name (pins.h).  That must see whatever happened to the name since, or a
# file written there after the publish would be unlinked and lost.  Here
# stallfs holds the unlink of a.txt (the first source removed) while the
# test changes b.txt behind it: moved away with a new file made in its place
# with the same bytes and mtime (only the old inode's ctime tells), renamed
# over, or rewritten in place with its mtime set back.  b.txt's new
# file must stay, named "changed since it was read; kept"; a.txt goes.  The
# same with LEAFPACK_NO_PINS=1, where the looks are by name.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
need_stallfs

a='[{"timestamp":"2024-01-01T00:00:00Z","id":"a"}]'
b='[{"timestamp":"2024-01-01T00:00:01Z","id":"b"}]'
new='[{"timestamp":"2024-01-01T00:00:02Z","id":"new"}]'

# change HOW: the run, with b.txt changed by HOW once a.txt's unlink hangs.
change() {
	rm -rf src
	mkdir -p src/L
	printf '%s\n' "$a" >src/L/a.txt
	printf '%s\n' "$b" >src/L/b.txt
	touch -d '-1 hour' src/L/a.txt src/L/b.txt
	stallfs_mount src mnt --rule hang:unlink:L/a.txt \
	    --count "$PWD/stallfs.count"
	{ "$BIN/json-merge" --min-age 0 mnt/L 2>merge.err |
	    "$BIN/jsonl-write" --remove-sources mnt/L/consolidated.jsonl \
	    2>write.err; echo $? >write.st; } &
	pair=$!
	# Published, and a.txt's unlink held (b.txt is still there).
	tries=0
	until [ -e src/L/consolidated.jsonl ] &&
	    grep -q '"in_flight": *[1-9]' stallfs.count 2>/dev/null; do
		tries=$((tries + 1))
		[ $tries -lt 100 ] || fail "$1: no publish, or no held unlink"
		stallfs_count mnt
		sleep 0.1
	done
	rm -f stallfs.count
	[ -e src/L/b.txt ] || fail "$1: b.txt removed before a.txt"
	case $1 in
	moved)
		mv src/L/b.txt src/L/b.moved
		printf '%s\n' "$b" >src/L/b.txt
		touch -r src/L/b.moved src/L/b.txt
		want=$b ;;
	renamed-over)
		printf '%s\n' "$new" >src/L/b.next
		mv src/L/b.next src/L/b.txt
		want=$new ;;
	rewritten)
		printf '%s\n' "$new" | dd of=src/L/b.txt conv=nocreat status=none
		touch -d '-1 hour' src/L/b.txt
		want=$new ;;
	esac
	stallfs_release mnt
	wait "$pair"
	stallfs_unmount mnt
	[ "$(cat write.st)" -eq 1 ] ||
	    fail "$1: jsonl-write exited $(cat write.st): $(cat write.err)"
	grep -q 'b.txt: changed since it was read; kept$' write.err ||
	    fail "$1: $(cat write.err)"
	[ ! -e src/L/a.txt ] || fail "$1: a.txt not removed"
	[ "$(cat src/L/b.txt)" = "$want" ] ||
	    fail "$1: b.txt lost or changed: $(cat src/L/b.txt 2>&1)"
	[ "$(wc -l <src/L/consolidated.jsonl)" -eq 2 ] ||
	    fail "$1: the output: $(cat src/L/consolidated.jsonl)"
}

change moved
change renamed-over
change rewritten
# LEAFPACK_NO_PINS=1 (a server that keeps a renamed file's ctime): every
# look by name, as before the pins, and the same outcome.
LEAFPACK_NO_PINS=1
export LEAFPACK_NO_PINS
change moved
exit 0
