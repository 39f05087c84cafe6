/*
 * watch.h - what a process is waiting on the share for, in memory that its
 * parent reads: the system call, the file, and since when.
 *
 * On a network share any call can block for minutes or for good, and a
 * process blocked in the kernel on a frozen share (state D) cannot be
 * interrupted, not even by SIGKILL.  So the process that works on the share
 * never is one the run waits for: before each call on the share it writes
 * what it is about to do into its watch record, and clears it afterwards;
 * its parent (the leafpack driver) reads the record without a system call,
 * and when one call has been pending longer than the time limit it kills
 * the process, names the call and the file, and goes on without it.  The
 * clock runs per call: a leaf that keeps making progress is never cut off,
 * however long it takes.
 *
 * The records live in a memory file (memfd) the parent creates, one page
 * per watched process; the child finds its record through the environment
 * variable LEAFPACK_WATCH=FD:INDEX (set by the parent for that child only).
 * Without it, every child-side function is a no-op costing one test, so the
 * programs run unwatched from a shell as before.
 *
 * A record is written by one process and read by another: the path is
 * written first, then the word with release order; the reader loads the
 * word with acquire order, and trusts the path only while the word says
 * the same call is still pending (a process stuck in a call changes
 * neither).
 */
#ifndef LEAFPACK_WATCH_H
#define LEAFPACK_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WATCH_ENV "LEAFPACK_WATCH"
#define WATCH_RECORD_SIZE 4096
/* The latency histogram: bucket b counts the calls that took from 2^b to
 * 2^(b+1) microseconds (the last, all longer ones). */
#define WATCH_BUCKETS 24
#define WATCH_PATH_MAX (WATCH_RECORD_SIZE - 2 * sizeof(uint64_t) - \
	WATCH_BUCKETS * sizeof(uint32_t))

/* The calls, as messages name them ("read of DIR/x blocked for 30 s"). */
enum watch_op {
	WATCH_NONE,
	WATCH_OPEN, WATCH_CREATE, WATCH_STAT, WATCH_READ, WATCH_LIST,
	WATCH_WRITE, WATCH_FSYNC, WATCH_RENAME, WATCH_UNLINK, WATCH_LINK,
	WATCH_GETXATTR, WATCH_SETXATTR, WATCH_REMOVEXATTR, WATCH_CHMOD,
	WATCH_CHOWN, WATCH_CLOSE, WATCH_STATFS,
	WATCH_OPS
};

/* "open", "read", "fsync", ... */
const char *watch_op_name(enum watch_op op);

struct watch_record {
	uint64_t word;		/* 0: in no call; else op << 56 | start us */
	uint64_t calls;		/* calls begun so far: progress */
	uint32_t latency[WATCH_BUCKETS];	/* calls ended, by duration */
	char path[WATCH_PATH_MAX];
};

/* The monotonic clock the records use, in milliseconds and in
 * microseconds. */
long long watch_clock_ms(void);
long long watch_clock_us(void);

/*
 * How long past the time limit a watcher waits before it takes a call for
 * hung: a tenth of the limit, from 0.2 to 2 s (a process that just got the
 * answer needs a moment to say so).
 */
long long watch_grace_ms(long long timeout_ms);

/* ---- the watched process ---- */

/*
 * Finds the record named by LEAFPACK_WATCH and maps it.  Returns 0 when
 * attached or when the variable is not set, -1 (with errno) when it is set
 * but unusable; the variable is removed from the environment either way, so
 * that programs this one starts are not watched through it.
 */
int watch_attach(void);

/* Uses record r of an area inherited through fork() (a forked worker of
 * the watcher's, which execs nothing). */
void watch_attach_record(struct watch_record *r);

/* True when attached. */
bool watch_attached(void);

/*
 * The directory the names of watch_begin() are relative to (the leaf),
 * copied; NULL for none (names are then taken as they are).
 */
void watch_set_dir(const char *dir);

/* Before a call on the share: op on name (relative to the directory of
 * watch_set_dir(); NULL: the directory itself). */
void watch_begin(enum watch_op op, const char *name);

/* After it returned. */
void watch_end(void);

/* ---- the watcher ---- */

struct watch_area {
	int fd;				/* the memfd, close-on-exec */
	struct watch_record *records;
	size_t count;
};

/* Creates an area of count records, all clear.  Returns 0 or -1. */
int watch_area_create(struct watch_area *area, size_t count);
void watch_area_free(struct watch_area *area);

/* Clears record i, for a new process. */
void watch_area_clear(struct watch_area *area, size_t i);

/*
 * The environment entry that gives a child record i, when the area's
 * descriptor is fd child_fd in the child: "LEAFPACK_WATCH=3:17".
 */
void watch_area_env(size_t i, int child_fd, char *buf, size_t size);

/* A pending call, read from a record. */
struct watch_pending {
	enum watch_op op;
	long long since_ms;		/* watch_clock_ms() when it began */
	char path[WATCH_PATH_MAX];	/* the file it is on */
};

/* True when record i is in a call; fills *p. */
bool watch_area_pending(const struct watch_area *area, size_t i,
    struct watch_pending *p);

/* The calls record i has begun so far. */
uint64_t watch_area_calls(const struct watch_area *area, size_t i);

/* Adds record i's latency histogram (the calls ended so far by its
 * process) into sum. */
void watch_area_latency(const struct watch_area *area, size_t i,
    uint32_t sum[WATCH_BUCKETS]);

/* The bucket's typical duration, in microseconds (the middle of its
 * range). */
double watch_bucket_us(int bucket);

#endif
