/*
 * sortkey.c - instants and numbers as memcmp-ordered keys.
 *
 * Every key is built the same way: the decimal digits of the value are
 * written after the 9 header bytes of the key, with an exponent E such that
 * the value is 0.digits x 10^E; finish() then strips leading zeros (each one
 * lowers E) and trailing zeros, and writes the header.  Working on the
 * digits as text keeps every value exact at any size and precision.
 */
#include "sortkey.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 9			/* class byte + 8 exponent bytes */
/* Keys keep |E| below EXPONENT_LIMIT exactly; beyond it they saturate. */
#define EXPONENT_LIMIT INT64_C(1000000000000000000)
/* Where the exponent written in a number stops being read: far enough past
 * the limit that no count of digits (a number's length) brings E back
 * inside it, and low enough that E never overflows. */
#define EXPONENT_CAP (2 * EXPONENT_LIMIT)

#define IS_DIGIT(c) ((unsigned char)((c) - '0') < 10)

void
sortkey_buf_free(struct sortkey_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int
reserve(struct sortkey_buf *b, size_t want)
{
	unsigned char *p;
	size_t cap;

	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want) {
		if (cap > SIZE_MAX / 2) {
			errno = ENOMEM;
			return -1;
		}
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

static enum sortkey_result
no_key(struct sortkey_buf *out)
{
	if (reserve(out, 1) < 0)
		return SORTKEY_ERROR;
	out->data[0] = 0xFF;
	out->len = 1;
	return SORTKEY_NONE;
}

/*
 * Turns the n digits at out->data + HEADER (value 0.digits x 10^e, negated
 * if neg) into the key.  out must have room for HEADER + n + 1 bytes.
 */
static enum sortkey_result
finish(struct sortkey_buf *out, int neg, size_t n, int64_t e)
{
	unsigned char *d = out->data + HEADER;
	uint64_t biased;
	size_t lz = 0, i;

	while (lz < n && d[lz] == '0')
		lz++;
	if (lz == n) {
		out->data[0] = 0x80;
		out->len = 1;
		return SORTKEY_KEYED;
	}
	e -= (int64_t)lz;
	n -= lz;
	if (lz > 0)
		memmove(d, d + lz, n);
	while (d[n - 1] == '0')
		n--;
	if (e >= EXPONENT_LIMIT || e <= -EXPONENT_LIMIT) {
		/* Saturate: every magnitude this large is 10^(LIMIT - 1), every
		 * one this small 10^(-LIMIT - 1), so they tie with each other
		 * but keep their order with every exact value. */
		d[0] = '1';
		n = 1;
		e = e > 0 ? EXPONENT_LIMIT : -EXPONENT_LIMIT;
	}
	/* Biasing maps the signed exponents onto unsigned order. */
	biased = (uint64_t)e ^ (UINT64_C(1) << 63);
	if (neg) {
		/* Bigger magnitudes sort first among negatives: complement
		 * the exponent and digits, and end with a byte above every
		 * digit so that a longer magnitude sorts before its prefix. */
		biased = ~biased;
		for (i = 0; i < n; i++)
			d[i] = (unsigned char)('9' - d[i] + '0');
		d[n++] = 0xFF;
	}
	out->data[0] = neg ? 0x40 : 0xC0;
	biased = htobe64(biased);
	memcpy(out->data + 1, &biased, 8);
	out->len = HEADER + n;
	return SORTKEY_KEYED;
}

enum sortkey_result
sortkey_from_number(const char *num, size_t len, struct sortkey_buf *out)
{
	const char *p = num, *end = num + len;
	int64_t nint = 0, exp = 0;
	unsigned char *d;
	size_t n = 0;
	int neg = 0, exp_neg = 0;

	if (reserve(out, HEADER + len + 1) < 0)
		return SORTKEY_ERROR;
	d = out->data + HEADER;
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	for (; p < end && IS_DIGIT(*p); p++, nint++)
		d[n++] = (unsigned char)*p;
	if (p < end && *p == '.')
		for (p++; p < end && IS_DIGIT(*p); p++)
			d[n++] = (unsigned char)*p;
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			exp_neg = *p++ == '-';
		/* Checked before multiplying: exp stays below CAP + 10. */
		for (; p < end && IS_DIGIT(*p); p++)
			exp = exp > EXPONENT_CAP / 10 ? EXPONENT_CAP :
			    exp * 10 + (*p - '0');
	}
	if (n == 0 || p != end)
		return no_key(out);
	return finish(out, neg, n, nint + (exp_neg ? -exp : exp));
}

/* Writes v in decimal at d (no NUL); returns the number of digits. */
static int
put_decimal(unsigned char *d, uint64_t v)
{
	static const char pairs[201] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "62636465666768697071727374757677787980818283848586878889909192"
	    "93949596979899";
	unsigned char tmp[20];
	int n = sizeof(tmp);

	/* From the last digits back, two at a time, then one copy. */
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		n -= 2;
		memcpy(tmp + n, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		n -= 2;
		memcpy(tmp + n, pairs + 2 * v, 2);
	} else {
		tmp[--n] = (unsigned char)('0' + v);
	}
	memcpy(d, tmp + n, sizeof(tmp) - (size_t)n);
	return (int)sizeof(tmp) - n;
}

/* Reads k digits at s as a number; -1 if they are not all digits. */
static int
digits(const unsigned char *s, int k)
{
	int v = 0;

	while (k-- > 0) {
		if (!IS_DIGIT(*s))
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/*
 * Parses the instant t[0..n) into whole seconds since the epoch (*secs)
 * and the digits of its fraction (*frac, *flen, trailing zeros dropped).
 * Returns 0, or -1 if t is not an instant.
 */
static int
parse_instant(const unsigned char *t, size_t n, int64_t *secs,
    const unsigned char **frac, size_t *flen)
{
	const unsigned char *p = t + 10, *end = t + n;
	int y, mo, d, h = 0, mi = 0, s = 0, oh, om = 0, off = 0;

	*frac = NULL;
	*flen = 0;
	if (n < 10 || t[4] != '-' || t[7] != '-')
		return -1;
	y = digits(t, 4);
	mo = digits(t + 5, 2);
	d = digits(t + 8, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	if (p < end) {
		if ((*p != 'T' && *p != 't' && *p != ' ') || end - p < 6 ||
		    p[3] != ':')
			return -1;
		h = digits(p + 1, 2);
		mi = digits(p + 4, 2);
		if (h < 0 || h > 23 || mi < 0 || mi > 59)
			return -1;
		p += 6;
		if (p < end && *p == ':') {
			s = end - p >= 3 ? digits(p + 1, 2) : -1;
			if (s < 0 || s > 60)
				return -1;
			p += 3;
			if (p < end && *p == '.') {
				*frac = ++p;
				while (p < end && IS_DIGIT(*p))
					p++;
				*flen = (size_t)(p - *frac);
				if (*flen == 0)
					return -1;
			}
		}
		if (p < end && (*p == 'Z' || *p == 'z')) {
			p++;
		} else if (p < end && (*p == '+' || *p == '-')) {
			oh = end - p >= 3 ? digits(p + 1, 2) : -1;
			if (end - p == 6 && p[3] == ':')
				om = digits(p + 4, 2);
			else if (end - p == 5)
				om = digits(p + 3, 2);
			else if (end - p != 3)
				return -1;
			if (oh < 0 || oh > 23 || om < 0 || om > 59)
				return -1;
			/* Local time minus the offset is UTC. */
			off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
			p = end;
		}
		if (p != end)
			return -1;
	}
	while (*flen > 0 && (*frac)[*flen - 1] == '0')
		(*flen)--;
	*secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
	    off;
	return 0;
}

enum sortkey_result
sortkey_from_string(const char *str, size_t len, int escaped,
    struct sortkey_buf *out)
{
	const unsigned char *t = (const unsigned char *)str, *frac;
	unsigned char *d;
	size_t flen, n, i;
	int64_t secs;
	int neg, k;

	/* Most strings that are not instants fail here, cheaply. */
	if (len < 10 || (!escaped && (!IS_DIGIT(str[0]) || str[4] != '-')))
		return no_key(out);
	if (reserve(out, 2 * len + 64) < 0)
		return SORTKEY_ERROR;
	if (escaped) {
		/* Decoded above the digits' area: they never reach it. */
		d = out->data + len + 40;
		n = jsonscan_unescape(str, len, (char *)d);
		t = d;
	} else {
		n = len;
	}
	if (parse_instant(t, n, &secs, &frac, &flen) < 0)
		return no_key(out);
	d = out->data + HEADER;
	neg = secs < 0;
	if (neg && flen > 0) {
		/* -5 + 0.25 = -(4 + 0.75): the whole part gives one up and
		 * the fraction becomes its complement to 1. */
		k = put_decimal(d, (uint64_t)-secs - 1);
		for (i = 0; i < flen; i++)
			d[k + i] = (unsigned char)('9' - frac[i] + '0');
		d[k + flen - 1]++;
	} else {
		k = put_decimal(d, neg ? (uint64_t)-secs : (uint64_t)secs);
		if (flen > 0)
			memmove(d + k, frac, flen);
	}
	return finish(out, neg, (size_t)k + flen, k);
}

enum sortkey_result
sortkey_from_keyval(const struct jsonscan_keyval *kv, struct sortkey_buf *out)
{
	switch (kv->type) {
	case JSONSCAN_KEY_NUMBER:
		return sortkey_from_number(kv->data, kv->len, out);
	case JSONSCAN_KEY_STRING:
		return sortkey_from_string(kv->data, kv->len, kv->escaped,
		    out);
	default:
		return no_key(out);
	}
}

int
sortkey_compare(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}
