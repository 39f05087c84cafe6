/*
 * relay.c - relaying a child's stderr (see relay.h).
 */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "progress.h"
#include "xstd.h"

void
relay_init(struct relay *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

int
relay_open(struct relay *r)
{
	int p[2];

	relay_init(r);
	if (pipe_cloexec(p, O_NONBLOCK) < 0)
		return -1;
	/* The child's end blocks: a child must not lose a message to EAGAIN. */
	set_nonblock(p[1], 0);
	r->fd = p[0];
	return p[1];
}

/* Prints a line of the child's, NUL-terminated, on our stderr. */
static void
pass(const char *line, size_t len)
{
	progress_clear();
	fwrite(line, 1, len, stderr);
	fputc('\n', stderr);
}

static void
relay_line(void *ctx, char *line, size_t len)
{
	struct relay *r = ctx;

	if (r->held != NULL) {
		pass(r->held, strlen(r->held));
		free(r->held);
		r->held = NULL;
	}
	if (len > 0 && line[0] == '{') {
		if ((r->held = strndup(line, len)) == NULL)
			diag_err(EXITCODE_FAILED, "out of memory");
		return;
	}
	pass(line, len);
}

void
relay_close(struct relay *r)
{
	if (r->fd < 0)
		return;
	close_quietly(&r->fd);
	if (r->partial.len > 0)
		relay_line(r, r->partial.data, r->partial.len);
	r->partial.len = 0;
	if (r->held == NULL)
		return;
	r->stats = json_tokener_parse(r->held);
	if (r->stats != NULL && !json_object_is_type(r->stats,
	    json_type_object)) {
		json_object_put(r->stats);
		r->stats = NULL;
	}
	if (r->stats == NULL)
		pass(r->held, strlen(r->held));
	free(r->held);
	r->held = NULL;
}

void
relay_read(struct relay *r, bool drain)
{
	if (r->fd >= 0 &&
	    relay_read_lines(r->fd, &r->partial, drain, relay_line, r) != 0)
		relay_close(r);
}

void
relay_free(struct relay *r)
{
	close_quietly(&r->fd);
	buf_free(&r->partial);
	free(r->held);
	if (r->stats != NULL)
		json_object_put(r->stats);
	relay_init(r);
}

json_object *
relay_stats(const struct relay *r)
{
	return r->fd < 0 ? r->stats : NULL;
}

/* Passes each complete line of partial to fn; keeps what follows the last
 * newline. */
static void
split_lines(struct buf *partial, void (*fn)(void *, char *, size_t),
    void *ctx)
{
	size_t used = 0;
	char *nl;

	while ((nl = memchr(partial->data + used, '\n',
	    partial->len - used)) != NULL) {
		*nl = '\0';
		fn(ctx, partial->data + used,
		    (size_t)(nl - (partial->data + used)));
		used = (size_t)(nl - partial->data) + 1;
	}
	buf_consume(partial, used);
}

int
relay_read_lines(int fd, struct buf *partial, bool drain,
    void (*fn)(void *ctx, char *line, size_t len), void *ctx)
{
	for (;;) {
		ssize_t n;

		if (buf_reserve(partial, 4096) < 0)
			diag_err(EXITCODE_FAILED, "out of memory");
		n = read(fd, partial->data + partial->len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !drain)
			return 0;
		if (n <= 0)
			return 1;
		partial->len += (size_t)n;
		split_lines(partial, fn, ctx);
	}
}
