/*
 * claimholder.h - who holds a leaf: whether the process a claim names
 * still lives (this host: its pid, when it started, its process group;
 * another host: how long ago it touched the journal).  Part of the claim
 * protocol (claim.h, which includes this header).
 */
#ifndef LEAFPACK_CLAIMHOLDER_H
#define LEAFPACK_CLAIMHOLDER_H

#include <stdbool.h>

#include "journal.h"

/*
 * True when j's holder may still be at work: state merging or merged, and
 * the holder is another process of this host that exists and is not a
 * zombie, or whose process group (recorded in the claim) is not ours and
 * still has a jsonl-write that is not a zombie (json-merge exited, its
 * jsonl-write commits), or a process of another host and the journal was
 * modified less than an hour ago.  False for state committed, for our own
 * pid, and for dead holders.
 */
bool claim_holder_alive(const struct journal *j);

/* True when j is a claim (merging or merged) held by this very process. */
bool claim_is_ours(const struct journal *j);

/*
 * True when pid is a live process of this host that is not a zombie and,
 * when start_ticks is known (not 0), started then (a pid given again is
 * not the holder that died); a process /proc does not tell of is alive.
 */
bool claim_pid_alive(long long pid, long long start_ticks);

/* When this process started, in clock ticks after boot (0: unknown): what
 * the claims it takes record. */
long long claim_own_start_ticks(void);

#endif
