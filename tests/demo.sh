#!/bin/sh
# make demo: generates a small share in a temporary directory, shows how many
# files and inodes it holds, consolidates it with leafpack (status line on),
# and shows the counts after and the first lines of one consolidated file.
#
# Environment: LEAFPACK_BIN, the programs to run (default: bin/ of this
# checkout); DEMO_KEEP=1 keeps the tree and prints where it is.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
bin=${LEAFPACK_BIN:-$top/bin}
gentree=$top/tests/bin/gentree
for prog in "$bin/leafpack" "$gentree"; do
	[ -x "$prog" ] || { echo "demo: $prog is missing: run make" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/leafpack-demo.XXXXXX")
if [ "${DEMO_KEEP:-0}" = 1 ]; then
	trap 'echo "demo: the tree is kept in $work/share"' EXIT
else
	trap 'rm -rf "$work"' EXIT
fi
trap 'exit 130' INT
trap 'exit 143' TERM
root=$work/share

# counts WHEN: one line of what find sees under the share.  Every file and
# directory costs an inode; df -i would count the whole file system.
counts() {
	files=$(find "$root" -type f | wc -l)
	inodes=$(find "$root" | wc -l)
	bytes=$(du -sb "$root" | cut -f1)
	printf '%-7s %6d files, %6d inodes (files + directories), %9d bytes on disk\n' \
	    "$1:" "$files" "$inodes" "$bytes"
}

echo "== generating 20 entities x 3 record types x 2 dates x 10 files x 20 records"
echo "   (2 of the files invalid on purpose) in $root"
"$gentree" --seed 42 --entities 20 --types 3 --dates 2 --files 10 \
    --records 20 --bad 2 "$root"
counts before
echo
echo "== $bin/leafpack --progress $root"
status=0
"$bin/leafpack" --progress "$root" || status=$?
echo "   (exit status $status: 1 means done, with the invalid files left in place)"
echo
counts after
echo
leaf=$(find "$root" -name consolidated.jsonl | LC_ALL=C sort | head -n 1)
echo "== the first 3 of $(wc -l <"$leaf") lines of $leaf"
head -n 3 "$leaf"
echo
echo "== what is left besides consolidated files (the invalid sources):"
find "$root" -type f ! -name consolidated.jsonl | LC_ALL=C sort
echo
echo "== a second run: nothing new (the leaves holding invalid files are read"
echo "   again, and stay as they are)"
status2=0
"$bin/leafpack" "$root" || status2=$?
echo
echo "== $bin/leafpack --verify $root: every output checked, nothing changed"
status3=0
"$bin/leafpack" --verify "$root" || status3=$?
[ "$status" -le 1 ] && [ "$status2" -le 1 ] && [ "$status3" -eq 0 ]
