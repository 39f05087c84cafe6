/*
 * journaljson.h - the JSON form of a journal (journal.h), written and read
 * as a stream of bytes through a buffer of a fixed size.
 *
 * No document is built: a journal names every source of its leaf, and one
 * object per field of every source (json-c's) made a leaf of 200,000 small
 * files cost some 360 MB to write or read its journal.  The writer encodes
 * straight into its buffer and flushes it as it fills; the reader takes
 * the bytes as they come, the entries one after the other.  The form is
 * the one journal.h documents, as json-c wrote it (so that journals of
 * earlier versions load, and later ones read what this writes); the
 * reader takes the keys in any order, whitespace between tokens and keys
 * it does not know (skipped), as json-c did.
 *
 * The writer is journaljson.c, the reader journaljsonread.c.  Functions
 * return 0 and -1 with errno set; none prints anything.
 */
#ifndef LEAFPACK_JOURNALJSON_H
#define LEAFPACK_JOURNALJSON_H

#include <stddef.h>

struct journal;

/* What the writer and the reader buffer: a journal of any size costs this
 * much, not its length. */
#define JOURNAL_JSON_BUF (64 * 1024)

/*
 * Writes j as one line of JSON and its newline to fd (named name in the
 * leaf, for the watcher: share.h).  -1 with errno from the write, or
 * ENOMEM.
 */
int journal_json_write(int fd, const char *name, const struct journal *j);

/*
 * j as one line of JSON (no newline) in *text, malloc()ed, of *len bytes,
 * when that is at most limit bytes: else -1 with errno E2BIG, having
 * used no more memory than limit (an extended attribute holds 64 KiB at
 * most; a bigger record goes to the journal file).  ENOMEM.
 */
int journal_json_text(const struct journal *j, size_t limit, char **text,
    size_t *len);

/*
 * Parses the JSON form into *j (initialized by the caller, as by
 * journal_init(); what it owns is replaced): from the size bytes of fd
 * (its fstat's st_size: no read is made to find its end; named name, for
 * the watcher), or from the len bytes at text.  -1 with errno
 * EBADMSG when it is not a well-formed version 1 journal (j may then hold
 * part of it: the caller frees it), other errno values from a read.
 */
int journal_json_read_fd(int fd, const char *name, size_t size,
    struct journal *j);
int journal_json_read_mem(const char *text, size_t len, struct journal *j);

#endif
