/*
 * pace.h - how hard the run pushes the share: the slots in use, adapted to
 * the latency of the share's answers, and --max-rate.
 *
 * A network share's latency climbs steeply once it is near its limit (the
 * users' NetApp at 85% utilisation), and a run that keeps every slot busy
 * then pushes it over the edge.  So, unless --no-adapt, the run watches the
 * latency of its own calls on the share (the histograms the slots'
 * processes keep in their watch records, watch.h) and acts as TCP does
 * with its window.  It starts with a few slots and doubles them every
 * window (a tenth of a second) while the latency stays low (slow start,
 * which the first window whose median is well above the lowest seen
 * ends); from then on, when the median of the last windows' medians
 * climbs well above the lowest median seen, it halves the slots in use
 * (slow start too, on that first window), and judges again only
 * once the leaves in flight are down to the new number (until then the
 * windows measure the old load); while latency stays low, it adds one
 * back, up to -P (additive increase, multiplicative decrease).  "Well
 * above" is three times, and at least 2 ms: a local disk, whose calls take
 * microseconds and whose fsync takes milliseconds, is never throttled.
 * Calls answered in microseconds (the kernel's caches) are left out of
 * the windows: they never reached the share.
 *
 * --max-rate N caps the source files consumed per second over the whole
 * run: a leaf starts only while the files done, those the leaves in flight
 * are expected to take and its own stay within N per second since the
 * start, with no burst; the first leaf runs alone, to show how many files
 * a leaf holds.  Time left unused (the scan slow to find leaves, a slow
 * leaf) is not saved up beyond one leaf's files: what follows it does not
 * rush.
 */
#ifndef LEAFPACK_PACK_PACE_H
#define LEAFPACK_PACK_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "watch.h"

/* Congestion is judged on the median of this many windows' medians: one
 * slow window is noise. */
#define PACE_HISTORY 4

struct pace {
	long max;		/* -P */
	long active;		/* slots in use now */
	long lowest;		/* the fewest the run used */
	bool adapt;		/* not --no-adapt */
	double max_rate;	/* --max-rate, files per second; 0: none */
	const struct watch_area *watch;	/* the slots' records */
	long long started_ms, window_ms;	/* the run's, this window's */
	double rate_origin_ms;	/* --max-rate's clock: started_ms, moved on
				 * past time left unused (no credit saved) */
	uint32_t *seen;		/* each record's histogram, last looked at */
	uint64_t window[WATCH_BUCKETS];	/* calls ended in this window */
	uint64_t total[WATCH_BUCKETS];	/* and in the whole run */
	double baseline_us;	/* the lowest window median; 0: none yet */
	double median_us, p99_us;	/* of the last window */
	double history[PACE_HISTORY];	/* the last windows' medians, a ring */
	int history_len;	/* windows in it since the last halving */
	bool draining;		/* halved: waiting for the leaves in flight
				 * to come down to active */
	bool slow_start;	/* doubling, until the first congestion */
};

/* The pace of a run of max slots, over the records of watch; exits 4 out
 * of memory. */
void pace_init(struct pace *p, long max, bool adapt, double max_rate,
    const struct watch_area *watch);

/* Looks at the latency once the window is over, and adapts the slots in
 * use; running is the number of leaves in flight. */
void pace_tick(struct pace *p, size_t running);

/* Milliseconds until the window is over (0 when it is). */
int pace_wake_in(const struct pace *p);

/*
 * True when one more leaf may start, with running leaves in flight and
 * files consumed by the leaves_done leaves done.  When --max-rate holds it
 * back, *wake_ms says when to look again (-1: when a leaf ends).  It moves
 * the rate's clock on past time left unused (hence not const).
 */
bool pace_may_start(struct pace *p, size_t running,
    unsigned long long files, unsigned long long leaves_done, int *wake_ms);

/* The median and 99th percentile of the run's calls (NAN with none), and
 * of the last window, in milliseconds. */
void pace_latency(const struct pace *p, bool whole_run, double *p50_ms,
    double *p99_ms);

void pace_free(struct pace *p);

#endif
