# Test hosts for the multi-host tests: each host is a network namespace with
# its own sshd, reached over a veth link from the test, and sharing the
# test's file system.  Source it after lib.sh:
#
#   . "$LEAFPACK_TESTS/lib/hosts.sh"
#   need_hosts                  # skip unless root, ip netns, sshd, ssh, ...
#   hosts_start 3               # host1..host3, up and answering ssh
#   parallel --sshloginfile "$HOSTS_SLF" -j 2 ... ::: ...
#   hosts_cut 2 link            # in the middle of the run: host2 vanishes
#   hosts_stop                  # done at exit too, also on failure or signal
#
# What hosts_start N makes (everything below $HOSTS_DIR, ./hosts of the test):
# - N network namespaces lph<PID>-1 .. lph<PID>-N (<PID> the test shell's),
#   each with its loopback up and one end of a veth pair, whose other end is
#   a port of the bridge lph<PID>br in the test's namespace.  The addresses
#   are $HOSTS_NET.1 (the bridge, the test's side) and $HOSTS_NET.(K+1) for
#   host K, in a 10.A.B.0/24 (A 200-249) that no route of this machine
#   names yet; a blackhole route for it (metric 4000) is the claim that
#   keeps parallel runs apart, and it also keeps packets for a host that is
#   cut or gone from ever leaving the machine.  There is no default route
#   in the namespaces: traffic stays between the test and its hosts.
# - In each namespace an sshd (/usr/sbin/sshd -D, entered with nsenter
#   --net, so it shares the test's mount namespace: unlike `ip netns exec`,
#   which makes a mount namespace of its own where mounts made later by the
#   test, stallfs ones included, would not appear) listening on its address
#   only, port 22, with a host key made for the test, the test's client key
#   as the only authorized key, root login by key only, no password or
#   keyboard-interactive login, no PAM, sftp (internal-sftp, for sshfs:
#   tests/pack_sshfs.sh), and StrictModes off (the keys lie
#   under /tmp, which is world-writable, so the strict path check refuses
#   them).  Its log is $HOSTS_DIR/sshd.K.log (and
#   sshd.K.err for what it prints before it opens that).
# - The client side: $HOSTS_SSH_CONFIG, an ssh_config naming host1..hostN
#   (User root, the test key, UserKnownHostsFile $HOSTS_DIR/known_hosts
#   written from the host keys with StrictHostKeyChecking yes, BatchMode
#   yes, ConnectTimeout $HOSTS_CONNECT_TIMEOUT (default 3) seconds,
#   BindAddress the bridge's address: once the bridge is gone, an ssh left
#   over cannot connect at all, let alone to where the route would lead
#   then, outside the machine).  No ServerAliveInterval, on purpose: an ssh
#   session to a host whose link is down hangs (as long as TCP takes to
#   give up: a quarter of an hour to hours), as it does to a host that
#   vanished; whatever bounds that is what a test tests.  Lines in
#   $HOSTS_SSH_EXTRA (set before hosts_start) go first in the file and so
#   win over the defaults, e.g. HOSTS_SSH_EXTRA='ServerAliveInterval 1'.
# - $HOSTS_SLF, a GNU parallel sshloginfile: one line "ssh -F CONFIG hostK"
#   per host (parallel 20221122 takes "ssh command + host" lines; prefix
#   "J/" to a copy's lines to fix a host's CPU count; hosts_slf writes
#   others, with ssh options).  So both of these reach the hosts:
#       parallel --sshloginfile "$HOSTS_SLF" ...
#       parallel --ssh "$HOSTS_SSH" -S host1,host2,host3 ...
#   $HOSTS_SSH is a wrapper script (ssh -F CONFIG "$@"); $HOSTS_NAMES holds
#   "host1 host2 ...".  `ssh -F "$HOSTS_SSH_CONFIG" hostK CMD` works too.
#
# What a host shares with the test, and what not: the file system (same
# mount namespace: the test tree is at the same path everywhere), the pid
# namespace (kill(pid, 0) sees every host's processes) and, by default, the
# host name (so the claim protocol, which names holders by gethostname(),
# sees one host and can tell a dead holder from a live one).  With
# HOSTS_UTS=1 set before hosts_start, each sshd runs in a UTS namespace of
# its own with host name lph<PID>-K instead, as separate machines would be.
#
# Environment of a remote session: sshd's SetEnv sets PATH to
# "$LEAFPACK_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
# LC_ALL=C, SHLVL=1, and copies LEAFPACK_BIN, LEAFPACK_TOP, LEAFPACK_TESTS,
# LEAFPACK_SANITIZED, ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS, TMPDIR and
# any variable named in $HOSTS_ENV, as they are when hosts_start runs
# (values without '"', '\' or newlines).  SHLVL=1 keeps root's bash from
# reading ~/.bashrc for ssh commands (Debian's bash does so only at shell
# level 1), which here put other directories before $LEAFPACK_BIN and
# cost half a second per session; the remote PATH is exactly the one
# above.  So a remote `leafpack --leaves` is the build under test; full
# paths ("$BIN/leafpack --leaves", as pack_xargs_parallel does; leafpack
# runs the other programs from its own directory) say so explicitly.  A
# session starts in root's home: cd, or use full paths (hosts_run does the
# cd for you).
#
# Cutting a host off in the middle of a run (hosts_cut K MODE):
#   link    its end of the veth link goes down: the host's sessions hang (no
#           reset, no answer) and new connections time out after
#           ConnectTimeout.  Its processes go on running: a job in flight
#           there can still finish its work on the shared tree, which is a
#           network partition rather than a dead host.
#   freeze  link down, and every process in the namespace stopped (SIGSTOP):
#           a host that vanished; nothing more happens there until
#           hosts_restore or hosts_stop (which kills them).
#   kill    its sshd and every process in the namespace killed (SIGKILL),
#           the link left up: the sessions end at once (ssh exits 255) and
#           new connections are refused: a host that crashed or rebooted.
# hosts_restore K undoes any of them: the link up again, and the sshd
# started again after freeze or kill; after freeze, what was frozen is
# killed first (the host comes back as from a reboot), while after link
# the host's processes carried on all along.
#
# GNU parallel 20221122 and a host that vanishes (tests/hosts_harness.sh
# shows it):
# - A session to a host that is killed ends at once (ssh exits 255).  One
#   to a host whose link is down (link, freeze) hangs: without keepalive,
#   ssh waits for TCP (minutes to hours), and parallel has no deadline of
#   its own but --timeout.
# - --retries N puts a failed job back in the queue, to run on a host where
#   it has not failed yet, N tries in all.  Parallel goes on giving a dead
#   host new jobs: each fails there (after ConnectTimeout when its link is
#   down) and goes elsewhere.  --filter-hosts drops a host that fails its
#   check only when the run starts or when the sshloginfile changes
#   (parallel re-reads it when a job ends and its mtime moved on by more
#   than a second), not when the host dies in the middle.
# - Do not combine --timeout with --retries: a try that failed by anything
#   but the timeout (ssh's 255 when a host dies) leaves its job in
#   parallel's timeout queue.  When the start of that try plus the timeout
#   passes while the job still waits for its retry, parallel "times out"
#   the waiting job ("This job was killed because it timed out", and it
#   signals the old try's pid) and sets its exit status to -1, which the
#   retry's 0 does not replace (set_exitstatus keeps a non-zero status): a
#   retry that succeeded counts as failed, and the job runs once more, so
#   it ends twice on the remaining hosts.  (Seen with 30 jobs of 1 s,
#   --timeout 10 --retries 3 and a host killed: 2 to 4 jobs ran twice.)
# - What finishes every job, exactly once on the remaining hosts: --retries
#   3 (with 3 hosts) and no --timeout, the sessions bounded by ssh itself:
#   sshlogins "ssh -F CONFIG -o ServerAliveInterval=1 -o
#   ServerAliveCountMax=3 hostK" (hosts_slf FILE -o ... writes them), so a
#   session to a host that stopped answering ends in about 4 s with 255, and
#   ConnectTimeout bounds new ones.  This does not bound a remote job that
#   hangs while its host answers (a stalled share): that is leafpack's own
#   deadline, or a --timeout longer than the whole run, given the above.
# - The joblog has one line per job, for its last try (Host is the
#   sshlogin line); failed tries do not appear in it.
# - A job whose host vanished mid-job has started twice; with `link`, its
#   first try can also still end on the cut host, after its retry started
#   elsewhere.
#
# Traps: hosts_start installs the EXIT trap (hosts_cleanup) and makes HUP,
# INT and TERM exit 129, 130 and 143 through it, so nothing is left behind
# when the test passes, fails or is killed by them.  It marks stallfs.sh's
# traps as installed and hosts_cleanup calls stallfs_cleanup when that is
# defined, so the two libraries coexist, sourced and used in any order:
# host processes are killed first (SIGKILL), then stallfs unmounts (which
# frees those blocked in it), then the hosts are removed.  A test with
# cleanup of its own registers it with hosts_at_exit (run first, in order)
# instead of setting a trap.  During the cleanup, fail reports and marks
# the test failed without exiting, so that every step runs.  As a last
# resort for SIGKILL, hosts_start leaves a watchdog (in a session of its
# own, so that run.sh's timeout does not kill it with the test) that
# removes the hosts within a second or two of the test shell's death.
#
# A test shell runs a trap only after its foreground command ends: run a
# long command (parallel) in the background and `wait` for it, so that a
# signal is handled at once, and register `kill` of it with hosts_at_exit.

# need_hosts: skips the test unless test hosts can be made here.
need_hosts() {
	need_root "network namespaces and sshd for test hosts"
	need_cmd ip
	ip netns list >/dev/null 2>&1 || skip "needs ip netns (iproute2)"
	[ -x /usr/sbin/sshd ] || skip "needs /usr/sbin/sshd (openssh-server)"
	need_cmd ssh
	need_cmd ssh-keygen
	need_cmd nsenter
	need_cmd setsid
	need_cmd parallel
	parallel --version 2>/dev/null | grep -q '^GNU parallel' ||
	    skip "needs GNU parallel"
	unshare --net true 2>/dev/null || skip "cannot make network namespaces"
}

HOSTS_N=0
_hosts_prefix=
_hosts_trapped=
_hosts_at_exit=
_hosts_watchdog=

# hosts_start N: makes hosts 1..N as described above and returns once each
# answers ssh.  Once per test.
hosts_start() {
	[ "$HOSTS_N" -eq 0 ] || fail "hosts_start: hosts are running already"
	case $1 in
	'' | *[!0-9]*) fail "hosts_start: not a count: $1" ;;
	esac
	if [ "$1" -lt 1 ] || [ "$1" -gt 50 ]; then
		fail "hosts_start: 1 to 50 hosts, not $1"
	fi
	_hosts_traps
	HOSTS_DIR=$PWD/hosts
	case $HOSTS_DIR in
	*[[:space:]]*) fail "hosts_start: a blank in $HOSTS_DIR (sshlogins)" ;;
	esac
	mkdir -p "$HOSTS_DIR" || fail "cannot make $HOSTS_DIR"
	_hosts_prefix=lph$$
	# Hosts of this name can only be left by a test of the same pid that
	# was killed with its watchdog.
	_hosts_purge "$_hosts_prefix" ""
	HOSTS_NET=$(_hosts_claim_net) ||
	    fail "hosts_start: no free 10.A.B.0/24 for test hosts"
	_hosts_watch
	HOSTS_N=$1
	HOSTS_NAMES=
	HOSTS_SSH_CONFIG=$HOSTS_DIR/ssh_config
	HOSTS_SLF=$HOSTS_DIR/sshloginfile
	HOSTS_SSH=$HOSTS_DIR/ssh
	_hosts_bridge
	_hosts_keys
	_hosts_k=1
	while [ "$_hosts_k" -le "$HOSTS_N" ]; do
		HOSTS_NAMES="$HOSTS_NAMES${HOSTS_NAMES:+ }host$_hosts_k"
		_hosts_namespace "$_hosts_k"
		_hosts_sshd_config "$_hosts_k"
		_hosts_sshd_start "$_hosts_k"
		_hosts_k=$((_hosts_k + 1))
	done
	_hosts_client
	_hosts_k=1
	while [ "$_hosts_k" -le "$HOSTS_N" ]; do
		_hosts_wait_sshd "$_hosts_k"
		_hosts_k=$((_hosts_k + 1))
	done
	export HOSTS_N HOSTS_DIR HOSTS_NET HOSTS_NAMES HOSTS_SSH_CONFIG \
	    HOSTS_SLF HOSTS_SSH
}

# hosts_ns K / hosts_addr K: host K's namespace name and address.
hosts_ns() {
	echo "$_hosts_prefix-$1"
}
hosts_addr() {
	echo "$HOSTS_NET.$(($1 + 1))"
}

# hosts_sshd_pid K: the pid of host K's listening sshd.
hosts_sshd_pid() {
	cat "$HOSTS_DIR/sshd.$1.pid" 2>/dev/null
}

# hosts_pids K: the processes in host K's namespace (its sshd, sessions and
# what they started), one per line.
hosts_pids() {
	ip netns pids "$(hosts_ns "$1")" 2>/dev/null
}

# hosts_run K COMMAND [ARG]...: runs COMMAND with exactly these arguments on
# host K, in the current directory; its status is COMMAND's (255 when ssh
# fails).
hosts_run() {
	_hosts_cmd="cd $(_hosts_quote "$PWD") &&"
	_hosts_host=$1
	shift
	for _hosts_arg in "$@"; do
		_hosts_cmd="$_hosts_cmd $(_hosts_quote "$_hosts_arg")"
	done
	ssh -F "$HOSTS_SSH_CONFIG" "host$_hosts_host" "$_hosts_cmd"
}

# hosts_slf FILE [SSH-OPTION]...: writes a sshloginfile for GNU parallel
# whose lines run "ssh -F $HOSTS_SSH_CONFIG SSH-OPTION... hostK" ($HOSTS_SLF
# is one without options).  No option may hold a blank but between "-o"
# and its value: parallel splits the line at blanks.
hosts_slf() {
	_hosts_file=$1
	shift
	_hosts_ssh="ssh -F $HOSTS_SSH_CONFIG"
	for _hosts_arg in "$@"; do
		_hosts_ssh="$_hosts_ssh $_hosts_arg"
	done
	: >"$_hosts_file" || fail "cannot write $_hosts_file"
	for _hosts_name in $HOSTS_NAMES; do
		echo "$_hosts_ssh $_hosts_name" >>"$_hosts_file"
	done
}

# hosts_cut K link|freeze|kill: cuts host K off (see the header).
hosts_cut() {
	_hosts_check "$1"
	case ${2:-} in
	link) _hosts_link "$1" down ;;
	freeze)
		_hosts_link "$1" down
		_hosts_signal_all "$1" STOP
		;;
	kill) _hosts_kill_host "$1" ;;
	*) fail "hosts_cut: link, freeze or kill, not '${2:-}'" ;;
	esac
	echo "$2" >"$HOSTS_DIR/cut.$1"
}

# hosts_restore K: host K is back, answering ssh.  After freeze it comes
# back as from a reboot: what was frozen there is killed, not continued.
hosts_restore() {
	_hosts_check "$1"
	[ "$(cat "$HOSTS_DIR/cut.$1" 2>/dev/null)" != freeze ] ||
	    _hosts_kill_host "$1"
	_hosts_link "$1" up
	if ! kill -0 "$(hosts_sshd_pid "$1")" 2>/dev/null; then
		_hosts_sshd_start "$1"
		_hosts_wait_sshd "$1"
	fi
	rm -f "$HOSTS_DIR/cut.$1"
}

# hosts_at_exit COMMAND: COMMAND (a string for eval, in the test's shell,
# which it must not exit) runs when the test exits, before the hosts are
# removed; several run in the order given.
hosts_at_exit() {
	_hosts_at_exit="$_hosts_at_exit$1
"
	_hosts_traps
}

# hosts_stop: kills every process of every host, removes the namespaces,
# links, bridge and route, and stops the watchdog.  Done at exit too.
hosts_stop() {
	[ -n "$_hosts_prefix" ] || return 0
	_hosts_purge "$_hosts_prefix" "$HOSTS_NET"
	if [ -n "$_hosts_watchdog" ]; then
		kill "$_hosts_watchdog" 2>/dev/null
		wait "$_hosts_watchdog" 2>/dev/null
	fi
	_hosts_k=1
	while [ "$_hosts_k" -le "$HOSTS_N" ]; do
		wait "$(hosts_sshd_pid "$_hosts_k")" 2>/dev/null
		_hosts_k=$((_hosts_k + 1))
	done
	_hosts_wait_gone
	_hosts_prefix='' _hosts_watchdog='' HOSTS_N=0
}

# hosts_cleanup: the EXIT trap (call it from an EXIT trap of your own, if
# you must set one): the hosts_at_exit commands, then the host processes
# killed, stallfs unmounted (when stallfs.sh is in use), the hosts removed.
# Keeps the exit status, or makes it 1 when a step fails.
hosts_cleanup() {
	_hosts_status=$?
	trap - EXIT
	trap '' HUP INT TERM
	# From here on, fail reports and marks the test failed but returns: an
	# exit inside the EXIT trap would skip the steps after it.
	# shellcheck disable=SC2317
	fail() {
		echo "FAIL: $*" >&2
		[ "$_hosts_status" -ne 0 ] || _hosts_status=1
		return 1
	}
	while read -r _hosts_line; do
		[ -z "$_hosts_line" ] || eval "$_hosts_line" </dev/null
	done <<EOF
$_hosts_at_exit
EOF
	_hosts_at_exit=
	if [ -n "$_hosts_prefix" ]; then
		for _hosts_ns in $(_hosts_namespaces "$_hosts_prefix"); do
			_hosts_signal_ns "$_hosts_ns" KILL
		done
	fi
	! command -v stallfs_cleanup >/dev/null 2>&1 || stallfs_cleanup
	hosts_stop
	exit "$_hosts_status"
}

# ---- internals ----

# _hosts_traps: installs the traps, once; takes over stallfs.sh's.
_hosts_traps() {
	[ -z "$_hosts_trapped" ] || return 0
	trap hosts_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	_hosts_trapped=1
	# stallfs_mount must not replace the EXIT trap: hosts_cleanup calls
	# stallfs_cleanup.
	# shellcheck disable=SC2034
	_stallfs_trapped=1
}

# _hosts_link K up|down: host K's end of its link up or down.
_hosts_link() {
	ip -n "$(hosts_ns "$1")" link set "$_hosts_prefix"p"$1" "$2" ||
	    fail "cannot set the link of host $1 $2"
}

# _hosts_kill_host K: host K's sshd and every process in its namespace
# killed (and its sshd reaped, so that kill -0 tells it is gone).
_hosts_kill_host() {
	kill -KILL "$(hosts_sshd_pid "$1")" 2>/dev/null
	_hosts_kill_ns "$(hosts_ns "$1")"
	wait "$(hosts_sshd_pid "$1")" 2>/dev/null
}

# _hosts_quote WORD: WORD quoted for a POSIX shell.
_hosts_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# _hosts_check K: fails unless K names a running host.
_hosts_check() {
	case $1 in
	'' | *[!0-9]*) fail "not a host number: $1" ;;
	esac
	if [ "$1" -lt 1 ] || [ "$1" -gt "$HOSTS_N" ]; then
		fail "no host $1"
	fi
}

# _hosts_claim_net: prints a 10.A.B that no address or route of this
# machine uses, after claiming it with a blackhole route (adding the same
# route twice fails, so two tests cannot claim one range).
_hosts_claim_net() {
	_hosts_c=$(($$ % 12800))
	_hosts_tries=0
	while [ "$_hosts_tries" -lt 12800 ]; do
		_hosts_a=$((200 + _hosts_c / 256)) _hosts_b=$((_hosts_c % 256))
		if ! { ip -4 route show table all; ip -4 addr show; } |
		    grep -Eq "(^|[^0-9.])10\\.$_hosts_a\\.$_hosts_b\\." &&
		    ip route add blackhole "10.$_hosts_a.$_hosts_b.0/24" \
		    metric 4000 2>/dev/null; then
			echo "10.$_hosts_a.$_hosts_b"
			return 0
		fi
		_hosts_c=$(((_hosts_c + 1) % 12800))
		_hosts_tries=$((_hosts_tries + 1))
	done
	return 1
}

# _hosts_watch: starts the watchdog that removes the hosts after a SIGKILL
# of the test shell.
_hosts_watch() {
	# shellcheck disable=SC2016
	setsid sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done
	    . "$2"; _hosts_purge "$3" "$4"; _hosts_wait_gone' \
	    hosts-watchdog "$$" \
	    "$LEAFPACK_TESTS/lib/hosts.sh" "$_hosts_prefix" "$HOSTS_NET" \
	    </dev/null >/dev/null 2>&1 &
	_hosts_watchdog=$!
}

# _hosts_bridge: the test's side of the links.
_hosts_bridge() {
	if ! { ip link add "$_hosts_prefix"br type bridge &&
	    ip addr add "$HOSTS_NET.1/24" dev "$_hosts_prefix"br &&
	    ip link set "$_hosts_prefix"br up; }; then
		fail "cannot make the bridge ${_hosts_prefix}br"
	fi
}

# _hosts_keys: the client key and known_hosts header.
_hosts_keys() {
	rm -f "$HOSTS_DIR/id" "$HOSTS_DIR/id.pub" "$HOSTS_DIR/known_hosts"
	ssh-keygen -q -t ed25519 -N '' -C "leafpack-test-$$" \
	    -f "$HOSTS_DIR/id" || fail "ssh-keygen failed"
	cp "$HOSTS_DIR/id.pub" "$HOSTS_DIR/authorized_keys" || fail "cp"
	: >"$HOSTS_DIR/known_hosts"
}

# _hosts_namespace K: host K's namespace, link, addresses and host key.
_hosts_namespace() {
	_hosts_ns=$(hosts_ns "$1")
	_hosts_v=$_hosts_prefix"v$1" _hosts_p=$_hosts_prefix"p$1"
	if ! { ip netns add "$_hosts_ns" &&
	    ip -n "$_hosts_ns" link set lo up &&
	    ip link add "$_hosts_v" type veth peer name "$_hosts_p" &&
	    ip link set "$_hosts_p" netns "$_hosts_ns" &&
	    ip link set "$_hosts_v" master "$_hosts_prefix"br up &&
	    ip -n "$_hosts_ns" addr add "$(hosts_addr "$1")/24" \
	    dev "$_hosts_p" &&
	    ip -n "$_hosts_ns" link set "$_hosts_p" up; }; then
		fail "cannot make host $1 ($_hosts_ns)"
	fi
	rm -f "$HOSTS_DIR/host_key.$1" "$HOSTS_DIR/host_key.$1.pub"
	ssh-keygen -q -t ed25519 -N '' -C "$_hosts_ns" \
	    -f "$HOSTS_DIR/host_key.$1" || fail "ssh-keygen failed"
	_hosts_key=$(cut -d' ' -f1,2 "$HOSTS_DIR/host_key.$1.pub") ||
	    fail "cannot read $HOSTS_DIR/host_key.$1.pub"
	echo "$(hosts_addr "$1") $_hosts_key" >>"$HOSTS_DIR/known_hosts"
}

# _hosts_sshd_config K: host K's sshd_config.
_hosts_sshd_config() {
	{
		cat <<EOF
ListenAddress $(hosts_addr "$1"):22
HostKey $HOSTS_DIR/host_key.$1
AuthorizedKeysFile $HOSTS_DIR/authorized_keys
PidFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
PermitUserEnvironment no
MaxStartups 100:30:200
MaxSessions 100
LoginGraceTime 30
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
		_hosts_setenv
	} >"$HOSTS_DIR/sshd_config.$1"
	# sshd -t wants it too, not only sshd.
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd ||
	    fail "cannot make /run/sshd (sshd's privilege separation directory)"
	/usr/sbin/sshd -t -f "$HOSTS_DIR/sshd_config.$1" ||
	    fail "sshd -t: bad $HOSTS_DIR/sshd_config.$1"
}

# _hosts_setenv: the SetEnv line of the sshd_config (see the header).
_hosts_setenv() {
	_hosts_env="PATH=$LEAFPACK_BIN:/usr/local/sbin:/usr/local/bin"
	_hosts_env="$_hosts_env:/usr/sbin:/usr/bin:/sbin:/bin"
	printf 'SetEnv "%s" "LC_ALL=C" "SHLVL=1"' "$_hosts_env"
	for _hosts_var in LEAFPACK_BIN LEAFPACK_TOP LEAFPACK_TESTS \
	    LEAFPACK_SANITIZED ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TMPDIR \
	    ${HOSTS_ENV:-}; do
		_hosts_set='' _hosts_val=''
		eval "_hosts_set=\${$_hosts_var+1} _hosts_val=\${$_hosts_var-}"
		[ -n "$_hosts_set" ] || continue
		case $_hosts_val in
		*\"* | *\\* | *"
"*) fail "hosts_start: cannot pass $_hosts_var to the hosts" ;;
		esac
		printf ' "%s=%s"' "$_hosts_var" "$_hosts_val"
	done
	echo
}

# _hosts_sshd_start K: starts host K's sshd in its namespace (nsenter and
# unshare exec, so $! is the sshd).
_hosts_sshd_start() {
	_hosts_ns=$(hosts_ns "$1")
	_hosts_cfg=$HOSTS_DIR/sshd_config.$1 _hosts_log=$HOSTS_DIR/sshd.$1.log
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd ||
	    fail "cannot make /run/sshd (sshd's privilege separation directory)"
	if [ "${HOSTS_UTS:-0}" = 1 ]; then
		# shellcheck disable=SC2016
		nsenter --net="/run/netns/$_hosts_ns" unshare --uts \
		    sh -c 'hostname "$0" && exec "$@"' "$_hosts_ns" \
		    /usr/sbin/sshd -D -f "$_hosts_cfg" -E "$_hosts_log" \
		    </dev/null >/dev/null 2>>"$HOSTS_DIR/sshd.$1.err" &
	else
		nsenter --net="/run/netns/$_hosts_ns" \
		    /usr/sbin/sshd -D -f "$_hosts_cfg" -E "$_hosts_log" \
		    </dev/null >/dev/null 2>>"$HOSTS_DIR/sshd.$1.err" &
	fi
	echo $! >"$HOSTS_DIR/sshd.$1.pid"
}

# _hosts_client: the ssh_config, the ssh wrapper and the sshloginfile.
_hosts_client() {
	{
		[ -z "${HOSTS_SSH_EXTRA:-}" ] ||
		    printf '%s\n' "$HOSTS_SSH_EXTRA"
		_hosts_k=1
		while [ "$_hosts_k" -le "$HOSTS_N" ]; do
			printf 'Host host%s\n\tHostName %s\n' "$_hosts_k" \
			    "$(hosts_addr "$_hosts_k")"
			_hosts_k=$((_hosts_k + 1))
		done
		cat <<EOF
Host *
	User root
	Port 22
	BindAddress $HOSTS_NET.1
	IdentityFile $HOSTS_DIR/id
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile $HOSTS_DIR/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	CheckHostIP no
	BatchMode yes
	ConnectTimeout ${HOSTS_CONNECT_TIMEOUT:-3}
	ControlMaster no
	ControlPath none
	ForwardAgent no
	ForwardX11 no
	LogLevel ERROR
EOF
	} >"$HOSTS_SSH_CONFIG"
	printf '#!/bin/sh\nexec ssh -F %s "$@"\n' \
	    "$(_hosts_quote "$HOSTS_SSH_CONFIG")" >"$HOSTS_SSH" ||
	    fail "cannot write $HOSTS_SSH"
	chmod +x "$HOSTS_SSH" || fail "cannot chmod $HOSTS_SSH"
	hosts_slf "$HOSTS_SLF"
}

# _hosts_wait_sshd K: waits (10 s at most) until host K answers ssh.
_hosts_wait_sshd() {
	_hosts_tries=0
	until ssh -F "$HOSTS_SSH_CONFIG" "host$1" true 2>"$HOSTS_DIR/probe.err"
	do
		if ! kill -0 "$(hosts_sshd_pid "$1")" 2>/dev/null; then
			tail -n 20 "$HOSTS_DIR/sshd.$1.log" \
			    "$HOSTS_DIR/sshd.$1.err" >&2
			fail "the sshd of host $1 exited"
		fi
		_hosts_tries=$((_hosts_tries + 1))
		if [ "$_hosts_tries" -gt 100 ]; then
			cat "$HOSTS_DIR/probe.err" >&2
			tail -n 20 "$HOSTS_DIR/sshd.$1.log" >&2
			fail "host $1 does not answer ssh after 10 s"
		fi
		sleep 0.1
	done
}

# _hosts_namespaces PREFIX: the namespaces of the hosts named PREFIX-K.
_hosts_namespaces() {
	ip netns list 2>/dev/null | while read -r _hosts_name _hosts_rest; do
		case $_hosts_name in
		"$1"-*) echo "$_hosts_name" ;;
		esac
	done
}

# _hosts_signal_ns NS SIGNAL: sends SIGNAL to every process in NS.  Those
# killed, and their children already dead (zombies are in no namespace that
# ip can see, and init reaps them once their parent is gone), are noted in
# $_hosts_killed.
_hosts_killed=
_hosts_signal_ns() {
	_hosts_pids=$(ip netns pids "$1" 2>/dev/null)
	[ -n "$_hosts_pids" ] || return 0
	[ "$2" != KILL ] || _hosts_killed="$_hosts_killed $_hosts_pids $(ps \
	    -o pid= --ppid "$(echo "$_hosts_pids" | paste -sd, -)" 2>/dev/null)"
	for _hosts_pid in $_hosts_pids; do
		kill -"$2" "$_hosts_pid" 2>/dev/null
	done
}

# _hosts_wait_gone: waits (5 s at most) until the processes killed are
# gone, reaped zombies included, so that nothing shows after the test.
# The children of a killed sshd go to init, which reaps them when it gets
# to it; those that died before they could be listed are waited for as
# sshd zombies of init's.
_hosts_wait_gone() {
	_hosts_tries=0
	while [ "$_hosts_tries" -lt 50 ]; do
		_hosts_alive=$(ps -o stat=,ppid=,comm= -e | awk '
		    $1 ~ /^Z/ && $2 == 1 && $3 == "sshd"' | head -n 1)
		for _hosts_pid in $_hosts_killed; do
			if kill -0 "$_hosts_pid" 2>/dev/null; then
				_hosts_alive=1
				break
			fi
		done
		[ -n "$_hosts_alive" ] || break
		_hosts_tries=$((_hosts_tries + 1))
		sleep 0.1
	done
	_hosts_killed=
}

# _hosts_signal_all K SIGNAL: SIGNAL to every process of host K, again
# until no new one appears (sshd may fork while it is being stopped).
_hosts_signal_all() {
	_hosts_done=
	for _hosts_round in 1 2 3 4 5; do
		_hosts_new=
		for _hosts_pid in $(hosts_pids "$1"); do
			case " $_hosts_done " in
			*" $_hosts_pid "*) ;;
			*)
				kill -"$2" "$_hosts_pid" 2>/dev/null
				_hosts_done="$_hosts_done $_hosts_pid"
				_hosts_new=1
				;;
			esac
		done
		[ -n "$_hosts_new" ] || break
	done
}

# _hosts_kill_ns NS: kills every process in NS and waits (5 s at most) for
# them to be gone; a process stuck in uninterruptible sleep may outlive it.
_hosts_kill_ns() {
	_hosts_tries=0
	while [ -n "$(ip netns pids "$1" 2>/dev/null)" ] &&
	    [ "$_hosts_tries" -lt 50 ]; do
		_hosts_signal_ns "$1" KILL
		_hosts_tries=$((_hosts_tries + 1))
		sleep 0.1
	done
}

# _hosts_purge PREFIX NET: removes what hosts_start made for PREFIX and NET
# (also from the watchdog, which has only these two): processes killed,
# links, bridge, namespaces and the blackhole route deleted.  Tolerates
# anything already gone.
_hosts_purge() {
	for _hosts_ns in $(_hosts_namespaces "$1"); do
		_hosts_signal_ns "$_hosts_ns" KILL
	done
	for _hosts_ns in $(_hosts_namespaces "$1"); do
		_hosts_kill_ns "$_hosts_ns"
		ip link del "$1v${_hosts_ns##*-}" 2>/dev/null
		ip netns del "$_hosts_ns" 2>/dev/null
	done
	ip link del "$1br" 2>/dev/null
	ip route del blackhole "$2.0/24" metric 4000 2>/dev/null
	return 0
}
