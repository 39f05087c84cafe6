/*
 * run.h - one leafpack run: the finder's leaves, through the backlog, into
 * -P slots, round after round of the event loop, until no leaf is left
 * or a signal stops it; then the summary.
 *
 * Signals: the leaves' processes run in process groups of their own, so a
 * terminal's Ctrl-C reaches only the driver, which then starts no new leaf,
 * stops the scan and waits for the leaves in flight; a second signal asks
 * them to roll back (SIGTERM to their groups).  They die with the driver
 * when it is killed (PR_SET_PDEATHSIG), as they would in a power cut, which
 * the commit protocol is built to survive.
 */
#ifndef LEAFPACK_PACK_RUN_H
#define LEAFPACK_PACK_RUN_H

#include "context.h"

/*
 * Runs the job ctx describes (whose argv holes it fills as it starts
 * children).  Returns the exit status: 0, 1 (skipped, stalled or busy
 * parts), 4 (a leaf or a stage failed), or 128 + the signal that stopped
 * it.  Exits 4 itself when out of memory, or when it cannot even start.
 */
int run(struct context *ctx);

#endif
