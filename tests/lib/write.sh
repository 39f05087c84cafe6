# shellcheck shell=sh
# Helpers of the jsonl-write, crash and fault tests (tests/write_*.sh,
# tests/crash_*.sh, tests/fault_*.sh): small leaves built here, the pair
# json-merge | jsonl-write, and checks done with independent tools (jq, sort,
# find, cmp).  Source after lib.sh:  . "$LEAFPACK_TESTS/lib/write.sh"

OUT=consolidated.jsonl

# mkleaf DIR COUNT RECORDS TAG: adds COUNT sources TAG01.txt ... to DIR (made
# if needed), each a JSON array of RECORDS records with distinct ids, some
# timestamps shared (ties) and an offset among them; an hour old, so that
# the default --min-age would take them too.
mkleaf() {
	mkdir -p "$1" || fail "mkdir $1"
	awk -v dir="$1" -v count="$2" -v records="$3" -v tag="$4" 'BEGIN {
		for (s = 1; s <= count; s++) {
			f = sprintf("%s/%s%02d.txt", dir, tag, s)
			printf "[" > f
			for (r = 1; r <= records; r++) {
				sec = (s * 7 + r * 13) % 50
				ts = sprintf("2024-03-01T10:%02d:%02dZ", sec, r % 3)
				if (r == 2)
					ts = sprintf("2024-03-01T12:%02d:00+02:00", sec)
				printf "%s\n {\"timestamp\":\"%s\",\"id\":\"%s%02d-%d\",\"n\":%d.50}",
				    (r > 1 ? "," : ""), ts, tag, s, r, r > f
			}
			print "]" > f
			close(f)
		}
	}' || fail "mkleaf $1"
	find "$1" -name "$4*.txt" -exec touch -d '-1 hour' {} + ||
	    fail "touch $1"
}

# records DIR: the multiset of records a consolidation of DIR must hold:
# those of its *.txt sources and of its existing output, as jq prints them
# compact, sorted.
records() {
	{
		find "$1" -maxdepth 1 -name '*.txt' -type f -exec jq -c '.[]' {} +
		[ -f "$1/$OUT" ] && jq -c . "$1/$OUT"
	} | sort
}

# pair DIR [JSONL-WRITE-OPTION...]: json-merge --min-age 0 DIR piped into
# jsonl-write OPTIONS DIR/consolidated.jsonl; the statuses of the two are
# left in $merge_status and $write_status, their stderr in merge.err and
# write.err.
# shellcheck disable=SC2034
pair() {
	pair_dir=$1
	shift
	write_status=0
	{
		"$BIN/json-merge" --min-age 0 "$pair_dir" 2>merge.err
		echo $? >merge.status
	} | "$BIN/jsonl-write" "$@" "$pair_dir/$OUT" 2>write.err ||
	    write_status=$?
	merge_status=$(cat merge.status)
}

# leftovers DIR: the journal and temporaries of the output left in DIR, and
# the commit record attached to the output (attribute user.leafpack.journal).
leftovers() {
	find "$1" -maxdepth 1 -name ".$OUT*"
	if [ -f "$1/$OUT" ] && getfattr --absolute-names --only-values \
	    -n user.leafpack.journal "$1/$OUT" >/dev/null 2>&1; then
		echo "$1/$OUT: attribute user.leafpack.journal"
	fi
}

# record DIR: the commit record of DIR's output: its attribute
# user.leafpack.journal when it has one, else the journal file.
record() {
	getfattr --absolute-names --only-values -n user.leafpack.journal \
	    "$1/$OUT" 2>/dev/null || cat "$1/.$OUT.journal" 2>/dev/null
}

# modes: the two ways jsonl-write keeps its commit record, for tests that
# run once in each: "xattr" (on the output) and "file" (the journal file,
# forced with LEAFPACK_NO_XATTR=1).  use_mode MODE sets the environment.
# shellcheck disable=SC2034  # for the scripts that source this file
modes="xattr file"
use_mode() {
	if [ "$1" = file ]; then
		LEAFPACK_NO_XATTR=1
		export LEAFPACK_NO_XATTR
	else
		unset LEAFPACK_NO_XATTR
	fi
}

# check_sorted FILE: fails unless the records of FILE are in timestamp
# order, instants computed by jq (offsets normalized).
check_sorted() {
	jq -r '.timestamp as $t | ($t[0:19] + "Z" | fromdateiso8601) -
	    (if $t[19:] == "Z" then 0 else
	    (($t[20:22] | tonumber) * 3600 + ($t[23:25] | tonumber) * 60) *
	    (if $t[19:20] == "+" then 1 else -1 end) end)' "$1" >instants ||
	    fail "$1: a line jq cannot read"
	sort -n -c instants 2>/dev/null || fail "$1: not in timestamp order"
}

# check_done DIR EXPECTED: fails unless DIR was consolidated completely:
# its output holds exactly the records of the file EXPECTED (every line
# valid JSON, in timestamp order), no source, journal or temporary is left.
check_done() {
	[ -f "$1/$OUT" ] || fail "$1/$OUT missing"
	jq -c . "$1/$OUT" | sort >got.records ||
	    fail "$1/$OUT: a line jq cannot read"
	cmp -s got.records "$2" || {
		diff "$2" got.records | head -n 10 >&2
		fail "$1/$OUT: not every record exactly once"
	}
	check_sorted "$1/$OUT"
	left=$(find "$1" -maxdepth 1 -name '*.txt')
	[ -z "$left" ] || fail "sources left: $left"
	left=$(leftovers "$1")
	[ -z "$left" ] || fail "journal or temporaries left: $left"
}

# need_strace: skip unless strace can trace here; under ASan, without the
# leak check (LeakSanitizer cannot run under ptrace).
need_strace() {
	need_cmd strace
	sanitized &&
	    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
	strace -qq -o /dev/null true 2>/dev/null ||
	    skip "strace cannot trace here"
}

# kill_steps WRITE MERGE: sets write_step and merge_step, the share of each
# program's system calls a crash test kills at (every WRITE-th, every
# MERGE-th; under the sanitizers, which run ten times slower, every other
# of those), or every one with LEAFPACK_LONG=1 (make crash).
# shellcheck disable=SC2034 # for the crash tests
kill_steps() {
	if [ "${LEAFPACK_LONG:-0}" = 1 ]; then
		write_step=1 merge_step=1
	elif sanitized; then
		write_step=$(($1 * 2)) merge_step=$(($2 * 2))
	else
		write_step=$1 merge_step=$2
	fi
}

# kill_points TRACE STEP PHASE DIR: the kill points in an strace log, one
# per system call from the opening of DIR on (before it, a kill is the same
# as none): "SYSCALL N" for the Nth call of SYSCALL, every STEP-th one from
# the PHASE-th.
kill_points() {
	awk -v step="$2" -v phase="$3" -v start="openat(AT_FDCWD, \"$4\"" '
		index($0, start) == 1 { started = 1 }
		match($0, /^[a-z_0-9]+\(/) {
			name = substr($0, 1, RLENGTH - 1)
			seen[name]++
			if (started && k++ % step == phase % step)
				print name, seen[name]
		}' "$1"
}
