/*
 * stats.h - the one emitter of --stats=json: the JSON object a program
 * prints as the last line of its standard error (or, in the leaf stream,
 * one per leaf), so that every program writes the same keys the same way.
 *
 * The keys every program shares:
 *   "elapsed"  seconds since the program (or the leaf) started, a number
 *              with three decimals;
 *   "stalled"  a count (of directories or leaves that timed out), in the
 *              programs that have a time limit.
 * Counts are unsigned integers; a breakdown (sources skipped by reason) is
 * an object of counts.  Each program's keys are listed in the STATS
 * section of its man page.
 */
#ifndef LEAFPACK_STATS_H
#define LEAFPACK_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#define STATS_KEY_ELAPSED "elapsed"
#define STATS_KEY_STALLED "stalled"

/* The monotonic clock that "elapsed" reads. */
struct stats_clock {
	struct timespec start;
};
void stats_clock_start(struct stats_clock *c);
double stats_clock_seconds(const struct stats_clock *c);

/* A new, empty object; exits with status 4 when out of memory (as every
 * stats_add_* does: a summary is not worth a half-done one). */
json_object *stats_new(void);

void stats_add_count(json_object *o, const char *key, unsigned long long n);
void stats_add_bool(json_object *o, const char *key, bool value);
void stats_add_string(json_object *o, const char *key, const char *value);

/* "key": seconds, with three decimals ("0.00017029400000000001" is noise). */
void stats_add_seconds(json_object *o, const char *key, double seconds);

/* "elapsed" from the clock. */
void stats_add_elapsed(json_object *o, const struct stats_clock *c);

/* "key": {names[i]: counts[i], ...} for the n names. */
void stats_add_breakdown(json_object *o, const char *key,
    const char *const names[], const unsigned long long counts[], size_t n);

/* Adds value (owned by o afterwards) under key. */
void stats_add_object(json_object *o, const char *key, json_object *value);

/* The object as one line of JSON (no spaces, no escaped slashes), valid
 * until o changes or is freed. */
const char *stats_text(json_object *o);

/* Prints the object and a newline on f and flushes it; frees o.  Returns
 * 0, or -1 when f could not be written. */
int stats_print(json_object *o, FILE *f);

/* The count under key of a parsed object (0 when absent or not a count). */
unsigned long long stats_get_count(json_object *o, const char *key);

#endif
