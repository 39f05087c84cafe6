/*
 * pathstream.h - reading and writing streams of paths, one per record,
 * terminated by '\n' (the default) or by NUL (-0).
 *
 * Every leafpack filter reads and writes paths this way, so that the tools
 * compose with find -print0, xargs -0 and parallel -0.
 */
#ifndef LEAFPACK_PATHSTREAM_H
#define LEAFPACK_PATHSTREAM_H

#include <stdio.h>
#include <sys/types.h>

struct pathstream {
	FILE *file;
	int delim;		/* '\n' or '\0' */
	char *buf;		/* owned: the last record read */
	size_t cap;
	unsigned long long count;	/* records read so far */
};

/* Starts reading records from file (not owned) split at delim. */
void pathstream_init(struct pathstream *ps, FILE *file, int delim);

/*
 * Reads the next record, without its terminator (a last record with no
 * terminator counts too; empty records are skipped).  Returns its length and
 * points *path at it (valid until the next call), 0 at end of input, or -1
 * on a read error (errno set).  A record that holds a NUL byte cannot happen
 * with delim NUL; with delim '\n' the record is returned up to the NUL, and
 * the returned length is the full record length, so callers can compare
 * strlen(*path) with it to detect and report it.
 */
ssize_t pathstream_read(struct pathstream *ps, char **path);

/* Frees the record buffer. */
void pathstream_free(struct pathstream *ps);

/*
 * Writes path followed by delim to file.  Returns 0, or -1 when path cannot
 * be written in that stream (delim '\n' and the path holds a newline;
 * errno = EINVAL) or the write failed (errno set by stdio).
 */
int pathstream_write(FILE *file, const char *path, int delim);

#endif
