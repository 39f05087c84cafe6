/*
 * journalhash.h - the records, bytes and hash of a byte stream: what
 * json-merge puts in the journal about what it wrote on stdout, and what
 * jsonl-write computes again over what it received, so that a filter or a
 * truncated stream between the two is noticed before anything is
 * published (journal.h stores the result; claim.h compares it).
 *
 * A module of its own because it needs nothing of the journal: it is pure
 * computation over bytes, no system calls, nothing printed.
 */
#ifndef LEAFPACK_JOURNALHASH_H
#define LEAFPACK_JOURNALHASH_H

#include <stddef.h>
#include <stdint.h>

/* Records, bytes and hash of a stream of JSONL bytes (see journal_hash_*). */
struct journal_hash {
	uint64_t state;
	unsigned long long records;	/* count of '\n' bytes */
	unsigned long long bytes;
	unsigned char tail[8];		/* bytes not yet mixed in */
	size_t ntail;
};

/*
 * The records / bytes / hash of a byte stream, computed the same way by
 * json-merge over what it writes and by jsonl-write over what it writes, so
 * that jsonl-write can tell it received exactly json-merge's output.  The
 * result does not depend on how the stream is cut into update() calls.
 */
void journal_hash_init(struct journal_hash *h);
void journal_hash_update(struct journal_hash *h, const void *data, size_t len);
uint64_t journal_hash_final(const struct journal_hash *h);

#endif
