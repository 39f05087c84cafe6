#!/bin/sh
# Every --stats=json has one schema (issue 9; each program's STATS section
# lists its keys): tree-scan, leaf-filter, json-merge (a DIR, and the leaf
# stream), jsonl-write (a file, and the stream's report of each leaf),
# jsonl-verify and leafpack (also with --verify), run on a small generated
# tree, each write as their last line one JSON object with the documented
# keys and types.  Every count is a
# non-negative integer (at any depth), "elapsed" a number >= 0 written with
# three decimals, "stalled" a count wherever it appears, and leafpack's
# "stalled_paths" an array of strings, "stuck_pids" one of counts.
. "$LEAFPACK_TESTS/lib.sh"
need_cmd jq
[ -x "$TESTBIN/gentree" ] || fail "$TESTBIN/gentree missing: run make tests"

OUT=consolidated.jsonl

# The types a key can have (a spec maps each documented key to one).
# shellcheck disable=SC2016  # jq, not the shell, expands these
types='
def count: type == "number" and . >= 0 and . == floor;
def is($t):
	if $t == "count" then count
	elif $t == "seconds" then type == "number" and . >= 0
	elif $t == "bool" then type == "boolean"
	elif $t == "string" then type == "string"
	elif $t == "counts" then type == "object" and all(.[]; count)
	elif $t == "strings" then type == "array" and all(.[]; type == "string")
	elif $t == "counts_array" then type == "array" and all(.[]; count)
	elif $t == "object" then type == "object"
	else false end;
'

# Specs: the keys of each program's object and their types.
merge_spec='{"sources": "count", "sources_skipped": "counts",
    "records": "count", "bytes_in": "count", "bytes_out": "count",
    "runs": "count", "unchanged": "bool", "busy": "bool",
    "no_inodes": "bool", "inodes": "count", "staged": "bool",
    "waiting": "bool", "elapsed": "seconds"}'
write_spec='{"records": "count", "bytes": "count",
    "sources_removed": "count", "sources_kept": "count",
    "no_inodes": "bool", "inodes": "count", "staged": "bool",
    "elapsed": "seconds"}'

# schema WHAT FILE SPEC: the last line of FILE is one JSON object with
# every key of SPEC, each of its type, and no number but "elapsed" that is
# not a count.  The object is left in ./object.
schema() {
	what=$1 file=$2 spec=$3
	[ -s "$file" ] || fail "$what: $file is empty"
	tail -n 1 "$file" >object
	jq -e -s 'length == 1 and (.[0] | type) == "object"' object \
	    >/dev/null 2>&1 || fail "$what: not one JSON object: $(cat object)"
	wrong=$(jq -r --argjson spec "$spec" "$types"'
	    . as $o
	    | [($spec | to_entries[]
		| select(.key as $k | .value as $t
		    | ($o | has($k) | not) or ($o[$k] | is($t) | not))
		| "\(.key) (\(.value))"),
	      ([paths(type == "number")]
		| map(select(.[-1] != "elapsed"))[] as $p
		| select($o | getpath($p) | count | not)
		| "\($p | map(tostring) | join(".")) (count)"),
	      (if has("stalled") and (.stalled | count | not)
		then "stalled (count)" else empty end)] | unique[]' object) ||
		fail "$what: jq failed on $(cat object)"
	[ -z "$wrong" ] || fail "$what: wrong or missing: $(echo "$wrong" |
	    tr '\n' ' ')in $(cat object)"
	# The text: "elapsed" with three decimals, wherever it appears.
	n=$(grep -o '"elapsed":[^,}]*' object | wc -l)
	[ "$n" -gt 0 ] || fail "$what: no elapsed: $(cat object)"
	good=$(grep -Eo '"elapsed":[0-9]+\.[0-9]{3}[,}]' object | wc -l)
	[ "$good" -eq "$n" ] ||
		fail "$what: elapsed not in seconds with three decimals: $(cat object)"
}

"$TESTBIN/gentree" --entities 2 --types 2 --dates 3 --files 3 --records 2 \
    t >/dev/null || fail "gentree t"
"$TESTBIN/gentree" --entities 2 --types 2 --dates 2 --files 3 --records 2 \
    p >/dev/null || fail "gentree p"

# tree-scan
expect_status 0 "$BIN/tree-scan" --sort --stats=json t
schema tree-scan err '{"dirs": "count", "leaves": "count",
    "errors": "count", "stalled": "count", "loops": "count",
    "workers": "count", "workers_killed": "count", "elapsed": "seconds"}'
mv out leaves
[ "$(wc -l <leaves)" -eq 12 ] || fail "tree-scan: $(cat leaves)"
leaf() {
	sed -n "${1}p" leaves
}

# leaf-filter
expect_status 0 "$BIN/leaf-filter" --stats=json <leaves
schema leaf-filter err '{"leaves_read": "count", "leaves_printed": "count",
    "leaves_unwanted": "count", "leaves_idle": "count",
    "leaves_busy": "count", "stalled": "count", "unreadable": "count",
    "sources_too_young": "count", "elapsed": "seconds"}'

# json-merge DIR
expect_status 0 "$BIN/json-merge" --stats=json "$(leaf 1)"
schema "json-merge DIR" err "$merge_spec"

# json-merge in the leaf stream (a line per leaf on stderr) and
# jsonl-write's report of each leaf (a line per leaf on stdout).
leaf 2 >stream_leaves
leaf 3 >>stream_leaves
"$BIN/json-merge" --stats=json <stream_leaves 2>merge.err |
    "$BIN/jsonl-write" --stats=json >reports 2>write.err ||
	fail "stream: $(cat merge.err write.err)"
[ "$(wc -l <merge.err)" -eq 2 ] || fail "json-merge stream: $(cat merge.err)"
schema "json-merge stream" merge.err "$merge_spec"
[ "$(wc -l <reports)" -eq 2 ] || fail "jsonl-write stream: $(cat reports)"
report_spec=$(echo "$write_spec" | jq -c '. + {"output": "string",
    "status": "count", "unchanged": "bool", "busy": "bool",
    "merge": "object"}')
schema "jsonl-write stream report" reports "$report_spec"
# Its "merge" is json-merge's end record: the counts, status, unchanged.
# Cut from the text, not through jq, which would print 0.010 as 0.01 (the
# report's last member is "merge").
sed 's/.*"merge":\(.*\)}$/\1/' object >end
end_spec=$(echo "$merge_spec" | jq -c '. + {"status": "count"}')
schema "jsonl-write stream report: merge" end "$end_spec"

# jsonl-write DIR/NAME
"$BIN/json-merge" "$(leaf 4)" 2>merge.err |
    "$BIN/jsonl-write" --stats=json "$(leaf 4)/$OUT" 2>err ||
	fail "jsonl-write: $(cat merge.err err)"
schema "jsonl-write DIR/NAME" err "$write_spec"
jq -e '(has("unchanged") | not) or (.unchanged | type) == "boolean"' object \
    >/dev/null || fail "jsonl-write: unchanged: $(cat object)"
jq -e '.busy == false' object >/dev/null || fail "jsonl-write: busy: $(cat object)"

# leafpack
expect_status 0 "$BIN/leafpack" --stats=json p
schema leafpack err '{"dry_run": "bool", "leaves_found": "count",
    "leaves_consolidated": "count", "leaves_unchanged": "count",
    "leaves_idle": "count", "leaves_stalled": "count",
    "stuck_pids": "counts_array",
    "leaves_partial": "count", "leaves_failed": "count",
    "leaves_busy": "count", "leaves_no_inodes": "count",
    "leaves_staged": "count", "leaves_waiting": "count",
    "files_consumed": "count",
    "files_removed": "count", "records": "count", "bytes_in": "count",
    "bytes_out": "count", "sources_skipped": "counts", "stalled": "count",
    "stalled_paths": "strings", "elapsed": "seconds"}'
jq -e '.verify == false and .problems == 0' object >/dev/null ||
    fail "leafpack: verify: $(cat object)"

# jsonl-verify, and leafpack --verify, on the consolidated tree
"$BIN/tree-scan" p | expect_status 0 "$BIN/jsonl-verify" --stats=json
schema jsonl-verify err '{"leaves_checked": "count", "leaves_clean": "count",
    "leaves_with_output": "count", "leaves_with_record": "count",
    "unreadable": "count", "problems": "count", "lines": "count",
    "bytes": "count", "elapsed": "seconds"}'
expect_status 0 "$BIN/leafpack" --verify --stats=json p
schema "leafpack --verify" err '{"verify": "bool", "leaves_found": "count",
    "leaves_checked": "count", "leaves_clean": "count",
    "leaves_with_output": "count", "problems": "count",
    "lines_checked": "count", "bytes_checked": "count",
    "leaves_failed": "count", "stalled": "count", "elapsed": "seconds"}'
exit 0
