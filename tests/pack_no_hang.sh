#!/bin/sh
# leafpack never waits forever: many quick runs (-P 1 to 8, --keep-sources,
# --jq, --dry-run, reruns) each end within a generous bound, and so do runs
# whose stdin is a pipe left open with a line in it (the line stays unread),
# runs started with SIGCHLD blocked, and runs with too few descriptors to
# start every leaf (a rerun then finishes the tree).
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"

need_cmd timeout
# A run takes a fraction of a second; a hung one is killed at the bound.
limit=${LEAFPACK_NO_HANG_LIMIT:-30}

# bounded WANT COMMAND...: COMMAND ends within the bound and exits WANT
# (any: any status); out and err hold its output.
bounded() {
	want=$1
	shift
	timeout -s KILL "$limit" "$@" >out 2>err
	got=$?
	[ "$got" -ne 137 ] || fail "hung (killed after ${limit}s): $*"
	[ "$want" = any ] || [ "$got" -eq "$want" ] || {
		head -n 20 err >&2
		fail "$* exited $got, expected $want"
	}
}

gen master --entities 2 --types 2 --dates 2
source_records master >before.records

i=0
while [ "$i" -lt 24 ]; do
	i=$((i + 1))
	rm -rf t
	cp -a master t
	case $((i % 4)) in
	0) set -- ;;
	1) set -- --keep-sources ;;
	2) set -- --jq . ;;
	3) set -- --dry-run ;;
	esac
	bounded 0 "$BIN/leafpack" -P $((i % 8 + 1)) --min-age 0 "$@" t \
	    </dev/null
	# A rerun of the same tree: nothing, or what the first left, to do.
	[ $((i % 3)) -ne 0 ] ||
	    bounded 0 "$BIN/leafpack" -P $((i % 8 + 1)) --min-age 0 "$@" t \
	    </dev/null
done
bounded 0 "$BIN/leafpack" -P 3 --min-age 0 t </dev/null
check_consolidated t before.records

# stdin a pipe that stays open, with a line in it: the driver does not
# read it (it used to, as if it were a child's stderr, and then waited).
mkfifo fifo || fail "mkfifo"
exec 3<>fifo
echo 'a line for nobody' >&3
rm -rf t
cp -a master t
bounded 0 "$BIN/leafpack" -P 2 --min-age 0 t <fifo
! grep -q 'a line for nobody' err || fail "leafpack read its stdin"
IFS= read -r line <&3
exec 3>&-
[ "$line" = 'a line for nobody' ] || fail "stdin was consumed: '$line'"
check_consolidated t before.records

# Started with SIGCHLD blocked (the mask survives exec): the driver
# unblocks it, else a child whose pipes closed before it could be reaped
# would never wake it again.
if command -v perl >/dev/null 2>&1; then
	for P in 1 2 4; do
		rm -rf t
		cp -a master t
		bounded 0 perl -MPOSIX -e 'sigprocmask(SIG_BLOCK,
		    POSIX::SigSet->new(SIGCHLD)) or die "sigprocmask: $!";
		    exec @ARGV or die "exec: $!"' -- \
		    "$BIN/leafpack" -P "$P" --min-age 0 t </dev/null
	done
	check_consolidated t before.records
fi

# Too few descriptors for -P 8: leaves that cannot start fail, holding no
# pipe end the loop would wait on; a rerun with enough finishes the tree.
rm -rf t
cp -a master t
(
	# shellcheck disable=SC3045 # dash, bash and busybox sh all have -n
	ulimit -n 24 || exit 0
	bounded any "$BIN/leafpack" -P 8 --min-age 0 t </dev/null
) || exit 1
bounded 0 "$BIN/leafpack" -P 8 --min-age 0 t </dev/null
check_consolidated t before.records
exit 0
