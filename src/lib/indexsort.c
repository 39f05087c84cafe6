/*
 * indexsort.c - runsort's index in key order.
 *
 * The keys of one leaf share their first bytes (the type tag and exponent of
 * sortkey.h, the digits of the day), so a comparison sort spends most of
 * its time on entries whose prefixes agree for 9 to 14 bytes, and on cache
 * misses: on the big leaf (160,000 records) it was a tenth of json-merge's
 * time.  Given scratch space, the index is sorted instead by radix on the
 * 8 key bytes from the first one in which any two entries differ (LSD, a
 * byte a pass, stable, passes whose byte is the same everywhere skipped),
 * and only entries equal in those 8 bytes are compared as before.
 */
#include "indexsort.h"

#include <string.h>

/* Entries from which radix sorting pays for its 16 KiB of counts. */
#define RADIX_MIN 1024
/* Where the radix window may start at most: it ends inside the prefix. */
#define WINDOW_MAX (8 * (INDEX_PREFIX_WORDS - 1))

/* Key bytes [8 * word, 8 * word + 8) as a big-endian integer, 0-padded. */
static uint64_t
key_prefix(const char *key, size_t len, size_t word)
{
	uint64_t v = 0;
	size_t i;

	if (len >= 8 * word + 8) {
		memcpy(&v, key + 8 * word, 8);
		return __builtin_bswap64(v);
	}
	for (i = 8 * word; i < 8 * word + 8; i++)
		v = (v << 8) | (i < len ? (unsigned char)key[i] : 0);
	return v;
}

void
index_entry_set(struct index_entry *e, const char *key, size_t keylen,
    uint64_t off)
{
	for (int w = 0; w < INDEX_PREFIX_WORDS; w++)
		e->prefix[w] = key_prefix(key, keylen, w);
	e->off = off;
}

/* Inlined: the sort's inner loops call it for every step. */
static inline __attribute__((always_inline)) int
entry_compare(const char *arena, const struct index_entry *a,
    const struct index_entry *b)
{
	int c;

	for (int w = 0; w < INDEX_PREFIX_WORDS; w++)
		if (a->prefix[w] != b->prefix[w])
			return a->prefix[w] < b->prefix[w] ? -1 : 1;
	c = index_key_compare(arena + a->off + 4, index_load32(arena + a->off),
	    arena + b->off + 4, index_load32(arena + b->off),
	    8 * INDEX_PREFIX_WORDS);
	if (c != 0)
		return c;
	/* Offsets grow with insertion order: this makes the sort stable. */
	return a->off < b->off ? -1 : a->off > b->off;
}

static void
entry_swap(struct index_entry *a, struct index_entry *b)
{
	struct index_entry t = *a;

	*a = *b;
	*b = t;
}

static void
insertion_sort(const char *arena, struct index_entry *e, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct index_entry x = e[i];
		size_t j = i;

		while (j > 0 && entry_compare(arena, &x, &e[j - 1]) < 0) {
			e[j] = e[j - 1];
			j--;
		}
		e[j] = x;
	}
}

static void
sift_down(const char *arena, struct index_entry *e, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			return;
		if (c + 1 < n && entry_compare(arena, &e[c], &e[c + 1]) < 0)
			c++;
		if (entry_compare(arena, &e[i], &e[c]) >= 0)
			return;
		entry_swap(&e[i], &e[c]);
		i = c;
	}
}

static void
heap_sort(const char *arena, struct index_entry *e, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(arena, e, i, n);
	for (size_t i = n; i-- > 1;) {
		entry_swap(&e[0], &e[i]);
		sift_down(arena, e, 0, i);
	}
}

/*
 * Introsort: the comparison is a total order (offsets break ties), so an
 * unstable in-place sort gives the stable result without a second array.
 */
static void
intro_sort(const char *arena, struct index_entry *e, size_t n, int depth)
{
	while (n > 16) {
		size_t mid = n / 2, i, j;
		struct index_entry pivot;

		if (depth-- == 0) {
			heap_sort(arena, e, n);
			return;
		}
		if (entry_compare(arena, &e[mid], &e[0]) < 0)
			entry_swap(&e[mid], &e[0]);
		if (entry_compare(arena, &e[n - 1], &e[mid]) < 0) {
			entry_swap(&e[n - 1], &e[mid]);
			if (entry_compare(arena, &e[mid], &e[0]) < 0)
				entry_swap(&e[mid], &e[0]);
		}
		pivot = e[mid];
		i = 0;
		j = n - 1;
		for (;;) {
			while (entry_compare(arena, &e[i], &pivot) < 0)
				i++;
			while (entry_compare(arena, &pivot, &e[j]) < 0)
				j--;
			if (i >= j)
				break;
			entry_swap(&e[i], &e[j]);
			i++;
			j--;
		}
		/* Recurse into the smaller side to bound the stack. */
		if (j + 1 < n - j - 1) {
			intro_sort(arena, e, j + 1, depth);
			e += j + 1;
			n -= j + 1;
		} else {
			intro_sort(arena, e + j + 1, n - j - 1, depth);
			n = j + 1;
		}
	}
	insertion_sort(arena, e, n);
}

static void
compare_sort(const char *arena, struct index_entry *e, size_t n)
{
	int depth = 0;

	for (size_t m = n; m > 1; m >>= 1)
		depth += 2;
	intro_sort(arena, e, n, depth);
}

/* An entry's radix key, and where the entry was. */
struct radix_item {
	uint64_t key;
	uint64_t from;
};

size_t
index_scratch_size(size_t n)
{
	/* Two arrays of items, which then hold the entries in their new
	 * order (permute()). */
	return n < RADIX_MIN ? 0 : 2 * n * sizeof(struct radix_item);
}

/* The first byte of the prefix in which two entries differ (24: none). */
static int
first_difference(const struct index_entry *e, size_t n)
{
	uint64_t diff[INDEX_PREFIX_WORDS] = { 0 };

	for (size_t i = 1; i < n; i++)
		for (int w = 0; w < INDEX_PREFIX_WORDS; w++)
			diff[w] |= e[i].prefix[w] ^ e[0].prefix[w];
	for (int w = 0; w < INDEX_PREFIX_WORDS; w++)
		if (diff[w] != 0)
			return 8 * w + __builtin_clzll(diff[w]) / 8;
	return 8 * INDEX_PREFIX_WORDS;
}

/* Prefix bytes [at, at + 8) as a big-endian integer; at <= WINDOW_MAX. */
static uint64_t
window(const struct index_entry *e, int at)
{
	int w = at / 8, shift = 8 * (at % 8);
	uint64_t v = e->prefix[w] << shift;

	if (shift != 0)
		v |= e->prefix[w + 1] >> (64 - shift);
	return v;
}

/*
 * e[j] becomes the old e[item[j].from], gathered and copied back: the loads
 * are independent (a cycle-following permutation in place chases one miss
 * after another, and took half of the sort).  The gathered entries (32
 * bytes) go over the items (16) themselves, from the last: entry j covers
 * items 2j and 2j + 1, read before it when j > 0, and the item j it needs
 * is read first.  The items must be in the first half of the scratch.
 */
_Static_assert(sizeof(struct index_entry) == 2 * sizeof(struct radix_item),
    "an entry covers two items");

static void
permute(struct index_entry *e, struct radix_item *item, size_t n)
{
	struct index_entry *to = (struct index_entry *)item;

	for (size_t j = n; j-- > 0;) {
		size_t from = item[j].from;

		to[j] = e[from];
	}
	memcpy(e, to, n * sizeof(*e));
}

/* Sorts by radix on the window; 0 when no window tells entries apart. */
static int
radix_sort(const char *arena, struct index_entry *e, size_t n, void *scratch)
{
	struct radix_item *a = scratch, *b = a + n;
	size_t count[8][256];
	int at = first_difference(e, n);

	if (at == 8 * INDEX_PREFIX_WORDS)
		return 0;
	if (at > WINDOW_MAX)
		at = WINDOW_MAX;
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++) {
		uint64_t key = window(&e[i], at);

		a[i].key = key;
		a[i].from = i;
		for (int d = 0; d < 8; d++)
			count[d][(key >> (8 * d)) & 0xFF]++;
	}
	for (int d = 0; d < 8; d++) {
		size_t *c = count[d], pos = 0;
		struct radix_item *t;

		if (c[(a[0].key >> (8 * d)) & 0xFF] == n)
			continue;	/* the same byte everywhere */
		for (int v = 0; v < 256; v++) {
			size_t m = c[v];

			c[v] = pos;
			pos += m;
		}
		for (size_t i = 0; i < n; i++)
			b[c[(a[i].key >> (8 * d)) & 0xFF]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	if (a != scratch)
		memcpy(scratch, a, n * sizeof(*a));
	permute(e, scratch, n);
	/* Equal windows, in the order of adding: the rest of the key (and
	 * the offset) decides. */
	for (size_t i = 0, j; i < n; i = j) {
		uint64_t key = window(&e[i], at);

		for (j = i + 1; j < n && window(&e[j], at) == key; j++)
			continue;
		if (j - i > 1)
			compare_sort(arena, e + i, j - i);
	}
	return 1;
}

void
index_sort(const char *arena, struct index_entry *e, size_t n,
    void *scratch, size_t scratch_size)
{
	size_t i;

	/* Leaves are often written in time order: check before sorting. */
	for (i = 1; i < n; i++)
		if (entry_compare(arena, &e[i - 1], &e[i]) > 0)
			break;
	if (i >= n)
		return;
	if (n >= RADIX_MIN && scratch != NULL &&
	    scratch_size >= index_scratch_size(n) &&
	    radix_sort(arena, e, n, scratch))
		return;
	compare_sort(arena, e, n);
}
