/*
 * writecommit.h - jsonl-write's commit, steps 2 to 5 of jsonl-write.c's
 * map: the claim checked, the commit record and the mode and owner on the
 * temporary, the sources checked again, the rename, then the removal of
 * the sources and the release of the claim (claim.h for the protocol).
 */
#ifndef LEAFPACK_WRITECOMMIT_H
#define LEAFPACK_WRITECOMMIT_H

#include <stdbool.h>

#include "claim.h"
#include "writeleaf.h"

/* The byte-order first source json-merge consumed in *first (NULL when
 * none was; valid until the next call), or -1 (errno). */
int first_source(struct leaf *leaf, const struct journal_entry **first);

/*
 * The output is durable and not yet published: a source rewritten since
 * json-merge read it (its old records are in the temporary) makes us
 * publish nothing for the leaf this time, and give the claim back, so
 * that a later run reads the leaf again; removing the other sources and
 * keeping that one would have the next run read its old records twice.
 * What remains is the window between this look and the rename (and the
 * unlinks after it): see jsonl-write(1).
 */
int recheck_sources(struct leaf *leaf);

/* Failures after the commit leave the new output in place: status 1. */
bool after_commit_warn(const char *what);

/* What became of a source in claim_remove_sources(): said and counted. */
void count_removal(void *ctx, const struct journal_entry *e,
    enum claim_removal what, int err);

/* Set when the leaf stream's reports cannot reach stdout: no more is
 * written there, and no leaf is committed. */
extern bool report_lost;

/*
 * Everything after the input is in the temporary: the claim, the commit,
 * the removal of the sources.  Returns EXITCODE_DONE, EXITCODE_PARTIAL
 * (committed, something after it failed) or EXITCODE_FAILED (said, the
 * previous output untouched).
 */
int commit(struct leaf *leaf);

#endif
