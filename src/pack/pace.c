/*
 * pace.c - the slots in use and --max-rate (see pace.h).
 */
#include "pace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "exitcode.h"

/* How often the latency is looked at, and what a window needs to count:
 * short, since slow start doubles once a window and a small run is over
 * in a second, but with enough calls for a median. */
#define WINDOW_MS 100
#define WINDOW_CALLS 32
/* A call answered faster than this never left the machine (the kernel's
 * caches): it says nothing of the share, and a baseline made of such calls
 * would make every round trip look congested. */
#define LOCAL_CALL_US 32.0

/* Congestion: the window's median this many times the lowest (two buckets
 * of the histogram up), and at least this many microseconds. */
#define CONGESTED_FACTOR 3.0
#define CONGESTED_FLOOR_US 2000.0
/* Latency this close to the lowest is low: a slot may be added. */
#define LOW_FACTOR 2.0
/* The slots of the first window, from which slow start doubles. */
#define START_SLOTS 4

void
pace_init(struct pace *p, long max, bool adapt, double max_rate,
    const struct watch_area *watch)
{
	memset(p, 0, sizeof(*p));
	p->max = p->lowest = max;
	p->active = adapt && max > START_SLOTS ? START_SLOTS : max;
	p->slow_start = true;
	p->adapt = adapt;
	p->max_rate = max_rate;
	p->watch = watch;
	p->started_ms = p->window_ms = watch_clock_ms();
	p->rate_origin_ms = (double)p->started_ms;
	p->seen = calloc(watch->count * WATCH_BUCKETS, sizeof(*p->seen));
	if (p->seen == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
}

/* The value at quantile q of a histogram of n calls, in microseconds. */
static double
quantile(const uint64_t hist[WATCH_BUCKETS], uint64_t n, double q)
{
	uint64_t want = (uint64_t)ceil(q * (double)n), got = 0;

	for (int b = 0; b < WATCH_BUCKETS; b++)
		if ((got += hist[b]) >= want && got > 0)
			return watch_bucket_us(b);
	return NAN;
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of the last PACE_HISTORY window medians (fewer at the start). */
static double
recent_median(const struct pace *p)
{
	double v[PACE_HISTORY];
	int n = p->history_len < PACE_HISTORY ? p->history_len : PACE_HISTORY;

	memcpy(v, p->history, sizeof(v));
	qsort(v, (size_t)n, sizeof(v[0]), compare_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t
calls_in(const uint64_t hist[WATCH_BUCKETS])
{
	uint64_t n = 0;

	for (int b = 0; b < WATCH_BUCKETS; b++)
		n += hist[b];
	return n;
}

/* Adds to the window what every record ended since it was last looked at
 * (a record cleared for a new process starts again from 0). */
static void
collect(struct pace *p)
{
	for (size_t i = 0; i < p->watch->count; i++) {
		uint32_t now[WATCH_BUCKETS] = { 0 }, *seen = p->seen +
		    i * WATCH_BUCKETS;

		watch_area_latency(p->watch, i, now);
		for (int b = 0; b < WATCH_BUCKETS; b++) {
			uint32_t d = now[b] >= seen[b] ? now[b] - seen[b] :
			    now[b];

			if (watch_bucket_us(b) >= LOCAL_CALL_US)
				p->window[b] += d;
			p->total[b] += d;
			seen[b] = now[b];
		}
	}
}

/* Slow start, then additive increase, multiplicative decrease, on the
 * recent windows' median; running is the leaves in flight. */
static void
adapt(struct pace *p, size_t running)
{
	double recent;
	bool congested;

	/* A halving shows only once the leaves in flight are down to the
	 * new number: until then the windows still measure the old load,
	 * and halving again on them would halve on the same news twice. */
	if (p->draining && (long)running > p->active)
		return;
	p->draining = false;
	p->history[p->history_len++ % PACE_HISTORY] = p->median_us;
	if (p->baseline_us == 0 || p->median_us < p->baseline_us)
		p->baseline_us = p->median_us;
	/* Slow start ends on the first congested window, as TCP's does on
	 * the first loss: it doubles every window, so waiting for the
	 * median of PACE_HISTORY of them would overshoot to -P, and each
	 * leaf started then must finish before a halving shows. */
	recent = p->slow_start ? p->median_us : recent_median(p);
	congested = recent > CONGESTED_FACTOR * p->baseline_us &&
	    recent > CONGESTED_FLOOR_US;
	if (congested) {
		p->slow_start = false;
		p->active = p->active > 1 ? p->active / 2 : 1;
		if (p->active < p->lowest)
			p->lowest = p->active;
		p->draining = true;
		p->history_len = 0;
	} else if (p->median_us <= LOW_FACTOR * p->baseline_us ||
	    p->median_us <= CONGESTED_FLOOR_US) {
		p->active = p->slow_start ? 2 * p->active : p->active + 1;
		if (p->active > p->max)
			p->active = p->max;
	}
}

int
pace_wake_in(const struct pace *p)
{
	long long ms = p->window_ms + WINDOW_MS - watch_clock_ms();

	return ms < 0 ? 0 : (int)ms;
}

void
pace_tick(struct pace *p, size_t running)
{
	long long now = watch_clock_ms();
	uint64_t n;

	if (now - p->window_ms < WINDOW_MS)
		return;
	collect(p);
	n = calls_in(p->window);
	/* Too few calls to tell: the window goes on. */
	if (n < WINDOW_CALLS)
		return;
	p->median_us = quantile(p->window, n, 0.5);
	p->p99_us = quantile(p->window, n, 0.99);
	if (p->adapt)
		adapt(p, running);

	memset(p->window, 0, sizeof(p->window));
	p->window_ms = now;
}

bool
pace_may_start(struct pace *p, size_t running, unsigned long long files,
    unsigned long long leaves_done, int *wake_ms)
{
	double now, allowed, expected, per_leaf;

	*wake_ms = -1;
	if ((long)running >= p->active)
		return false;
	if (p->max_rate <= 0)
		return true;
	/* How many files a leaf holds nobody knows before one is done: the
	 * first runs alone (its end wakes us). */
	if (leaves_done == 0)
		return running == 0;
	/* No burst: the files done, those the leaves in flight are expected
	 * to take (at the files per leaf so far) and this leaf's stay within
	 * N a second, so that the run's last leaf starts no sooner than its
	 * files allow. */
	now = (double)watch_clock_ms();
	per_leaf = (double)files / (double)leaves_done;
	allowed = p->max_rate * (now - p->rate_origin_ms) / 1000;
	expected = (double)files + (double)(running + 1) * per_leaf;
	/* Time nothing could use (a slow scan, a slow leaf) is not saved up
	 * for a rush afterwards: at most one leaf's files of credit. */
	if (allowed - expected > per_leaf) {
		p->rate_origin_ms += (allowed - expected - per_leaf) /
		    p->max_rate * 1000;
		allowed = expected + per_leaf;
	}
	if (expected <= allowed)
		return true;
	*wake_ms = (int)((expected - allowed) / p->max_rate * 1000) + 1;
	return false;
}

void
pace_latency(const struct pace *p, bool whole_run, double *p50_ms,
    double *p99_ms)
{
	uint64_t n;

	if (!whole_run) {
		*p50_ms = p->median_us / 1000;
		*p99_ms = p->p99_us / 1000;
		if (p->median_us == 0)
			*p50_ms = *p99_ms = NAN;
		return;
	}
	n = calls_in(p->total);
	*p50_ms = quantile(p->total, n, 0.5) / 1000;
	*p99_ms = quantile(p->total, n, 0.99) / 1000;
}

void
pace_free(struct pace *p)
{
	free(p->seen);
	p->seen = NULL;
}
