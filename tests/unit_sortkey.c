/*
 * unit_sortkey - unit tests of sortkey.c: pairs of JSON values whose keys
 * must compare in a known order, values that are not keys, and a sort of
 * all the keyed values checked against the listed order.
 *
 * Values go through jsonscan_compact_value_key() on {"k": VALUE} first, so
 * the keys are built the way json-merge builds them.  A value may abbreviate
 * a run of one character as C{N} (9{400}: 400 nines).  Also replays the
 * fuzz fixtures of the sort-key harness (tests/fuzz/fixtures/sortkey-*).
 * Exits 0 if all pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"
#include "sortkey.h"

/* The checks of the fuzz harnesses and their fixtures, to replay them:
 * compiled in, since each unit test is built from its one .c file. */
#include "fuzz/check.c"
#include "fuzz/fixture.c"
#include "sortkey.h"

static int failures;

/* Expands the runs C{N} of pattern into out (of size cap); aborts if long. */
static const char *
expand(const char *pattern, char *out, size_t cap)
{
	const char *p = pattern;
	char *end;
	size_t n = 0;
	unsigned long k;

	for (; *p != '\0'; p++) {
		if (*p == '{' && n > 0) {
			k = strtoul(p + 1, &end, 10);
			if (*end != '}' || k == 0 || k > cap - n)
				abort();
			memset(out + n, out[n - 1], k - 1);
			n += k - 1;
			p = end;
		} else {
			if (n + 1 >= cap)
				abort();
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return out;
}

/* Builds the key of the JSON value text; returns the sortkey result. */
static enum sortkey_result
key_of(const char *value, struct sortkey_buf *kb)
{
	static struct jsonscan_keypath kp;
	struct jsonscan_keyval kv;
	struct jsonscan_error err;
	char text[1024], in[1100], out[1100];
	int n;

	if (kp.count == 0 && jsonscan_keypath_parse("k", &kp) < 0)
		abort();
	value = expand(value, text, sizeof(text));
	n = snprintf(in, sizeof(in), "{\"k\": %s}", value);
	if (n < 0 || (size_t)n >= sizeof(in))
		abort();
	if (jsonscan_compact_value_key(in, (size_t)n, out, &kp, &kv,
	    &err) < 0) {
		printf("FAIL: %s: invalid JSON: %s\n", value, err.reason);
		failures++;
	}
	return sortkey_from_keyval(&kv, kb);
}

/* Checks that a < b (rel -1), a == b (0) or a > b (1) as keys. */
static void
check_order(const char *a, int rel, const char *b)
{
	struct sortkey_buf ka = { 0 }, kb = { 0 };
	int c;

	if (key_of(a, &ka) != SORTKEY_KEYED || key_of(b, &kb) != SORTKEY_KEYED) {
		printf("FAIL: %s or %s: not keyed\n", a, b);
		failures++;
	} else {
		c = sortkey_compare(ka.data, ka.len, kb.data, kb.len);
		c = (c > 0) - (c < 0);
		if (c != rel) {
			printf("FAIL: %s %s %s, got %d\n", a,
			    rel < 0 ? "<" : rel > 0 ? ">" : "==", b, c);
			failures++;
		}
	}
	sortkey_buf_free(&ka);
	sortkey_buf_free(&kb);
}

/* Checks that value gives the same key bytes in a fresh and a used buffer. */
static void
check_deterministic(const char *value)
{
	struct sortkey_buf fresh = { 0 }, used = { 0 };

	key_of("-1.23456789012345678901234567890e-12345", &used);
	memset(used.data, 0xA5, used.cap);
	if (key_of(value, &fresh) != key_of(value, &used) ||
	    fresh.len != used.len || memcmp(fresh.data, used.data,
	    fresh.len) != 0) {
		printf("FAIL: %s: key not deterministic\n", value);
		failures++;
	}
	sortkey_buf_free(&fresh);
	sortkey_buf_free(&used);
}

static void
check_none(const char *value)
{
	struct sortkey_buf kb = { 0 }, k1 = { 0 };

	if (key_of(value, &kb) != SORTKEY_NONE || kb.len != 1 ||
	    kb.data[0] != 0xFF) {
		printf("FAIL: %s: should not be keyed\n", value);
		failures++;
	}
	/* And after every keyed value, even the largest. */
	key_of("1e999999", &k1);
	if (sortkey_compare(k1.data, k1.len, kb.data, kb.len) >= 0) {
		printf("FAIL: %s: does not sort last\n", value);
		failures++;
	}
	sortkey_buf_free(&kb);
	sortkey_buf_free(&k1);
}

/*
 * Checks every pair of a list in increasing order, where an entry with a
 * leading "=" equals the one before it; and that each key is the same
 * bytes however often it is built, whatever the buffer held before.
 */
static void
check_chain(const char *const *list, size_t n)
{
	size_t i, j, gi, gj;
	int rel;

	for (i = 0, gi = 0; i < n; i++) {
		gi += i > 0 && list[i][0] != '=';
		check_deterministic(list[i] + (list[i][0] == '='));
		for (j = i + 1, gj = gi; j < n; j++) {
			gj += list[j][0] != '=';
			rel = gi == gj ? 0 : -1;
			check_order(list[i] + (list[i][0] == '='), rel,
			    list[j] + (list[j][0] == '='));
			check_order(list[j] + (list[j][0] == '='), -rel,
			    list[i] + (list[i][0] == '='));
		}
	}
}

static void
check_sorted_list(void)
{
	/* Each entry: increasing; a leading "=" means equal to the previous. */
	static const char *const list[] = {
		"-1e400", "-1e399", "-12345678901234567890123",
		"-62135596800.5", "\"0001-01-01T00:00:00Z\"",
		"=-62135596800", "-62135596799.99",
		"\"1900-01-01T00:00:00Z\"", "=-2208988800",
		"\"1969-12-31T23:59:59.5Z\"", "=-0.5", "=-5e-1", "=-0.50",
		"-0.4999999999999999999999", "-1e-400",
		"0", "=-0", "=0.0", "=0e10", "=-0.0e-5",
		"=\"1970-01-01\"", "=\"1970-01-01T00:00:00Z\"",
		"=\"1970-01-01T01:00:00+01:00\"",
		"1e-400", "0.5", "=\"1970-01-01T00:00:00.5Z\"",
		"=\"1970-01-01T00:00:00.500000000000000000Z\"",
		"1", "=1.0", "=10e-1", "=\"1970-01-01T00:00:01Z\"",
		"1.5", "=1.50", "=15E-1", "=0.15e+1",
		"\"2024-02-28T23:59:59Z\"", "\"2024-02-29T00:00:00Z\"",
		"=1709164800", "\"2024-03-01T00:00:00Z\"",
		"\"2024-03-01T12:34:56Z\"", "=\"2024-03-01T12:34:56z\"",
		"=\"2024-03-01t12:34:56Z\"", "=\"2024-03-01 12:34:56\"",
		"=\"2024-03-01T14:34:56+02:00\"", "=\"2024-03-01T14:34:56+0200\"",
		"=\"2024-03-01T14:34:56+02\"", "=\"2024-03-01T07:34:56-05:00\"",
		"=\"2024-03-01T12:34:56.000Z\"", "=1709296496",
		"=\"\\u0032024-03-01T12:34:56Z\"",
		"\"2024-03-01T12:34:56.1Z\"", "=\"2024-03-01T12:34:56.10Z\"",
		"\"2024-03-01T12:34:56.10000000001Z\"",
		"\"2024-03-01T12:34:56.123456Z\"", "=1709296496.123456",
		"\"2024-03-01T12:34:56.1234561Z\"",
		"\"2024-03-01T12:34:56.999999999999999999999Z\"",
		"\"2024-03-01T12:34:57Z\"", "\"2024-03-01T12:34:59Z\"",
		"\"2024-03-01T12:34:60Z\"", "=\"2024-03-01T12:35:00Z\"",
		"\"2024-12-31T23:59:59.999Z\"", "\"2025-01-01T00:00:00Z\"",
		"=\"2024-12-31T19:00:00-05:00\"",
		"\"2100-03-01T00:00:00Z\"", "\"9999-12-31T23:59:59Z\"",
		"12345678901234567890123", "1e399", "=10e398", "1e400",
		"1.0000000000000000000000001e400",
	};

	check_chain(list, sizeof(list) / sizeof(list[0]));
}

/*
 * Exponents of 19, 20, 25 and 400 digits (issue 14, bug 8: the exponent
 * overflowed a signed long and 1e9999999999999999999 sorted before 1).
 * Magnitudes of 10^(10^18 - 1) and more saturate and tie, as do nonzero
 * ones below 10^-10^18; everything else keeps its exact order.
 */
static void
check_huge_exponents(void)
{
	static const char *const list[] = {
		/* Negative, saturated: -10^(10^18 - 1) and beyond. */
		"-1e9{400}", "=-1e+9{400}", "=-1.5e10{19}", "=-9.99e+9{25}",
		"=-1e10{18}", "=-1e9{19}", "=-1e9{18}", "=-0.1e10{18}",
		"=-12.5e10{24}",
		/* Negative, exact: E just inside the limit. */
		"-1e9{17}8", "=-0.01e10{18}", "-0.001e10{18}", "=-1e9{17}7",
		"-1e9999",
		"-1e308", "-1e18", "-1.5", "-1",
		/* Negative, tiny: exact, then saturated next to zero. */
		"-1e-400", "-1e-10{18}", "=-0.1e-9{18}",
		"-1e-9{19}", "=-1.5e-10{19}", "=-9.99e-9{25}", "=-1e-9{400}",
		"=-0.01e-10{18}", "=-1e-10{17}1",
		/* Zero, whatever its exponent. */
		"0", "=0e9{400}", "=-0.0e-9{25}", "=0.000e+10{19}",
		/* Positive, tiny: saturated, then exact. */
		"1e-9{400}", "=9.99e-9{25}", "=1.5e-10{19}", "=1e-9{19}",
		"=1e-10{17}1", "=0.01e-10{18}", "=123.456e-10{24}",
		"1e-10{18}", "=0.1e-9{18}", "1e-400", "1e-5",
		/* Positive, exact. */
		"1", "=1.0", "1.5", "1e18", "1e308", "1e9999", "0.001e10{18}",
		"=1e9{17}7", "1e9{17}8", "=10e9{17}7", "=0.01e10{18}",
		/* Positive, saturated: 10^(10^18 - 1) and beyond. */
		"1e9{18}", "=0.1e10{18}", "=1e10{18}", "=1e9{19}",
		"=1.5e+10{19}", "=9.99e9{25}", "=1e9{400}", "=1.5e9{400}",
		"=12345678901234567890e9{25}",
	};

	check_chain(list, sizeof(list) / sizeof(list[0]));
	/* The case of the issue, spelled out, next to a record keyed 1. */
	check_order("1e9999999999999999999", 1, "1");
	check_order("-1e9999999999999999999", -1, "-1e308");
}

int
main(void)
{
	static const char *const none[] = {
		"\"hello\"", "\"\"", "true", "false", "null", "{}", "[1]",
		"{\"a\":1}", "\"2024-02-30T00:00:00Z\"", "\"2023-02-29\"",
		"\"2024-13-01\"", "\"2024-03-01T24:00:00Z\"",
		"\"2024-03-01T12:60:00Z\"", "\"2024-03-01T12:00:61Z\"",
		"\"2024-03-01T12:00:00.Z\"", "\"2024-03-01T12:00:00+2400\"",
		"\"2024-03-01T12:00:00+02:0\"", "\"2024-03-01T12:00:00 Z\"",
		"\"2024-03-01X12:00:00Z\"", "\"2024-3-01\"", "\"24-03-01\"",
		"\"2024-03-01T12\"", "\"2024-03-01T12:00:00ZZ\"",
		"\" 2024-03-01\"", "\"2024-03-01 \"", "\"1709296496\"",
	};
	struct sortkey_buf kb = { 0 };
	struct jsonscan_keyval missing = { 0 };
	size_t i;

	check_sorted_list();
	check_huge_exponents();
	/* The pairs the brief names, spelled out. */
	check_order("\"2024-03-01T12:34:56.1Z\"", -1,
	    "\"2024-03-01T12:34:56.10000000001Z\"");
	check_order("\"2024-03-01T12:34:56.5Z\"", 0,
	    "\"2024-03-01T12:34:56.50Z\"");
	check_order("\"2000-02-29T00:00:00Z\"", 0, "951782400");
	check_order("\"1900-02-28T00:00:00Z\"", 0, "-2203977600");
	check_order("\"1899-12-31T23:59:59.75Z\"", 0, "-2208988800.25");
	check_order("1e400", 1, "9e399");
	check_order("-1e400", -1, "-9e399");
	check_order("-0.5", -1, "-0.49");
	check_order("-0.5", 1, "-0.51");
	check_order("-5", -1, "-4.9999");
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		check_none(none[i]);
	if (sortkey_from_keyval(&missing, &kb) != SORTKEY_NONE) {
		printf("FAIL: a missing key is keyed\n");
		failures++;
	}
	sortkey_buf_free(&kb);
	failures += fuzzcheck_replay("sortkey-", fuzzcheck_sortkey);
	if (failures != 0) {
		printf("unit_sortkey: %d failures\n", failures);
		return 1;
	}
	printf("unit_sortkey: all passed\n");
	return 0;
}
