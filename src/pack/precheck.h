/*
 * precheck.h - before the first leaf: is there room on the share at all,
 * and is --staging DIR a place that can help?
 *
 * A child (never the driver itself: a call on the share may hang) stats
 * each root and asks its file system for its counts (statvfs(2)), under
 * the deadline -t.  With --staging, DIR must be a writable directory on
 * another file system than every root (st_dev): else a usage error.
 * Without --staging, a root whose file system has no free inode (and
 * blocks free) gets the one message of staging.h, and the run changes
 * nothing and exits 4.  A root that does not answer, or cannot be
 * stat'ed, is left to the run, which meets it with its own deadlines and
 * messages.  With --leaves, the first PRECHECK_LEAVES_MAX leaves are
 * looked at (the leaves of a run are mostly on one share; a leaf that
 * meets no free inode later stops the run with the same message).
 */
#ifndef LEAFPACK_PACK_PRECHECK_H
#define LEAFPACK_PACK_PRECHECK_H

#include "context.h"

#define PRECHECK_LEAVES_MAX 16

/*
 * Checks ctx's roots and --staging as above.  Returns 0 when the run may
 * start; exits 2 (said, with leafpack's usage) for a --staging that
 * cannot serve, and returns 4 (said) for a share with no free inode and
 * no --staging.
 */
int precheck(const struct context *ctx);

#endif
