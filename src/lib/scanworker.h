/*
 * scanworker.h - tree-scan's directory-reading worker process and the
 * messages it exchanges with the parent over a socket pair.
 *
 * The parent sends jobs; the worker reads them in order, one directory at
 * a time, and answers each with zero or more SCANWORKER_MSG_NAMES messages
 * (the names of its subdirectories, streamed in chunks) and one
 * SCANWORKER_MSG_DONE, or with one SCANWORKER_MSG_MISS.  A job is the
 * chain of path components from an anchor down to the directory to read:
 * component 0 is either a root path (SCANWORKER_JOB_FROM_ROOT, opened with
 * open(2), which follows a symlink like find -H) or a directory the worker
 * read before and is expected to hold open.  The worker keeps a small LRU
 * cache of open directories keyed by the parent's node ids and opens from
 * the deepest component it holds, one component at a time with
 * openat(O_NOFOLLOW | O_DIRECTORY), so no symlink is followed below a root
 * and a deep tree costs no long paths.
 *
 * Each job's opens and reads run under an interval timer (setitimer,
 * SIGALRM without SA_RESTART); a call it interrupts makes the directory
 * SCANWORKER_DIR_STALLED (see scanworker_time_limit()), so those calls are
 * never retried on EINTR.  A worker stuck where no signal reaches it is
 * the parent's business: it kills the worker and never waits for it.
 *
 * Replies are sent in batches (a message per directory would cost the
 * scan its time in wake-ups), so the parent cannot tell from the socket
 * which job a silent worker is on.  The worker says so in a word of shared
 * memory instead: the number of the job it is reading and since when, or
 * that it is between jobs.  That gives the parent a deadline per job and,
 * when it kills a worker, which job hung (stalled) and which were done or
 * not started (to be read again).
 */
#ifndef LEAFPACK_SCANWORKER_H
#define LEAFPACK_SCANWORKER_H

#include <stddef.h>
#include <stdint.h>

/* Parent to worker: a header, then len bytes of components, each a
 * uint64_t node id, a uint32_t length and the name with its NUL. */
struct scanworker_job_head {
	uint32_t len;
	uint32_t ncomp;
	uint32_t flags;
	uint32_t pad;
	uint64_t xdev_dev;	/* with SCANWORKER_JOB_XDEV: the root's
				 * st_dev */
};
#define SCANWORKER_JOB_FROM_ROOT 1	/* component 0 is a root path */
#define SCANWORKER_JOB_XDEV 2		/* do not read a directory on
					 * another st_dev */

/* Worker to parent: a header and len bytes of payload. */
struct scanworker_msg_head {
	uint32_t type;
	uint32_t len;
};
enum {
	SCANWORKER_MSG_NAMES = 1,	/* NUL-terminated names of
					 * subdirectories */
	SCANWORKER_MSG_DONE,		/* struct scanworker_msg_done: the
					 * job is finished */
	SCANWORKER_MSG_MISS,		/* no component is open here: send
					 * the chain from the root */
};
struct scanworker_msg_done {
	int32_t status;		/* SCANWORKER_DIR_* */
	int32_t error;		/* errno, with SCANWORKER_DIR_ERROR */
	uint64_t dev;		/* the directory's st_dev and st_ino, with */
	uint64_t ino;		/* SCANWORKER_DIR_READ and _XDEV */
};
enum {
	SCANWORKER_DIR_READ,		/* read completely */
	SCANWORKER_DIR_ERROR,		/* could not be opened or read */
	SCANWORKER_DIR_STALLED,		/* the timer interrupted an open or
					 * a read */
	SCANWORKER_DIR_XDEV,		/* on another file system: not read */
};

/* The largest NAMES payload a worker sends. */
#define SCANWORKER_CHUNK_SIZE (64 * 1024)

/* What a worker is doing, decoded from its shared word. */
struct scanworker_state {
	uint32_t job;		/* jobs are numbered 1, 2, ... as received */
	int reading;		/* 1: opening or reading job's directory */
	long long since_ms;	/* when reading: since when (the clock of
				 * scanworker_clock_ms()) */
};

/* Decodes the shared word of a worker (0 before its first job), given the
 * base_ms the worker was started with and the time now. */
void scanworker_state_get(const uint64_t *word, long long base_ms,
    long long now_ms, struct scanworker_state *st);

/*
 * The worker process: serves jobs from sock until end-of-file, then exits
 * with _exit(0) (_exit(1) when the parent goes away or sends garbage); it
 * never returns and never touches stdio.  timeout_ms bounds each job's
 * opens and reads.  word is its shared word (MAP_SHARED memory the parent
 * reads), base_ms the scanworker_clock_ms() that times in it count from.
 * Replies are held until batch jobs are answered or no job is waiting.
 */
void scanworker_main(int sock, long long timeout_ms, uint64_t *word,
    long long base_ms, unsigned batch) __attribute__((noreturn));

/*
 * The longest a worker lets one directory's opens and reads run before its
 * timer interrupts them: timeout_ms plus a little slack (the timer is not
 * set again for every directory).  The parent's deadline must be later.
 */
long long scanworker_time_limit(long long timeout_ms);

/* The monotonic clock, in milliseconds, that timers and deadlines use. */
long long scanworker_clock_ms(void);

/*
 * Sends all of buf on a socket, retrying short writes and EINTR, with
 * MSG_NOSIGNAL so that a peer that went away is an error and not a
 * SIGPIPE.  Returns 0, or -1 with errno set.
 */
int scanworker_send(int fd, const void *buf, size_t len);

#endif
