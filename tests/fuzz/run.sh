#!/bin/sh
# Runs the fuzz harnesses built by `make fuzz-build`, one after the other:
# each first replays the fixtures of its check (tests/fuzz/fixtures/NAME-*),
# then fuzzes for SECONDS on its corpus build/fuzz/corpus-NAME (kept between
# runs) with the seeds of tests/fuzz/seeds.sh.  Prints per harness the executions, the coverage
# (cov: edges, ft: features), the corpus and any crash, which libFuzzer
# leaves as build/fuzz/NAME-crash-* (or -leak-, -timeout-, -oom-), the log
# of the failed run as build/fuzz/fuzz-NAME.log; make each crash a fixture
# with tests/fuzz/fixture.py.  Exits 1 if any harness failed.
#
#   sh tests/fuzz/run.sh SECONDS NAME...
# Environment: FUZZ_BUILD, where the harnesses are (default build/fuzz);
# FUZZ_WORK, where the corpora and crashes go (default FUZZ_BUILD; when it
# is another directory, FUZZ_BUILD's corpora are read as seeds too);
# FUZZ_MAX_LEN, the longest input (default 4096); FUZZ_NICE, a nice(1)
# increment (default 0).
set -u

[ $# -ge 2 ] || { echo "usage: run.sh SECONDS NAME..." >&2; exit 2; }
seconds=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
: "${FUZZ_BUILD:=$(dirname "$(dirname "$here")")/build/fuzz}"
: "${FUZZ_WORK:=$FUZZ_BUILD}"
: "${FUZZ_MAX_LEN:=4096}"
: "${FUZZ_NICE:=0}"

mkdir -p "$FUZZ_WORK"
# Seeds of this run only: runs side by side do not share them.
seeds=$(mktemp -d "$FUZZ_WORK/seeds.XXXXXX") || exit 1
trap 'rm -rf "$seeds"' EXIT
sh "$here/seeds.sh" "$seeds" >/dev/null || exit 1
# crashes NAME: how many inputs libFuzzer has kept as failures of NAME.
crashes() {
	find "$FUZZ_WORK" -maxdepth 1 \( -name "$1-crash-*" -o -name "$1-leak-*" \
	    -o -name "$1-timeout-*" -o -name "$1-oom-*" \) | wc -l
}

status=0
for name in "$@"; do
	bin=$FUZZ_BUILD/fuzz_$name
	corpus=$FUZZ_WORK/corpus-$name
	kept=
	[ "$FUZZ_WORK" != "$FUZZ_BUILD" ] && [ -d "$FUZZ_BUILD/corpus-$name" ] &&
	    kept=$FUZZ_BUILD/corpus-$name
	dict=
	case $name in scan|line) dict=-dict=$here/json.dict ;; esac
	log=$seeds/fuzz-$name.log
	fixtures=$seeds/fixtures-$name
	[ -x "$bin" ] || { echo "fuzz $name: $bin missing: make fuzz-build"; \
	    status=1; continue; }
	mkdir -p "$corpus"
	rm -rf "$fixtures" && mkdir -p "$fixtures"
	for f in "$here"/fixtures/"$name"-*; do
		[ -f "$f" ] || continue
		python3 "$here/fixture.py" decode "$f" \
		    >"$fixtures/$(basename "$f")" || status=1
	done
	if [ -n "$(ls "$fixtures")" ]; then
		if ! "$bin" "$fixtures"/* >"$log" 2>&1; then
			echo "fuzz $name: a fixture fails:"
			grep -E '^(fuzz_|SUMMARY|==[0-9]+==ERROR)' "$log" | head -5
			status=1
			continue
		fi
	fi
	before=$(crashes "$name")
	start=$(date +%s)
	nice -n "$FUZZ_NICE" "$bin" -max_total_time="$seconds" ${dict:+"$dict"} \
	    -max_len="$FUZZ_MAX_LEN" -timeout=20 -rss_limit_mb=4096 \
	    -print_final_stats=1 -artifact_prefix="$FUZZ_WORK/$name-" \
	    "$corpus" "$seeds/seeds-$name" ${kept:+"$kept"} >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 |
	    sed -n 's/.*\(cov: [0-9]* ft: [0-9]*\).*/\1/p')
	echo "fuzz $name: ${execs:-?} executions in ${secs}s, ${cov:-cov ?}," \
	    "corpus $(find "$corpus" -type f | wc -l) inputs"
	after=$(crashes "$name")
	if [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
		echo "fuzz $name: FAILED (status $rc); log $FUZZ_WORK/fuzz-$name.log:"
		grep -E '^(fuzz_|SUMMARY|==[0-9]+==ERROR|artifact_prefix|Test unit written)' \
		    "$log" | head -8 | sed 's/^/    /'
		cp "$log" "$FUZZ_WORK/fuzz-$name.log"
		status=1
	fi
done
exit $status
