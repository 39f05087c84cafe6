#!/bin/sh
# shellcheck disable=SC2154 # merge_status, write_status: set by pair()
# write, fsync, rename and unlink failing with ENOSPC or EIO (strace -e
# inject=SYSCALL:error=E:when=N) at each of their calls in jsonl-write,
# and at json-merge's journal writes: a failure before the commit exits 4
# with the previous output byte-identical, every source in place and no
# temporary left; a failure after it (removing a source, syncing the
# directory) exits 1 with the new output complete.  Then the same command
# run again completes the leaf: every record exactly once.  Twice: with the
# commit record on the output (attribute user.leafpack.journal, whose
# setting and removal fail too: the journal file takes over, a stale record
# is harmless) and in the journal file (LEAFPACK_NO_XATTR=1); each call
# fails with ENOSPC in one mode and EIO in the other.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/write.sh"
need_cmd strace
# LeakSanitizer cannot run under ptrace.
sanitized && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
strace -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here"

# A leaf with an output and new sources.
setup() {
	rm -rf leaf
	mkleaf leaf 3 3 a
	pair leaf --remove-sources
	[ "$write_status" -eq 0 ] || fail "setup: $(cat write.err)"
	mkleaf leaf 4 3 b
	records leaf >want
	cp "leaf/$OUT" before
	ls leaf >sources.before
}

runs=0 failed=0 partial=0 k=0
for mode in $modes; do
use_mode "$mode"
# The calls of each program, counted from the opening of the leaf.
setup
{ strace -qq -o trace.merge "$BIN/json-merge" --min-age 0 leaf; } |
    strace -qq -o trace.write "$BIN/jsonl-write" --remove-sources "leaf/$OUT" ||
    fail "the traced run"
check_done leaf want
calls() {
	awk -v prog="$2" '
		/^openat\(AT_FDCWD, "leaf"/ { started = 1 }
		match($0, /^(write|fsync|rename|renameat|renameat2|unlink|unlinkat|linkat|fsetxattr|fremovexattr)\(/) {
			name = substr($0, 1, RLENGTH - 1)
			n = ++seen[name]
			# json-merge: only its journal, not its output (a pipe).
			if (started && (prog == "jsonl-write" || $0 !~ /^write\(1,/))
				print prog, name, n
		}' "$1"
}
{ calls trace.write jsonl-write; calls trace.merge json-merge; } >points
# shellcheck disable=SC2015  # deliberate: fails unless every call is there
grep -q 'jsonl-write unlinkat' points && grep -q 'jsonl-write fsync' points &&
    grep -q 'jsonl-write renameat' points || fail "unexpected trace: $(cat points)"

[ "$mode" = file ] || grep -q 'jsonl-write fsetxattr' points ||
    fail "no attribute set: $(cat points)"
while read -r prog call n; do
	k=$((k + 1))
	errno=EIO
	[ $((k % 2)) = 0 ] && errno=ENOSPC
	{
		setup
		fault="-qq -o /dev/null -e inject=$call:error=$errno:when=$n"
		# shellcheck disable=SC2086
		if [ "$prog" = json-merge ]; then
			{ strace $fault "$BIN/json-merge" --min-age 0 leaf; } \
			    2>/dev/null | "$BIN/jsonl-write" --remove-sources \
			    "leaf/$OUT" 2>err
		else
			"$BIN/json-merge" --min-age 0 leaf 2>/dev/null |
			    strace $fault "$BIN/jsonl-write" --remove-sources \
			    "leaf/$OUT" 2>err
		fi
		status=$?
		what="$mode, $prog: $call #$n failing with $errno"
		case $status in
		4)
			failed=$((failed + 1))
			same_file "leaf/$OUT" before
			ls leaf >sources.now
			same_file sources.now sources.before
			[ -z "$(find leaf -name ".$OUT.tmp.*")" ] ||
			    fail "$what: a temporary is left"
			;;
		1)
			partial=$((partial + 1))
			[ "$prog" = jsonl-write ] || fail "$what: exited 1"
			jq -c . "leaf/$OUT" | sort >got
			cmp -s got want || fail "$what: exit 1 but the output is not complete"
			;;
		0)
			# A call whose failure is harmless (the cleanup of a
			# temporary, which the next run removes): the output
			# must be complete.
			jq -c . "leaf/$OUT" | sort >got
			cmp -s got want || fail "$what: exit 0, incomplete"
			;;
		*)
			cat err >&2
			fail "$what: exited $status"
			;;
		esac
		pair leaf --remove-sources
		[ "$write_status" -eq 0 ] || {
			cat merge.err write.err >&2
			fail "$what: the rerun exited $write_status"
		}
		( check_done leaf want ) || fail "$what: after the rerun"
		runs=$((runs + 1))
	}
done <points
k=$((k + 1))
done
# shellcheck disable=SC2015  # deliberate: fails unless every test holds
[ $failed -gt 0 ] && [ $partial -gt 0 ] || fail "only $failed failures and $partial partial commits"
echo "$runs faults: $failed failed cleanly, $partial committed with sources kept"
