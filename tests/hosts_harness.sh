#!/bin/sh
# The test hosts of tests/lib/hosts.sh work: GNU parallel spreads 30 jobs
# over three of them, each job runs exactly once, and more than one host
# works; then, with one host cut off in the middle of a run (its link
# downed, its processes frozen, or its sshd and sessions killed), --retries
# with ssh's keepalive still finishes every job, exactly once on the hosts
# that remain (see tests/lib/hosts.sh for why not --timeout).
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/hosts.sh"
not_sanitized the test hosts
# The harness is what the multi-host test stands on; its own test is long.
[ "${LEAFPACK_LONG:-0}" = 1 ] ||
    skip "the test hosts' own test: LEAFPACK_LONG=1 (make long)"
need_hosts

JOBS=30
hosts_start 3

# job.sh N SECS RUN: one job of RUN; records its start and its end, with
# the namespace (the host) it runs in, in RUN.starts and RUN.dones of the
# test directory that every host shares.  A job that goes on after its run
# (on a host cut off) writes to its own run's files.
cat >job.sh <<'EOF'
cd "$(dirname "$0")" || exit 1
host=$(ip netns identify) || exit 1
echo "start $1 $host" >>"$3.starts"
sleep "$2"
echo "done $1 $host" >>"$3.dones"
EOF

# run_jobs RUN SLF SECS [PARALLEL-OPTION]...: starts the 30 jobs of RUN,
# SECS seconds each, with joblog RUN.log, in the background (so that a
# signal reaches the test at once); $run is its pid.
run_jobs() {
	_run=$1 _slf=$2 _secs=$3
	shift 3
	: >"$_run.starts"
	: >"$_run.dones"
	seq "$JOBS" | timeout 120 parallel --sshloginfile "$_slf" -j 2 \
	    --joblog "$_run.log" "$@" sh "$PWD/job.sh" {} "$_secs" "$_run" \
	    >parallel.out 2>parallel.err &
	run=$!
}

# wait_jobs: waits for the run; fails unless parallel exits 0.
wait_jobs() {
	wait "$run"
	_status=$?
	run=
	if [ "$_status" -ne 0 ]; then
		cat parallel.err >&2
		fail "parallel exited $_status"
	fi
}
run=
# shellcheck disable=SC2016
hosts_at_exit '[ -z "$run" ] || kill "$run" 2>/dev/null'

# joblog_hosts LOG: "JOB K" for each job of LOG, K the number of the host
# that ran it (into ./joblog.hosts); fails unless each job is there once,
# with exit 0.
joblog_hosts() {
	awk -F '\t' 'NR > 1 {
		if ($7 != 0 || $8 != 0) bad = 1
		h = $2; sub(/.* host/, "", h); print $1, h
	    } END { exit bad }' "$1" | sort -n >joblog.hosts ||
	    fail "$1: a job failed: $(cat "$1")"
	seq "$JOBS" >want.jobs
	cut -d' ' -f1 joblog.hosts >got.jobs
	same_file want.jobs got.jobs
}

# tally RUN CUT: per job, from joblog.hosts, RUN.starts and RUN.dones:
# "JOB HOST STARTS-ELSEWHERE STARTS-ON-CUT DONES-ELSEWHERE DONES-ON-CUT",
# HOST the host parallel saw it end on, CUT a host number (0: none).
tally() {
	awk -v cut="$2" '
	    FILENAME == "joblog.hosts" { host[$1] = $2; next }
	    { h = $3; sub(/.*-/, "", h)
	      n[$2, ($1 == "start" ? 1 : 3) + (h == cut)]++ }
	    END { for (j = 1; j in host; j++)
		print j, host[j], n[j, 1] + 0, n[j, 2] + 0, n[j, 3] + 0,
		    n[j, 4] + 0 }
	' joblog.hosts "$1.starts" "$1.dones"
}

# in_flight RUN HOST: true when a job of RUN has started on HOST and not
# ended there.
in_flight() {
	awk -v host="$2" '
	    $1 == "start" && $3 == host { s[$2] = 1 }
	    $1 == "done" && $3 == host { delete s[$2] }
	    END { for (j in s) n++; exit n == 0 }' "$1.starts" "$1.dones"
}

# ---- 1: every host up ----
run_jobs all "$HOSTS_SLF" 0.2
wait_jobs
joblog_hosts all.log
tally all 0 | awk '$3 != 1 || $5 != 1 { exit 1 }' ||
    fail "a job did not start and end exactly once: $(tally all 0)"
hosts_used=$(cut -d' ' -f2 joblog.hosts | sort -u | wc -l)
[ "$hosts_used" -gt 1 ] || fail "only one host did work"
echo "all up: $JOBS jobs once each, over $hosts_used hosts"

# ---- 2: host 2 cut off in the middle of a run, three ways ----
# ssh's keepalive ends a session to a host that stopped answering (exit
# 255); --retries 3 runs a failed job again on a host where it has not
# failed.
hosts_slf alive.slf -o ServerAliveInterval=1 -o ServerAliveCountMax=3
for mode in link freeze kill; do
	run_jobs "$mode" alive.slf 0.5 --retries 3
	start=$(date +%s)
	tries=0
	until [ "$(wc -l <"$mode.dones")" -ge 6 ] &&
	    in_flight "$mode" "$(hosts_ns 2)"; do
		kill -0 "$run" 2>/dev/null ||
		    fail "$mode: the run ended before the cut"
		tries=$((tries + 1))
		[ $tries -le 600 ] || fail "$mode: no job in flight on host 2"
		sleep 0.1
	done
	ended_before=$(grep -c " $(hosts_ns 2)\$" "$mode.dones")
	hosts_cut 2 "$mode"
	wait_jobs
	secs=$(($(date +%s) - start))
	joblog_hosts "$mode.log"
	tally "$mode" 2 >"$mode.tally"
	# A job that parallel saw end on host 2 ended there once and nowhere
	# else; any other job started and ended exactly once on the others.
	awk '$2 == 2 && ($3 != 0 || $5 != 0 || $6 != 1) ||
	    $2 != 2 && ($3 != 1 || $5 != 1) { bad = 1; print }
	    END { exit bad }' "$mode.tally" >&2 ||
	    fail "$mode: a job did not run exactly once on the remaining hosts"
	# What the cut cost: jobs started on host 2 and again elsewhere, and
	# those of them that also ended on host 2.
	again=$(awk '$2 != 2 && $4 > 0' "$mode.tally" | wc -l)
	twice=$(awk '$2 != 2 && $6 > 0' "$mode.tally" | wc -l)
	echo "$mode: $JOBS jobs in ${secs}s; host 2 had ended $ended_before" \
	    "before the cut; $again started there ran again elsewhere, $twice" \
	    "of them also ended there"
	hosts_restore 2
	hosts_run 2 true || fail "$mode: host 2 is not back"
done
exit 0
