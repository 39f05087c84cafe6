#!/bin/sh
# A call on the share that hangs while a leaf is merged or committed costs
# that leaf only.  For each call json-merge and jsonl-write make on a leaf
# (open, read, write, fsync, rename, unlink, link, getxattr, setxattr, and
# the write that marks the claim merged: write-journal),
# stallfs holds it for one leaf, in each hang mode in turn, with the stream
# pairs, and for some calls also with --jq's pipelines and with --leaves
# (LEAFPACK_LONG=1: every call in every way).  The run ends within the
# bound, names the leaf and the call, writes it to --stalled, exits 1
# (stalled parts) and consolidates every other leaf.  Once the share answers
# again (the held call is served) a rerun leaves every record exactly once
# and every source gone.
# shellcheck disable=SC2086 # $flags is a list of options
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_stallfs

hung=e0001/audit/2024-03-02
out=consolidated.jsonl

# glob OP: what the rule for OP holds in the hung leaf.
glob() {
	case $1 in
	open | read | unlink) echo "$hung/part-*" ;;
	write | fsync | setxattr) echo "$hung/.$out.tmp.*" ;;
	rename | getxattr) echo "$hung/$out" ;;
	link) echo "$hung/.$out.journal" ;;
	# stallfs names a file by its first name: the claim is the link of a
	# temporary, whose name is gone when the claim is marked merged.
	write-journal) echo "$hung/.$out.journal.tmp.* (deleted)" ;;
	esac
}

# wait_gone PID...: until none of them lives (they end once the share
# answers), at most 20 s.
wait_gone() {
	for _pid in "$@"; do
		_n=0
		while kill -0 "$_pid" 2>/dev/null; do
			_n=$((_n + 1))
			[ $_n -le 200 ] || fail "pid $_pid still there"
			sleep 0.1
		done
	done
}

# one OP HOW MODE: the run with OP hung (HOW: stream, jq or leaves).
one() {
	op=$1 how=$2 mode=$3
	call=${op%-journal}	# what stallfs holds, and the run names
	rm -rf src mnt
	gen src --entities 2 --types 1 --dates 2 --files 3
	# A getxattr needs an output to ask: the leaf has one, holding its
	# sources, which the run removes.
	if [ "$op" = getxattr ]; then
		"$BIN/leafpack" --keep-sources --leaves "src/$hung" 2>prep.err ||
		    fail "preparing: $(cat prep.err)"
	fi
	source_records src >before.records
	stallfs_mount src mnt --hang-mode "$mode" --rule "hang:$call:$(glob "$op")"
	case $how in
	stream) flags= ;;
	jq) flags="--jq ." ;;
	leaves) flags="--leaves $(cd mnt && find "$PWD" -mindepth 3 \
	    -maxdepth 3 -type d | sort | tr '\n' ' ')" ;;
	esac
	[ "$how" = leaves ] || flags="$flags mnt"
	start=$(date +%s)
	"$BIN/leafpack" -t 1 -P 2 --stalled stalled.txt --stats=json $flags \
	    >run.out 2>run.err
	status=$?
	secs=$(( $(date +%s) - start ))
	what="$op ($how, $mode)"
	[ $status -eq 1 ] || { cat run.err >&2; fail "$what: exit $status"; }
	[ $secs -le 15 ] || fail "$what: took ${secs}s with -t 1"
	grep -q "$hung: stalled: $call of .*$hung/" run.err ||
	    { cat run.err >&2; fail "$what: the leaf and the call are not named"; }
	grep -q "$hung\$" stalled.txt || fail "$what: --stalled: $(cat stalled.txt)"
	for leaf in $(leaves src); do
		[ "$leaf" = "src/$hung" ] && continue
		[ -f "$leaf/$out" ] || fail "$what: $leaf not consolidated"
		[ -z "$(find "$leaf" -name '*.txt')" ] ||
		    fail "$what: $leaf kept its sources"
	done
	# The share answers again: the held call is served, and the process
	# that made it, killed long ago, ends before its next step.
	stallfs_release mnt
	# shellcheck disable=SC2046 # one pid per word
	wait_gone $(tail -n 1 run.err | jq -r '.stuck_pids[]')
	expect_status 0 "$BIN/leafpack" -t 5 mnt
	stallfs_unmount mnt
	check_consolidated src before.records
}

modes="interruptible nokill unkillable"
n=0
for op in open read write fsync rename unlink link getxattr setxattr \
    write-journal; do
	if [ "${LEAFPACK_LONG:-0}" = 1 ]; then
		ways="stream jq leaves"
	elif sanitized; then
		ways=stream	# ten times slower: the plain pass does the rest
	else
		case $op in
		read | fsync | unlink) ways="stream jq" ;;
		open | rename | setxattr) ways="stream leaves" ;;
		*) ways=stream ;;
		esac
	fi
	for how in $ways; do
		# shellcheck disable=SC2086 # a list of words
		set -- $modes
		shift $((n % 3))
		one "$op" "$how" "$1"
		n=$((n + 1))
	done
done
exit 0
