/*
 * spill.h - a list of records (byte strings) of any number in bounded
 * memory: appended one after the other, read back in order, sorted by a
 * key.
 *
 * Why: a leaf names every source in its listing, its claim and its commit
 * record.  Held as arrays, those cost some 80 bytes a source, whatever
 * --memory says (a leaf of a million files: some 130 MB).  A list holds
 * its last SPILL_MEMORY bytes of records in memory and writes the ones
 * before to a temporary file in $TMPDIR (else /tmp: local, never the
 * share), unlinked from the start (runfile.h), so that nothing is left
 * behind by a crash.  A list that never passes the bound never makes a
 * file: a small leaf costs what it did.
 *
 * Records are framed [u32 length][bytes] in host byte order, in the file
 * as in memory.  A zeroed struct spill is an empty list (no descriptor
 * 0 is ever closed by mistake); a copy of the struct borrows the list
 * (it must then not be appended to, nor freed, but through one of them).
 *
 * When the file cannot be made (no $TMPDIR, EACCES) or written to
 * (ENOSPC), the list keeps what comes next in memory instead: a missing or
 * full $TMPDIR costs memory, not the leaf (the records written before
 * stay in the file, which is never written to again).
 *
 * Functions return 0 (or what they document) and -1 with errno set: ENOMEM,
 * or the errno of a read of the temporary file (EIO), or of the sort's runs
 * (runsort.h).
 */
#ifndef LEAFPACK_SPILL_H
#define LEAFPACK_SPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "alloc.h"
#include "runfile.h"

/* What a list keeps in memory before it writes it out: 64 KiB, about a
 * thousand entries of a journal. */
#define SPILL_MEMORY (64 * 1024)

/* The arena of the sort of a list bigger than that (runsort.h). */
#define SPILL_SORT_MEMORY (2 * 1024 * 1024)

struct spill {
	size_t count;		/* records appended */
	struct buf mem;		/* the last ones, not written out */
	bool spilled;		/* fd holds the first ones: */
	int fd;
	off_t filelen;		/* its bytes */
	bool stuck;		/* the file could not be made or written to:
				 * the rest stays in memory */
};

/* Appends the len bytes at rec; may write out what is in memory first. */
int spill_add(struct spill *s, const void *rec, size_t len);

/* Frees what s holds (closes its file) and zeroes it. */
void spill_free(struct spill *s);

/* Moves the list from into *to (freed first); from is left empty. */
void spill_move(struct spill *to, struct spill *from);

/*
 * A reader of a list from its first record.  Any number may read one list
 * at once (the file is read with pread); none while it is appended to.
 * A reader of a list that never spilled allocates nothing.
 */
struct spill_cursor {
	const struct spill *s;
	struct runfile_reader file;	/* of the file's bytes (runfile.h):
					 * SPILL_MEMORY at a time, more for a
					 * longer record */
	size_t memoff;		/* in s->mem, once the file is read */
};

void spill_cursor_init(struct spill_cursor *c, const struct spill *s);

/* Stores the next record (valid until the following call) and returns 1,
 * returns 0 at the end, or -1 (EIO: the file ends inside a record). */
int spill_next(struct spill_cursor *c, const char **rec, size_t *len);

/* Frees the reader's buffer. */
void spill_cursor_free(struct spill_cursor *c);

/* The sort key of a record: a part of its bytes. */
typedef void spill_key_fn(const char *rec, size_t len, const char **key,
    size_t *keylen);

/*
 * Sorts the list by memcmp() of the keys (a key that is a prefix of
 * another first; stable).  A list in order already is read once and left;
 * one held in memory is sorted there; a bigger one goes through runsort.h
 * in SPILL_SORT_MEMORY bytes (runs in $TMPDIR) into a new list.
 */
int spill_sort(struct spill *s, spill_key_fn *key);

#endif
