/*
 * runsort.h - sorting records of any total size in bounded memory: an
 * in-memory arena sorted in place, spilled as sorted runs to temporary files
 * when it is full, and a k-way merge of the runs (plus one caller-supplied,
 * already sorted input) streamed to an output callback.
 *
 * A record is an opaque byte string with a sort key, another byte string.
 * Records come out ordered by memcmp() of their keys (a key that is a prefix
 * of another comes first), and records with equal keys in the order they
 * were added (the sort is stable).  json-merge is the user: its records are
 * compact JSON values, its keys sortkey.h encodings.
 *
 * Memory: the arena is one mapping of the size given to runsort_new(),
 * touched only as far as it is filled, holding the records from its start
 * and a 32-byte index entry per record from its end.  When the two meet the
 * arena is sorted and written as a run.  While merging, the runs share a
 * read-buffer budget of the same size.  A record bigger than the whole
 * arena, or than 16 MiB, becomes a run of its own, written from the
 * caller's memory, so that it is never held twice.  While merging, a record
 * bigger than its run's read buffer is read only when its turn comes, into
 * one buffer such records share: however many runs hold one, one is in
 * memory at a time.
 */
#ifndef LEAFPACK_RUNSORT_H
#define LEAFPACK_RUNSORT_H

#include <stddef.h>

struct runsort;

/*
 * An already sorted input merged before the added records: on ties its
 * records come first.  next() stores the next record and its key (pointers
 * valid until the following call) and returns 1, returns 0 at its end, or
 * -1 on error (errno set; the merge stops and fails).
 */
struct runsort_input {
	int (*next)(void *ctx, const char **key, size_t *keylen,
	    const char **record, size_t *reclen);
	void *ctx;
};

/*
 * Receives the records in order; returns 0, or -1 to stop the merge
 * (errno set).
 */
typedef int runsort_emit_fn(void *ctx, const char *record, size_t reclen);

/*
 * Creates a sorter using at most memory bytes for records (at least 64 KiB
 * is used whatever is asked) and spilling to files in tmpdir (NULL: $TMPDIR,
 * else /tmp).  The run files are unlinked at once (O_TMPFILE when the file
 * system has it), so nothing is left behind, even by a crash.  Returns NULL
 * with errno set on failure.  Free with runsort_free().
 */
struct runsort *runsort_new(size_t memory, const char *tmpdir);

/*
 * Adds one record with its key; both are copied.  May sort and spill the
 * arena first.  Returns 0, or -1 with errno set (the spill failed: ENOSPC,
 * EIO, ... in the temporary directory, or out of memory).
 */
int runsort_add(struct runsort *rs, const char *key, size_t keylen,
    const char *record, size_t reclen);

/*
 * Like runsort_add(), but never spills: returns 1 (and adds nothing) when
 * the record does not fit in the arena's free space, even when the arena is
 * empty (a record bigger than the whole arena or 16 MiB is only ever
 * spilled).
 */
int runsort_try_add(struct runsort *rs, const char *key, size_t keylen,
    const char *record, size_t reclen);

/* Sorts the arena and writes it as a run (nothing when it is empty).
 * Returns 0, or -1 with errno set. */
int runsort_spill(struct runsort *rs);

/*
 * A point to go back to: records added after runsort_mark() are dropped by
 * runsort_rollback(), which works only while nothing was spilled since the
 * mark (it returns -1 with errno EINVAL otherwise, and drops nothing).
 * json-merge uses it to take back the records of a source that turns out
 * to be invalid.
 */
struct runsort_mark {
	size_t used, count;
	unsigned long spilled;
};
void runsort_mark(const struct runsort *rs, struct runsort_mark *mark);
int runsort_rollback(struct runsort *rs, const struct runsort_mark *mark);

/* True when the arena holds no record. */
int runsort_arena_empty(const struct runsort *rs);

/*
 * Sorts what is left, merges it with the spilled runs and with first (may
 * be NULL) and passes every record to emit in order.  Call it once; the
 * sorter only accepts runsort_free() afterwards.  Returns 0, or -1 with
 * errno set when reading or writing a run, first, or emit failed.
 */
int runsort_finish(struct runsort *rs, const struct runsort_input *first,
    runsort_emit_fn *emit, void *ctx);

/*
 * Empties the sorter for another set of records, after runsort_finish() or
 * a failure, keeping its arena mapped (and so its pages, up to a few MiB)
 * for the next user.  Returns 0, or -1 with errno set (the sorter then only
 * accepts runsort_free()).
 */
int runsort_reset(struct runsort *rs);

/* The number of runs written to temporary files so far. */
unsigned long runsort_runs_spilled(const struct runsort *rs);

/* The number of records added so far. */
unsigned long long runsort_records(const struct runsort *rs);

/* Frees the sorter and closes (so removes) its run files.  NULL is ok. */
void runsort_free(struct runsort *rs);

#endif
