#!/bin/sh
# leafpack --hosts without a network: the hosts are ':' (this one) and
# stand-ins for ssh (./fakessh, which runs the command here): one that
# cannot be reached, one that dies in the middle of every job, and (where a
# mount namespace can be made) one that sees another tree under the same
# path, one with another leafpack and one with none.  Every record exactly
# once and byte-identical to a run on one host; the hosts left out named
# with the reason, the lost host named; the per-host lines add up; two runs
# at once; interrupted runs finished by the same command again; a rerun has
# nothing to do; --root-id; usage errors.  tests/pack_hosts_netns.sh does it
# over real ssh.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
# The default joblogs, and our temporary files, stay in the test's
# directory.
mkdir tmp && TMPDIR=$PWD/tmp && export TMPDIR
need_cmd parallel
need_cmd setsid

# Jobs of 3 leaves of 20 files, one leaf at a time (-P 1), at most 80
# files a second over the run, 40 for each of the two hosts that take jobs
# (':' and the one that dies): the third leaf of a job starts a second and
# a half in, so a job is in the middle of its leaves when the dying host
# notices its first commit.
gen root --entities 3 --dates 2 --files 20
cp -a root single
mkdir other
cp -a root/e0001 other/
all_records root >before.records

cat >fakessh <<'EOS'
#!/bin/sh
# fakessh [-o OPTION]... HOST [--] COMMAND...: HOST, without ssh.
while [ "$1" = -o ]; do shift 2; done
host=$1
shift
[ "$1" != -- ] || shift
# sshd gives the session the login shell of the user; GNU parallel's
# remote wrapper runs the command with $SHELL (CI runs us without one).
SHELL=/bin/sh
export SHELL
case $host in
down)
	echo "ssh: connect to host down port 22: Connection refused" >&2
	exit 255
	;;
dies)
	# Passes the check (its first command), then is gone, with everything
	# it started, in the middle of each job: once it has committed a leaf (or
# a leaf was committed anywhere: a job that ends first is not lost).
	echo >>"$FAKE_DIR/dies.calls"
	[ "$(wc -l <"$FAKE_DIR/dies.calls")" -gt 1 ] || exec sh -c "$*"
	done=$(find "$ROOT" -name consolidated.jsonl | wc -l)
	setsid sh -c "$*" &
	pid=$!
	(
		while [ "$(find "$ROOT" -name consolidated.jsonl | wc -l)" -eq \
		    "$done" ]; do
			sleep 0.005
		done
		for round in 1 2 3; do
			ps -o pid= -s "$pid" | xargs -r kill -9 2>/dev/null
		done
	) &
	killer=$!
	wait "$pid"
	status=$?
	kill "$killer" 2>/dev/null
	[ "$status" -ne 137 ] || exit 255
	exit "$status"
	;;
other | old | bare)
	# Another tree under the same path, another leafpack at the same
	# path, or none there.
	case $host in
	other) what=$OTHER where=$ROOT ;;
	old) what=$FAKE_DIR/old-leafpack where=$LEAFPACK_BIN/leafpack ;;
	bare) what=$FAKE_DIR/empty where=$LEAFPACK_BIN ;;
	esac
	# shellcheck disable=SC2016
	exec $UNSHARE sh -c 'mount --bind "$1" "$2" && shift 2 &&
	    exec sh -c "$*"' sh "$what" "$where" "$@"
	;;
esac
exec sh -c "$*"
EOS
chmod +x fakessh
printf '#!/bin/sh\necho "leafpack 0.0.1"\n' >old-leafpack
chmod +x old-leafpack
mkdir empty
OTHER=$PWD/other ROOT=$PWD/root FAKE_DIR=$PWD
UNSHARE="unshare -m"
[ "$(id -u)" -eq 0 ] || UNSHARE="unshare -rm"
export OTHER ROOT UNSHARE FAKE_DIR
{
	echo ':'
	echo "$PWD/fakessh down"
	echo "$PWD/fakessh dies"
} >hosts.txt
other=
if $UNSHARE sh -c "mount --bind '$OTHER' '$ROOT'" 2>/dev/null; then
	for host in other old bare; do
		echo "$PWD/fakessh $host" >>hosts.txt
	done
	other=1
else
	echo "no mount namespace here: no host with another tree"
fi

expect_status 0 "$BIN/leafpack" -P 1 --max-rate 80 --stats=json --hosts hosts.txt \
    --joblog run.log -n 3 root
cat err >&2
check_consolidated root before.records
"$BIN/leafpack" single 2>single.err ||
    { cat single.err >&2; fail "the run on one host failed"; }
tree_outputs root >hosts.outputs
tree_outputs single >single.outputs
same_file single.outputs hosts.outputs
grep -q 'host down: left out: ssh: connect to host down' err ||
    fail "the unreachable host is not named"
grep -q 'host dies: lost: ssh failed on [1-9]' err ||
    fail "the host that died is not named"
if [ -n "$other" ]; then
	grep -q "host other: left out: a different tree under $ROOT" err ||
	    fail "the host with another tree is not named"
	grep -q "host old: left out: leafpack 0.0.1 there, leafpack .* here" \
	    err || fail "the host with another version is not named"
	grep -q "host bare: left out: no $BIN/leafpack there" err ||
	    fail "the host without leafpack is not named"
fi
tail -n 1 err >stats.json
jq -e --argjson recs "$(wc -l <before.records)" '
    .leaves_found == 12 and .jobs == 4 and .jobs_failed == 0 and
    .joblog == "run.log" and .leaves_failed == 0 and
    .records <= $recs and
    ([.hosts[].records] | add) == .records and
    ([.hosts[].files_removed] | add) == .files_removed and
    ([.hosts[].jobs] | add) == 4 and
    (.hosts[] | select(.host == "local") | .used and .jobs > 0) and
    (.hosts[] | select(.host == "down") | .used | not) and
    (.hosts[] | select(.host == "dies") | .used)' \
    stats.json >/dev/null || fail "stats: $(cat stats.json)"
[ "$(tail -n +2 run.log | wc -l)" -eq 4 ] || fail "run.log: $(cat run.log)"

# Every host up: the counts are every record, once.
rm -rf root
gen root --entities 3 --dates 2
all_records root >before.records
printf ':\n' >local.txt
expect_status 0 "$BIN/leafpack" --stats=json --hosts local.txt root
tail -n 1 err >stats.json
jq -e --argjson recs "$(wc -l <before.records)" '
    .records == $recs and .hosts[0].records == $recs and
    .hosts[0].leaves == 12' stats.json >/dev/null ||
    fail "stats: $(cat stats.json)"
# The default joblog is named, and kept.
log=$(jq -r .joblog stats.json)
[ -f "$log" ] || fail "the joblog $log is not there"
rm -f "$log"

# Two runs at once over two hosts (':' and a stand-in that passes
# through), every leaf given twice to each: the claims leave a leaf to the
# job that has it (1), or fail the one that came at the same moment with
# nothing touched (4); the rerun finishes, every record once.
rm -rf root
gen root --entities 3 --dates 2
all_records root >before.records
printf ':\n%s\n' "$PWD/fakessh twin" >twins.txt
leaves root | sed 'p' >twice.list
# shellcheck disable=SC2046
"$BIN/leafpack" -n 2 --hosts twins.txt --leaves $(cat twice.list) \
    2>run1.err &
run1=$!
# shellcheck disable=SC2046
"$BIN/leafpack" -n 2 --hosts twins.txt --leaves $(cat twice.list) \
    2>run2.err
status2=$?
wait "$run1"
status1=$?
for status in $status1 $status2; do
	case $status in
	0 | 1 | 4) ;;
	*) cat run1.err run2.err >&2; fail "overlapping runs: exit $status" ;;
	esac
done
expect_status 0 "$BIN/leafpack" --hosts twins.txt root
check_consolidated root before.records
echo "overlapping runs: exit $status1 and $status2, then $(tail -n 1 err)"

# Interrupted (SIGINT: the jobs in flight finish; SIGKILL: parallel dies
# with leafpack, and the jobs it started go on alone), then the same
# command again, until the jobs left alone have let go of their leaves:
# every record once.
for how in INT:130 KILL:137; do
	sig=${how%:*}
	rm -rf root
	gen root --entities 3 --dates 2 --files 10
	all_records root >before.records
	"$BIN/leafpack" -P 1 --max-rate 20 -n 2 --hosts local.txt root \
	    2>"$sig.err" &
	run=$!
	until [ "$(find root -name consolidated.jsonl | wc -l)" -ge 2 ]; do
		kill -0 "$run" 2>/dev/null || fail "$sig: the run ended early"
		sleep 0.05
	done
	kill -"$sig" "$run"
	wait "$run"
	status=$?
	[ "$status" -eq "${how#*:}" ] ||
	    { cat "$sig.err" >&2; fail "$sig: exit $status"; }
	tries=0
	while :; do
		"$BIN/leafpack" --hosts local.txt root >out 2>err
		status=$?
		[ $status -ne 0 ] || break
		tries=$((tries + 1))
		if [ $status -ne 1 ] || [ $tries -ge 50 ]; then
			cat err >&2
			fail "$sig: the rerun exited $status"
		fi
		sleep 0.2
	done
	check_consolidated root before.records
	echo "interrupted by SIG$sig: finished by $((tries + 1)) reruns"
done

# Again: nothing to do.
expect_status 0 "$BIN/leafpack" --hosts local.txt root
grep -q 'nothing to do' err || fail "the rerun: $(cat err)"

# --root-id: the version, and the names of the root (or its marker).
expect_status 0 "$BIN/leafpack" --root-id root single
[ "$(sed -n 1p out)" = "leafpack $("$BIN/leafpack" --version |
    sed 's/.* //')" ] || fail "--root-id: $(cat out)"
[ "$(sed -n 2p out | cut -d' ' -f1)" = "$(sed -n 3p out | cut -d' ' -f1)" ] ||
    fail "--root-id: two copies of one tree differ: $(cat out)"
echo "share-7" >single/.leafpack-root
expect_status 0 "$BIN/leafpack" --root-id root single
[ "$(sed -n 2p out | cut -d' ' -f1)" != "$(sed -n 3p out | cut -d' ' -f1)" ] ||
    fail "--root-id: the marker makes no difference: $(cat out)"
expect_status 4 "$BIN/leafpack" --root-id nosuch
grep -q '^- nosuch$' out || fail "--root-id of a missing root: $(cat out)"

# No host left: the run fails before any work.
echo "$PWD/fakessh down" >down.txt
expect_status 4 "$BIN/leafpack" --hosts down.txt root
grep -q 'no host to work on' err || fail "no host: $(cat err)"

# Usage.
expect_status 2 "$BIN/leafpack" --joblog x.log root
expect_status 2 "$BIN/leafpack" -n 5 root
expect_status 2 "$BIN/leafpack" --hosts local.txt --dry-run root
expect_status 2 "$BIN/leafpack" --hosts local.txt --verify root
expect_status 2 "$BIN/leafpack" --hosts local.txt -n 0 root
expect_status 4 "$BIN/leafpack" --hosts nosuch.txt root
exit 0
