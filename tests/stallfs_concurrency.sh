# stallfs's delays do not cap concurrency: a delayed request waits in the
# keeper's held list, not in one of libfuse's 10 threads, so 64 readers of
# 64 files at once each see about the delay per request (with a thread per
# delayed request they saw 6.4 times the delay).  The keeper wakes when the
# earliest request is due, so a 1 ms delay costs about 1 ms.  With --congest
# the delay climbs with the number of requests in flight.  The bounds are
# loose, for a loaded machine, yet each is a factor of 1.5 or more from
# what the behaviour they rule out would give.
# run.sh: alone (it times what load changes)
. "$LEAFPACK_TESTS/lib.sh"
. "$LEAFPACK_TESTS/lib/stallfs.sh"
not_sanitized stallfs
need_stallfs
need_cmd perl
need_cmd jq

# readers N REQUESTS OUT: N processes each open one of src/f1..fN through
# mnt, wait for ./go, then fstat it REQUESTS times (one getattr each, as
# attributes are never cached) and write the seconds that took to OUT.I;
# waits for them all.  With N 1 there is no ./go to wait for.
readers() {
	rm -f go "$3".*
	_i=0 _pids=
	while [ $_i -lt "$1" ]; do
		_i=$((_i + 1))
		perl -MTime::HiRes=time,sleep -e '
			my ($file, $n, $go, $out) = @ARGV;
			open(my $fh, "<", $file) or die "$file: $!\n";
			sleep 0.001 until $go eq "-" || -e $go;
			my $t = time;
			for (1 .. $n) { stat($fh) or die "fstat: $!\n"; }
			$t = time - $t;
			open(my $o, ">", "$out.tmp") or die;
			printf $o "%.6f\n", $t;
			close $o;
			rename("$out.tmp", $out) or die;
		' "mnt/f$_i" "$2" "$([ "$1" -eq 1 ] && echo - || echo go)" \
		    "$3.$_i" &
		_pids="$_pids $!"
	done
	sleep 1		# every reader has its file open
	touch go
	# shellcheck disable=SC2086  # one pid a word
	wait $_pids
	_i=0
	while [ $_i -lt "$1" ]; do
		_i=$((_i + 1))
		[ -f "$3.$_i" ] || fail "reader $_i of $1 wrote no $3.$_i"
	done
}

# median OUT: the median of the numbers in the files OUT.*.
median() {
	cat "$1".* | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# holds AWK_CONDITION MESSAGE: fails with MESSAGE unless the condition holds.
holds() {
	awk "BEGIN { exit !($1) }" || fail "$2"
}

mkdir src
i=0
while [ $i -lt 64 ]; do
	i=$((i + 1))
	echo $i >src/f$i
done

# 1 ms per request costs about that: 100 requests in well under 0.4 s (a
# keeper that looked every 20 ms would take 2 s).
stallfs_mount src mnt --delay-ms 1
readers 1 100 one
echo "--delay-ms 1: 100 requests in $(cat one.1) s"
holds "$(cat one.1) >= 0.1 && $(cat one.1) < 0.4" \
    "--delay-ms 1: 100 requests took $(cat one.1) s"
stallfs_unmount mnt

# --delay-ms 5: 64 readers of 20 requests each take about what one takes.
stallfs_mount src mnt --delay-ms 5 --count counts.json
readers 1 20 serial
readers 64 20 par
serial=$(cat serial.1) par=$(median par)
echo "--delay-ms 5: 20 requests take $serial s alone, $par s (median) for each of 64 readers"
holds "$serial >= 0.1" "20 requests delayed 5 ms took $serial s"
holds "$par < 4 * $serial" \
    "64 readers took $par s each, more than 4 x the $serial s of one"
stallfs_unmount mnt
max=$(jq .max_in_flight counts.json)
echo "at most $max requests in flight"
[ "$max" -ge 32 ] || fail "at most $max requests were in flight at once"

# --congest 4:5: alone, a reader sees only the delay; 32 readers push the
# requests in flight to about 32, so each waits about (32 - 4) x 5 ms more.
stallfs_mount src mnt --delay-ms 1 --congest 4:5
readers 1 20 calm
readers 32 20 busy
calm=$(cat calm.1) busy=$(median busy)
echo "--congest 4:5: 20 requests take $calm s alone, $busy s (median) for each of 32 readers"
# (32 - 4) x 5 ms x 20 is 2.8 s; a busy machine slows the lone reader more.
holds "$busy > 1.4 && $busy > 3 * $calm" \
    "32 readers took $busy s each, alone one took $calm s"
stallfs_unmount mnt
