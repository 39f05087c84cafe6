#!/bin/sh
# The shell pipelines a user would write instead of leafpack: find the leaf
# directories, and through xargs -P run one command per leaf that merges its
# *.txt files, sorts the records by timestamp and writes consolidated.jsonl
# (to a temporary name first, then mv), then removes the sources (--remove).
#
#     perleaf.sh jq|mlr [-P N] [--remove] ROOT
#
#   jq:  jq -c -s 'add | sort_by(.timestamp)[]' LEAF/*.txt
#   mlr: mlr --ijson --ojsonl sort -f timestamp LEAF/*.txt
# Both sort timestamps as strings.  jq 1.6 rounds integers beyond 2^53;
# Miller re-serialises with its own spacing.  Leaves are found with
# `find -type d -links 2` (a directory without subdirectories, on file
# systems that count links the Unix way, as ext4 and tmpfs do).  No fsync.
set -eu

tool=$1
shift
jobs=2 remove=
while [ $# -gt 1 ]; do
	case $1 in
	-P) jobs=$2; shift 2 ;;
	--remove) remove=1; shift ;;
	*) echo "usage: perleaf.sh jq|mlr [-P N] [--remove] ROOT" >&2; exit 2 ;;
	esac
done
root=$1

case $tool in
jq) merge='jq -c -s "add | sort_by(.timestamp)[]"' ;;
mlr) merge='mlr --ijson --ojsonl sort -f timestamp' ;;
*) echo "perleaf.sh: unknown tool: $tool" >&2; exit 2 ;;
esac

# shellcheck disable=SC2016 # expanded by the inner sh, once per leaf
find "$root" -type d -links 2 -print0 |
xargs -0 -r -P "$jobs" -n 1 sh -c '
	leaf=$1
	set -- "$leaf"/*.txt
	[ -e "$1" ] || exit 0
	'"$merge"' "$@" > "$leaf/consolidated.jsonl.tmp" &&
	mv -f "$leaf/consolidated.jsonl.tmp" "$leaf/consolidated.jsonl" &&
	if [ -n "'"$remove"'" ]; then rm -f "$@"; fi
' sh
