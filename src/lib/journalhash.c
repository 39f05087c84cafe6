/*
 * journalhash.c - the records, bytes and hash of a byte stream (see
 * journalhash.h).
 */
#include "journalhash.h"

#include <endian.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * A word-at-a-time multiply-rotate mix finished with murmur3's fmix64: fast
 * enough not to show next to JSON validation, and it only has to catch
 * accidents (a filter between the two programs, a truncated stream), not
 * adversaries.
 */
#define HASH_SEED 0x6c656166706163ebULL	/* "leafpac" */
#define HASH_MUL 0x9e3779b97f4a7c15ULL

static uint64_t
fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
hash_word(uint64_t state, const unsigned char *p)
{
	uint64_t w;

	/* The word is little-endian whatever the machine: one load here
	 * (the byte-by-byte form was 35% of json-merge's instructions). */
	memcpy(&w, p, sizeof(w));
	w = le64toh(w);
	state ^= w * HASH_MUL;
	state = (state << 27) | (state >> 37);
	return state * 5 + 0x52dce729;
}

void
journal_hash_init(struct journal_hash *h)
{
	memset(h, 0, sizeof(*h));
	h->state = HASH_SEED;
}

/*
 * The newlines of the word at p, one per byte lane (0x01 in each lane that
 * holds '\n'): the exact zero-byte test of w ^ "\n\n\n\n\n\n\n\n", no carry
 * between lanes.  Summed with the hash in one pass over the bytes, where a
 * memchr() pass of its own cost as much as the hash.
 */
static uint64_t
newline_lanes(const unsigned char *p)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t w, x;

	memcpy(&w, p, sizeof(w));
	x = w ^ 0x0a0a0a0a0a0a0a0aULL;
	return (~(((x & low7) + low7) | x) & ~low7) >> 7;
}

void
journal_hash_update(struct journal_hash *h, const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + len;
	unsigned long long records = 0;
	uint64_t state;

	h->bytes += len;
	if (h->ntail > 0) {
		while (h->ntail < 8 && p < end) {
			h->records += *p == '\n';
			h->tail[h->ntail++] = *p++;
		}
		if (h->ntail < 8)
			return;
		h->state = hash_word(h->state, h->tail);
		h->ntail = 0;
	}
	state = h->state;
#ifdef __SSE2__
	/* The newlines of 16 bytes a step with SSE2 (every x86-64): the
	 * bytes equal to '\n' as 1s, summed into two 64-bit counts. */
	if (end - p >= 16) {
		const __m128i nl = _mm_set1_epi8('\n'), one = _mm_set1_epi8(1);
		__m128i sums = _mm_setzero_si128();

		for (; end - p >= 16; p += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)p);

			state = hash_word(hash_word(state, p), p + 8);
			sums = _mm_add_epi64(sums, _mm_sad_epu8(_mm_and_si128(
			    _mm_cmpeq_epi8(v, nl), one), _mm_setzero_si128()));
		}
		records += (unsigned long long)_mm_cvtsi128_si64(sums) +
		    (unsigned long long)_mm_cvtsi128_si64(
		    _mm_unpackhi_epi64(sums, sums));
	}
#endif
	while (end - p >= 8) {
		/* A lane counts one newline a word: 255 words fill it. */
		size_t words = (size_t)(end - p) / 8;
		const unsigned char *stop = p + 8 * (words < 255 ? words : 255);
		uint64_t lanes = 0;

		for (; p < stop; p += 8) {
			state = hash_word(state, p);
			lanes += newline_lanes(p);
		}
		/* Up to 8 x 255: the byte lanes are summed in 16 bits. */
		lanes = (lanes & 0x00ff00ff00ff00ffULL) +
		    ((lanes >> 8) & 0x00ff00ff00ff00ffULL);
		records += (lanes * 0x0001000100010001ULL) >> 48;
	}
	h->state = state;
	h->records += records;
	while (p < end) {
		h->records += *p == '\n';
		h->tail[h->ntail++] = *p++;
	}
}

uint64_t
journal_hash_final(const struct journal_hash *h)
{
	unsigned char last[8] = { 0 };
	uint64_t state;

	memcpy(last, h->tail, h->ntail);
	state = hash_word(h->state, last);
	return fmix64(state ^ h->bytes);
}
