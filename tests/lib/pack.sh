# shellcheck shell=sh
# Helpers of the leaf-filter and leafpack tests (tests/filter_*.sh and
# tests/pack_*.sh): generated trees, and checks of what leafpack made of them
# done with independent tools (jq, sort, find, cmp), never with its own code.
# Source after lib.sh:  . "$LEAFPACK_TESTS/lib/pack.sh"

# gen ROOT [GENTREE-OPTION...]: a generated tree, small unless told.
gen() {
	gen_root=$1
	shift
	"$TESTBIN/gentree" --entities 3 --types 2 --dates 2 --files 4 \
	    --records 5 "$@" "$gen_root" >/dev/null || fail "gentree $*"
}

# leaves ROOT: the leaf directories of a generated tree, sorted.
leaves() {
	find "$1" -mindepth 3 -maxdepth 3 -type d | LC_ALL=C sort
}

# valid_sources ROOT: the *.txt files under ROOT that jq accepts, NUL-ended.
# shellcheck disable=SC2016
valid_sources() {
	find "$1" -type f -name '*.txt' -print0 |
	    xargs -0 -r sh -c 'for f; do
		jq -e "type == \"array\"" "$f" >/dev/null 2>&1 &&
		    printf "%s\0" "$f"; done' sh
}

# invalid_sources ROOT: the *.txt files under ROOT that jq rejects, sorted.
# shellcheck disable=SC2016
invalid_sources() {
	find "$1" -type f -name '*.txt' -print0 |
	    xargs -0 -r sh -c 'for f; do
		jq -e "type == \"array\"" "$f" >/dev/null 2>&1 ||
		    printf "%s\n" "$f"; done' sh | LC_ALL=C sort
}

# source_records ROOT: every record of the valid sources, as jq prints it
# compact, sorted: the multiset a consolidation must keep.
source_records() {
	valid_sources "$1" | xargs -0 -r jq -c '.[]' | LC_ALL=C sort
}

# all_records ROOT: source_records for a tree without invalid sources, in
# one jq (source_records runs one per file to find the invalid ones).
all_records() {
	find "$1" -type f -name '*.txt' -print0 | xargs -0 -r jq -c '.[]' |
	    LC_ALL=C sort
}

# output_records ROOT [NAME]: every line of the consolidated files, as jq
# prints it compact, sorted.
output_records() {
	find "$1" -type f -name "${2:-consolidated.jsonl}" -print0 |
	    xargs -0 -r cat | jq -c . | LC_ALL=C sort
}

# check_sorted FILE: fails unless FILE's records are in timestamp order,
# comparing instants (offsets normalized, fractions exact) computed by jq.
check_sorted() {
	jq -r '
	  def pad($n): tostring | ("000000000000" + .)[-$n:];
	  if (.timestamp | type) != "string" then "~" else
	  .timestamp | capture("^(?<d>[0-9-]{10}T[0-9:]{8})(\\.(?<f>[0-9]+))?(?<z>Z|[+-][0-9]{2}:[0-9]{2})$")
	  | ((.d + "Z") | fromdateiso8601) as $s
	  | (if .z == "Z" then 0 else
	      ((.z[1:3] | tonumber) * 3600 + (.z[4:6] | tonumber) * 60)
	      * (if .z[0:1] == "+" then 1 else -1 end) end) as $off
	  | "\($s - $off | pad(12)).\(((.f // "") + "000000000")[0:9])"
	  end' "$1" >sortkeys || fail "$1: jq could not read it"
	LC_ALL=C sort -c sortkeys || fail "$1: records not in timestamp order"
}

# tree_state ROOT: every name, type, mode, size, mtime and content checksum
# under ROOT, sorted: two equal states mean no byte changed.
tree_state() {
	(cd "$1" && find . -printf '%p %y %m %s %T@\n' | LC_ALL=C sort &&
	    find . -type f -print0 | LC_ALL=C sort -z |
	    xargs -0 -r sha256sum)
}

# tree_outputs ROOT: the consolidated files and everything else left, with
# their checksums: equal for two runs that made the same result.
tree_outputs() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z |
	    xargs -0 -r sha256sum)
}

# check_consolidated ROOT BEFORE: ROOT was consolidated from a tree whose
# source_records were saved in BEFORE: each leaf with valid sources has one
# sorted consolidated.jsonl, only invalid sources are left, nothing else
# (no journal, no temporary) is, and the records are exactly BEFORE.
check_consolidated() {
	leaves "$1" >leaves.list
	while IFS= read -r leaf; do
		[ -f "$leaf/consolidated.jsonl" ] ||
		    fail "$leaf: no consolidated.jsonl"
		check_sorted "$leaf/consolidated.jsonl"
	done <leaves.list
	left=$(find "$1" -type f ! -name consolidated.jsonl | LC_ALL=C sort)
	[ "$left" = "$(invalid_sources "$1")" ] ||
	    fail "left besides outputs: $left"
	output_records "$1" >after.records
	same_file "$2" after.records
}
