/*
 * finder.h - the stages that find the leaves: tree-scan -0 over the roots
 * (or, with --leaves, the arguments themselves, from a memory file, which
 * cannot block like a pipe we fill) into leaf-filter -0 --list-young
 * --stats=json, whose stdout is the leaves with work to do.
 *
 * Each writes the directories that stalled to a temporary file of ours
 * (--stalled), read back at the end; their stderr is relayed (relay.h),
 * and leaf-filter's last line is its stats.
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
#define FINDER_WATCH_MAX 3

struct finder {
	struct child scan, filter;	/* tree-scan (none with --leaves),
					 * leaf-filter */
	bool leaves_mode;
	int leaves;		/* leaf-filter's stdout; -1 once closed */
	char *scan_stalled, *filter_stalled;	/* our temporary files */
};

/* Starts both stages.  Returns 0, or -1 (said) when they could not start:
 * f is then to be freed, and the run fails. */
int finder_start(struct finder *f, struct context *ctx);

/* Watches the stages' stderr, and their leaves unless the backlog is full
 * (leaves are read ahead only so far: leaf-filter then waits on us). */
void finder_watch(const struct finder *f, struct loop *l,
    const struct backlog *q);

/* True when pid was one of the stages (which then is not). */
bool finder_reaped(struct finder *f, pid_t pid, int status);

/* Reads the leaves leaf-filter wrote into q, as long as q has room, and
 * relays the stages' stderr.  Returns how many leaves came. */
size_t finder_read(struct finder *f, struct backlog *q);

/* True while leaves may still come. */
bool finder_scanning(const struct finder *f);

/* True while a stage or its pipe of leaves remains. */
bool finder_alive(const struct finder *f);

/* Stops both stages (SIGTERM to their groups) and reads no more leaves. */
void finder_stop(struct finder *f);

/*
 * Appends the stalled directories (tree-scan's, then leaf-filter's) to
 * *paths (*n of them, *cap allocated; the strings are the caller's to
 * free) and removes the temporary files.  Exits 4 when out of memory.
 */
void finder_stalled(struct finder *f, char ***paths, size_t *n,
    size_t *cap);

/* leaf-filter's --stats=json (owned by f), or NULL. */
json_object *finder_filter_stats(const struct finder *f);

/*
 * The run's status after the stages: status, raised to 1 when a stage
 * skipped or stalled parts, or 4 (said "tree-scan failed", unless the run
 * was stopped) when one failed or was killed.
 */
int finder_status(const struct finder *f, int status, bool stopping);

/* Closes its pipes, removes the temporary files and frees f (the stages
 * are forgotten, not waited for). */
void finder_free(struct finder *f);

#endif
