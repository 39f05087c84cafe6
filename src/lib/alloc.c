/*
 * alloc.c - growing arrays and byte buffers (see alloc.h).
 */
#include "alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
alloc_reserve(void **ptr, size_t *cap, size_t want, size_t elem)
{
	size_t grown = *cap ? *cap : 8;
	void *p;

	while (grown < want) {
		if (grown > SIZE_MAX / 2) {
			grown = want;
			break;
		}
		grown *= 2;
	}
	if (elem != 0 && grown > SIZE_MAX / elem) {
		errno = ENOMEM;
		return -1;
	}
	p = realloc(*ptr, grown * elem);
	if (p == NULL)
		return -1;
	*ptr = p;
	*cap = grown;
	return 0;
}

int
buf_reserve(struct buf *b, size_t more)
{
	if (more > SIZE_MAX - b->len) {
		errno = ENOMEM;
		return -1;
	}
	return RESERVE(b->data, b->cap, b->len + more);
}

int
buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) < 0)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
