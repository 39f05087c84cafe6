/*
 * finder.h - what finds the leaves: tree-scan -0 over the roots, or, with
 * --leaves, the arguments themselves, from a memory file (which cannot
 * block like a pipe we fill).  Every leaf goes to a slot, whose json-merge
 * looks whether it has anything new: that look, on the share, gets -P at
 * once, where a filter stage before the slots would make it one at a time.
 *
 * tree-scan writes the directories that stalled to a memory file of
 * ours (--stalled /dev/fd/3), read back at the end, which leaves no name
 * behind whatever kills the run; its stderr is relayed (relay.h).
 */
#ifndef LEAFPACK_PACK_FINDER_H
#define LEAFPACK_PACK_FINDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "backlog.h"
#include "child.h"
#include "context.h"
#include "loop.h"

/* The most descriptors a finder watches in a round. */
#define FINDER_WATCH_MAX 2

struct finder {
	struct child scan;	/* tree-scan (none with --leaves) */
	bool leaves_mode;
	int leaves;		/* its stdout; -1 once closed */
	int scan_stalled;	/* tree-scan's --stalled file; -1 when none */
	char *scan_stalled_path;	/* its name, where it is not a memory
					 * file (no /proc), else NULL */
};

/* Starts tree-scan (or reads the arguments).  Returns 0, or -1 (said) when they could not start:
 * f is then to be freed, and the run fails. */
int finder_start(struct finder *f, struct context *ctx);

/* Watches tree-scan's stderr, and its leaves unless the backlog is full
 * (leaves are read ahead only so far: tree-scan then waits on us). */
void finder_watch(const struct finder *f, struct loop *l,
    const struct backlog *q);

/* True when pid was one of the stages (which then is not). */
bool finder_reaped(struct finder *f, pid_t pid, int status);

/* Reads the leaves found into q, as long as q has room, and relays
 * tree-scan's stderr.  Returns how many wanted leaves came. */
size_t finder_read(struct finder *f, struct backlog *q);

/* True while leaves may still come. */
bool finder_scanning(const struct finder *f);

/* True while a stage or its pipe of leaves remains. */
bool finder_alive(const struct finder *f);

/* Stops tree-scan (SIGTERM to its group) and reads no more leaves. */
void finder_stop(struct finder *f);

/*
 * Appends the stalled directories of tree-scan to *paths (*n of them, *cap allocated; the strings are the caller's to
 * free) and removes the temporary files.  Exits 4 when out of memory.
 */
void finder_stalled(struct finder *f, char ***paths, size_t *n,
    size_t *cap);

/*
 * The run's status after tree-scan: status, raised to 1 when it skipped
 * or stalled parts (or the run stopped it), or 4 (said "tree-scan
 * failed") when it failed or was killed.
 */
int finder_status(const struct finder *f, int status, bool stopping);

/* Closes its pipe, removes the temporary file and frees f (tree-scan is
 * forgotten, not waited for). */
void finder_free(struct finder *f);

#endif
