/*
 * backlog.h - the leaves found (by tree-scan, or given with --leaves) and
 * not yet handed to a slot: the bytes as they came, NUL-terminated paths,
 * of which the last may still be incomplete.  Leaves whose name is not
 * wanted (--dates, --name) are dropped as they come.
 *
 * It is read ahead only so far (BACKLOG_MAX leaves), so that memory stays
 * bounded however many leaves a tree has: tree-scan then waits on us.
 */
#ifndef LEAFPACK_PACK_BACKLOG_H
#define LEAFPACK_PACK_BACKLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc.h"
#include "leafname.h"

/* The most leaves read ahead and not yet started. */
#define BACKLOG_MAX 65536

struct backlog {
	struct buf bytes;	/* owned */
	size_t head;		/* the next path to hand out */
	size_t complete;	/* the end of the last complete path */
	size_t waiting;		/* complete paths not handed out */
	const struct leafname_filter *names;	/* borrowed: the wanted */
	unsigned long long unwanted;	/* paths dropped for their name */
};

/* Appends bytes read; returns how many wanted paths they completed.
 * Exits 4 when out of memory. */
size_t backlog_append(struct backlog *q, const char *bytes, size_t len);

/* The next complete path, or NULL.  It stays valid until the next
 * backlog_append(): the caller copies it. */
const char *backlog_pop(struct backlog *q);

/* True when no complete path waits. */
bool backlog_empty(const struct backlog *q);

/* True when BACKLOG_MAX paths wait: read no more for now. */
bool backlog_full(const struct backlog *q);

/* Frees the bytes; q is empty afterwards. */
void backlog_free(struct backlog *q);

#endif
