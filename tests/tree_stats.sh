#!/bin/sh
# --stats=json prints one JSON object on stderr with the counts, --stats a
# line of text; stdout holds only the paths either way.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd jq

mkdir -p t/a/b t/a/c t/d
expect_status 0 "$BIN/tree-scan" t
sort out >plain

expect_status 0 "$BIN/tree-scan" -j 3 --stats=json t
sort out >got
same_file plain got
[ "$(wc -l <err)" -eq 1 ] || fail "stderr: $(cat err)"
jq -e '.dirs == 5 and .leaves == 3 and .errors == 0 and .stalled == 0 and
    .loops == 0 and .workers == 3 and .workers_killed == 0 and
    (.elapsed | type) == "number" and .elapsed >= 0 and
    (has("elapsed_seconds") | not)' err >/dev/null || fail "stats: $(cat err)"
# "elapsed" in seconds with three decimals, as every program writes it.
grep -Eq '"elapsed":[0-9]+\.[0-9]{3}[,}]' err || fail "elapsed: $(cat err)"

expect_status 0 "$BIN/tree-scan" --stats t
sort out >got
same_file plain got
grep -q '^tree-scan: 5 directories read, 3 leaves, 0 errors' err ||
	fail "stats: $(cat err)"

# --progress: a status line on stderr, erased at the end; stdout unchanged.
expect_status 0 "$BIN/tree-scan" --progress t
sort out >got
same_file plain got
grep -q 'dirs read' err || fail "no status line: $(cat err)"
printf '\r\033[K' >erase
tail -c 4 err | cmp -s - erase || fail "status line not erased"
