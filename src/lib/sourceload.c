/*
 * sourceload.c - loading one source into the sorter, all or nothing (see
 * sourceload.h).
 */
#include "sourceload.h"

#include <errno.h>
#include <string.h>

#include "share.h"

/* Sources are small and many: one read each, most of the time. */
#define READ_SIZE (1024 * 1024)

/* How scan() treats the records it finds. */
enum scan_mode {
	SCAN_TRY,		/* add them, but stop when the arena is full */
	SCAN_SPILL,		/* add them, spilling as needed */
	SCAN_CHECK		/* only validate */
};

/* What one scan came to: a result, or the arena being full. */
#define SCAN_FULL (-1)

int
sourceload_init(struct sourceload *s, const struct jsonscan_keypath *key)
{
	memset(s, 0, sizeof(*s));
	s->key = key;
	return buf_reserve(&s->buf, READ_SIZE);
}

void
sourceload_free(struct sourceload *s)
{
	buf_free(&s->buf);
	sortkey_buf_free(&s->sortkey);
	jsonscan_buf_free(&s->element);
	memset(s, 0, sizeof(*s));
}

bool
sourceload_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Reads more of fd at *off after the b->len bytes kept in the buffer
 * (growing it when full).  Returns the bytes read (0 at the end), or -1
 * with errno set; *eof is set at the end of the file.
 */
static ssize_t
refill(struct buf *b, int fd, const char *name, off_t *off, off_t size,
    int *eof)
{
	size_t want;
	ssize_t n;

	/* One element bigger than the buffer. */
	if (b->len == b->cap && buf_reserve(b, 1) < 0)
		return -1;
	want = b->cap - b->len;
	do
		n = share_pread(fd, name, b->data + b->len, want, *off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	*off += n;
	b->len += (size_t)n;
	/* A short read that reaches the size fstat gave is the end: saves a
	 * read per file.  Had the file grown meanwhile, the identity check
	 * afterwards sees the new size and the source is not consumed. */
	if (n == 0 || ((size_t)n < want && *off == size))
		*eof = 1;
	return n;
}

/* Adds one element (rec[0..reclen), its key in kv) to the sorter as mode
 * says: SOURCELOAD_OK, SCAN_FULL or SOURCELOAD_SORTER_FAILED. */
static int
add(struct sourceload *s, struct runsort *sorter, enum scan_mode mode,
    const struct jsonscan_keyval *kv, const char *rec, size_t reclen)
{
	int r;

	if (mode == SCAN_CHECK)
		return SOURCELOAD_OK;
	if (sortkey_from_keyval(kv, &s->sortkey) == SORTKEY_ERROR)
		return SOURCELOAD_SORTER_FAILED;
	r = (mode == SCAN_TRY ? runsort_try_add : runsort_add)(sorter,
	    (const char *)s->sortkey.data, s->sortkey.len, rec, reclen);
	if (r != 0)
		return r > 0 ? SCAN_FULL : SOURCELOAD_SORTER_FAILED;
	return SOURCELOAD_OK;
}

/*
 * The next element at b->data + pos, into *rec and *reclen.  With the rest
 * of the file in the buffer (eof) it is compacted over its own bytes: no
 * copy, and no JSONSCAN_MORE to find the buffer overwritten.  Before that,
 * an ordinary element is compacted into s->element, and a big one (it did
 * not fit, or the buffer has grown) is held once: a validating scan finds
 * its end, then it is compacted over its bytes.  While validating only
 * (SCAN_CHECK) nothing is written at all.
 */
static enum jsonscan_status
next(struct sourceload *s, enum scan_mode mode, int big, size_t pos,
    int eof, size_t *used, const char **rec, size_t *reclen,
    struct jsonscan_keyval *kv, struct jsonscan_error *err)
{
	struct buf *b = &s->buf;
	struct jsonscan_mark mark;
	enum jsonscan_status st;

	*rec = NULL;
	*reclen = 0;
	memset(kv, 0, sizeof(*kv));
	if (mode == SCAN_CHECK)
		return jsonscan_array_next(&s->scan, b->data + pos,
		    b->len - pos, eof, used, NULL, NULL, err);
	if (!eof && !big) {
		s->element.len = 0;
		st = jsonscan_array_next(&s->scan, b->data + pos, b->len - pos,
		    eof, used, &s->element, kv, err);
		*rec = s->element.data;
		*reclen = s->element.len;
		return st;
	}
	if (!eof) {
		jsonscan_array_mark(&s->scan, &mark);
		st = jsonscan_array_next(&s->scan, b->data + pos,
		    b->len - pos, eof, used, NULL, NULL, err);
		if (st != JSONSCAN_ELEMENT)
			return st;
		jsonscan_array_rewind(&s->scan, &mark);
	}
	st = jsonscan_array_next_inplace(&s->scan, b->data + pos, b->len - pos,
	    eof, used, reclen, kv, err);
	*rec = b->data + pos;
	return st;
}

/*
 * Scans the source fd (size: its size when opened) from its start with
 * large reads into the reusable buffer, feeding the scanner, and treats
 * the records as mode says.  Returns a result or SCAN_FULL.
 */
static int
scan(struct sourceload *s, struct runsort *sorter, int fd, off_t size,
    enum scan_mode mode, struct jsonscan_error *err)
{
	struct buf *b = &s->buf;
	struct jsonscan_keyval kv;
	const char *rec;
	size_t pos = 0, used, reclen;
	off_t off = 0;
	int eof = 0, big = 0, r;

	b->len = 0;
	jsonscan_array_init(&s->scan, s->key);
	for (;;) {
		/* Once the buffer has grown, what it holds may be one big
		 * element read whole (the second read of a source), which
		 * must not be copied out of it either. */
		switch (next(s, mode, big || b->len - pos > READ_SIZE, pos,
		    eof, &used, &rec, &reclen, &kv, err)) {
		case JSONSCAN_ELEMENT:
			pos += used;
			big = 0;
			if ((r = add(s, sorter, mode, &kv, rec, reclen)) !=
			    SOURCELOAD_OK)
				return r;
			break;
		case JSONSCAN_MORE:
			pos += used;
			if (eof) {
				/* The scanner promises an error at eof. */
				errno = EIO;
				return SOURCELOAD_UNREADABLE;
			}
			/* A full buffer with an element cut at its end and
			 * nothing before it: the element is bigger than the
			 * buffer, which grows for it. */
			if (pos == 0 && b->len == b->cap)
				big = 1;
			buf_consume(b, pos);
			pos = 0;
			if (refill(b, fd, s->name, &off, size, &eof) < 0)
				return errno == ENOMEM ?
				    SOURCELOAD_SORTER_FAILED :
				    SOURCELOAD_UNREADABLE;
			break;
		case JSONSCAN_END:
			return SOURCELOAD_OK;
		case JSONSCAN_ERROR:
			if (errno == ENOMEM && err->reason != NULL &&
			    strcmp(err->reason, "out of memory") == 0)
				return SOURCELOAD_SORTER_FAILED;
			return SOURCELOAD_INVALID;
		}
	}
}

/* Gives back what one big element made the buffers grow to, so that it is
 * not held on through the merge and the next sources. */
static void
shrink(struct sourceload *s)
{
	if (s->buf.cap > READ_SIZE) {
		buf_free(&s->buf);
		/* On failure the next read grows it from nothing. */
		(void)buf_reserve(&s->buf, READ_SIZE);
	}
	if (s->element.cap > READ_SIZE)
		jsonscan_buf_free(&s->element);
}

enum sourceload_result
sourceload_read(struct sourceload *s, struct runsort *sorter, int fd,
    const char *name, const struct stat *st, struct jsonscan_error *err)
{
	struct runsort_mark mark;
	enum scan_mode mode = SCAN_TRY;
	struct stat after;
	int r;

	s->name = name;
	runsort_mark(sorter, &mark);
	for (;;) {
		r = scan(s, sorter, fd, st->st_size, mode, err);
		if (r == SOURCELOAD_SORTER_FAILED) {
			shrink(s);
			return r;
		}
		if (mode == SCAN_TRY && r != SOURCELOAD_OK) {
			/* Nothing was spilled while trying. */
			if (runsort_rollback(sorter, &mark) < 0)
				return SOURCELOAD_SORTER_FAILED;
			if (r != SCAN_FULL)
				return r;
			if (mark.count == 0) {
				mode = SCAN_CHECK;
				continue;
			}
			/* Make room, and read it again into an empty arena. */
			if (runsort_spill(sorter) < 0)
				return SOURCELOAD_SORTER_FAILED;
			runsort_mark(sorter, &mark);
			continue;
		}
		if (mode == SCAN_CHECK && r == SOURCELOAD_OK) {
			mode = SCAN_SPILL;
			continue;
		}
		break;
	}
	if (r == SOURCELOAD_OK && !s->trust_reader) {
		if (share_fstat(fd, name, &after) < 0)
			r = SOURCELOAD_UNREADABLE;
		else if (!sourceload_same_file(st, &after))
			r = SOURCELOAD_CHANGED;
	}
	shrink(s);
	if (r != SOURCELOAD_OK && runsort_rollback(sorter, &mark) < 0)
		return SOURCELOAD_LOST;
	return r;
}
