#!/bin/sh
# The README's pipelines work: tree-scan | leaf-filter | xargs -P leafpack
# --leaves, and GNU parallel with --joblog and --resume.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
need_cmd parallel

gen root --entities 3 --dates 3
source_records root >before.records
"$BIN/tree-scan" -0 root | "$BIN/leaf-filter" -0 --name '2024-03-0[12]' |
    xargs -0 -P 4 -n 20 "$BIN/leafpack" --leaves 2>err ||
    { cat err >&2; fail "the xargs pipeline failed"; }
[ "$(find root -name consolidated.jsonl | wc -l)" -eq 12 ] ||
    fail "xargs: not the 12 leaves of two dates"
[ -z "$(find root -path '*2024-03-03*' -name consolidated.jsonl)" ] ||
    fail "xargs: a leaf of another date was done"

"$BIN/tree-scan" -0 --sort root |
    parallel -0 --joblog jobs.log --resume "$BIN/leafpack" --leaves {} \
    2>err || { cat err >&2; fail "the parallel pipeline failed"; }
check_consolidated root before.records
[ "$(tail -n +2 jobs.log | wc -l)" -eq 18 ] || fail "jobs.log: $(cat jobs.log)"
# --resume: a second pass runs no job again.
"$BIN/tree-scan" -0 --sort root |
    parallel -0 --joblog jobs.log --resume "$BIN/leafpack" --leaves {} ||
    fail "parallel --resume"
[ "$(tail -n +2 jobs.log | wc -l)" -eq 18 ] || fail "--resume ran jobs again"
exit 0
