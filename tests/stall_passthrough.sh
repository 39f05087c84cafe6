# Writes through a stallfs mount reach its source, as leafpack's own writes
# will in the end-to-end tests over a stalled share: create, append, write
# with fsync, mkdir, rename (replacing, and refusing to with mv -n), chmod,
# chown, truncate, utimes, symlink, link, unlink, rmdir, statfs; a file an
# unprivileged user creates is that user's.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
need_stallfs

mkdir src
m=$PWD/mnt
stallfs_mount src "$m"

printf 'one\n' >"$m/a.txt"
printf 'two\n' >>"$m/a.txt"
[ "$(cat src/a.txt)" = "one
two" ] || fail "create/append: src/a.txt holds '$(cat src/a.txt)'"
dd if=/dev/urandom of="$m/big" bs=64k count=20 conv=fsync status=none ||
	fail "dd with fsync through the mount"
cmp -s src/big "$m/big" || fail "src/big differs from its copy read back"

mkdir -p "$m/d/e" || fail "mkdir -p"
[ -d src/d/e ] || fail "mkdir -p: src/d/e not made"
mv "$m/a.txt" "$m/d/e/b.txt"
if [ -e src/a.txt ] || [ ! -f src/d/e/b.txt ]; then
	fail "rename"
fi
printf 'new\n' >"$m/d/tmp"
mv -f "$m/d/tmp" "$m/d/e/b.txt"
[ "$(cat src/d/e/b.txt)" = new ] || fail "rename over an existing file"
printf 'other\n' >"$m/d/tmp"
mv -n "$m/d/tmp" "$m/d/e/b.txt" 2>/dev/null
[ "$(cat src/d/e/b.txt)" = new ] || fail "mv -n replaced its target"

chmod 640 "$m/d/e/b.txt"
[ "$(stat -c %a src/d/e/b.txt)" = 640 ] || fail "chmod"
chown nobody:nogroup "$m/d/e/b.txt"
[ "$(stat -c %U:%G src/d/e/b.txt)" = nobody:nogroup ] || fail "chown"
truncate -s 2 "$m/d/e/b.txt"
[ "$(cat src/d/e/b.txt)" = ne ] || fail "truncate"
touch -d @1577934245 "$m/d/e/b.txt"
[ "$(stat -c %Y src/d/e/b.txt)" = 1577934245 ] || fail "utimes"

ln -s e/b.txt "$m/d/sl"
[ "$(readlink src/d/sl)" = e/b.txt ] || fail "symlink: src/d/sl"
[ "$(cat "$m/d/sl")" = ne ] || fail "symlink: reading $m/d/sl"
ln "$m/d/e/b.txt" "$m/d/hard"
[ "$(stat -c %h src/d/e/b.txt)" = 2 ] || fail "link"
rm "$m/d/sl" "$m/d/hard" "$m/d/tmp" "$m/d/e/b.txt"
rmdir "$m/d/e" "$m/d"
[ "$(cd src && find . | sort | tr '\n' ' ')" = ". ./big " ] ||
	fail "unlink/rmdir left: $(cd src && find .)"
df -P "$m" >/dev/null || fail "statfs"

chmod 755 .  # nobody must reach the mount
mkdir -m 777 src/pub
# shellcheck disable=SC2016
as_nobody sh -c 'printf x >"$1/pub/mine"' sh "$m" ||
	fail "nobody cannot create a file in a world-writable directory"
[ "$(stat -c %U src/pub/mine)" = nobody ] ||
	fail "a file nobody created belongs to $(stat -c %U src/pub/mine)"
# shellcheck disable=SC2016
as_nobody sh -c 'printf x >"$1/big"' sh "$m" 2>/dev/null &&
	fail "nobody could write root's 644 file"
stallfs_unmount "$m"
