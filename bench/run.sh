#!/bin/sh
# make bench: leafpack against what users would run instead, and the floor.
#
#     sh bench/run.sh [--full] [--large]      (make bench [FULL=1] [LARGE=1])
#
# Generates trees with tests/bin/gentree, runs every contender RUNS times,
# alternating contenders run by run, and writes the medians to
# bench/RESULTS.md.  Each consolidation contender gets a fresh copy of the
# same tree (cp -a, then sync, neither timed; caches stay warm).  Time, CPU
# and peak RSS come from /usr/bin/time (peak RSS: the largest single process
# of the contender's tree, not their sum).  After every run of a
# consolidation, and outside the timing, a quick count says whether the
# contender did its work (an output in every leaf, the sources removed or
# kept); a run that did not counts as failed, never as a fast one.  After
# the first run of each, bench/check.py also compares the records it
# produced with the sources'.  Every peer and program a section needs must
# be there before anything runs (sh tests/deps.sh bench installs the
# peers): the run stops naming what is missing.
#
# Sections: consolidation (keeping and removing sources), scanning, sick (a
# sick share: stallfs, 2 ms per operation and hung directories), slow (a
# slow share: stallfs with SLOW_DELAYS ms per request, removing sources,
# with stallfs's counts of the requests), memory (one big leaf), sources
# (one leaf of very many tiny sources: what a source costs in memory).
#
# Sizes.  The default is small, to finish in about 5 minutes on 2 cores;
# --full runs the sizes of issue 11 (the slow share on its medium tree,
# 30 x 3 x 1 x 30 files, at 1 and 5 ms, leafpack and the floor at -P 1, 4,
# 16, 64) and the local sections as the default did before it (100 x 3 x 1
# x 30 files, 3 runs); --large the full-size tree (and the slow share as
# --full).
#
# Environment: SECTIONS (a list of the sections above, default all), RUNS,
# SLOW_RUNS (runs of the slow section, default 1: its time is set by the
# requests and the delay), BENCH_WORK (default bench/work), BENCH_LIMIT
# (seconds per run before a contender is stopped, default 600, 1200 with
# --full), SICK_CAP (seconds before a lister on the sick share is
# stopped), the tree sizes
# ENTITIES TYPES DATES FILES RECORDS, SCAN_ENTITIES, SICK_ENTITIES, BIG_MB
# (the one-leaf tree of the memory section), MANY_FILES (the sources
# section's leaf, default 50,000; 1,000,000 with --full), SLOW_ENTITIES SLOW_FILES (the
# slow share's tree: entities x 3 types x 1 date x files), SLOW_DELAYS
# (milliseconds per request, a list) and SLOW_P (the -P values of leafpack
# and the floor, a list).
set -u

here=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$here")
large=0 full=0
for arg in "$@"; do
	case $arg in
	--large) large=1 full=1 ;;
	--full) full=1 ;;
	*) echo "usage: sh bench/run.sh [--full] [--large]" >&2; exit 2 ;;
	esac
done

# The settings given in the environment, to say how RESULTS.md was made.
overrides=
for var in SECTIONS RUNS SLOW_RUNS ENTITIES TYPES DATES FILES RECORDS \
    SCAN_ENTITIES SICK_ENTITIES SICK_CAP BIG_MB MANY_FILES SLOW_ENTITIES SLOW_FILES \
    SLOW_DELAYS SLOW_P; do
	eval "value=\${$var-}"
	# shellcheck disable=SC2154 # set by the eval
	[ -n "$value" ] && overrides="$overrides$var='$value' "
done
if [ "$large" = 1 ]; then
	: "${ENTITIES:=1500}" "${DATES:=3}" "${FILES:=20}" "${BIG_MB:=1024}"
fi
if [ "$full" = 1 ]; then
	# The local sections as the default was before: a third of issue 5's
	# medium tree (ENTITIES=300); here (2 cores, load 1 to 2) that took 15
	# minutes.
	: "${RUNS:=3}" "${ENTITIES:=100}" "${BIG_MB:=256}" "${MANY_FILES:=1000000}"
	: "${SCAN_ENTITIES:=1500}" "${SICK_ENTITIES:=100}" "${SICK_CAP:=20}"
	: "${SLOW_ENTITIES:=30}" "${SLOW_FILES:=30}" "${SLOW_DELAYS:=1 5}"
	: "${SLOW_P:=1 4 16 64}"
	# leafpack -P 1 at 5 ms per request takes about 7 minutes here.
	: "${BENCH_LIMIT:=1200}"
else
	# Here (2 cores, load 1.7 to 8 when it began) this took 315 to 345 s,
	# 165 s of it timed: the rest is copies, syncs, checks and mounts; the
	# sick share waits 4 x SICK_CAP for the listers it stops.
	: "${RUNS:=2}" "${ENTITIES:=20}" "${BIG_MB:=64}" "${MANY_FILES:=50000}"
	: "${SCAN_ENTITIES:=500}" "${SICK_ENTITIES:=50}" "${SICK_CAP:=10}"
	# The slow share's leaves have issue 11's shape (30 files): what a
	# file costs there depends on the files a leaf has, since each leaf
	# pays its claim once; fewer leaves than --full.
	: "${SLOW_ENTITIES:=10}" "${SLOW_FILES:=30}" "${SLOW_DELAYS:=1}"
	: "${SLOW_P:=1 4 16}"
fi
: "${DATES:=1}" "${FILES:=30}" "${TYPES:=3}" "${RECORDS:=20}"
: "${SLOW_RUNS:=1}" "${BENCH_LIMIT:=600}"
: "${BENCH_WORK:=$here/work}"
: "${SECTIONS:=consolidation scanning sick slow memory sources}"

W=$BENCH_WORK
GENTREE=$TOP/tests/bin/gentree
# The interpreter itself, not a version manager's shim script.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=
RESULTS=$W/results.tsv
# A snapshot of bin/, so that a rebuild during the run changes nothing.
LPBIN=$W/bin
export TOP PY W LPBIN LC_ALL=C

die() {
	echo "bench: $*" >&2
	exit 1
}
note() {
	printf '%s\n' "$*" >&2
}

have() {
	command -v "$1" >/dev/null 2>&1
}

# lacking WORDS: adds to $lack each command not found (once).
lacking() {
	for c in "$@"; do
		have "$c" && continue
		case " $lack " in *" $c "*) ;; *) lack="$lack $c" ;; esac
	done
}

# unbuilt FILES: adds to $unbuilt each program not built (once).
unbuilt() {
	for f in "$@"; do
		[ -x "$f" ] && continue
		name=${f#"$W"/}
		name=${name#"$TOP"/}
		case " $unbuilt " in *" $name "*) ;; *) unbuilt="$unbuilt $name" ;; esac
	done
}

# preflight: stops before anything runs, naming every peer and program
# the chosen sections need and do not find: a missing contender must never
# show up as a fast one.  Mounts stallfs once when a section needs it, and
# reads leafpack's default -P for the slow share.
preflight() {
	lack='' unbuilt='' fuse=0
	lacking timeout sync cp find
	[ -x /usr/bin/time ] || lack="$lack /usr/bin/time"
	[ -n "$PY" ] || lack="$lack python3"
	unbuilt "$GENTREE"
	for section in $SECTIONS; do
		case $section in
		consolidation)
			lacking jq mlr
			unbuilt "$LPBIN/leafpack" "$TOP/bench/bin/walk" \
			    "$TOP/bench/bin/floor" ;;
		scanning)
			lacking fdfind bfs
			unbuilt "$LPBIN/tree-scan" "$TOP/bench/bin/walk" ;;
		sick)
			lacking fdfind bfs fusermount3
			unbuilt "$LPBIN/tree-scan" "$TOP/tests/bin/stallfs"
			fuse=1 ;;
		slow)
			lacking jq fusermount3 getconf
			unbuilt "$LPBIN/leafpack" "$TOP/bench/bin/walk" \
			    "$TOP/bench/bin/floor" "$TOP/tests/bin/stallfs"
			fuse=1 ;;
		memory)
			unbuilt "$LPBIN/json-merge" ;;
		sources)
			unbuilt "$LPBIN/leafpack" "$LPBIN/json-merge" \
			    "$LPBIN/jsonl-write" ;;
		*)
			die "unknown section: $section (consolidation scanning sick slow memory sources)" ;;
		esac
	done
	if [ "$fuse" = 1 ] && ! [ -c /dev/fuse ]; then
		lack="$lack /dev/fuse"
	fi
	[ -z "$lack" ] ||
		die "missing:$lack (sh tests/deps.sh bench installs the packages; make bench runs it)"
	[ -z "$unbuilt" ] ||
		die "not built:$unbuilt (make all tests; bin/ is copied to $LPBIN when the run starts)"
	case " $SECTIONS " in *" slow "*) leafpack_parallel ;; esac
	if [ "$fuse" = 1 ]; then
		mkdir -p "$W/probe.src"
		stallfs_up "$W/probe.src" "$W/probe.mnt"
		stallfs_down || die "stallfs exited $fuse_status after the unmount: $(tail -n 1 "$W/log/stallfs.err")"
		rmdir "$W/probe.src" "$W/probe.mnt"
	fi
}

# stallfs_up SRC MNT OPTION...: mounts SRC at MNT through tests/bin/stallfs
# (stderr to $W/log/stallfs.err) and returns once it is mounted, its pid in
# $fuse_pid; stops the benchmark if it does not mount.  The mount is looked
# for in /proc/self/mountinfo, not with a stat, so that no request reaches
# stallfs before the contender's (its --count file counts only theirs).
stallfs_up() {
	fuse_src=$1 fuse_mnt=$2
	shift 2
	mkdir -p "$fuse_mnt" || die "cannot make $fuse_mnt"
	"$TOP/tests/bin/stallfs" --source "$fuse_src" "$@" "$fuse_mnt" \
	    2>>"$W/log/stallfs.err" &
	fuse_pid=$!
	tries=0
	until grep -q " stallfs:$fuse_pid " /proc/self/mountinfo; do
		tries=$((tries + 1))
		if [ "$tries" -gt 100 ] || ! kill -0 "$fuse_pid" 2>/dev/null; then
			kill "$fuse_pid" 2>/dev/null
			wait "$fuse_pid"
			fuse_pid=
			die "stallfs did not mount $fuse_src at $fuse_mnt (root and /dev/fuse needed): $(tail -n 1 "$W/log/stallfs.err")"
		fi
		sleep 0.1
	done
}

# stallfs_down: unmounts (lazily: that frees every reader stallfs holds)
# and waits for stallfs to exit, which writes its --count file; stallfs is
# stopped if it has not exited after 10 s.  Returns its exit status, also
# in $fuse_status.
stallfs_down() {
	fusermount3 -u -z "$fuse_mnt" 2>/dev/null || umount -l "$fuse_mnt"
	tries=0
	while kill -0 "$fuse_pid" 2>/dev/null; do
		tries=$((tries + 1))
		case $tries in
		100) kill -TERM "$fuse_pid" ;;
		150) kill -KILL "$fuse_pid" ;;
		esac
		sleep 0.1
	done
	wait "$fuse_pid"
	fuse_status=$?
	fuse_pid=
	return "$fuse_status"
}

# Each contender below is "name" + a command in which $ROOT is the tree
# (exported, so that sh -c expands it).

# consolidation_cmd NAME VARIANT: sets $cmd, a contender keeping (VARIANT
# keep) or removing the sources; the seed's process pool runs $procs
# workers and the per-leaf tools xargs -P $xargs_jobs (each section sets
# them).
consolidation_cmd() {
	keep='' remove=''
	if [ "$2" = keep ]; then
		keep=--keep-sources
	else
		remove=--remove
	fi
	case $1 in
	leafpack)
		cmd="\"\$LPBIN/leafpack\" --min-age 0 $keep \"\$ROOT\"" ;;
	leafpack-P*)
		cmd="\"\$LPBIN/leafpack\" -P ${1#leafpack-P} --min-age 0 $keep \"\$ROOT\"" ;;
	python-threads)
		cmd="\"\$PY\" \"\$TOP/bench/seed.py\" consolidate --pool thread --workers 4 $remove \"\$ROOT\"" ;;
	python-procs)
		cmd="\"\$PY\" \"\$TOP/bench/seed.py\" consolidate --pool process --workers $procs $remove \"\$ROOT\"" ;;
	jq|mlr)
		cmd="sh \"\$TOP/bench/perleaf.sh\" $1 -P $xargs_jobs $remove \"\$ROOT\"" ;;
	floor-P*)
		cmd="\"\$TOP/bench/bin/walk\" \"\$ROOT\" | \"\$TOP/bench/bin/floor\" -P ${1#floor-P} $remove" ;;
	floor-nofsync-P2)
		cmd="\"\$TOP/bench/bin/walk\" \"\$ROOT\" | \"\$TOP/bench/bin/floor\" -P 2 --no-fsync $remove" ;;
	*) die "no such contender: $1" ;;
	esac
}

# scan_cmd NAME: sets $cmd (listing to stdout) and $lists (leaves|dirs).
scan_cmd() {
	lists=dirs
	case $1 in
	walk)
		cmd="\"\$TOP/bench/bin/walk\" \"\$ROOT\"" lists=leaves ;;
	tree-scan-j*)
		cmd="\"\$LPBIN/tree-scan\" -j ${1#tree-scan-j} \"\$ROOT\"" lists=leaves ;;
	find)
		cmd="find \"\$ROOT\" -type d" ;;
	fdfind)
		# fd does not print the root itself.
		cmd="fdfind -HI -t d . \"\$ROOT\"" lists=subdirs ;;
	bfs)
		cmd="bfs \"\$ROOT\" -type d" ;;
	python-walk)
		cmd="\"\$PY\" \"\$TOP/bench/seed.py\" walk \"\$ROOT\"" ;;
	python-threads-scan)
		cmd="\"\$PY\" \"\$TOP/bench/seed.py\" scan --workers 4 \"\$ROOT\"" lists=leaves ;;
	*) die "no such contender: $1" ;;
	esac
}

# leafpack_parallel: sets $default_P to leafpack's default -P here, and
# $default_how to where it comes from, as `leafpack --help` states it on
# its -P line: a number ("(default 32)") or a formula ("(default: 4 x
# CPUs, 4 to 64)"), computed here as leafpack does.  Stops the benchmark
# when the help states neither: the floor to compare leafpack with would
# be a guess.
leafpack_parallel() {
	line=$("$LPBIN/leafpack" --help 2>&1 | grep -e '^ *-P N ' | head -n 1)
	number='[0-9][0-9]*'
	default_P=$(printf '%s\n' "$line" |
	    sed -n "s/.*(default:* \($number\)).*/\1/p")
	formula=$(printf '%s\n' "$line" | sed -n \
	    "s/.*default: \($number\) x CPUs, \($number\) to \($number\).*/\1 \2 \3/p")
	if [ -n "$default_P" ]; then
		default_how="leafpack --help"
	elif [ -n "$formula" ]; then
		cpus=$(getconf _NPROCESSORS_ONLN)
		# shellcheck disable=SC2086 # three numbers
		set -- $formula
		default_P=$(($1 * cpus))
		[ "$default_P" -ge "$2" ] || default_P=$2
		[ "$default_P" -le "$3" ] || default_P=$3
		default_how="$1 x $cpus CPUs, $2 to $3, as leafpack --help says"
	else
		die "cannot read leafpack's default -P from its --help: ${line:-no -P line}"
	fi
}

# measure NAME VARIANT OUTFILE: runs $cmd under /usr/bin/time and a time
# limit, stdout to OUTFILE, stderr to $W/log/NAME.VARIANT.err, and sets
# $status (its exit status), $recorded (what record writes: 0 when $status
# is $ok_status, default 0, else $status), $elapsed and $usage.  Wall time
# is taken here in nanoseconds (time's %e has 10 ms steps); $limit (default
# $BENCH_LIMIT) is the time limit.
measure() {
	err=$W/log/$1.$2.err
	rm -f "$W/time.out"
	t0=$(date +%s%N)
	# timeout outermost: on expiry, and on cleanup(), it signals its whole
	# process group, so no contender outlives its run.
	timeout -k 5 "${limit:-$BENCH_LIMIT}" /usr/bin/time -f '%U %S %M' \
	    -o "$W/time.out" sh -c "$cmd" >"$3" 2>"$err" &
	current=$!
	wait "$current"
	status=$?
	current=
	t1=$(date +%s%N)
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		note "  $1 ($2): stopped after ${limit:-$BENCH_LIMIT}s"
	elif [ "$status" -ne "${ok_status:-0}" ]; then
		note "  $1 ($2): exit $status: $(tail -n 1 "$err")"
	fi
	recorded=$status
	[ "$status" -eq "${ok_status:-0}" ] && recorded=0
	elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')
	# /usr/bin/time notes a non-zero exit on a line of its own; when it
	# was stopped it wrote nothing.
	usage=$(tail -n 1 "$W/time.out" 2>/dev/null)
	[ -n "$usage" ] || usage="nan nan nan"
}

# record SECTION NAME VARIANT RUN: appends the run measure timed to
# $RESULTS: section name variant run status elapsed user sys maxrss_kb.
# The status is a number (0: success) or "incomplete" (see did_work).
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
	    "$recorded" "$elapsed" "$(printf '%s' "$usage" | tr ' ' '\t')" \
	    >>"$RESULTS"
}

# did_work NAME TREE VARIANT LEAVES FILES: after a run of contender NAME
# that exited 0, true when every one of the LEAVES leaves of TREE holds a consolidated.jsonl and its
# sources are gone (VARIANT remove) or all FILES there (keep); else it notes
# what is missing and sets $recorded to "incomplete", so that a contender
# that did nothing, quickly, counts as failed rather than fast.
did_work() {
	[ "$recorded" = 0 ] || return 0
	outputs=$(find "$2" -name consolidated.jsonl -type f | wc -l)
	left=$(find "$2" -name '*.txt' -type f | wc -l)
	want=0
	[ "$3" = keep ] && want=$5
	[ "$outputs" -eq "$4" ] && [ "$left" -eq "$want" ] && return 0
	note "  $1 ($3): exit 0 but incomplete: $outputs of $4 outputs, $left sources left (expected $want)"
	recorded=incomplete
	return 1
}

# On Ctrl-C or SIGTERM: stop the running contender, unmount stallfs.
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	trap - INT TERM
	[ -n "${current:-}" ] && kill -TERM "$current" 2>/dev/null
	if [ -n "${fuse_pid:-}" ]; then
		fusermount3 -u -z "$fuse_mnt" 2>/dev/null ||
			umount -l "$fuse_mnt" 2>/dev/null
		kill "$fuse_pid" 2>/dev/null
	fi
	wait
	exit 130
}

# verdict SECTION NAME VARIANT TEXT: the correctness line of a contender.
verdict() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$W/verdicts.tsv"
	note "  $2 ($3): $4"
}

# rotate N WORDS...: the words, starting at the (N mod count)th, so that
# no contender always runs first, or right after the same one.
rotate() {
	n=$1
	shift
	n=$((n % $#))
	i=0
	for w in "$@"; do
		[ "$i" -ge "$n" ] && printf '%s ' "$w"
		i=$((i + 1))
	done
	i=0
	for w in "$@"; do
		[ "$i" -lt "$n" ] && printf '%s ' "$w"
		i=$((i + 1))
	done
}

# fresh_copy MASTER COPY: COPY becomes a fresh cp -a of MASTER, synced
# (the old copy is removed while the new one is made).
fresh_copy() {
	remover=
	if [ -e "$2" ]; then
		mv "$2" "$W/trash"
		rm -rf "$W/trash" &
		remover=$!
	fi
	cp -a "$1" "$2" || die "cannot copy the tree to $2"
	[ -z "$remover" ] || wait "$remover"
	sync
}

# tree_counts EXPECTED: sets $leaves and $files from check.py expect's lines.
tree_counts() {
	leaves=$(wc -l <"$1")
	files=$(awk -F '\t' '{f += $2} END {print f + 0}' "$1")
}

section_consolidation() {
	master=$W/tree
	note "consolidation: $ENTITIES x $TYPES x $DATES x $FILES x $RECORDS"
	rm -rf "$master"
	"$GENTREE" --entities "$ENTITIES" --types "$TYPES" --dates "$DATES" \
	    --files "$FILES" --records "$RECORDS" "$master" ||
		die "gentree failed"
	"$PY" "$here/check.py" expect "$master" >"$W/expected.tsv" ||
		die "check.py expect failed"
	tree_counts "$W/expected.tsv"
	printf 'tree\t%s\t%s\t%s\n' \
	    "$(awk -F '\t' '{f += $2; b += $3; r += $4} END {print f "\t" b "\t" r}' "$W/expected.tsv")" \
	    "$leaves" "$ENTITIES x $TYPES x $DATES x $FILES x $RECORDS" \
	    >>"$W/trees.tsv"
	ROOT=$W/copy
	export ROOT
	procs=2 xargs_jobs=2	# as many as the cores: JSON work is CPU work
	names="leafpack-P1 leafpack-P2 python-threads python-procs jq mlr floor-P1 floor-P2 floor-nofsync-P2"
	run=1
	while [ "$run" -le "$RUNS" ]; do
		note "consolidation run $run of $RUNS"
		# shellcheck disable=SC2086 # a list of words
		for name in $(rotate "$run" $names); do
			for variant in keep remove; do
				consolidation_cmd "$name" "$variant"
				fresh_copy "$master" "$ROOT"
				measure "$name" "$variant" /dev/null
				did_work "$name" "$ROOT" "$variant" "$leaves" "$files"
				record consolidation "$name" "$variant" "$run"
				[ "$run" = 1 ] || continue
				set --
				[ "$variant" = remove ] && set -- --removed
				case $name in floor*) set -- "$@" --raw ;; esac
				verdict consolidation "$name" "$variant" \
				    "$("$PY" "$here/check.py" verify "$@" \
				    "$W/expected.tsv" "$master" "$ROOT" 2>&1 | tail -n 1)"
			done
		done
		run=$((run + 1))
	done
	rm -rf "$ROOT"
}

section_scanning() {
	ROOT=$W/scantree
	export ROOT
	note "scanning: $SCAN_ENTITIES x 3 x 3 leaves, 2 files each"
	rm -rf "$ROOT"
	"$GENTREE" --entities "$SCAN_ENTITIES" --types 3 --dates 3 --files 2 \
	    --records 1 "$ROOT" || die "gentree failed"
	find "$ROOT" -type d | sort >"$W/dirs.expected"
	find "$ROOT" -mindepth 1 -type d | sort >"$W/subdirs.expected"
	find "$ROOT" -type d -links 2 | sort >"$W/leaves.expected"
	printf 'scan\t%s\t%s\n' "$(wc -l <"$W/dirs.expected")" \
	    "$(wc -l <"$W/leaves.expected")" >>"$W/trees.tsv"
	names="walk tree-scan-j1 tree-scan-j2 tree-scan-j4 find fdfind bfs python-walk python-threads-scan"
	find "$ROOT" >/dev/null	# warm the cache once for all
	run=1
	while [ "$run" -le "$RUNS" ]; do
		note "scanning run $run of $RUNS"
		# shellcheck disable=SC2086 # a list of words
		for name in $(rotate "$run" $names); do
			scan_cmd "$name"
			out=$W/out/$name
			measure "$name" list "$out"
			# Every run's listing is compared: a wrong one is no time.
			sed 's,/$,,' "$out" | sort >"$out.sorted"
			listed=ok
			cmp -s "$out.sorted" "$W/$lists.expected" || listed=wrong
			if [ "$recorded" = 0 ] && [ "$listed" = wrong ]; then
				note "  $name: exit 0 but a wrong listing"
				recorded=incomplete
			fi
			record scanning "$name" list "$run"
			[ "$run" = 1 ] || continue
			if [ "$listed" = ok ]; then
				verdict scanning "$name" list "ok: all $lists"
			else
				verdict scanning "$name" list "WRONG: $(wc -l <"$out.sorted") lines, expected $(wc -l <"$W/$lists.expected") $lists"
			fi
		done
		run=$((run + 1))
	done
}

# The sick share: a tree behind stallfs with 2 ms added to every request and
# a few hung listings.  The listers that cannot time out are capped with
# timeout(1); tree-scan is given a short per-directory timeout.  One run
# each: a hung listing never returns, so there is no spread to take.
section_sick() {
	src=$W/sicktree mnt=$W/sickmnt
	note "sick share: $SICK_ENTITIES x 3 x 3 leaves behind stallfs, 2 ms per request"
	rm -rf "$src"
	"$GENTREE" --entities "$SICK_ENTITIES" --types 3 --dates 3 --files 2 \
	    --records 1 "$src" || die "gentree failed"
	# Two hung leaves and one hung directory above three leaves.
	hung1=e0002/events/2024-03-02 hung2=e0005/audit/2024-03-03
	hung3=e0007/metrics
	(cd "$src" && find . -type d -links 2 | sed 's,^\./,,' |
	    grep -v -e "^$hung1\$" -e "^$hung2\$" -e "^$hung3/") |
	    sed "s,^,$mnt/," | sort >"$W/sick.expected"
	stallfs_up "$src" "$mnt" --delay-ms 2 --hang "$hung1" --hang "$hung2" \
	    --hang "$hung3"
	printf 'sick\t%s\t%s\tlist\t0\t%s\n' "Tree: $SICK_ENTITIES x 3 x 3 leaves (2 files each) behind stallfs with --delay-ms 2 and 3 hung listings (2 leaves, 1 directory above 3 leaves); find, fd, bfs and the seed scan are stopped after $SICK_CAP s; tree-scan runs with -t 2 --retries 1 (bound: normal time + 3 x 2 s x 2 / 4 workers)." \
	    "$(wc -l <"$W/sick.expected")" "$SICK_CAP" >>"$W/trees.tsv"
	ROOT=$mnt
	export ROOT
	for name in tree-scan-j4 find fdfind bfs python-threads-scan; do
		scan_cmd "$name"
		limit=$SICK_CAP ok_status=0
		case $name in
		tree-scan*)
			cmd="$cmd -t 2 --retries 1" limit=$BENCH_LIMIT ok_status=3 ;;
		esac
		out=$W/out/sick.$name
		measure "$name" list "$out"
		if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
			verdict sick "$name" list "did not finish within $SICK_CAP s"
		elif [ "$name" = tree-scan-j4 ]; then
			sort "$out" >"$out.sorted"
			if cmp -s "$out.sorted" "$W/sick.expected"; then
				verdict sick "$name" list "ok: every healthy leaf, exit $status (3 = stalled)"
			else
				[ "$recorded" = 0 ] && recorded=incomplete
				verdict sick "$name" list "WRONG: $(wc -l <"$out.sorted") leaves, expected $(wc -l <"$W/sick.expected"); exit $status"
			fi
		fi
		record sick "$name" list 1
	done
	limit='' ok_status=''
	stallfs_down || note "stallfs of the sick share exited $fuse_status"
}

# slow_names: sets $names, the contenders of the slow share: leafpack at
# its defaults and at each SLOW_P, the floor at each SLOW_P and at
# leafpack's default -P, the seed Python, jq.
slow_names() {
	names=leafpack
	for p in $SLOW_P; do
		names="$names leafpack-P$p"
	done
	# shellcheck disable=SC2086 # a list of numbers
	for p in $(printf '%s\n' $SLOW_P "$default_P" | sort -n -u); do
		names="$names floor-P$p"
	done
	names="$names python-threads python-procs jq"
}

# slow_run NAME DELAY RUN: one run of NAME on a fresh copy of the slow
# tree behind stallfs with DELAY ms per request, its requests counted in a
# file of its own; outputs are checked on the copy after the unmount.
slow_run() {
	consolidation_cmd "$1" remove
	fresh_copy "$W/slowtree" "$W/slowsrc"
	counts=$W/counts/slow.$2ms.$1.$3.json
	rm -f "$counts"
	stallfs_up "$W/slowsrc" "$W/slowmnt" --delay-ms "$2" --count "$counts"
	measure "$1" "$2ms" /dev/null
	if ! stallfs_down; then
		note "  $1 ($2ms): stallfs exited $fuse_status"
		[ "$recorded" = 0 ] && recorded=$fuse_status
	fi
	did_work "$1" "$W/slowsrc" remove "$leaves" "$files"
	record slow "$1" "$2ms" "$3"
	printf 'slow\t%s\t%s\t%s\t%s\n' "$1" "$2ms" "$3" "$counts" \
	    >>"$W/counts.tsv"
	[ "$3" = 1 ] || return 0
	set -- "$1" "$2" --removed
	case $1 in floor*) set -- "$@" --raw ;; esac
	verdict slow "$1" "$2ms" "$("$PY" "$here/check.py" verify "$3" ${4:+"$4"} \
	    "$W/slow.expected.tsv" "$W/slowtree" "$W/slowsrc" 2>&1 | tail -n 1)"
}

# The slow share: a tree behind stallfs with SLOW_DELAYS ms per request
# (a network share: every request a round trip), consolidated removing the
# sources.  What counts there is how many requests are in flight and how
# many a file costs: stallfs counts them.
section_slow() {
	shape="$SLOW_ENTITIES x 3 x 1 x $SLOW_FILES x $RECORDS"
	note "slow share: $shape behind stallfs, $SLOW_DELAYS ms per request"
	rm -rf "$W/slowtree"
	"$GENTREE" --entities "$SLOW_ENTITIES" --types 3 --dates 1 \
	    --files "$SLOW_FILES" --records "$RECORDS" "$W/slowtree" ||
		die "gentree failed"
	"$PY" "$here/check.py" expect "$W/slowtree" >"$W/slow.expected.tsv" ||
		die "check.py expect failed"
	tree_counts "$W/slow.expected.tsv"
	# On a share requests in flight count, not cores: the seed's 4 workers
	# in both its pools, jq at leafpack's default -P.
	procs=4 xargs_jobs=$default_P
	slow_names
	mkdir -p "$W/counts"
	ROOT=$W/slowmnt
	export ROOT
	printf 'slow\t%s\t%s\t%s\t%s\t%s\t%s\n' "$shape" "$leaves" "$files" \
	    "$(awk -F '\t' '{b += $3} END {print b + 0}' "$W/slow.expected.tsv")" \
	    "$default_P" "$default_how" >>"$W/trees.tsv"
	for delay in $SLOW_DELAYS; do
		run=1
		while [ "$run" -le "$SLOW_RUNS" ]; do
			note "slow share, $delay ms: run $run of $SLOW_RUNS"
			# shellcheck disable=SC2086 # a list of words
			for name in $(rotate "$run" $names); do
				slow_run "$name" "$delay" "$run"
			done
			run=$((run + 1))
		done
	done
	rm -rf "$W/slowsrc"
}

# Memory: json-merge on one leaf of BIG_MB of records, with --memory 64M
# (spilling sorted runs to $TMPDIR, here under the work directory) and with
# its default, against the seed's Python on the same leaf.
section_memory() {
	ROOT=$W/bigleaf
	export ROOT
	leaf=$ROOT/e0001/audit/2024-03-01
	files=$((BIG_MB * 5 / 4))	# about 800 KB per file of 2,000 records
	note "memory: one leaf of $files files x 2000 records (about $BIG_MB MB)"
	rm -rf "$ROOT"
	"$GENTREE" --entities 1 --types 1 --dates 1 --files "$files" \
	    --records 2000 "$ROOT" || die "gentree failed"
	"$PY" "$here/check.py" expect "$ROOT" >"$W/bigleaf.tsv" ||
		die "check.py expect failed"
	size=$(cut -f 3 "$W/bigleaf.tsv")
	records=$(cut -f 4 "$W/bigleaf.tsv")
	printf 'memory\t%s\t%s\tleaf\t%s\n' "Leaf: $files files of 2,000 records, $((size / 1000000)) MB; json-merge writes to a file on the same file system and spills to \$TMPDIR on it too." \
	    "$records" "$((size / 1000000))" >>"$W/trees.tsv"
	mkdir -p "$W/tmp"
	run=1
	while [ "$run" -le "$RUNS" ]; do
		note "memory run $run of $RUNS"
		for name in $(rotate "$run" json-merge-64M json-merge python-leaf); do
			# Not timed: the leaf just made, and the last run's
			# output, written back first, so that no run pays for
			# the writeback of another's 66 MB.
			sync
			case $name in
			json-merge*)
				memory=
				[ "$name" = json-merge-64M ] && memory="--memory 64M"
				cmd="TMPDIR=\"\$W/tmp\" \"\$LPBIN/json-merge\" $memory --min-age 0 \"\$ROOT/e0001/audit/2024-03-01\""
				measure "$name" leaf "$W/out/merged.jsonl"
				mv "$W/out/merged.jsonl" "$leaf/consolidated.jsonl"
				;;
			python-leaf)
				cmd="\"\$PY\" \"\$TOP/bench/seed.py\" consolidate --workers 1 \"\$ROOT\""
				measure "$name" leaf /dev/null
				;;
			esac
			# Every run's output holds every record, or it is no time.
			lines=$(wc -l 2>/dev/null <"$leaf/consolidated.jsonl" || echo 0)
			if [ "$recorded" = 0 ] && [ "$lines" -ne "$records" ]; then
				note "  $name: exit 0 but $lines of $records records"
				recorded=incomplete
			fi
			record memory "$name" leaf "$run"
			if [ "$run" = 1 ]; then
				verdict memory "$name" leaf "$("$PY" "$here/check.py" \
				    verify "$W/bigleaf.tsv" "$ROOT" "$ROOT" 2>&1 | tail -n 1)"
			fi
			rm -f "$leaf/consolidated.jsonl"
		done
		run=$((run + 1))
	done
}

# Sources: one leaf of MANY_FILES sources of one record each, with
# --memory 4M: what a source costs beyond --memory (issue 14: a leaf of a
# million files within --memory + 16 MiB).  leafpack removes the sources;
# json-merge | jsonl-write keeps them, then a second pipeline finds them
# all in the output and removes them; the seed's Python on the same leaf.
# One run each (the numbers are sizes, not times): a fresh copy of the
# tree for each contender.
section_sources() {
	master=$W/manysrc
	ROOT=$W/many
	export ROOT
	note "sources: one leaf of $MANY_FILES files of 1 record"
	rm -rf "$master"
	"$GENTREE" --entities 1 --types 1 --dates 1 --files "$MANY_FILES" \
	    --records 1 "$master" >/dev/null || die "gentree failed"
	"$PY" "$here/check.py" expect "$master" >"$W/many.tsv" ||
		die "check.py expect failed"
	size=$(cut -f 3 "$W/many.tsv")
	printf 'sources\t%s\t%s\tleaf\t%s\n' "Leaf: $MANY_FILES files of one record, $((size / 1000000)) MB, --memory 4M; \$TMPDIR on the same file system.  Peak RSS is the largest single process of the contender." \
	    "$MANY_FILES" "$((size / 1000000))" >>"$W/trees.tsv"
	mkdir -p "$W/tmp"
	leaf=$ROOT/e0001/audit/2024-03-01
	for name in leafpack-4M merge-write-4M merge-write-again-4M python-leaf; do
		[ "$name" = merge-write-again-4M ] || fresh_copy "$master" "$ROOT"
		case $name in
		leafpack-4M)
			cmd="TMPDIR=\"\$W/tmp\" \"\$LPBIN/leafpack\" --memory 4M --min-age 0 \"\$ROOT\"" ;;
		merge-write-4M)
			cmd="TMPDIR=\"\$W/tmp\" \"\$LPBIN/json-merge\" --memory 4M --min-age 0 \"$leaf\" | TMPDIR=\"\$W/tmp\" \"\$LPBIN/jsonl-write\" \"$leaf/consolidated.jsonl\"" ;;
		merge-write-again-4M)
			cmd="TMPDIR=\"\$W/tmp\" \"\$LPBIN/json-merge\" --memory 4M --min-age 0 \"$leaf\" | TMPDIR=\"\$W/tmp\" \"\$LPBIN/jsonl-write\" --remove-sources \"$leaf/consolidated.jsonl\"" ;;
		python-leaf)
			cmd="\"\$PY\" \"\$TOP/bench/seed.py\" consolidate --workers 1 --remove \"\$ROOT\"" ;;
		esac
		measure "$name" leaf /dev/null
		case $name in
		merge-write-4M) did_work "$name" "$ROOT" keep 1 "$MANY_FILES" ;;
		*) did_work "$name" "$ROOT" remove 1 0 ;;
		esac
		record sources "$name" leaf 1
		removed=--removed
		[ "$name" = merge-write-4M ] && removed=
		# shellcheck disable=SC2086 # $removed: one word or none
		verdict sources "$name" leaf "$("$PY" "$here/check.py" \
		    verify "$W/many.tsv" "$master" "$ROOT" $removed 2>&1 |
		    tail -n 1)"
	done
	rm -rf "$ROOT" "$master"
}

main() {
	trap cleanup INT TERM
	mkdir -p "$W/log" "$W/out" || die "cannot create $W"
	rm -rf "$LPBIN"
	mkdir "$LPBIN" && cp -p "$TOP"/bin/* "$LPBIN"/ 2>/dev/null
	preflight
	rm -f "$RESULTS" "$W/verdicts.tsv" "$W/trees.tsv" "$W/counts.tsv"
	rm -rf "$W/counts"
	: >"$RESULTS"
	: >"$W/verdicts.tsv"
	: >"$W/counts.tsv"
	start=$(date +%s)
	printf 'load\t%s\n' "$(cut -d ' ' -f 1-3 /proc/loadavg)" >>"$W/trees.tsv"
	for section in $SECTIONS; do
		case $section in
		consolidation) section_consolidation ;;
		scanning) section_scanning ;;
		sick) section_sick ;;
		slow) section_slow ;;
		memory) section_memory ;;
		sources) section_sources ;;
		esac
	done
	rm -rf "$W/tmp"
	printf 'elapsed\t%s\n' "$(($(date +%s) - start))" >>"$W/trees.tsv"
	command="make bench"
	[ "$full" = 1 ] && [ "$large" = 0 ] && command="$command FULL=1"
	[ "$large" = 1 ] && command="$command LARGE=1"
	"$PY" "$here/report.py" "$W" "$here/RESULTS.md" "$overrides$command"
}

# On one line, so that the whole script is read before it runs: editing it
# during a long benchmark does not change the run.
main; exit
