/*
 * backlog.c - the leaves waiting for a slot (see backlog.h).
 */
#include "backlog.h"

#include <string.h>

#include "diag.h"
#include "exitcode.h"

size_t
backlog_append(struct backlog *q, const char *bytes, size_t len)
{
	size_t found = 0;

	/* What was handed out is dropped once it is half the buffer. */
	if (q->head > 0 && q->head >= q->bytes.len / 2) {
		buf_consume(&q->bytes, q->head);
		q->complete -= q->head;
		q->head = 0;
	}
	if (buf_append(&q->bytes, bytes, len) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	for (size_t i = 0; i < len; i++)
		if (bytes[i] == '\0') {
			found++;
			q->complete = q->bytes.len - len + i + 1;
		}
	q->waiting += found;
	return found;
}

const char *
backlog_pop(struct backlog *q)
{
	const char *path;

	if (q->head >= q->complete)
		return NULL;
	path = q->bytes.data + q->head;
	q->head += strlen(path) + 1;
	q->waiting--;
	return path;
}

bool
backlog_empty(const struct backlog *q)
{
	return q->head >= q->complete;
}

bool
backlog_full(const struct backlog *q)
{
	return q->waiting >= BACKLOG_MAX;
}

void
backlog_free(struct backlog *q)
{
	buf_free(&q->bytes);
	memset(q, 0, sizeof(*q));
}
