/*
 * jsonlines.c - reading a JSON Lines file record by record (see
 * jsonlines.h).
 */
#include "jsonlines.h"

#include <errno.h>
#include <string.h>

#include "share.h"

/* Big reads: an existing output of gigabytes is read twice per merge. */
#define READ_SIZE (1024 * 1024)

int
jsonlines_rewind(struct jsonlines *r, int fd, const char *name,
    const struct jsonscan_keypath *key)
{
	r->fd = fd;
	r->name = name;
	r->key = key;
	r->buf.len = r->start = 0;
	r->off = 0;
	r->eof = false;
	r->lineno = 0;
	return buf_reserve(&r->buf, READ_SIZE);
}

/*
 * The next line (without its '\n') in *line and *len.  Returns 1, 0 at
 * the end, or -1 with errno set.
 */
static int
next_line(struct jsonlines *r, const char **line, size_t *len)
{
	struct buf *b = &r->buf;

	for (;;) {
		char *nl = memchr(b->data + r->start, '\n', b->len - r->start);
		ssize_t n;

		if (nl != NULL || (r->eof && r->start < b->len)) {
			if (nl == NULL)
				nl = b->data + b->len;
			*line = b->data + r->start;
			*len = (size_t)(nl - *line);
			r->start = (size_t)(nl - b->data) +
			    (nl < b->data + b->len);
			r->lineno++;
			return 1;
		}
		if (r->eof)
			return 0;
		buf_consume(b, r->start);
		r->start = 0;
		/* A line longer than the buffer: room for more of it. */
		if (b->len == b->cap && buf_reserve(b, 1) < 0)
			return -1;
		do
			n = share_pread(r->fd, r->name, b->data + b->len,
			    b->cap - b->len, r->off);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -1;
		if (n == 0)
			r->eof = true;
		r->off += n;
		b->len += (size_t)n;
	}
}

enum jsonlines_status
jsonlines_next(struct jsonlines *r, struct jsonscan_error *err)
{
	struct jsonscan_keyval kv;
	const char *line;
	size_t len;
	ssize_t n;
	int got;

	if ((got = next_line(r, &line, &len)) <= 0)
		return got == 0 ? JSONLINES_END : JSONLINES_READ_ERROR;
	r->line = line;
	r->line_len = len;
	r->line_ended = line + len < r->buf.data + r->buf.len;
	/* The compact form is never longer than the line. */
	if (RESERVE(r->record.data, r->record.cap, len + 1) < 0)
		return JSONLINES_NO_MEMORY;
	n = jsonscan_compact_value_key(line, len, r->record.data, r->key, &kv,
	    err);
	if (n < 0)
		return JSONLINES_INVALID;
	r->record.len = (size_t)n;
	if (sortkey_from_keyval(&kv, &r->sortkey) == SORTKEY_ERROR)
		return JSONLINES_NO_MEMORY;
	return JSONLINES_RECORD;
}

void
jsonlines_free(struct jsonlines *r)
{
	buf_free(&r->buf);
	jsonscan_buf_free(&r->record);
	sortkey_buf_free(&r->sortkey);
	memset(r, 0, sizeof(*r));
}
