/*
 * mergesources.h - json-merge's sources: the listing of a leaf, the look
 * that decides whether it has anything new, and the reading of every
 * eligible source into the sorter (sourceload.h reads one), with what
 * became of each in the counts and, named, on stderr.  The rules that
 * make a file a source are sources.h's.
 */
#ifndef LEAFPACK_MERGESOURCES_H
#define LEAFPACK_MERGESOURCES_H

#include "mergeleaf.h"

/* The names that may be sources, once per leaf (l->names): 0, or -1
 * (said). */
int list_sources(struct leaf *l);

/*
 * Whether the leaf has anything new, from metadata alone, before anything
 * is read or claimed: a dead run's claim to finish, sources the output
 * holds to remove (unless --keep-sources), or one eligible source it does
 * not hold (the look stops there).  Returns 1, 0 (nothing new: the young
 * sources are counted then), or -1 (said).
 */
int has_work(struct leaf *l);

/* Lists the sources and consumes each eligible one: its records go to
 * the sorter, its identity to l->consumed.  Returns 0, 1 (one was skipped
 * for a reason that makes the run partial, named on stderr) or -1. */
int consume_sources(struct leaf *l);

/* Counts (and with --list-young names) a source left for a later run:
 * modified within --min-age. */
void source_young(struct leaf *l, const char *name);

#endif
