/*
 * probe.h - does the share answer at all?  After many operations in a row
 * stalled, a program asks the root of the tree one cheap question
 * (statvfs(2), which a network file system cannot answer from its caches)
 * in a child process, with a deadline.  An answer, even an error, means a
 * hung subtree: the run goes on.  No answer means the share is not
 * answering: the run stops instead of paying the time limit for every
 * pending directory or leaf.
 *
 * The child is never waited for: past the deadline it is killed and left,
 * as every process stuck on the share is.
 */
#ifndef LEAFPACK_PROBE_H
#define LEAFPACK_PROBE_H

#include <stdbool.h>
#include <sys/types.h>

struct probe {
	pid_t pid;		/* the child, or 0 */
	int fd;			/* its answer comes here; -1 when none */
	long long deadline_ms;	/* on the clock of watch_clock_ms() */
};

enum probe_result {
	PROBE_PENDING,		/* no answer yet, within the deadline */
	PROBE_ANSWERED,		/* the share answered */
	PROBE_SILENT		/* no answer by the deadline */
};

/* Starts asking about path, with timeout_ms to answer.  Returns 0, or -1
 * when no child can be started (then nothing is pending). */
int probe_start(struct probe *p, const char *path, long long timeout_ms);

/* What came of it by now (without blocking); once not pending, the probe
 * is over and its descriptor closed. */
enum probe_result probe_check(struct probe *p);

/* Asks and waits for the answer or the deadline: PROBE_ANSWERED or
 * PROBE_SILENT (also when no child could be started). */
enum probe_result probe_wait(const char *path, long long timeout_ms);

/*
 * The mount point that path is under, into out (size bytes), read from
 * /proc/self/mountinfo and the current directory's name alone, without a
 * call on path itself (which may be in the hung subtree): the place to
 * ask when only a leaf is known.  Returns 0, or -1 (then out is "/").
 */
int probe_mount_point(const char *path, char *out, size_t size);

#endif
