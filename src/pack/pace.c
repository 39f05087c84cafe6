/*
 * pace.c - the slots in use and --max-rate (see pace.h).
 */
#include "pace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "exitcode.h"

/* How often the latency is looked at, and what a window needs to count. */
#define WINDOW_MS 500
#define WINDOW_CALLS 16
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

			p->window[b] += d;
			p->total[b] += d;
			seen[b] = now[b];
		}
	}
}

/* Slow start, then additive increase, multiplicative decrease, on the
 * window's median. */
static void
adapt(struct pace *p)
{
	bool congested;

	if (p->baseline_us == 0 || p->median_us < p->baseline_us)
		p->baseline_us = p->median_us;
	congested = p->median_us > CONGESTED_FACTOR * p->baseline_us &&
	    p->median_us > CONGESTED_FLOOR_US;
	p->high = congested ? p->high + 1 : 0;
	/* One slow window is noise; two in a row are the share. */
	if (p->high >= 2) {
		p->slow_start = false;
		p->active = p->active > 1 ? p->active / 2 : 1;
		if (p->active < p->lowest)
			p->lowest = p->active;
		/* The halving shows in the next windows, not this one. */
		p->hold = 2;
		p->high = 0;
	} else if (p->hold > 0)
		p->hold--;
	else if (!congested && (p->median_us <= LOW_FACTOR *
	    p->baseline_us || p->median_us <= CONGESTED_FLOOR_US)) {
		p->active = p->slow_start ? 2 * p->active : p->active + 1;
		if (p->active > p->max)
			p->active = p->max;
	}
}

void
pace_tick(struct pace *p)
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
		adapt(p);

	memset(p->window, 0, sizeof(p->window));
	p->window_ms = now;
}

bool
pace_may_start(const struct pace *p, size_t running,
    unsigned long long files, unsigned long long with_files, int *wake_ms)
{
	double secs, allowed, expected;

	*wake_ms = -1;
	if ((long)running >= p->active)
		return false;
	if (p->max_rate <= 0)
		return true;
	/* A second's worth of burst; the leaves in flight count at the
	 * files per leaf so far (one before any is known). */
	secs = (double)(watch_clock_ms() - p->started_ms) / 1000;
	allowed = p->max_rate * (secs + 1);
	expected = (double)files + (double)(running + 1) * (with_files > 0 ?
	    (double)files / (double)with_files : 1);
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
