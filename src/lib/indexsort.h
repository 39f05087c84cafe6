/*
 * indexsort.h - sorting runsort's index: one entry per record of the arena,
 * holding the first 24 bytes of its key, so that most comparisons never
 * touch the records, and where the record is.
 *
 * Arena layout (runsort.c): each record is [u32 keylen][key][u32 reclen]
 * [record] at some offset; an entry's offset is where its record starts.
 * Offsets grow with the order of adding, and ties in the key are broken by
 * them: the sort is stable.
 */
#ifndef LEAFPACK_INDEXSORT_H
#define LEAFPACK_INDEXSORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define INDEX_PREFIX_WORDS 3

struct index_entry {
	/* Key bytes [8w, 8w + 8) as a big-endian integer, 0-padded. */
	uint64_t prefix[INDEX_PREFIX_WORDS];
	uint64_t off;
};

/* A u32 of the record layout (keylen, reclen), host order, unaligned. */
static inline uint32_t
index_load32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The order of keys: memcmp() over the shorter length, the shorter first on
 * a tie (a key that is a prefix of another comes first), for two keys known
 * to be equal in their first `equal` bytes (0: nothing known).
 */
static inline int
index_key_compare(const char *ka, size_t la, const char *kb, size_t lb,
    size_t equal)
{
	size_t m = la < lb ? la : lb;
	int c;

	if (m > equal && (c = memcmp(ka + equal, kb + equal, m - equal)) != 0)
		return c;
	return la < lb ? -1 : la > lb;
}

/* The entry of a record whose key is key[0..keylen), stored at off. */
void index_entry_set(struct index_entry *e, const char *key, size_t keylen,
    uint64_t off);

/* What index_sort() may use besides the entries: scratch of this many
 * bytes lets it sort n entries by radix instead of comparisons. */
size_t index_scratch_size(size_t n);

/*
 * Sorts e[0..n), entries of records in arena, into key order (memcmp of the
 * keys, a key that is a prefix of another first, then offset).  scratch
 * (may be NULL) of scratch_size bytes, 8-byte aligned, is used when it holds
 * index_scratch_size(n) bytes.
 */
void index_sort(const char *arena, struct index_entry *e, size_t n,
    void *scratch, size_t scratch_size);

#endif
