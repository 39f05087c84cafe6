/*
 * runfile.h - the temporary run files of runsort.h: creating one, writing
 * records to it through a buffer, and reading them back in order.
 *
 * A run file is a sequence of records, each [u32 keylen][key][u32 reclen]
 * [record] in host byte order, the same bytes as a record in runsort's
 * arena.  The files are unlinked from the start (O_TMPFILE where the file
 * system has it), so that nothing is left behind by a crash; the caller
 * owns the descriptor and closes it.
 */
#ifndef LEAFPACK_RUNFILE_H
#define LEAFPACK_RUNFILE_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Opens a new, already unlinked run file in dir for reading and writing;
 * the descriptor, or -1 with errno set. */
int runfile_open(const char *dir);

/* Writes iov[0..n) completely to fd, retrying short writes and EINTR (the
 * iovecs are consumed); 0, or -1 with errno set. */
int runfile_write_iov(int fd, struct iovec *iov, int n);

/* A buffered writer to a run file: the caller sets fd, and buf of cap
 * bytes (its own memory), with len 0. */
struct runfile_writer {
	int fd;
	char *buf;
	size_t len, cap;
};

/* Writes out what is buffered; 0, or -1 with errno set. */
int runfile_flush(struct runfile_writer *w);

/* Appends n bytes through the buffer (written directly when bigger than
 * it); 0, or -1 with errno set. */
int runfile_write(struct runfile_writer *w, const void *p, size_t n);

/* Appends one record, framed as above; 0, or -1 with errno set. */
int runfile_put(struct runfile_writer *w, const char *key, size_t keylen,
    const char *rec, size_t reclen);

/* A reader of a run file from its current offset, or of its bytes
 * [pos, limit) (runfile_reader_range()). */
struct runfile_reader {
	int fd;
	char *buf;		/* allocated at the first read */
	size_t cap, start, end;
	size_t pending;		/* bytes of a body runfile_next_lazy() left */
	off_t pos, limit;	/* limit -1: read() to the end of the file */
};

/* Starts a reader of fd with a buffer of bufsize bytes (grown for a record
 * bigger than that). */
void runfile_reader_init(struct runfile_reader *r, int fd, size_t bufsize);

/* Starts a reader of the bytes [0, limit) of fd, read with pread(): any
 * number of readers may share fd, and a writer may append beyond limit. */
void runfile_reader_range(struct runfile_reader *r, int fd, size_t bufsize,
    off_t limit);

/* Makes at least want bytes available at r->buf + r->start: 1; 0 when the
 * reader is at its end before the first; -1 (EIO when it ends inside
 * them).  For readers of records framed otherwise (spill.h). */
int runfile_fill(struct runfile_reader *r, size_t want);

/* Stores the next record and its key (pointers valid until the following
 * call) and returns 1, returns 0 at the end of the file, or -1 with errno
 * set (EIO for a file that ends inside a record). */
int runfile_next(struct runfile_reader *r, const char **key, size_t *keylen,
    const char **rec, size_t *reclen);

/*
 * Like runfile_next(), but a record that does not fit in the reader's
 * buffer is left unread: *rec is set to NULL, and runfile_body() must read
 * it before the next call.  So a merge of many runs, each at such a record,
 * holds one of them at a time (in the caller's buffer), not one per run.
 */
int runfile_next_lazy(struct runfile_reader *r, const char **key,
    size_t *keylen, const char **rec, size_t *reclen);

/* Reads the body runfile_next_lazy() left, of reclen bytes, into dst; the
 * key it gave stays valid.  0, or -1 with errno set (EIO: cut short). */
int runfile_body(struct runfile_reader *r, char *dst, size_t reclen);

/* Frees the reader's buffer; the descriptor stays open. */
void runfile_reader_free(struct runfile_reader *r);

#endif
