/*
 * mergeoutput.c - the existing output of a leaf, and stdout
 * (mergeoutput.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "mergeoutput.h"
#include "share.h"
#include "xstd.h"

/* ---- the existing output ---- */

/* Opens the existing output, if any, and checks what it is. */
int
open_output(struct leaf *l)
{
	l->outfd = share_openat(l->dirfd, opt.output, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
	if (l->outfd < 0) {
		if (errno == ENOENT)
			return 0;
		diag_warnx("%s: %s", leaf_path(l, opt.output),
		    errno == ELOOP ? "symbolic link" : strerror(errno));
		return -1;
	}
	if (share_fstat(l->outfd, opt.output, &l->outst) < 0) {
		diag_warnx("%s: %s", leaf_path(l, opt.output),
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(l->outst.st_mode)) {
		diag_warnx("%s: not a regular file", leaf_path(l, opt.output));
		return -1;
	}
	return 0;
}

/*
 * Checks every line of the existing output before anything is written:
 * one invalid line fails the leaf.  Notes whether it is in key order (it
 * is, unless --key changed or someone else wrote it).
 */
int
check_output(struct leaf *l)
{
	struct sortkey_buf *prev = &l->prev_key, *key = &l->lines.sortkey;
	struct jsonlines *lines = &l->lines;
	struct jsonscan_error err;

	if (jsonlines_rewind(lines, l->outfd, opt.output, &l->keypath) < 0)
		return out_of_memory();
	l->out_sorted = true;
	for (;;) {
		switch (jsonlines_next(lines, &err)) {
		case JSONLINES_RECORD:
			break;
		case JSONLINES_END:
			return 0;
		case JSONLINES_INVALID:
			diag_warnx("%s:%llu:%lu: %s", leaf_path(l, opt.output),
			    lines->lineno, err.column, err.reason);
			return -1;
		case JSONLINES_READ_ERROR:
			diag_warnx("%s: %s", leaf_path(l, opt.output),
			    strerror(errno));
			return -1;
		case JSONLINES_NO_MEMORY:
			return out_of_memory();
		}
		if (lines->lineno > 1 && sortkey_compare(prev->data, prev->len,
		    key->data, key->len) > 0)
			l->out_sorted = false;
		if (RESERVE(prev->data, prev->cap, key->len) < 0)
			return out_of_memory();
		memcpy(prev->data, key->data, key->len);
		prev->len = key->len;
	}
}

/* runsort_input: the existing output's records, read a second time. */
int
output_next(void *ctx, const char **key, size_t *keylen, const char **record,
    size_t *reclen)
{
	struct leaf *l = ctx;
	struct jsonlines *lines = &l->lines;
	struct jsonscan_error err;

	switch (jsonlines_next(lines, &err)) {
	case JSONLINES_RECORD:
		*key = (const char *)lines->sortkey.data;
		*keylen = lines->sortkey.len;
		*record = lines->record.data;
		*reclen = lines->record.len;
		return 1;
	case JSONLINES_END:
		return 0;
	case JSONLINES_INVALID:
		/* Valid a moment ago: rewritten in place. */
		errno = EIO;
		l->failure = LEAF_FAILED_OUTPUT;
		return -1;
	case JSONLINES_READ_ERROR:
		l->failure = LEAF_FAILED_OUTPUT;
		return -1;
	case JSONLINES_NO_MEMORY:
		break;
	}
	errno = ENOMEM;
	l->failure = LEAF_FAILED_MEMORY;
	return -1;
}

/* An existing output out of key order goes through the sorter, first. */
int
sort_output(struct leaf *l)
{
	const char *key, *rec;
	size_t keylen, reclen;
	int r;

	if (jsonlines_rewind(&l->lines, l->outfd, opt.output,
	    &l->keypath) < 0)
		return out_of_memory();
	while ((r = output_next(l, &key, &keylen, &rec, &reclen)) > 0)
		if (runsort_add(l->sorter, key, keylen, rec, reclen) < 0)
			return sorter_failed();
	return r < 0 ? callback_failed(l) : 0;
}

/* ---- stdout ---- */

/* Hashes a then b and writes them on stdout: plain, or as one data frame
 * of the leaf stream.  Hashed by the block: the hash does not depend on
 * the cutting. */
static int
output_write(struct leaf *l, const char *a, size_t alen, const char *b,
    size_t blen)
{
	journal_hash_update(&l->out.hash, a, alen);
	journal_hash_update(&l->out.hash, b, blen);
	if (alen + blen == 0)
		return 0;
	if (opt.streaming ? leafstream_write_frame(STDOUT_FILENO,
	    LEAFSTREAM_DATA, a, alen, b, blen) < 0 :
	    xwrite(STDOUT_FILENO, a, alen) < 0 ||
	    xwrite(STDOUT_FILENO, b, blen) < 0) {
		l->failure = LEAF_FAILED_STDOUT;
		return -1;
	}
	return 0;
}

int
output_flush(struct leaf *l)
{
	if (output_write(l, l->out.buf.data, l->out.buf.len, "", 0) < 0)
		return -1;
	l->out.buf.len = 0;
	return 0;
}

/* runsort_emit_fn: one record and its newline. */
int
output_record(void *ctx, const char *record, size_t reclen)
{
	struct leaf *l = ctx;
	struct buf *b = &l->out.buf;

	l->stats.records++;
	l->stats.bytes_out += reclen + 1;
	if (b->len + reclen + 1 > b->cap) {
		if (output_flush(l) < 0)
			return -1;
		if (reclen + 1 > b->cap)
			return output_write(l, record, reclen, "\n", 1);
	}
	memcpy(b->data + b->len, record, reclen);
	b->data[b->len + reclen] = '\n';
	b->len += reclen + 1;
	return 0;
}
