# shellcheck shell=sh
# Helpers of the stalled-share tests (tests/stall_*.sh): a generated share,
# the tree-scan processes still alive, and the whole "scan a share with hung
# directories" check (its leaves come from find_leaves of lib.sh).  Source
# after lib.sh and lib/stallfs.sh:  . "$LEAFPACK_TESTS/lib/stallscan.sh"

# share_tree DIR: a share of 20 entities x 3 record types x 4 dates (240
# leaves, 321 directories), two small files per leaf.
share_tree() {
	"$TESTBIN/gentree" --entities 20 --types 3 --dates 4 --files 2 \
	    --records 2 "$1" >/dev/null || fail "gentree $1"
}

# remap FROM TO: rewrites the leading FROM of each path on stdin to TO.
remap() {
	awk -v from="$1" -v to="$2" \
	    'index($0, from) == 1 { $0 = to substr($0, length(from) + 1) } 1'
}

# scan_procs WORD: "PID STATE" of every tree-scan process under test (parent
# or worker) whose command line contains WORD; zombies do not count.
scan_procs() {
	ps -eo pid=,stat=,args= | awk -v prog="$BIN/tree-scan" -v word="$1" \
	    '$3 == prog && index($0, word) && $2 !~ /^Z/ { print $1, $2 }'
}

# wait_scan_procs WORD SECONDS TEST: waits until TEST (an awk condition on
# the number n of tree-scan processes and the number d in state D) holds;
# fails after SECONDS.
wait_scan_procs() {
	_tries=0
	until scan_procs "$1" | awk '$2 ~ /^D/ { d++ } END { n = NR; exit !('"$3"') }'; do
		_tries=$((_tries + 1))
		if [ $_tries -gt $(($2 * 10)) ]; then
			scan_procs "$1" >&2
			return 1
		fi
		sleep 0.1
	done
}

# alive PID: true while PID runs (a zombie has ended).
alive() {
	ps -o stat= -p "$1" | grep -q '^[^Z]'
}

# wait_gone PID SECONDS: fails unless PID ends within SECONDS.
wait_gone() {
	_tries=0
	while alive "$1"; do
		_tries=$((_tries + 1))
		[ $_tries -le $(($2 * 10)) ] ||
			fail "process $1 still there after $2 s"
		sleep 0.1
	done
}

# now: seconds since the epoch, with fractions.
now() {
	date +%s.%N
}

# stall_scan MODE: the stalled-share check for one stallfs hang mode.  A
# share with one hung leaf and one hung record-type directory (its 4 leaves
# are out of reach) is scanned with -t 2 --retries 1 -j 4.  tree-scan must
# finish within the bound of issue 2 plus 10 s of slack, print exactly the
# leaves find sees in the source minus the hung subtrees, name both hung
# directories on stderr and in --stalled FILE, exit 3, and leave no worker
# behind but those stuck in the kernel (only in the unkillable mode), which
# end when the share is unmounted.
stall_scan() {
	mode=$1 timeout=2 retries=1 jobs=4
	hung1=e0004/audit/2024-03-02 hung2=e0013/events
	share_tree src
	mnt=$PWD/mnt

	# The normal scan time of this share, through a healthy mount.
	stallfs_mount src "$PWD/healthy"
	start=$(now)
	expect_status 0 "$BIN/tree-scan" -j $jobs "$PWD/healthy"
	normal=$(awk -v a="$start" -v b="$(now)" 'BEGIN { print b - a }')
	stallfs_unmount "$PWD/healthy"

	find_leaves src | grep -v -e "^src/$hung1\$" -e "^src/$hung2/" |
	    remap src "$mnt" >expected
	printf '%s\n' "$mnt/$hung1" "$mnt/$hung2" | sort >expected_stalled

	stallfs_mount src "$mnt" --hang-mode "$mode" --hang $hung1 --hang $hung2
	start=$(now)
	expect_status 3 "$BIN/tree-scan" -t $timeout --retries $retries \
	    -j $jobs --stalled stalled "$mnt"
	elapsed=$(awk -v a="$start" -v b="$(now)" 'BEGIN { print b - a }')
	bound=$(awk -v n="$normal" -v t=$timeout -v r=$retries -v j=$jobs \
	    'BEGIN { print n + 2 * t * (r + 1) / j + 10 }')
	echo "$mode: healthy scan ${normal}s, stalled scan ${elapsed}s (bound ${bound}s)"
	awk -v e="$elapsed" -v b="$bound" 'BEGIN { exit !(e < b) }' ||
		fail "$mode: tree-scan took ${elapsed}s, more than ${bound}s"

	sort out >got
	same_file expected got
	sort stalled >got_stalled
	same_file expected_stalled got_stalled
	for h in $hung1 $hung2; do
		grep -F -q "tree-scan: $mnt/$h: stalled" err ||
			fail "$mode: stderr does not name $mnt/$h as stalled: $(cat err)"
	done

	# What is left of tree-scan: nothing, or workers stuck in the kernel.
	if [ "$mode" = unkillable ]; then
		wait_scan_procs "$mnt" 5 'n >= 1 && d == n' ||
			fail "$mode: left processes not all stuck in the kernel"
		echo "$mode: $(scan_procs "$mnt" | wc -l) workers stuck in D until unmount"
	else
		wait_scan_procs "$mnt" 5 'n == 0' ||
			fail "$mode: tree-scan left processes behind"
	fi
	stallfs_unmount "$mnt"
	wait_scan_procs "$mnt" 10 'n == 0' ||
		fail "$mode: tree-scan processes outlive the unmount"
}
