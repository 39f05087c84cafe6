#!/bin/sh
# leafpack --hosts over real ssh: three test hosts (tests/lib/hosts.sh:
# network namespaces on veth links, each with its own sshd and a key made
# for the test, all seeing the test tree at the same path), a generated
# tree spread over them by GNU parallel, and host 2 cut off in the middle
# of the run, with a job of its own in flight: its sshd and sessions killed
# (LEAFPACK_LONG=1: also its link downed, and its processes frozen).  After
# the run (and a rerun where the cut host's processes still held leaves),
# every record exactly once, byte-identical to a run on one host, sorted,
# the sources gone; host 2 named; the per-host lines add up.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
# The default joblogs, and our temporary files, stay in the test's
# directory.
mkdir tmp && TMPDIR=$PWD/tmp && export TMPDIR
. "$LEAFPACK_TESTS/lib/hosts.sh"
need_hosts

modes="kill"
[ "${LEAFPACK_LONG:-0}" != 1 ] || modes="kill link freeze"
hosts_start 3
# Each job lasts seconds (--max-rate: 48 files a second over the run, 16
# for each of the 3 hosts' jobs): a job of 6 leaves of 8 files takes 3 s,
# so a cut finds jobs in flight.
opts="--max-rate 48 -P 2 -n 6 --host-timeout 3"
gen single --entities 4 --types 2 --dates 6 --files 8 --records 3
all_records single >before.records
nleaves=$(leaves single | wc -l)
"$BIN/leafpack" single 2>single.err ||
    { cat single.err >&2; fail "the run on one host failed"; }
tree_outputs single >single.outputs

run=
# shellcheck disable=SC2016
hosts_at_exit '[ -z "$run" ] || kill "$run" 2>/dev/null'

# on_host K PROGRAM: true when PROGRAM runs in host K's namespace.
on_host() {
	_pids=$(hosts_pids "$1" | paste -sd, -)
	[ -n "$_pids" ] && ps -o comm= -p "$_pids" | grep -qx "$2"
}

for mode in $modes; do
	rm -rf root
	gen root --entities 4 --types 2 --dates 6 --files 8 --records 3
	start=$(date +%s)
	# shellcheck disable=SC2086
	timeout 120 "$BIN/leafpack" $opts --stats=json --hosts "$HOSTS_SLF" \
	    --joblog "$mode.log" "$PWD/root" >"$mode.out" 2>"$mode.err" &
	run=$!
	tries=0
	until [ "$(find root -name consolidated.jsonl | wc -l)" -ge 3 ] &&
	    on_host 2 leafpack; do
		kill -0 "$run" 2>/dev/null || {
			cat "$mode.err" >&2
			fail "$mode: the run ended before the cut"
		}
		tries=$((tries + 1))
		[ $tries -le 600 ] || fail "$mode: no job in flight on host 2"
		sleep 0.05
	done
	hosts_cut 2 "$mode"
	wait "$run"
	status=$?
	run=
	secs=$(($(date +%s) - start))
	cat "$mode.err" >&2
	tail -n 1 "$mode.err" >"$mode.json"
	# A host that was lost while its processes went on (link) or stayed
	# (freeze) may hold leaves: left to it (1), finished by the next run.
	case $mode.$status in
	kill.0 | link.[01] | freeze.[01]) ;;
	*) fail "$mode: leafpack exited $status" ;;
	esac
	grep -q 'host host2: lost: ssh failed on [1-9]' "$mode.err" ||
	    fail "$mode: host 2 is not named"
	jq -e --argjson recs "$(wc -l <before.records)" \
	    --argjson leaves "$nleaves" '
	    .leaves_found == $leaves and .jobs_failed == 0 and
	    .leaves_failed == 0 and .records <= $recs and
	    ([.hosts[].records] | add) == .records and
	    ([.hosts[].files_removed] | add) == .files_removed and
	    ([.hosts[] | select(.jobs > 0)] | length) >= 2' "$mode.json" \
	    >/dev/null || fail "$mode: stats: $(cat "$mode.json")"
	if [ "$mode" = freeze ]; then
		# Back as from a reboot: what was frozen is killed.
		hosts_restore 2
	else
		tries=0
		while on_host 2 leafpack; do
			tries=$((tries + 1))
			[ $tries -le 600 ] || fail "$mode: host 2 goes on"
			sleep 0.05
		done
		hosts_restore 2
	fi
	# The rerun finishes what is left, and then there is nothing to do.
	# shellcheck disable=SC2086
	expect_status 0 "$BIN/leafpack" $opts --hosts "$HOSTS_SLF" \
	    --joblog "$mode.rerun.log" "$PWD/root"
	check_consolidated root before.records
	tree_outputs root >hosts.outputs
	same_file single.outputs hosts.outputs
	echo "$mode: $nleaves leaves in ${secs}s over 3 hosts, host 2 cut:" \
	    "exit $status, then $(tail -n 1 err)"
done
exit 0
