/*
 * spill.c - lists of records in bounded memory (spill.h).
 */
#include "spill.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runfile.h"
#include "runsort.h"

static uint32_t
load32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static const char *
tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t != NULL && *t != '\0' ? t : "/tmp";
}

/* What memory holds goes to the end of the file (made the first time). */
static int
write_out(struct spill *s)
{
	struct runfile_writer w;

	if (!s->spilled) {
		if ((s->fd = runfile_open(tmpdir())) < 0)
			return -1;
		s->spilled = true;
		s->filelen = 0;
	}
	/* The file is only ever appended to: its offset is its end. */
	w.fd = s->fd;
	w.buf = s->mem.data;
	w.len = w.cap = s->mem.len;
	if (runfile_flush(&w) < 0)
		return -1;
	s->filelen += (off_t)s->mem.len;
	s->mem.len = 0;
	return 0;
}

int
spill_add(struct spill *s, const void *rec, size_t len)
{
	uint32_t len32 = (uint32_t)len;

	if (len > UINT32_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	if (!s->stuck && s->mem.len > 0 && s->mem.len + 4 + len >
	    SPILL_MEMORY && write_out(s) < 0) {
		if (errno == ENOMEM)
			return -1;
		/* A partial write may have passed filelen: the file is read
		 * only as far as it, and never appended to again. */
		s->stuck = true;
	}
	if (buf_reserve(&s->mem, 4 + len) < 0)
		return -1;
	memcpy(s->mem.data + s->mem.len, &len32, 4);
	memcpy(s->mem.data + s->mem.len + 4, rec, len);
	s->mem.len += 4 + len;
	s->count++;
	return 0;
}

void
spill_free(struct spill *s)
{
	if (s->spilled)
		close(s->fd);
	buf_free(&s->mem);
	memset(s, 0, sizeof(*s));
}

void
spill_move(struct spill *to, struct spill *from)
{
	if (to == from)
		return;
	spill_free(to);
	*to = *from;
	memset(from, 0, sizeof(*from));
}

void
spill_cursor_init(struct spill_cursor *c, const struct spill *s)
{
	memset(c, 0, sizeof(*c));
	c->s = s;
	/* The file's length now: a list is not appended to while read. */
	runfile_reader_range(&c->file, s->spilled ? s->fd : -1, SPILL_MEMORY,
	    s->spilled ? s->filelen : 0);
}

int
spill_next(struct spill_cursor *c, const char **rec, size_t *len)
{
	const struct spill *s = c->s;
	struct runfile_reader *f = &c->file;
	size_t n;
	int r;

	/* The file first (its records came first), then memory. */
	if (s->spilled && (r = runfile_fill(f, 4)) != 0) {
		if (r < 0)
			return -1;
		n = load32(f->buf + f->start);
		if ((r = runfile_fill(f, 4 + n)) <= 0)
			return r < 0 ? -1 : (errno = EIO, -1);
		*rec = f->buf + f->start + 4;
		*len = n;
		f->start += 4 + n;
		return 1;
	}
	if (c->memoff + 4 > s->mem.len)
		return 0;
	n = load32(s->mem.data + c->memoff);
	*rec = s->mem.data + c->memoff + 4;
	*len = n;
	c->memoff += 4 + n;
	return 1;
}

void
spill_cursor_free(struct spill_cursor *c)
{
	runfile_reader_free(&c->file);
	memset(c, 0, sizeof(*c));
}

/* ---- sorting ---- */

/* A record of a list held in memory, for qsort. */
struct slot {
	const char *key;
	size_t keylen, off, len;
};

static int
keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
compare_slots(const void *pa, const void *pb)
{
	const struct slot *a = pa, *b = pb;
	int c = keycmp(a->key, a->keylen, b->key, b->keylen);

	/* Equal keys keep their order: the sort is stable. */
	if (c != 0)
		return c;
	return a->off < b->off ? -1 : a->off > b->off;
}

/* 1 when the list is in order, 0 when not, -1. */
static int
in_order(const struct spill *s, spill_key_fn *key)
{
	struct spill_cursor c;
	struct buf prev = { 0 };
	const char *rec, *k;
	size_t len, klen;
	int r, sorted = 1;
	bool first = true;

	spill_cursor_init(&c, s);
	while (sorted && (r = spill_next(&c, &rec, &len)) == 1) {
		key(rec, len, &k, &klen);
		if (!first && keycmp(prev.data, prev.len, k, klen) > 0)
			sorted = 0;
		first = false;
		prev.len = 0;
		if (buf_append(&prev, k, klen) < 0)
			r = -1;
		if (r < 0)
			break;
	}
	spill_cursor_free(&c);
	buf_free(&prev);
	return r < 0 ? -1 : sorted;
}

/* The list, all in memory, sorted there. */
static int
sort_memory(struct spill *s, spill_key_fn *key)
{
	struct slot *slots;
	struct buf out = { 0 };
	size_t n = 0;

	if ((slots = calloc(s->count, sizeof(*slots))) == NULL)
		return -1;
	for (size_t off = 0; off + 4 <= s->mem.len && n < s->count; n++) {
		slots[n].off = off;
		slots[n].len = load32(s->mem.data + off);
		key(s->mem.data + off + 4, slots[n].len, &slots[n].key,
		    &slots[n].keylen);
		off += 4 + slots[n].len;
	}
	qsort(slots, n, sizeof(*slots), compare_slots);
	if (buf_reserve(&out, s->mem.len) < 0) {
		free(slots);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		buf_append(&out, s->mem.data + slots[i].off,
		    4 + slots[i].len);
	free(slots);
	buf_free(&s->mem);
	s->mem = out;
	return 0;
}

static int
emit_record(void *ctx, const char *rec, size_t len)
{
	return spill_add(ctx, rec, len);
}

/* The list through runsort into a new one. */
static int
sort_runs(struct spill *s, spill_key_fn *key)
{
	struct spill sorted = { 0 };
	struct spill_cursor c;
	struct runsort *rs;
	const char *rec, *k;
	size_t len, klen;
	int r, saved;

	if ((rs = runsort_new(SPILL_SORT_MEMORY, NULL)) == NULL)
		return -1;
	spill_cursor_init(&c, s);
	while ((r = spill_next(&c, &rec, &len)) == 1) {
		key(rec, len, &k, &klen);
		if (runsort_add(rs, k, klen, rec, len) < 0) {
			r = -1;
			break;
		}
	}
	spill_cursor_free(&c);
	if (r == 0)
		r = runsort_finish(rs, NULL, emit_record, &sorted);
	saved = errno;
	runsort_free(rs);
	if (r < 0) {
		spill_free(&sorted);
		errno = saved;
		return -1;
	}
	spill_move(s, &sorted);
	return 0;
}

int
spill_sort(struct spill *s, spill_key_fn *key)
{
	int r;

	if (s->count < 2)
		return 0;
	if ((r = in_order(s, key)) != 0)
		return r < 0 ? -1 : 0;
	return s->spilled ? sort_runs(s, key) : sort_memory(s, key);
}
