/*
 * mergeclaim.h - json-merge's steps of the claim protocol (claim.h; the
 * protocol is in jsonl-write(1)): look, claim, mark merged, each failure
 * said; with --staging, the claim moved to the staging directory when the
 * leaf has no free inode, and a staged commit cut short finished before
 * the leaf is looked at (staging.h).
 */
#ifndef LEAFPACK_MERGECLAIM_H
#define LEAFPACK_MERGECLAIM_H

#include "mergeleaf.h"

/* The journal file could not be read or written (errno), said: -1. */
int journal_error(const struct leaf *l);

/*
 * The claim, first half: a live holder makes the leaf busy (l->busy);
 * else claim_look() learns what the existing output (the one opened)
 * already holds.  Nothing is changed yet.  0, or -1 (said).
 */
int look_leaf(struct leaf *l);

/*
 * The second half: the leaf is claimed when a consumer reads stdout (or
 * --claim); without claiming, the temporaries of dead runs still go; with
 * --no-claim nothing is touched.  A claim that finds no inode goes to
 * --staging DIR.  0, or -1 (said).
 */
int claim_leaf(struct leaf *l);

/* Marks the claim "merged" with what was consumed and written (the
 * entries go to the claim, whatever comes of it).  0, or -1 (said). */
int finish_claim(struct leaf *l);

/*
 * Before the claim: a leaf staged through our --staging DIR is finished;
 * a leaf holding the mark of a commit staged elsewhere (or without
 * --staging) is left, its records waiting (said; l->waiting).  Returns 0
 * to go on, 1 when the leaf is left, -1 (said).
 */
int look_staged(struct leaf *l);

#endif
