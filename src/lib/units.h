/*
 * units.h - parsing the numbers users give as options: counts, durations
 * and sizes, range-checked the way OpenBSD's strtonum(3) does.
 */
#ifndef LEAFPACK_UNITS_H
#define LEAFPACK_UNITS_H

/*
 * Parses a decimal integer in [min, max] into *out.  Returns 0, or -1 with
 * *why set to a short reason ("invalid", "too small", "too large").
 */
int units_parse_count(const char *text, long long min, long long max,
    long long *out, const char **why);

/*
 * Parses a duration: a non-negative decimal number (fractions allowed)
 * optionally followed by one unit: ms, s (the default), m, h or d.
 * "1.5m" is 90 seconds.  Stores milliseconds in *out_ms.  Returns 0 or -1
 * with *why set.
 */
int units_parse_duration(const char *text, long long *out_ms,
    const char **why);

/*
 * Parses a size: a decimal number optionally followed by one of k, K, M, G,
 * T (powers of 1024; an optional trailing "B" or "iB" is accepted).  Stores
 * bytes in *out.  Returns 0 or -1 with *why set.
 */
int units_parse_size(const char *text, long long *out, const char **why);

#endif
