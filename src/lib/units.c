#include "units.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int
units_parse_count(const char *text, long long min, long long max,
    long long *out, const char **why)
{
	char *end;
	long long value;

	errno = 0;
	if (text == NULL || *text == '\0' || *text == ' ') {
		*why = "invalid";
		return -1;
	}
	value = strtoll(text, &end, 10);
	if (*end != '\0') {
		*why = "invalid";
		return -1;
	}
	if ((errno == ERANGE && value == LLONG_MIN) || value < min) {
		*why = "too small";
		return -1;
	}
	if ((errno == ERANGE && value == LLONG_MAX) || value > max) {
		*why = "too large";
		return -1;
	}
	*out = value;
	return 0;
}

/* Parses a non-negative decimal with an optional fraction; *end is set past
 * it.  Returns -1 when there is no number. */
static int
parse_decimal(const char *text, double *value, const char **end)
{
	char *stop;

	if (!(*text >= '0' && *text <= '9') && *text != '.')
		return -1;
	errno = 0;
	*value = strtod(text, &stop);
	if (stop == text || errno == ERANGE || !isfinite(*value))
		return -1;
	/* strtod takes hex, exponents and "inf"; users mean plain decimals. */
	for (const char *p = text; p < stop; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -1;
	*end = stop;
	return 0;
}

int
units_parse_duration(const char *text, long long *out_ms, const char **why)
{
	static const struct { const char *suffix; double ms; } units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	const char *rest;
	double value;
	size_t i;

	if (text == NULL || parse_decimal(text, &value, &rest) != 0) {
		*why = "invalid duration";
		return -1;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(rest, units[i].suffix) == 0) {
			double ms = value * units[i].ms;
			if (ms > 1e15) {
				*why = "duration too large";
				return -1;
			}
			*out_ms = (long long)llround(ms);
			return 0;
		}
	}
	*why = "invalid duration (units: ms, s, m, h, d)";
	return -1;
}

int
units_parse_size(const char *text, long long *out, const char **why)
{
	const char *rest;
	double value, scale = 1;

	if (text == NULL || parse_decimal(text, &value, &rest) != 0) {
		*why = "invalid size";
		return -1;
	}
	switch (*rest) {
	case 'k': case 'K': scale = 1024.0; rest++; break;
	case 'M': case 'm': scale = 1024.0 * 1024; rest++; break;
	case 'G': case 'g': scale = 1024.0 * 1024 * 1024; rest++; break;
	case 'T': case 't': scale = 1024.0 * 1024 * 1024 * 1024; rest++; break;
	}
	if (strcmp(rest, "") != 0 && strcmp(rest, "B") != 0 &&
	    strcmp(rest, "iB") != 0) {
		*why = "invalid size (units: k, M, G, T)";
		return -1;
	}
	if (value * scale > 9e18) {
		*why = "size too large";
		return -1;
	}
	*out = (long long)(value * scale);
	return 0;
}
