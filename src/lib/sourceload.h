/*
 * sourceload.h - loading one source into the sorter, all or nothing: how
 * json-merge turns a file holding one JSON array into records.  Each
 * element of the array is a record, compacted (jsonscan.h) and keyed by
 * its value at a key path (sortkey.h), added to a runsort.h sorter.  A
 * source that turns out invalid, unreadable or changed while it was read
 * gives back every record it added, so that a merge holds all of a source
 * or none of it.
 *
 * Taking back needs the records still in the sorter's arena (runsort's
 * marks): a source that does not fit in the arena's free space is read
 * again after a spill, and one bigger than the whole arena is validated
 * first and then read with spills.  Only when such a source changes or
 * fails between its two reads can its records not be taken back.
 *
 * The file is read with large pread(2)s from offset 0 into a buffer of
 * 1 MiB, grown for an element that does not fit until the source ends.
 * Once the rest of the file is in the buffer (a small source: at once),
 * each element is compacted over its own bytes and handed to the sorter
 * from there.  Before that, an element is compacted into a buffer of its
 * own, unless it is big (it did not fit, or the buffer has grown): such an
 * element is held once, validated where it lies and then compacted over
 * its bytes (the sorter writes one bigger than its whole arena, or than 16
 * MiB, straight to a run file).  A short read that reaches the size
 * fstat(2) gave is taken as the end.  Nothing is printed.
 */
#ifndef LEAFPACK_SOURCELOAD_H
#define LEAFPACK_SOURCELOAD_H

#include <stdbool.h>
#include <sys/stat.h>

#include "alloc.h"
#include "jsonscan.h"
#include "runsort.h"
#include "sortkey.h"

/* The reader, kept from source to source (and leaf to leaf). */
struct sourceload {
	const struct jsonscan_keypath *key;	/* not owned */
	const char *name;		/* the source being read (borrowed),
					 * for the watcher (share.h) */
	struct jsonscan_array scan;
	struct buf buf;			/* what was read; buf.len ends it */
	struct sortkey_buf sortkey;	/* of the element being added */
	struct jsonscan_buf element;	/* the element, compact */
	bool trust_reader;		/* set by the caller: a reader after it
					 * looks at each source again (jsonl-write
					 * before it publishes), so no fstat after
					 * the read (a round trip on a share) */
};

/* What sourceload_read() came to. */
enum sourceload_result {
	SOURCELOAD_OK,		/* every record is in the sorter */
	SOURCELOAD_INVALID,	/* not one JSON array: *err says where */
	SOURCELOAD_UNREADABLE,	/* reading it failed (errno) */
	SOURCELOAD_CHANGED,	/* it changed while it was read */
	SOURCELOAD_SORTER_FAILED, /* the sorter failed, or memory (errno):
				 * what the source added is undefined */
	SOURCELOAD_LOST		/* bad on the second read of a source
				 * bigger than the arena: its records
				 * were spilled and are in the sorter */
};

/* Starts a reader for records keyed at key (which must outlive it).
 * Returns 0, or -1 (ENOMEM). */
int sourceload_init(struct sourceload *s, const struct jsonscan_keypath *key);

/*
 * Reads the source open on fd, whose fstat() when opened is st, into the
 * sorter.  With INVALID, UNREADABLE and CHANGED nothing of it stays in
 * the sorter.
 */
enum sourceload_result sourceload_read(struct sourceload *s,
    struct runsort *sorter, int fd, const char *name, const struct stat *st,
    struct jsonscan_error *err);

/* True when two fstat()s of one file show the same, unchanged file
 * (inode, device, size and modification time). */
bool sourceload_same_file(const struct stat *a, const struct stat *b);

/* Frees what s holds and zeroes it. */
void sourceload_free(struct sourceload *s);

#endif
