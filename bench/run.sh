#!/bin/sh
# make bench: leafpack against what users would run instead, and the floor.
#
#     sh bench/run.sh [--large]       (make bench [LARGE=1])
#
# Generates trees with tests/bin/gentree, runs every contender RUNS times
# (default 3), alternating contenders run by run, and writes the medians to
# bench/RESULTS.md.  Each consolidation contender gets a fresh copy of the
# same tree (cp -a, then sync, neither timed; caches stay warm).  Time, CPU
# and peak RSS come from /usr/bin/time (peak RSS: the largest single process
# of the contender's tree, not their sum).  After the first run of each, and
# outside the timing, bench/check.py compares the records it produced with
# the sources'.  A contender that fails or is missing is reported and the
# rest goes on.
#
# Sections: consolidation (keeping and removing sources), scanning, a sick
# share (stallfs: 2 ms per operation and hung directories), memory (one big
# leaf).  Environment: RUNS, BENCH_WORK (default bench/work), BENCH_LIMIT
# (seconds per run before a contender is stopped, default 600), and the
# tree sizes ENTITIES TYPES DATES FILES RECORDS, SCAN_ENTITIES, BIG_MB.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$here")
large=0
case ${1:-} in
--large) large=1 ;;
'') ;;
*) echo "usage: sh bench/run.sh [--large]" >&2; exit 2 ;;
esac

: "${RUNS:=3}" "${BENCH_LIMIT:=600}"
: "${BENCH_WORK:=$here/work}"
if [ "$large" = 1 ]; then
	: "${ENTITIES:=1500}" "${DATES:=3}" "${FILES:=20}" "${BIG_MB:=1024}"
else
	: "${ENTITIES:=300}" "${DATES:=1}" "${FILES:=30}" "${BIG_MB:=256}"
fi
: "${TYPES:=3}" "${RECORDS:=20}" "${SCAN_ENTITIES:=1500}"

W=$BENCH_WORK
GENTREE=$TOP/tests/bin/gentree
# The interpreter itself, not a version manager's shim script.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=
RESULTS=$W/results.tsv
export TOP PY LC_ALL=C

die() {
	echo "bench: $*" >&2
	exit 1
}
note() {
	printf '%s\n' "$*" >&2
}

[ -x "$GENTREE" ] || die "build first: make all tests"
[ -x /usr/bin/time ] || die "needs /usr/bin/time (apt-get install time)"
[ -n "$PY" ] || die "needs python3 (contender and checker)"

# Each contender below is "name" + a command in which $ROOT is the tree
# (exported, so that sh -c expands it); unavailable ones print why.
have() {
	command -v "$1" >/dev/null 2>&1
}

# built PROG...: true when every bin/PROG is built.
built() {
	for prog in "$@"; do
		[ -x "$TOP/bin/$prog" ] || return 1
	done
}

# consolidation_cmd NAME VARIANT: sets $cmd, or $why and returns 1.
consolidation_cmd() {
	keep='' remove='' leafpack_rm=--remove-sources
	if [ "$2" = keep ]; then
		keep=--keep-sources leafpack_rm=
	else
		remove=--remove
	fi
	why='' cmd=''
	case $1 in
	leafpack-P[12])
		jobs=${1#leafpack-P}
		if built leafpack tree-scan leaf-filter json-merge jsonl-write; then
			cmd="\"\$TOP/bin/leafpack\" -P $jobs --min-age 0 $keep \"\$ROOT\""
		elif built tree-scan json-merge jsonl-write; then
			# The driver has not landed: its pipeline by hand.
			cmd="\"\$TOP/bin/tree-scan\" -0 \"\$ROOT\" | xargs -0 -P $jobs -n 1 sh -c '\"\$TOP/bin/json-merge\" --min-age 0 \"\$1\" | \"\$TOP/bin/jsonl-write\" $leafpack_rm \"\$1/consolidated.jsonl\"' _"
		else
			why="bin/leafpack and its stages (or tree-scan, json-merge, jsonl-write) not built"
		fi
		;;
	python-threads)
		cmd="\"\$PY\" \"\$TOP/bench/seed.py\" consolidate --pool thread --workers 4 $remove \"\$ROOT\"" ;;
	python-procs)
		cmd="\"\$PY\" \"\$TOP/bench/seed.py\" consolidate --pool process --workers 2 $remove \"\$ROOT\"" ;;
	jq|mlr)
		if have "$1"; then
			cmd="sh \"\$TOP/bench/perleaf.sh\" $1 -P 2 $remove \"\$ROOT\""
		else
			why="$1 not installed"
		fi
		;;
	floor-P[12])
		cmd="\"\$TOP/bench/bin/walk\" \"\$ROOT\" | \"\$TOP/bench/bin/floor\" -P ${1#floor-P} $remove" ;;
	floor-nofsync-P2)
		cmd="\"\$TOP/bench/bin/walk\" \"\$ROOT\" | \"\$TOP/bench/bin/floor\" -P 2 --no-fsync $remove" ;;
	esac
	[ -n "$cmd" ]
}

# scan_cmd NAME: sets $cmd (listing to stdout) and $lists (leaves|dirs).
scan_cmd() {
	why='' cmd='' lists=dirs
	case $1 in
	walk)
		cmd="\"\$TOP/bench/bin/walk\" \"\$ROOT\"" lists=leaves ;;
	tree-scan-j[124])
		lists=leaves
		if [ -x "$TOP/bin/tree-scan" ]; then
			cmd="\"\$TOP/bin/tree-scan\" -j ${1#tree-scan-j} \"\$ROOT\""
		else
			why="bin/tree-scan not built"
		fi
		;;
	find)
		cmd="find \"\$ROOT\" -type d" ;;
	fdfind)
		if have fdfind; then
			# fd does not print the root itself.
			cmd="fdfind -HI -t d . \"\$ROOT\"" lists=subdirs
		else
			why="fdfind not installed"
		fi
		;;
	bfs)
		if have bfs; then
			cmd="bfs \"\$ROOT\" -type d"
		else
			why="bfs not installed"
		fi
		;;
	python-walk)
		cmd="\"\$PY\" \"\$TOP/bench/seed.py\" walk \"\$ROOT\"" ;;
	python-threads-scan)
		cmd="\"\$PY\" \"\$TOP/bench/seed.py\" scan --workers 4 \"\$ROOT\"" lists=leaves ;;
	esac
	[ -n "$cmd" ]
}

# measure SECTION NAME VARIANT RUN OUTFILE: runs $cmd under /usr/bin/time
# and a time limit, stdout to OUTFILE, and appends one line to $RESULTS:
# section name variant run status elapsed user sys maxrss_kb.
measure() {
	err=$W/log/$2.$3.err
	/usr/bin/time -f '%e %U %S %M' -o "$W/time.out" \
	    timeout -k 5 "$BENCH_LIMIT" sh -c "$cmd" >"$5" 2>"$err"
	status=$?
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		note "  $2 ($3): stopped after ${BENCH_LIMIT}s"
	elif [ "$status" -ne 0 ]; then
		note "  $2 ($3): exit $status: $(tail -n 1 "$err")"
	fi
	# /usr/bin/time notes a non-zero exit on a line of its own.
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$status" \
	    "$(tail -n 1 "$W/time.out" | tr ' ' '\t')" >>"$RESULTS"
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

section_consolidation() {
	master=$W/tree
	note "consolidation: $ENTITIES x $TYPES x $DATES x $FILES x $RECORDS"
	rm -rf "$master"
	"$GENTREE" --entities "$ENTITIES" --types "$TYPES" --dates "$DATES" \
	    --files "$FILES" --records "$RECORDS" "$master" ||
		die "gentree failed"
	"$PY" "$here/check.py" expect "$master" >"$W/expected.tsv" ||
		die "check.py expect failed"
	printf 'tree\t%s\t%s\t%s\n' \
	    "$(awk -F '\t' '{f += $2; b += $3; r += $4} END {print f "\t" b "\t" r}' "$W/expected.tsv")" \
	    "$(wc -l <"$W/expected.tsv")" "$ENTITIES x $TYPES x $DATES x $FILES x $RECORDS" \
	    >>"$W/trees.tsv"
	ROOT=$W/copy
	export ROOT
	names="leafpack-P1 leafpack-P2 python-threads python-procs jq mlr floor-P1 floor-P2 floor-nofsync-P2"
	for name in $names; do
		consolidation_cmd "$name" keep ||
			printf 'consolidation\t%s\t%s\n' "$name" "$why" >>"$W/missing.tsv"
	done
	run=1
	while [ "$run" -le "$RUNS" ]; do
		note "consolidation run $run of $RUNS"
		# shellcheck disable=SC2086 # a list of words
		for name in $(rotate "$run" $names); do
			for variant in keep remove; do
				consolidation_cmd "$name" "$variant" || continue
				rm -rf "$ROOT"
				cp -a "$master" "$ROOT" ||
					die "cannot copy the tree to $ROOT"
				sync
				measure consolidation "$name" "$variant" "$run" /dev/null
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
	for name in $names; do
		scan_cmd "$name" ||
			printf 'scanning\t%s\t%s\n' "$name" "$why" >>"$W/missing.tsv"
	done
	find "$ROOT" >/dev/null	# warm the cache once for all
	run=1
	while [ "$run" -le "$RUNS" ]; do
		note "scanning run $run of $RUNS"
		# shellcheck disable=SC2086 # a list of words
		for name in $(rotate "$run" $names); do
			scan_cmd "$name" || continue
			out=$W/out/$name
			measure scanning "$name" list "$run" "$out"
			[ "$run" = 1 ] || continue
			sed 's,/$,,' "$out" | sort >"$out.sorted"
			if cmp -s "$out.sorted" "$W/$lists.expected"; then
				verdict scanning "$name" list "ok: all $lists"
			else
				verdict scanning "$name" list "WRONG: $(wc -l <"$out.sorted") lines, expected $(wc -l <"$W/$lists.expected") $lists"
			fi
		done
		run=$((run + 1))
	done
}

mkdir -p "$W/log" "$W/out" || die "cannot create $W"
rm -f "$RESULTS" "$W/verdicts.tsv" "$W/missing.tsv" "$W/trees.tsv"
: >"$RESULTS"
: >"$W/verdicts.tsv"
: >"$W/missing.tsv"
start=$(date +%s)
section_consolidation
section_scanning
printf 'elapsed\t%s\n' "$(($(date +%s) - start))" >>"$W/trees.tsv"
"$PY" "$here/report.py" "$W" "$here/RESULTS.md" "$RUNS" "$large"
