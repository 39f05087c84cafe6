#!/bin/sh
# Usage errors exit 2 with "usage:" on stderr and nothing on stdout;
# --help and --version exit 0.
. "$LEAFPACK_TESTS/lib.sh"

mkdir t
for args in "" "--bogus t" "-j 0 t" "-j 257 t" "-j x t" "-t 0 t" "-t abc t" \
    "--retries -1 t" "--retries x t" "--stats=xml t" "-j"; do
	# shellcheck disable=SC2086
	expect_status 2 "$BIN/tree-scan" $args
	grep -q '^usage: tree-scan ' err || fail "'$args': no usage: $(cat err)"
	[ ! -s out ] || fail "'$args' wrote on stdout"
done

expect_status 0 "$BIN/tree-scan" --help
grep -q '^usage: tree-scan \[-0\] \[-j N\] \[-t SECONDS\]' out ||
	fail "--help: $(head -n 2 out)"
for opt in -0 -j -t --retries --stalled --xdev --sort --progress --stats; do
	grep -q -- "$opt" out || fail "--help does not list $opt"
done
expect_status 0 "$BIN/tree-scan" --version
grep -qx 'tree-scan (leafpack) [0-9][0-9.]*' out || fail "--version: $(cat out)"

# Options after the roots work too (GNU style).
expect_status 0 "$BIN/tree-scan" t -j 2 -t 5 --retries 0
printf 't\n' >expected
same_file expected out
