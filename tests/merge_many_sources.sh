# A leaf of very many small sources (issue 14): the claim, its journal and
# the commit record cost json-merge and jsonl-write a bounded buffer, not
# a JSON document per source (that was 1.8 KB a source: 90 MB here), and
# every record arrives exactly once, through a commit that keeps the
# sources and a second one that finds them all in the output and removes
# them.  Peak RSS is checked against --memory plus 16 MiB.
. "$LEAFPACK_TESTS/lib.sh"
[ -x "$TESTBIN/gentree" ] || skip "tests/bin/gentree not built (make tests)"

n=50000
"$TESTBIN/gentree" --seed 14 --entities 1 --types 1 --dates 1 --files $n \
    --records 1 tree >/dev/null || fail "gentree failed"
leaf=$(find tree -mindepth 3 -maxdepth 3 -type d | head -n 1)
# entries LEAF: how many names it holds, dot files left out (the journal
# of a record too big for an attribute stays beside kept sources).
entries() {
	find "$1" -mindepth 1 -maxdepth 1 ! -name '.*' | wc -l
}
[ "$(entries "$leaf")" -eq $n ] || fail "gentree made $(entries "$leaf") files"
mkdir tmp
TMPDIR=$PWD/tmp
export TMPDIR

# rss NAME COMMAND...: runs COMMAND, its peak RSS in KiB left in NAME.rss
# (where /usr/bin/time is missing, or under the sanitizers, whose shadow
# memory is no measure of ours, nothing is measured).
measure=false
[ -x /usr/bin/time ] && ! sanitized && measure=true
rss() {
	name=$1
	shift
	if $measure; then
		/usr/bin/time -f %M -o "$name.rss" "$@"
	else
		"$@"
	fi
}

# within NAME: the peak RSS of NAME within --memory 4M plus 16 MiB.
within() {
	$measure || return 0
	kib=$(tail -n 1 "$1.rss")
	[ "$kib" -lt $(( (4 + 16) * 1024 )) ] ||
		fail "$1: peak RSS $kib KiB, more than --memory 4M + 16 MiB"
}

# The first commit keeps the sources: the record names all of them.
rss merge1 "$BIN/json-merge" --min-age 0 --memory 4M "$leaf" |
    rss write1 "$BIN/jsonl-write" "$leaf/consolidated.jsonl" ||
	fail "first pipeline failed"
within merge1
within write1
[ "$(wc -l <"$leaf/consolidated.jsonl")" -eq $n ] ||
	fail "first commit: $(wc -l <"$leaf/consolidated.jsonl") records"
[ "$(entries "$leaf")" -eq $((n + 1)) ] || fail "sources went"

# The second finds every source in the output (kept: none read again)
# and, with --remove-sources, removes them.
rss merge2 "$BIN/json-merge" --min-age 0 --memory 4M "$leaf" |
    rss write2 "$BIN/jsonl-write" --remove-sources \
    "$leaf/consolidated.jsonl" || fail "second pipeline failed"
within merge2
within write2
left=$(find "$leaf" -mindepth 1 ! -name consolidated.jsonl | head -n 5)
[ -z "$left" ] || fail "left in the leaf: $left"
[ -f "$leaf/consolidated.jsonl" ] || fail "no output"
[ "$(wc -l <"$leaf/consolidated.jsonl")" -eq $n ] ||
	fail "second commit: $(wc -l <"$leaf/consolidated.jsonl") records"
[ "$(sort "$leaf/consolidated.jsonl" | uniq -d | wc -l)" -eq 0 ] ||
	fail "a record twice"
[ -z "$(ls -A tmp)" ] || fail "left in TMPDIR: $(ls -A tmp)"

# What a source costs: the same first pipeline on a leaf of a quarter as
# many sources (their records still fill the 4 MiB sort area) takes as
# much memory, give or take 2 MiB (an array of 120 bytes a source, as the
# listing and the claim once were, would be 4.5 MiB more here).
"$TESTBIN/gentree" --seed 15 --entities 1 --types 1 --dates 1 \
    --files $((n / 4)) --records 1 small >/dev/null || fail "gentree failed"
sleaf=$(find small -mindepth 3 -maxdepth 3 -type d | head -n 1)
rss merge0 "$BIN/json-merge" --min-age 0 --memory 4M "$sleaf" |
    rss write0 "$BIN/jsonl-write" "$sleaf/consolidated.jsonl" ||
	fail "small pipeline failed"
# grows NAME SMALL: NAME's peak RSS at most 2 MiB above SMALL's.
grows() {
	$measure || return 0
	big=$(tail -n 1 "$1.rss") little=$(tail -n 1 "$2.rss")
	[ "$big" -le $((little + 2048)) ] ||
		fail "$1: $big KiB for $n sources, $little KiB for $((n / 4)): memory grows with the sources"
}
grows merge1 merge0
grows write1 write0
[ -z "$(ls -A tmp)" ] || fail "left in TMPDIR: $(ls -A tmp)"

# No $TMPDIR to spill the lists to: they stay in memory, and the leaf is
# consolidated all the same (its records fit in --memory: no run either).
rm -f "$sleaf/consolidated.jsonl" "$sleaf/.consolidated.jsonl.journal"
TMPDIR=$PWD/missing "$BIN/json-merge" --min-age 0 "$sleaf" |
    TMPDIR=$PWD/missing "$BIN/jsonl-write" --remove-sources \
    "$sleaf/consolidated.jsonl" 2>err || fail "without TMPDIR: $(cat err)"
[ "$(wc -l <"$sleaf/consolidated.jsonl")" -eq $((n / 4)) ] ||
	fail "without TMPDIR: $(wc -l <"$sleaf/consolidated.jsonl") records"
[ "$(entries "$sleaf")" -eq 1 ] || fail "without TMPDIR: sources left"
