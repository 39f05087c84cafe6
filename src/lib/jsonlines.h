/*
 * jsonlines.h - reading a JSON Lines file record by record: how json-merge
 * reads the leaf's existing consolidated output, once to check it before
 * a byte goes out and once more to merge (or sort) it with the new
 * records.
 *
 * A line ends with '\n' (a last line without one counts); each must be
 * one JSON value (jsonscan_compact_value_key(): an empty line is
 * invalid).  A record comes back compact, with the sort key (sortkey.h)
 * of its value at a key path.  The file is read with pread(2) from offset
 * 0 in large blocks: the descriptor's offset is neither used nor moved,
 * so the same descriptor can be read again from its start.
 *
 * Memory: a read buffer (1 MiB, grown for a longer line) and the current
 * record and key, owned by the reader and kept from one reading to the
 * next (jsonlines_rewind()) until jsonlines_free().  Nothing is printed.
 */
#ifndef LEAFPACK_JSONLINES_H
#define LEAFPACK_JSONLINES_H

#include <stdbool.h>
#include <sys/types.h>

#include "alloc.h"
#include "jsonscan.h"
#include "sortkey.h"

struct jsonlines {
	int fd;					/* not owned */
	const char *name;	/* the file (borrowed), for the watcher */
	const struct jsonscan_keypath *key;	/* not owned */
	struct buf buf;			/* what was read; buf.len ends it */
	size_t start;			/* the next line in buf */
	off_t off;			/* of buf's end in the file */
	bool eof;
	unsigned long long lineno;	/* of the record last returned */
	const char *line;	/* its bytes as read, in buf (until the next
				 * call), and their length without the '\n' */
	size_t line_len;
	bool line_ended;		/* it ended with '\n' (the last line
					 * of a file may not) */
	struct jsonscan_buf record;	/* the record, compact */
	struct sortkey_buf sortkey;	/* its key */
};

/* What jsonlines_next() found. */
enum jsonlines_status {
	JSONLINES_RECORD,	/* line lineno: in record and sortkey */
	JSONLINES_END,		/* no more lines */
	JSONLINES_INVALID,	/* line lineno is not one JSON value: *err */
	JSONLINES_READ_ERROR,	/* reading failed (errno; ENOMEM: no room
				 * to hold a line that long) */
	JSONLINES_NO_MEMORY	/* no room for the record or its key */
};

/*
 * Starts reading fd (the file name in the leaf, for the watcher of
 * share.h) from its first line, taking the sort keys at key (all must
 * outlive the reading).  Zero r before the first call.
 * Returns 0, or -1 (ENOMEM) when the read buffer cannot be allocated.
 */
int jsonlines_rewind(struct jsonlines *r, int fd, const char *name,
    const struct jsonscan_keypath *key);

/* The next record; r->record and r->sortkey are valid until the next
 * call. */
enum jsonlines_status jsonlines_next(struct jsonlines *r,
    struct jsonscan_error *err);

/* Frees what r holds and zeroes it. */
void jsonlines_free(struct jsonlines *r);

#endif
