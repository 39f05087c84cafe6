#!/bin/sh
# leafpack on a real network file system: sshfs, served by a test host
# (tests/lib/hosts.sh) over ssh.  sshfs numbers files anew for each mount
# (and each time the kernel forgets one), and libfuse keeps a file unlinked
# or renamed over while it is open, or while its release is still on its
# way, as a .fuse_hidden file.  So: a run keeping the sources, then a rerun
# on a new mount (other inode numbers) that has nothing to do, then a run
# removing them: every record exactly once, nothing left but the outputs,
# no .fuse_hidden file.  Then the server vanishes in the middle of a run
# (the host frozen: link down, every process stopped) and comes back as
# after a reboot: the run ends within its bound, naming stalled leaves and
# exiting 1; the rerun on a new mount leaves every record exactly once.
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/pack.sh"
mkdir tmp && TMPDIR=$PWD/tmp && export TMPDIR
. "$LEAFPACK_TESTS/lib/hosts.sh"
need_hosts
need_cmd sshfs
need_cmd fusermount3

hosts_start 1
mkdir mnt

mounted=
cleanup_mount() {
	[ -z "$mounted" ] || fusermount3 -u -z mnt 2>/dev/null
	mounted=
}
trap 'cleanup_mount' EXIT

# mount: the test's src, served by host1.  reconnect off: a server that
# comes back after a freeze is a new mount, as a rebooted one would be.
mount_src() {
	sshfs -F "$HOSTS_SSH_CONFIG" -o cache=no "host1:$PWD/src" mnt ||
	    fail "sshfs would not mount"
	mounted=1
}

# no_litter: no .fuse_hidden file (nor anything hidden but the journal a
# kept leaf's record is in) anywhere in src.
no_litter() {
	left=$(find src -name '.fuse_hidden*')
	[ -z "$left" ] || fail "$1: libfuse kept files: $left"
}

gen src --entities 6 --files 6
all_records src >before.records

mount_src
expect_status 0 "$BIN/leafpack" --min-age 0 --keep-sources mnt
no_litter "keeping"
cleanup_mount
output_records src >after.records
same_file before.records after.records

mount_src
expect_status 0 "$BIN/leafpack" --min-age 0 --keep-sources mnt
grep -q "nothing to do" err ||
    fail "a rerun on a new mount did work: $(cat err)"
output_records src >after.records
same_file before.records after.records
expect_status 0 "$BIN/leafpack" --min-age 0 mnt
cleanup_mount
no_litter "removing"
check_consolidated src before.records

# The server vanishes: 120 leaves of 10 files at 60 files a second, the
# host frozen 2 s in.
rm -rf src
gen src --entities 20 --types 3 --dates 2 --files 10
all_records src >before.records
mount_src
start=$(date +%s)
"$BIN/leafpack" --min-age 0 -t 2 --max-rate 60 mnt >out 2>err &
pack=$!
sleep 2
hosts_cut 1 freeze
wait "$pack"
status=$?
took=$(( $(date +%s) - start ))
[ "$status" -eq 1 ] || fail "the frozen run exited $status: $(tail -n 3 err)"
grep -q "stalled" err || fail "no stalled leaf named: $(tail -n 3 err)"
# 2 s of work, then each slot's call gives up after -t 2 (and the run
# stops once the share is not answering): far below the bound.
[ "$took" -le 60 ] || fail "the frozen run took ${took}s"
hosts_restore 1
cleanup_mount
mount_src
expect_status 0 "$BIN/leafpack" --min-age 0 mnt
cleanup_mount
check_consolidated src before.records
