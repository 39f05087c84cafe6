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
	size_t found = 0, from, to;
	char *data;

	/* What was handed out is dropped once it is half the buffer. */
	if (q->head > 0 && q->head >= q->bytes.len / 2) {
		buf_consume(&q->bytes, q->head);
		q->complete -= q->head;
		q->head = 0;
	}
	if (buf_append(&q->bytes, bytes, len) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	/* The paths this completed, the unwanted cut out in place. */
	data = q->bytes.data;
	from = to = q->complete;
	while (from < q->bytes.len) {
		const char *nul = memchr(data + from, '\0', q->bytes.len - from);
		size_t n;

		if (nul == NULL)
			break;
		n = (size_t)(nul - (data + from)) + 1;
		if (q->names == NULL || leafname_wanted(q->names, data + from)) {
			memmove(data + to, data + from, n);
			to += n;
			found++;
		} else
			q->unwanted++;
		from += n;
	}
	/* The incomplete rest follows the kept paths. */
	memmove(data + to, data + from, q->bytes.len - from);
	q->bytes.len -= from - to;
	q->complete = to;
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
