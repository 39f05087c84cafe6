/*
 * leafstream.c - frames and records of the leaf stream (see leafstream.h).
 */
#include "leafstream.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "stats.h"
#include "xstd.h"

/* A read from the pipe: large, so that a leaf of megabytes is few calls. */
#define READ_SIZE (1024 * 1024)
/* The longest header: "data " and 20 digits, and the newline. */
#define HEADER_MAX 32

const char *const leafstream_skip_names[LEAFSTREAM_SKIP_REASONS] = {
	"invalid", "unreadable", "symlink", "not_regular", "changed",
	"too_young",
};

static const char *const type_names[] = {
	[LEAFSTREAM_LEAF] = "leaf",
	[LEAFSTREAM_DATA] = "data",
	[LEAFSTREAM_END] = "end",
};

/* ---- writing ---- */

int
leafstream_write_frame(int fd, enum leafstream_type type, const void *a,
    size_t alen, const void *b, size_t blen)
{
	char head[HEADER_MAX + 8];
	int n = snprintf(head, sizeof(head), "%s %zu\n", type_names[type],
	    alen + blen);

	if (xwrite(fd, head, (size_t)n) < 0 || xwrite(fd, a, alen) < 0 ||
	    xwrite(fd, b, blen) < 0)
		return -1;
	return 0;
}

json_object *
leafstream_merge_json(const struct leafstream_merge *m)
{
	json_object *o = stats_new();

	stats_add_count(o, "sources", m->sources);
	stats_add_breakdown(o, "sources_skipped", leafstream_skip_names,
	    m->skipped, LEAFSTREAM_SKIP_REASONS);
	stats_add_count(o, "records", m->records);
	stats_add_count(o, "bytes_in", m->bytes_in);
	stats_add_count(o, "bytes_out", m->bytes_out);
	stats_add_count(o, "runs", m->runs);
	stats_add_bool(o, LEAFSTREAM_KEY_UNCHANGED, m->unchanged);
	stats_add_bool(o, LEAFSTREAM_KEY_BUSY, m->busy);
	stats_add_bool(o, LEAFSTREAM_KEY_NO_INODES, m->no_inodes);
	stats_add_count(o, LEAFSTREAM_KEY_INODES, m->inodes);
	stats_add_bool(o, LEAFSTREAM_KEY_STAGED, m->staged);
	stats_add_bool(o, LEAFSTREAM_KEY_WAITING, m->waiting);
	stats_add_seconds(o, STATS_KEY_ELAPSED, m->elapsed);
	return o;
}

json_object *
leafstream_end_json(const struct leafstream_end *e)
{
	json_object *o = leafstream_merge_json(&e->merge);

	stats_add_object(o, LEAFSTREAM_KEY_STATUS,
	    json_object_new_int(e->status));
	return o;
}

json_object *
leafstream_write_json(const struct leafstream_write *w)
{
	json_object *o = stats_new();

	stats_add_count(o, "records", w->records);
	stats_add_count(o, "bytes", w->bytes);
	stats_add_count(o, "sources_removed", w->sources_removed);
	stats_add_count(o, "sources_kept", w->sources_kept);
	stats_add_bool(o, LEAFSTREAM_KEY_NO_INODES, w->no_inodes);
	stats_add_count(o, LEAFSTREAM_KEY_INODES, w->inodes);
	stats_add_bool(o, LEAFSTREAM_KEY_STAGED, w->staged);
	stats_add_seconds(o, STATS_KEY_ELAPSED, w->elapsed);
	return o;
}

json_object *
leafstream_report_json(const struct leafstream_report *r,
    json_object *merge_end)
{
	json_object *o = leafstream_write_json(&r->write);

	stats_add_string(o, LEAFSTREAM_KEY_OUTPUT, r->output);
	stats_add_object(o, LEAFSTREAM_KEY_STATUS,
	    json_object_new_int(r->status));
	stats_add_bool(o, LEAFSTREAM_KEY_UNCHANGED, r->unchanged);
	stats_add_bool(o, LEAFSTREAM_KEY_BUSY, r->busy);
	stats_add_object(o, LEAFSTREAM_KEY_MERGE,
	    merge_end != NULL ? json_object_get(merge_end) : NULL);
	return o;
}

/* ---- reading ---- */

int
leafstream_reader_init(struct leafstream_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->cap = READ_SIZE;
	r->buf = malloc(r->cap);
	return r->buf == NULL ? -1 : 0;
}

void
leafstream_reader_free(struct leafstream_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Makes at least want bytes available (fewer at the end of the input).
 * Returns how many there are, or -1 on a read error. */
static ssize_t
fill(struct leafstream_reader *r, size_t want)
{
	while (r->end - r->start < want && !r->eof) {
		ssize_t n;

		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
	return (ssize_t)(r->end - r->start);
}

void
leafstream_skip(struct leafstream_reader *r, size_t n)
{
	r->start += n;
	r->offset += n;
	r->left -= n;
}

ssize_t
leafstream_chunk(struct leafstream_reader *r, const char **p)
{
	ssize_t have;

	if (r->left == 0)
		return 0;
	if ((have = fill(r, 1)) < 0)
		return -1;
	if (have == 0) {
		r->cut = true;
		errno = EPIPE;
		return -1;
	}
	*p = r->buf + r->start;
	return (size_t)have < r->left ? have : (ssize_t)r->left;
}

enum leafstream_type
leafstream_next(struct leafstream_reader *r, size_t *len)
{
	const char *p;
	char *nl, *endp;
	unsigned long long n;
	ssize_t have;

	while ((have = leafstream_chunk(r, &p)) > 0)
		leafstream_skip(r, (size_t)have);
	if (have < 0)
		return r->cut ? LEAFSTREAM_EOF : LEAFSTREAM_ERROR;
	if ((have = fill(r, HEADER_MAX)) < 0)
		return LEAFSTREAM_ERROR;
	if (have == 0)
		return LEAFSTREAM_EOF;
	p = r->buf + r->start;
	nl = memchr(p, '\n', (size_t)have);
	for (int t = LEAFSTREAM_LEAF; nl != NULL && t <= LEAFSTREAM_END; t++) {
		size_t k = strlen(type_names[t]);

		if ((size_t)(nl - p) <= k + 1 || memcmp(p, type_names[t], k) !=
		    0 || p[k] != ' ' || p[k + 1] < '0' || p[k + 1] > '9')
			continue;
		errno = 0;
		n = strtoull(p + k + 1, &endp, 10);
		if (endp != nl || errno != 0 || n > SIZE_MAX / 2)
			break;
		r->start += (size_t)(nl - p) + 1;
		r->offset += (size_t)(nl - p) + 1;
		r->left = (size_t)n;
		*len = (size_t)n;
		return (enum leafstream_type)t;
	}
	return LEAFSTREAM_BAD;
}

int
leafstream_payload(struct leafstream_reader *r, char **text, size_t *len)
{
	size_t total = r->left, got = 0;
	const char *p;
	ssize_t n;

	if ((*text = malloc(total + 1)) == NULL)
		return -1;
	while ((n = leafstream_chunk(r, &p)) > 0) {
		memcpy(*text + got, p, (size_t)n);
		got += (size_t)n;
		leafstream_skip(r, (size_t)n);
	}
	if (n < 0) {
		int saved = errno;

		free(*text);
		*text = NULL;
		errno = saved;
		return -1;
	}
	(*text)[got] = '\0';
	*len = got;
	return 0;
}

static bool
get_bool(json_object *o, const char *key)
{
	json_object *v;

	return o != NULL && json_object_object_get_ex(o, key, &v) &&
	    json_object_get_boolean(v);
}

static double
get_double(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_double(v);
}

void
leafstream_merge_from_json(json_object *o, struct leafstream_merge *m)
{
	json_object *skipped = NULL;

	memset(m, 0, sizeof(*m));
	m->sources = stats_get_count(o, "sources");
	m->records = stats_get_count(o, "records");
	m->bytes_in = stats_get_count(o, "bytes_in");
	m->bytes_out = stats_get_count(o, "bytes_out");
	m->runs = stats_get_count(o, "runs");
	m->unchanged = get_bool(o, LEAFSTREAM_KEY_UNCHANGED);
	m->busy = get_bool(o, LEAFSTREAM_KEY_BUSY);
	m->no_inodes = get_bool(o, LEAFSTREAM_KEY_NO_INODES);
	m->inodes = stats_get_count(o, LEAFSTREAM_KEY_INODES);
	m->staged = get_bool(o, LEAFSTREAM_KEY_STAGED);
	m->waiting = get_bool(o, LEAFSTREAM_KEY_WAITING);
	m->elapsed = get_double(o, STATS_KEY_ELAPSED);
	if (o != NULL)
		json_object_object_get_ex(o, "sources_skipped", &skipped);
	for (int i = 0; i < LEAFSTREAM_SKIP_REASONS; i++)
		m->skipped[i] = stats_get_count(skipped,
		    leafstream_skip_names[i]);
}

/* Fills e from a parsed end record; -1 (EBADMSG) when it is none. */
static int
end_from_json(json_object *o, struct leafstream_end *e)
{
	json_object *v;

	memset(e, 0, sizeof(*e));
	e->status = EXITCODE_FAILED;
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, LEAFSTREAM_KEY_STATUS, &v) ||
	    !json_object_is_type(v, json_type_int)) {
		errno = EBADMSG;
		return -1;
	}
	e->status = json_object_get_int(v);
	leafstream_merge_from_json(o, &e->merge);
	return 0;
}

int
leafstream_end_parse(const char *text, struct leafstream_end *e)
{
	json_object *o = json_tokener_parse(text);
	int ret = end_from_json(o, e);

	json_object_put(o);
	return ret;
}

void
leafstream_write_from_json(json_object *o, struct leafstream_write *w)
{
	memset(w, 0, sizeof(*w));
	w->records = stats_get_count(o, "records");
	w->bytes = stats_get_count(o, "bytes");
	w->sources_removed = stats_get_count(o, "sources_removed");
	w->sources_kept = stats_get_count(o, "sources_kept");
	w->no_inodes = get_bool(o, LEAFSTREAM_KEY_NO_INODES);
	w->inodes = stats_get_count(o, LEAFSTREAM_KEY_INODES);
	w->staged = get_bool(o, LEAFSTREAM_KEY_STAGED);
	w->elapsed = get_double(o, STATS_KEY_ELAPSED);
}

int
leafstream_report_parse(const char *line, struct leafstream_report *r)
{
	json_object *o = json_tokener_parse(line), *v;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	r->status = EXITCODE_FAILED;
	r->end.status = EXITCODE_FAILED;
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, LEAFSTREAM_KEY_STATUS, &v) ||
	    !json_object_is_type(v, json_type_int)) {
		errno = EBADMSG;
		goto out;
	}
	r->status = json_object_get_int(v);
	if (json_object_object_get_ex(o, LEAFSTREAM_KEY_UNCHANGED, &v))
		r->unchanged = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, LEAFSTREAM_KEY_BUSY, &v))
		r->busy = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, LEAFSTREAM_KEY_OUTPUT, &v) &&
	    (r->output = strdup(json_object_get_string(v))) == NULL)
		goto out;
	leafstream_write_from_json(o, &r->write);
	r->has_merge = json_object_object_get_ex(o, LEAFSTREAM_KEY_MERGE, &v)
	    && end_from_json(v, &r->end) == 0;
	ret = 0;
out:
	json_object_put(o);
	return ret;
}

void
leafstream_report_free(struct leafstream_report *r)
{
	free(r->output);
	r->output = NULL;
}
