/*
 * alloc.h - the one way leafpack grows an array or a byte buffer.
 *
 * RESERVE(ptr, cap, want) makes the array ptr (of cap elements, both
 * lvalues) hold at least want elements, doubling so that appending one at
 * a time costs amortized O(1).  It evaluates to 0, or to -1 with errno
 * ENOMEM, leaving ptr and cap as they were:
 *
 *	if (RESERVE(list, cap, n + 1) < 0)
 *		return -1;
 *	list[n++] = item;
 *
 * struct buf is a growable run of bytes for what is built piece by piece
 * (paths, messages to a worker, a partial line read from a pipe).
 */
#ifndef LEAFPACK_ALLOC_H
#define LEAFPACK_ALLOC_H

#include <stddef.h>

/* What RESERVE() calls when the array is too small. */
int alloc_reserve(void **ptr, size_t *cap, size_t want, size_t elem);

#define RESERVE(ptr, cap, want) \
	((size_t)(want) <= (cap) ? 0 : \
	    alloc_reserve((void **)&(ptr), &(cap), (want), sizeof(*(ptr))))

struct buf {
	char *data;		/* owned; NULL while empty and never grown */
	size_t len, cap;
};

/* Room for more bytes after len.  Returns 0, or -1 (ENOMEM). */
int buf_reserve(struct buf *b, size_t more);

/* Appends len bytes.  Returns 0, or -1 (ENOMEM; b unchanged). */
int buf_append(struct buf *b, const void *data, size_t len);

/* Drops the first n bytes (n <= len), moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);

/* Frees the bytes and zeroes b. */
void buf_free(struct buf *b);

#endif
