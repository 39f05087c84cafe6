/*
 * verify.h - checking a finished leaf, changing nothing: what jsonl-verify
 * (and so leafpack --verify) finds wrong with a leaf's consolidated output
 * and the protocol files beside it.
 *
 * For the leaf DIR and its output NAME:
 *   - every line of DIR/NAME is one JSON value, written compact (as
 *     json-merge writes it: jsonscan_compact_value() gives the same
 *     bytes), and ends with '\n';
 *   - the lines are in the order of their sort keys at the key path
 *     (sortkey.h: instants and numbers compared as such; lines without a
 *     key last); equal keys may come in any order;
 *   - where the output carries a commit record (claim.h: the attribute,
 *     or a journal file in state "committed" naming the output's inode),
 *     its bytes, records and hash are the file's;
 *   - nothing of a run is left: no temporary (.NAME.tmp.*,
 *     .NAME.journal.tmp.*), no claim (a journal file in state merging or
 *     merged), no journal file beside an output whose attribute already
 *     holds its record, no journal of an older output.
 * A leaf without an output is no problem in itself (there was nothing to
 * consolidate, or it is still to be done); its leftovers still count.
 *
 * Every call on the share goes through share.h, so under leafpack each is
 * announced and bounded like any other stage's.  Nothing is printed: each
 * problem goes to the caller's function, with the path it is about and
 * the line (0 when it is about the whole file).
 */
#ifndef LEAFPACK_VERIFY_H
#define LEAFPACK_VERIFY_H

#include <stdbool.h>

#include "jsonscan.h"

/* At most this many problems are told of one file; the rest are counted
 * and told of in one more call (line 0). */
#define VERIFY_MAX_TOLD 20

struct verify_counts {
	bool has_output;		/* DIR/NAME exists */
	bool has_record;		/* and carries a commit record */
	unsigned long long lines;	/* lines of the output */
	unsigned long long bytes;	/* its size */
	unsigned long long problems;	/* found in the leaf, told or not */
};

/* Told of each problem: path is DIR/NAME or DIR/ENTRY; line is 1-based,
 * or 0 for the file as a whole. */
typedef void verify_problem_fn(void *ctx, const char *path,
    unsigned long long line, const char *what);

/*
 * Checks the leaf dir (a path) and its output name, keyed at key; adds
 * what it counted to *counts.  Returns 0 when the leaf could be read to
 * the end (clean or not: see counts->problems), or -1 with errno set when
 * a call failed; *failed then names what was being read (the leaf, or one
 * of its files, as a path to free()) and the problems found so far were
 * told.
 */
int verify_leaf(const char *dir, const char *name,
    const struct jsonscan_keypath *key, verify_problem_fn *problem,
    void *ctx, struct verify_counts *counts, char **failed);

#endif
