/*
 * stats.c - the --stats=json emitter (see stats.h).
 */
#include "stats.h"

#include <stdlib.h>

#include "diag.h"
#include "exitcode.h"

void
stats_clock_start(struct stats_clock *c)
{
	clock_gettime(CLOCK_MONOTONIC, &c->start);
}

double
stats_clock_seconds(const struct stats_clock *c)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - c->start.tv_sec) +
	    (double)(now.tv_nsec - c->start.tv_nsec) / 1e9;
}

static json_object *
checked(json_object *v)
{
	if (v == NULL)
		diag_errx(EXITCODE_FAILED, "out of memory");
	return v;
}

json_object *
stats_new(void)
{
	return checked(json_object_new_object());
}

void
stats_add_object(json_object *o, const char *key, json_object *value)
{
	if (json_object_object_add(o, key, value) != 0)
		diag_errx(EXITCODE_FAILED, "out of memory");
}

void
stats_add_count(json_object *o, const char *key, unsigned long long n)
{
	stats_add_object(o, key, checked(json_object_new_uint64(n)));
}

void
stats_add_bool(json_object *o, const char *key, bool value)
{
	stats_add_object(o, key, checked(json_object_new_boolean(value)));
}

void
stats_add_string(json_object *o, const char *key, const char *value)
{
	stats_add_object(o, key, checked(json_object_new_string(value)));
}

void
stats_add_seconds(json_object *o, const char *key, double seconds)
{
	char text[32];

	snprintf(text, sizeof(text), "%.3f", seconds < 0 ? 0.0 : seconds);
	stats_add_object(o, key,
	    checked(json_object_new_double_s(atof(text), text)));
}

void
stats_add_elapsed(json_object *o, const struct stats_clock *c)
{
	stats_add_seconds(o, STATS_KEY_ELAPSED, stats_clock_seconds(c));
}

void
stats_add_breakdown(json_object *o, const char *key,
    const char *const names[], const unsigned long long counts[], size_t n)
{
	json_object *b = stats_new();

	for (size_t i = 0; i < n; i++)
		stats_add_count(b, names[i], counts[i]);
	stats_add_object(o, key, b);
}

const char *
stats_text(json_object *o)
{
	return json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

int
stats_print(json_object *o, FILE *f)
{
	int ret = fprintf(f, "%s\n", stats_text(o)) < 0 || fflush(f) != 0;

	json_object_put(o);
	return ret ? -1 : 0;
}

unsigned long long
stats_get_count(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_uint64(v);
}
