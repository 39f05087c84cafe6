/*
 * sortkey.h - sort keys: the value a record is sorted by (an RFC 3339 /
 * ISO 8601 instant or a JSON number), encoded as a byte string whose
 * memcmp() order is the numeric order, so records can be sorted, spilled
 * and merged by plain byte comparison.
 *
 * Instants and numbers share one scale: an instant counts as its seconds
 * since 1970-01-01T00:00:00Z, so "1970-01-01T00:00:01Z" equals the number 1.
 * All arithmetic is exact decimal: fractional seconds of any precision and
 * numbers of any size keep every digit (1.5 == 1.50, -0 == 0,
 * 1e400 > 1e399); no value passes through a double.
 *
 * Instants accepted (after decoding any \u escapes of the JSON string):
 *   YYYY-MM-DD                        midnight UTC
 *   YYYY-MM-DD<sep>hh:mm[:ss[.f...]][offset]
 * where <sep> is 'T', 't' or ' ', years are 0000-9999, the date must exist
 * (leap years checked), hh is 00-23, mm 00-59, ss 00-60 (a leap second
 * counts as 60 seconds into its minute, equal to the next minute's :00),
 * the fraction has one or more digits, and offset is Z, z, +hh:mm, -hh:mm,
 * +hhmm, -hhmm, +hh or -hh.  Without an offset the time is taken as UTC.
 * Any other string is not a key.
 *
 * Encoding of a key (value = 0.d1d2...dn x 10^E with d1 != 0, dn != 0):
 *   negative: 0x40, ~(E + 2^63) as 8 bytes big-endian, then for each digit
 *             the byte '9' - d + '0', then 0xFF (so a longer magnitude with
 *             the same leading digits sorts first, being smaller)
 *   zero:     0x80
 *   positive: 0xC0, E + 2^63 as 8 bytes big-endian, the digits as ASCII
 *   no key:   0xFF (after every keyed value)
 * Compare two keys with memcmp() over the shorter length, the shorter one
 * first on a tie (sortkey_compare()).  Exponents are exact while
 * |E| < 10^18; beyond that they saturate: every magnitude of at least
 * 10^(10^18 - 1) (such as 1e1000000000000000000 or 1e99999999999999999999)
 * is keyed as 10^(10^18 - 1), and every nonzero magnitude below 10^-10^18
 * as 10^(-10^18 - 1), so such numbers tie with each other but keep their
 * order with every other value (1e99999999999999999999 > 1e308 > 1 > 0 >
 * -1e-99999999999999999999 > -1e308 > -1e99999999999999999999).
 */
#ifndef LEAFPACK_SORTKEY_H
#define LEAFPACK_SORTKEY_H

#include <stddef.h>

#include "jsonscan.h"

/* A growable key buffer owned by the caller: start it zeroed ({0}). */
struct sortkey_buf {
	unsigned char *data;
	size_t len, cap;
};

/* What sortkey_from_keyval() made of a value. */
enum sortkey_result {
	SORTKEY_ERROR = -1,	/* out of memory (errno ENOMEM) */
	SORTKEY_NONE = 0,	/* not an instant or number: key 0xFF */
	SORTKEY_KEYED = 1	/* an instant or a number */
};

/*
 * Encodes the key of kv (from jsonscan.h) into out, replacing its contents:
 * a number or a string holding an instant gives SORTKEY_KEYED; anything
 * else (other strings, true, false, null, objects, arrays, a missing key)
 * gives SORTKEY_NONE with the one-byte key 0xFF.  Returns SORTKEY_ERROR
 * with errno ENOMEM if out cannot grow.
 */
enum sortkey_result sortkey_from_keyval(const struct jsonscan_keyval *kv,
    struct sortkey_buf *out);

/*
 * Like sortkey_from_keyval() for the JSON number text num[0..len) as
 * written in JSON (a number the scanner validated).
 */
enum sortkey_result sortkey_from_number(const char *num, size_t len,
    struct sortkey_buf *out);

/*
 * Like sortkey_from_keyval() for the string str[0..len) (raw JSON string
 * bytes between the quotes; escaped: they contain backslash escapes to
 * decode first).  SORTKEY_NONE unless it is an instant.
 */
enum sortkey_result sortkey_from_string(const char *str, size_t len,
    int escaped, struct sortkey_buf *out);

/*
 * Compares two encoded keys: memcmp() order, a key that is a prefix of the
 * other first.  Returns <0, 0 or >0.
 */
int sortkey_compare(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen);

/* Frees the memory of b and zeroes it. */
void sortkey_buf_free(struct sortkey_buf *b);

#endif
