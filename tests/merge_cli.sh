# json-merge's command line: --help and --version on stdout, usage errors
# with "usage:" and status 2, a write error on stdout (/dev/full) and an
# unreadable DIR give status 4.
. "$LEAFPACK_TESTS/lib.sh"

expect_status 0 "$BIN/json-merge" --help
grep -q '^usage: json-merge ' out || fail "--help lacks usage"
grep -q -- '--memory SIZE' out || fail "--help lacks the options"
expect_status 0 "$BIN/json-merge" --version
grep -q '^json-merge (leafpack) ' out || fail "--version: $(cat out)"

for args in "a b" "--bogus x" "--memory 12Q x" "--memory 10k x" \
    "--min-age soon x" "--stats=xml x" "--output a/b x" "--output .. x" \
    "--key a..b x"; do
	# shellcheck disable=SC2086
	expect_status 2 "$BIN/json-merge" $args
	grep -q '^usage: json-merge' err || fail "'$args': no usage line"
	[ -s out ] && fail "'$args' printed on stdout"
done

mkdir leaf
printf '[{"timestamp":1}]' >leaf/a.txt
expect_status 4 "$BIN/json-merge" --min-age 0 nowhere
grep -q 'nowhere: No such file or directory' err || fail "missing DIR: $(cat err)"
if [ -w /dev/full ]; then
	"$BIN/json-merge" --min-age 0 leaf >/dev/full 2>err
	status=$?
	[ $status -eq 4 ] || fail "stdout on /dev/full: status $status"
	grep -q 'stdout' err || fail "write error not reported: $(cat err)"
fi
