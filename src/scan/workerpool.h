/*
 * workerpool.h - tree-scan's forked workers, seen from the parent: a slot
 * per worker, each with its socket, the jobs sent to it (up to PIPELINE:
 * the one it reads and a few queued behind it, which go back to the queue
 * if the worker is lost), its deque of pending directories (the children
 * of what it read, which it still holds open) and its word of shared
 * memory (lib/scanworker.h: which job it is reading, since when).
 *
 * The parent polls every busy worker with a deadline taken from its word;
 * a worker that misses it is killed, never waited for, and replaced, and
 * the job it was reading is stalled.  After --max-stalls directories in a
 * row stalled, the breaker asks the share whether it answers at all; if
 * not, every directory not read is stalled, untried, and the scan stops.
 *
 * A module of its own as all of it reads and changes the slots (struct
 * worker in scanstate.h) and calls into itself (a lost worker is found
 * while sending, reading or waiting); the rest of tree-scan sees only the
 * calls below.  What a worker reads and what it finds go to dirtree.h and
 * leafoutput.h; the stalled ones, to s->stalled (stallreport.h).
 */
#ifndef LEAFPACK_WORKERPOOL_H
#define LEAFPACK_WORKERPOOL_H

#include "scanstate.h"

/* Makes s->nworkers slots, their shared words and their poll sets, and
 * starts a worker in each; a failure ends the scan. */
void workers_start(struct scan *s);

/* At the end: closes the workers' sockets (an idle worker then exits and
 * is reaped, for at most a second; a stuck or killed one is never waited
 * for) and frees the slots and their words. */
void workers_free(struct scan *s);

/*
 * Gives pending directories to the workers (starting a worker in an empty
 * slot), one to each idle worker first, then more to each up to PIPELINE
 * while there is plenty left for the others, and sends them.
 */
void dispatch(struct scan *s);

/* Whether no worker slot has a pending directory. */
int queues_empty(const struct scan *s);

/*
 * Waits for the workers, up to the nearest deadline (or the progress
 * line's interval, or the moment to flush stdout), acts on what they sent
 * (names, directories done, leaves to leafoutput.h), and kills and
 * replaces those that missed their deadline.
 */
void wait_workers(struct scan *s);

/* Gives the stalled directories another round, spread over the slots. */
void retry_stalled(struct scan *s);

/*
 * max_stalls directories in a row stalled: asks the share (the root of
 * the last one stalled) whether it answers.  Returns 0 when it does (the
 * count starts again), or 1 when it does not: every worker is killed,
 * every directory not read is stalled, untried, and the scan must stop.
 */
int breaker(struct scan *s);

#endif
