#!/bin/sh
# shellcheck disable=SC2154 # merge_status, write_status: set by spair(); the steps by kill_steps
# The staged commit (issue 12) killed with SIGKILL before a system call
# (of a fresh leaf, of one merged into an output, and of one whose
# temporary is moved to the staging directory when its commit record finds
# no inode),
# for the system calls of jsonl-write (which makes the staged commit) and
# of json-merge (which claims in the staging directory), then the pair run
# again with the same --staging: every record ends up exactly once in the
# leaf's output, no source, mark or journal is left, the staging
# directory is empty and the fillers of the share are untouched.  After a
# kill in the window where the records are only in the staging directory
# (the mark is in the leaf), a run without --staging says where they wait,
# exits 1 and changes nothing; the run with --staging then finishes.
#
# The share is a tmpfs of few inodes, filled before each run; the staging
# directory is on the test's own file system.  By default every 7th
# jsonl-write call and every 13th json-merge call; LEAFPACK_LONG=1
# (make crash) every call of both.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
. "$LEAFPACK_TESTS/lib/write.sh"
. "$LEAFPACK_TESTS/lib/inodes.sh"
need_strace
need_cmd jq

kill_steps 7 13
share_mount share 120
mkdir stage

# setup SCENARIO: a full share whose leaf share/leaf is to be consolidated
# (fresh: sources only; incremental: an output and new sources; restage:
# sources only, and two inodes free); want,
# the records it must end with; the fillers' state in fillers.before.
setup() {
	rm -rf share/leaf share/.fill stage/* stage/.[!.]* 2>/dev/null
	case $1 in
	fresh|restage)
		mkleaf share/leaf 4 3 s
		;;
	incremental)
		mkleaf share/leaf 3 3 a
		spair share/leaf
		[ "$write_status" -eq 0 ] || fail "setup $1: $(cat write.err)"
		mkleaf share/leaf 3 3 b
		;;
	esac
	records share/leaf >want
	share_fill share
	# Two inodes: the claim and the temporary fit in the leaf, the
	# journal file of the commit record does not: the temporary moves to
	# the staging directory.
	if [ "$1" = restage ]; then
		share_unfill share 2
		LEAFPACK_NO_XATTR=1
		export LEAFPACK_NO_XATTR
	else
		unset LEAFPACK_NO_XATTR
	fi
	(cd share/.fill && find . -printf '%p %i\n' | sort) >fillers.before
}

# spair DIR [OPTION...]: the pair with --staging stage, as pair() does.
spair() {
	spair_dir=$1
	shift
	write_status=0
	{
		"$BIN/json-merge" --min-age 0 "$@" "$spair_dir" 2>merge.err
		echo $? >merge.status
	} | "$BIN/jsonl-write" --remove-sources "$@" "$spair_dir/$OUT" \
	    2>write.err || write_status=$?
	merge_status=$(cat merge.status)
}

# check_all WHAT: the leaf done, staging empty, fillers untouched.
check_all() {
	( check_done share/leaf want ) || fail "$1"
	[ -z "$(ls -A stage)" ] || fail "$1: left in staging: $(ls -A stage)"
	(cd share/.fill && find . -printf '%p %i\n' | sort) >fillers.after
	cmp -s fillers.before fillers.after || fail "$1: the fillers changed"
}

runs=0 waiting=0 phase=0
for scenario in fresh incremental restage; do
	setup $scenario
	{ strace -qq -o trace.merge "$BIN/json-merge" --min-age 0 \
	    --staging stage share/leaf; } | strace -qq -o trace.write \
	    "$BIN/jsonl-write" --remove-sources --staging stage \
	    "share/leaf/$OUT" || fail "$scenario: the traced run failed"
	check_all "$scenario: the traced run"
	grep -q 'renameat2(.*\.staged' trace.write ||
	    fail "$scenario: the traced run was not staged"
	kill_points trace.write "$write_step" $phase share/leaf |
	    sed 's/^/jsonl-write /' >points
	kill_points trace.merge "$merge_step" $phase share/leaf |
	    sed 's/^/json-merge /' >>points
	[ "$(wc -l <points)" -gt $((40 / write_step)) ] ||
	    fail "$scenario: too few kill points"
	phase=$((phase + 1))
	while read -r prog call n; do
		setup $scenario
		kill="-qq -o /dev/null -e inject=$call:signal=SIGKILL:when=$n"
		# shellcheck disable=SC2086  # $kill is several options
		if [ "$prog" = json-merge ]; then
			{ strace $kill "$BIN/json-merge" --min-age 0 \
			    --staging stage share/leaf; } 2>/dev/null |
			    "$BIN/jsonl-write" --remove-sources --staging stage \
			    "share/leaf/$OUT" 2>/dev/null
		else
			"$BIN/json-merge" --min-age 0 --staging stage \
			    share/leaf 2>/dev/null | strace $kill \
			    "$BIN/jsonl-write" --remove-sources --staging stage \
			    "share/leaf/$OUT" 2>/dev/null
		fi
		what="$scenario, $prog killed at $call #$n"
		if [ -f "share/leaf/$OUT" ]; then
			jq -c . "share/leaf/$OUT" >/dev/null 2>&1 ||
			    fail "$what: partial output"
		fi
		# Records only in staging: a run without it leaves the leaf,
		# and says where they wait.
		if [ -f "share/leaf/.$OUT.staged" ]; then
			tree_state share/leaf >leaf.before
			"$BIN/json-merge" --min-age 0 --stats=json share/leaf \
			    2>err | cat >/dev/null
			grep -q "wait in stage/leaf-[0-9]*-[0-9]* on host .*; run leafpack --staging stage on \|cut short" err ||
			    fail "$what: without --staging: $(cat err)"
			tail -n 1 err | jq -e '.waiting' >/dev/null ||
			    fail "$what: without --staging, not waiting"
			tree_state share/leaf >leaf.after
			cmp -s leaf.before leaf.after ||
			    fail "$what: a run without --staging changed the leaf"
			waiting=$((waiting + 1))
		fi
		spair share/leaf --staging stage
		# shellcheck disable=SC2015  # deliberate: fails unless both are 0
		[ "$merge_status" -eq 0 ] && [ "$write_status" -eq 0 ] || {
			cat merge.err write.err >&2
			fail "$what: the rerun exited $merge_status/$write_status"
		}
		check_all "$what"
		runs=$((runs + 1))
	done <points
done
[ $waiting -gt 0 ] || fail "no kill left the records waiting in staging"
echo "$runs crash runs ($waiting with the records in staging), each followed by a rerun"
