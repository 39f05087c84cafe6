#include "runsort.h"
#include "alloc.h"
#include "indexsort.h"
#include "runfile.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Arena layout: records from the start, each [u32 keylen][key][u32 reclen]
 * [record], so that a spill writes each record with one iovec and a run file
 * is the same bytes; index entries from the end (indexsort.h: the first 24
 * key bytes, taken while the key is in the cache, and the offset).  Keys
 * often share their first 9 bytes (a sortkey.h type tag and the exponent of
 * the timestamps of one day), and 15 more bytes tell instants apart to 10
 * microseconds.
 */

struct run {
	int fd;
};

struct runsort {
	char *arena;
	size_t size;		/* of the arena mapping */
	size_t memory;		/* what the caller allowed */
	size_t used;		/* record bytes at the start */
	size_t count;		/* index entries at the end */
	struct run *runs;
	size_t nruns, runcap;
	char *tmpdir;
	char *spillbuf;		/* SPILL_BUFFER bytes, once a spill happens */
	unsigned long spilled;
	unsigned long long records;
	int huge;		/* the arena asked for huge pages */
	size_t scratched;	/* arena bytes from the start that sorting
				 * used as scratch */
	struct buf big;		/* while merging: the one record too big
				 * for its run's buffer (sink_put) */
};

/* One input of a merge: a spilled run, the sorted arena, or the caller's. */
struct cursor {
	const char *key, *rec;
	size_t keylen, reclen;
	unsigned long order;	/* ties: lower first */
	int (*next)(struct cursor *);
	/* run file */
	struct runfile_reader run;
	/* arena */
	const char *arena;
	const struct index_entry *entries;
	size_t i, n;
	/* caller's input */
	const struct runsort_input *input;
};

#define MIN_MEMORY (64 * 1024)
#define MIN_RUN_BUFFER (64 * 1024)
#define MAX_RUN_BUFFER (4 * 1024 * 1024)
#define MAX_FANIN 128
#define SPILL_BUFFER (1024 * 1024)
/* Record bytes from which the arena asks for transparent huge pages: at
 * 8 MiB the big leaf (66 MB) took 2,045 more faults before they came. */
#define HUGE_ARENA (1024 * 1024)

/* Record bytes from which a record is a run of its own (giant()). */
#define GIANT_RECORD (16 * 1024 * 1024)
/* How many records ahead of the merge the arena's are prefetched. */
#define ARENA_PREFETCH 8
/* Arena pages runsort_reset() keeps for the next user. */
#define RESET_KEEP (4 * 1024 * 1024)

/* The index, reversed into insertion order and sorted. */
static struct index_entry *
sort_arena(struct runsort *rs)
{
	struct index_entry *e =
	    (struct index_entry *)(rs->arena + rs->size) - rs->count;
	size_t n = rs->count, start = (rs->used + 7) & ~(size_t)7;
	size_t room = (size_t)((char *)e - rs->arena), need;

	for (size_t i = 0; i < n / 2; i++) {
		struct index_entry t = e[i];

		e[i] = e[n - 1 - i];
		e[n - 1 - i] = t;
	}
	/* The free middle of the arena is index_sort()'s scratch, when the
	 * records left it room: counted with what runsort_reset() finds
	 * touched. */
	need = index_scratch_size(n);
	if (need == 0 || start > room || room - start < need) {
		index_sort(rs->arena, e, n, NULL, 0);
	} else {
		if (start + need > rs->scratched)
			rs->scratched = start + need;
		index_sort(rs->arena, e, n, rs->arena + start, need);
	}
	return e;
}

static char *
map_arena(size_t size)
{
	/* MAP_NORESERVE and lazy touching: a small leaf costs a few pages. */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static size_t
round_arena(size_t size)
{
	size_t page = 64 * 1024;

	return (size + page - 1) / page * page;
}

struct runsort *
runsort_new(size_t memory, const char *tmpdir)
{
	struct runsort *rs;

	if (memory < MIN_MEMORY)
		memory = MIN_MEMORY;
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = getenv("TMPDIR");
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	rs = calloc(1, sizeof(*rs));
	if (rs == NULL)
		return NULL;
	rs->memory = rs->size = round_arena(memory);
	rs->tmpdir = strdup(tmpdir);
	rs->arena = map_arena(rs->size);
	if (rs->tmpdir == NULL || rs->arena == NULL) {
		runsort_free(rs);
		return NULL;
	}
	return rs;
}

static int
add_run(struct runsort *rs, int fd)
{
	if (rs->nruns == rs->runcap) {
		size_t cap = rs->runcap ? 2 * rs->runcap : 16;
		struct run *r = realloc(rs->runs, cap * sizeof(*r));

		if (r == NULL)
			return -1;
		rs->runs = r;
		rs->runcap = cap;
	}
	rs->runs[rs->nruns++].fd = fd;
	return 0;
}

static size_t
record_size(const char *arena, uint64_t off)
{
	uint32_t keylen = index_load32(arena + off);

	return 8 + keylen + index_load32(arena + off + 4 + keylen);
}

/* Where a merge sends its records: the caller, or a new run file. */
struct sink {
	runsort_emit_fn *emit;
	void *ctx;
	struct runfile_writer w;
	struct buf *big;	/* for a record too big for its run's buffer */
};

/*
 * Sorts the arena and writes it to a new run file.  The records are copied
 * into a buffer first: one large write costs the kernel far less than
 * writev() over thousands of small pieces.
 */
static int
spill(struct runsort *rs)
{
	struct runfile_writer w = { .fd = -1 };
	struct index_entry *e;

	if (rs->count == 0)
		return 0;
	if (rs->spillbuf == NULL &&
	    (rs->spillbuf = malloc(SPILL_BUFFER)) == NULL)
		return -1;
	w.buf = rs->spillbuf;
	w.cap = SPILL_BUFFER;
	if ((w.fd = runfile_open(rs->tmpdir)) < 0)
		return -1;
	e = sort_arena(rs);
	for (size_t i = 0; i < rs->count; i++)
		if (runfile_write(&w, rs->arena + e[i].off,
		    record_size(rs->arena, e[i].off)) < 0)
			goto fail;
	if (runfile_flush(&w) < 0 || add_run(rs, w.fd) < 0)
		goto fail;
	rs->spilled++;
	rs->used = rs->count = 0;
	return 0;
fail:
	close(w.fd);
	return -1;
}

/* Stores a record that is known to fit. */
static void
put_record(struct runsort *rs, const char *key, size_t keylen,
    const char *record, size_t reclen)
{
	uint32_t k32 = keylen, r32 = reclen;
	char *p = rs->arena + rs->used;
	struct index_entry *e;

	memcpy(p, &k32, 4);
	memcpy(p + 4, key, keylen);
	memcpy(p + 4 + keylen, &r32, 4);
	memcpy(p + 8 + keylen, record, reclen);
	rs->count++;
	e = (struct index_entry *)(rs->arena + rs->size) - rs->count;
	index_entry_set(e, key, keylen, rs->used);
	rs->used += 8 + keylen + reclen;
	rs->records++;
	/* A big leaf touches the arena page by page: with 4 KiB pages that
	 * is a fault per 4 KiB (68,000 for a 256 MB leaf, 0.7 s on a virtual
	 * machine whose faults cost 11 us).  Once the records pass
	 * HUGE_ARENA, ask for huge pages (where the kernel has them: 500
	 * times fewer faults); a small leaf keeps its few small pages. */
	if (!rs->huge && rs->used > HUGE_ARENA) {
		rs->huge = 1;
		madvise(rs->arena, rs->size, MADV_HUGEPAGE);
	}
}

/* 0 when a record of need bytes fits, 1 when not, -1 when too big ever. */
static int
check_fit(const struct runsort *rs, size_t keylen, size_t reclen)
{
	if (keylen > UINT32_MAX || reclen > UINT32_MAX - keylen - 8) {
		errno = EOVERFLOW;
		return -1;
	}
	return rs->used + 8 + keylen + reclen +
	    (rs->count + 1) * sizeof(struct index_entry) > rs->size;
}

/* True when a record of need bytes is to be a run of its own: it cannot
 * fit even in an empty arena, or it is so big that writing it out and
 * reading it back costs little next to holding it twice (see put_giant). */
static int
giant(const struct runsort *rs, size_t need)
{
	return need + sizeof(struct index_entry) > rs->size || need > GIANT_RECORD;
}

/*
 * Writes a record bigger than the whole arena as a run of its own, straight
 * from the caller's memory, after spilling what the arena holds (so that
 * the order of equal keys stays the order of adding).  Growing the arena
 * for it instead would hold the record twice, once in the caller's buffer
 * and once in the arena.
 */
static int
put_giant(struct runsort *rs, const char *key, size_t keylen,
    const char *record, size_t reclen)
{
	struct runfile_writer w = { .fd = -1 };

	if (spill(rs) < 0 || (w.fd = runfile_open(rs->tmpdir)) < 0)
		return -1;
	/* No buffer: runfile_put() writes the pieces with one writev(). */
	if (runfile_put(&w, key, keylen, record, reclen) < 0 ||
	    add_run(rs, w.fd) < 0) {
		close(w.fd);
		return -1;
	}
	rs->spilled++;
	rs->records++;
	return 0;
}

int
runsort_add(struct runsort *rs, const char *key, size_t keylen,
    const char *record, size_t reclen)
{
	int r = check_fit(rs, keylen, reclen);

	if (r < 0)
		return -1;
	if (giant(rs, 8 + keylen + reclen))
		return put_giant(rs, key, keylen, record, reclen);
	if (r > 0 && spill(rs) < 0)
		return -1;
	put_record(rs, key, keylen, record, reclen);
	return 0;
}

int
runsort_try_add(struct runsort *rs, const char *key, size_t keylen,
    const char *record, size_t reclen)
{
	int r = check_fit(rs, keylen, reclen);

	if (r < 0)
		return -1;
	if (r > 0 || giant(rs, 8 + keylen + reclen))
		return 1;
	put_record(rs, key, keylen, record, reclen);
	return 0;
}

int
runsort_spill(struct runsort *rs)
{
	return spill(rs);
}

void
runsort_mark(const struct runsort *rs, struct runsort_mark *mark)
{
	mark->used = rs->used;
	mark->count = rs->count;
	mark->spilled = rs->spilled;
}

int
runsort_rollback(struct runsort *rs, const struct runsort_mark *mark)
{
	if (mark->spilled != rs->spilled || mark->count > rs->count) {
		errno = EINVAL;
		return -1;
	}
	rs->records -= rs->count - mark->count;
	rs->used = mark->used;
	rs->count = mark->count;
	return 0;
}

int
runsort_arena_empty(const struct runsort *rs)
{
	return rs->count == 0;
}

static int
next_from_arena(struct cursor *c)
{
	const char *p;

	if (c->i == c->n)
		return 0;
	/* The records come in key order from all over the arena: ask for
	 * one a few ahead, whose first miss then costs nothing. */
	if (c->i + ARENA_PREFETCH < c->n) {
		const char *ahead = c->arena + c->entries[c->i + ARENA_PREFETCH].off;

		__builtin_prefetch(ahead);
		__builtin_prefetch(ahead + 64);
	}
	p = c->arena + c->entries[c->i++].off;
	c->keylen = index_load32(p);
	c->key = p + 4;
	c->reclen = index_load32(p + 4 + c->keylen);
	c->rec = p + 8 + c->keylen;
	return 1;
}

static int
next_from_input(struct cursor *c)
{
	return c->input->next(c->input->ctx, &c->key, &c->keylen, &c->rec,
	    &c->reclen);
}

static int
next_from_run(struct cursor *c)
{
	return runfile_next_lazy(&c->run, &c->key, &c->keylen, &c->rec,
	    &c->reclen);
}

static int
cursor_less(const struct cursor *a, const struct cursor *b)
{
	int c = index_key_compare(a->key, a->keylen, b->key, b->keylen, 0);

	return c < 0 || (c == 0 && a->order < b->order);
}

static void
heap_down(struct cursor **h, size_t n, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		struct cursor *t;

		if (c >= n)
			return;
		if (c + 1 < n && cursor_less(h[c + 1], h[c]))
			c++;
		if (!cursor_less(h[c], h[i]))
			return;
		t = h[i];
		h[i] = h[c];
		h[c] = t;
		i = c;
	}
}

static int
sink_put(struct sink *s, struct cursor *c)
{
	/* A record bigger than its run's buffer is read now, into the one
	 * buffer such records share (see runfile_next_lazy). */
	if (c->rec == NULL) {
		if (buf_reserve(s->big, c->reclen) < 0 ||
		    runfile_body(&c->run, s->big->data, c->reclen) < 0)
			return -1;
		c->rec = s->big->data;
	}
	if (s->emit != NULL)
		return s->emit(s->ctx, c->rec, c->reclen);
	return runfile_put(&s->w, c->key, c->keylen, c->rec, c->reclen);
}

/* Merges the cursors (each not yet started) into the sink. */
static int
merge(struct cursor *cur, size_t n, struct sink *s)
{
	struct cursor **heap = malloc((n ? n : 1) * sizeof(*heap));
	size_t live = 0;
	int r, ret = -1;

	if (heap == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((r = cur[i].next(&cur[i])) < 0)
			goto out;
		if (r > 0)
			heap[live++] = &cur[i];
	}
	for (size_t i = live / 2; i-- > 0;)
		heap_down(heap, live, i);
	while (live > 0) {
		if (sink_put(s, heap[0]) < 0)
			goto out;
		if ((r = heap[0]->next(heap[0])) < 0)
			goto out;
		if (r == 0)
			heap[0] = heap[--live];
		heap_down(heap, live, 0);
	}
	ret = 0;
out:
	free(heap);
	return ret;
}

static void
run_cursor(struct cursor *c, int fd, size_t bufsize, unsigned long order)
{
	memset(c, 0, sizeof(*c));
	runfile_reader_init(&c->run, fd, bufsize);
	c->order = order;
	c->next = next_from_run;
}

static size_t
run_buffer_size(const struct runsort *rs, size_t nruns)
{
	size_t b = rs->memory / (nruns ? nruns : 1);

	if (b < MIN_RUN_BUFFER)
		b = MIN_RUN_BUFFER;
	return b > MAX_RUN_BUFFER ? MAX_RUN_BUFFER : b;
}

static int
rewind_runs(struct run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lseek(runs[i].fd, 0, SEEK_SET) < 0)
			return -1;
	return 0;
}

/* Merges the first n runs into one that takes their place, keeping ties
 * in order: the merged run is first, as they were. */
static int
merge_first_runs(struct runsort *rs, size_t n)
{
	struct cursor *cur = calloc(n, sizeof(*cur));
	struct sink s = { .w = { .fd = -1 }, .big = &rs->big };
	int ret = -1;

	if (cur == NULL)
		return -1;
	s.w.cap = run_buffer_size(rs, n + 1);
	if ((s.w.buf = malloc(s.w.cap)) == NULL)
		goto out;
	if ((s.w.fd = runfile_open(rs->tmpdir)) < 0)
		goto out;
	if (rewind_runs(rs->runs, n) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		run_cursor(&cur[i], rs->runs[i].fd, s.w.cap, i);
	if (merge(cur, n, &s) < 0 || runfile_flush(&s.w) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		close(rs->runs[i].fd);
	rs->runs[0].fd = s.w.fd;
	memmove(rs->runs + 1, rs->runs + n,
	    (rs->nruns - n) * sizeof(rs->runs[0]));
	rs->nruns -= n - 1;
	s.w.fd = -1;
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		runfile_reader_free(&cur[i].run);
	free(cur);
	free(s.w.buf);
	if (s.w.fd >= 0)
		close(s.w.fd);
	return ret;
}

int
runsort_finish(struct runsort *rs, const struct runsort_input *first,
    runsort_emit_fn *emit, void *ctx)
{
	struct sink s = { .emit = emit, .ctx = ctx, .w = { .fd = -1 },
	    .big = &rs->big };
	struct cursor *cur;
	size_t n = 0, fanin, bufsize;
	int ret = -1;

	if (rs->nruns > 0) {
		/* Everything goes through run files, so that the arena's
		 * memory is free for their read buffers. */
		if (spill(rs) < 0)
			return -1;
		munmap(rs->arena, rs->size);
		rs->arena = NULL;
		fanin = rs->memory / MIN_RUN_BUFFER;
		if (fanin > MAX_FANIN)
			fanin = MAX_FANIN;
		if (fanin < 3)
			fanin = 3;
		while (rs->nruns + 1 > fanin)
			if (merge_first_runs(rs, fanin - 1) < 0)
				return -1;
		if (rewind_runs(rs->runs, rs->nruns) < 0)
			return -1;
	}
	cur = calloc(rs->nruns + 2, sizeof(*cur));
	if (cur == NULL)
		return -1;
	if (first != NULL) {
		cur[n].next = next_from_input;
		cur[n].input = first;
		cur[n].order = n;
		n++;
	}
	bufsize = run_buffer_size(rs, rs->nruns);
	for (size_t i = 0; i < rs->nruns; i++, n++)
		run_cursor(&cur[n], rs->runs[i].fd, bufsize, n);
	if (rs->arena != NULL) {
		cur[n].next = next_from_arena;
		cur[n].arena = rs->arena;
		cur[n].entries = sort_arena(rs);
		cur[n].n = rs->count;
		cur[n].order = n;
		n++;
	}
	ret = merge(cur, n, &s);
	for (size_t i = 0; i < n; i++)
		runfile_reader_free(&cur[i].run);
	free(cur);
	return ret;
}

unsigned long
runsort_runs_spilled(const struct runsort *rs)
{
	return rs->spilled;
}

unsigned long long
runsort_records(const struct runsort *rs)
{
	return rs->records;
}

int
runsort_reset(struct runsort *rs)
{
	/* What the last user touched: records from the start, index from
	 * the end.  Kept when small (a sequence of small leaves costs no page
	 * fault after the first), given back when big. */
	size_t touched = (rs->scratched > rs->used ? rs->scratched : rs->used) +
	    rs->count * sizeof(struct index_entry);

	for (size_t i = 0; i < rs->nruns; i++)
		close(rs->runs[i].fd);
	rs->nruns = 0;
	rs->used = rs->count = 0;
	rs->scratched = 0;
	rs->spilled = 0;
	rs->records = 0;
	free(rs->spillbuf);
	rs->spillbuf = NULL;
	buf_free(&rs->big);
	if (rs->arena == NULL) {
		rs->huge = 0;
		rs->size = rs->memory;
		if ((rs->arena = map_arena(rs->size)) == NULL)
			return -1;
	} else if (touched > RESET_KEEP)
		madvise(rs->arena, rs->size, MADV_DONTNEED);
	return 0;
}

void
runsort_free(struct runsort *rs)
{
	if (rs == NULL)
		return;
	if (rs->arena != NULL)
		munmap(rs->arena, rs->size);
	for (size_t i = 0; i < rs->nruns; i++)
		close(rs->runs[i].fd);
	free(rs->runs);
	free(rs->spillbuf);
	buf_free(&rs->big);
	free(rs->tmpdir);
	free(rs);
}
