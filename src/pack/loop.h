/*
 * loop.h - the event loop: the one place where the driver waits.
 *
 * Each round the run says what to watch (loop_begin, loop_watch) and how
 * long it may sleep at most (loop_wake_within), then loop_wait() sleeps in
 * poll(2) until a watched pipe has something, a signal or a child's exit
 * arrives (the self-pipe), or the time is up; loop_reap() then collects
 * every child that exited, without waiting for any (WNOHANG).  Nothing
 * else in the driver blocks: a pipe is read only when poll() said so, or
 * non-blocking, and a child is never waited for.  So a slot can give up a
 * leaf at any moment by killing its processes and closing its pipes; a
 * process it forgot is reaped here later, as a stranger, whenever it ends.
 *
 * The poll set is on the heap, sized once for the most descriptors the
 * run can watch (loop_init's max_watched).
 *
 * SIGINT, SIGTERM and SIGHUP are recorded (loop_stop_signal,
 * loop_stop_count) and wake the loop; so does SIGCHLD.  There is one loop
 * per process: the signal handlers write its self-pipe.
 */
#ifndef LEAFPACK_PACK_LOOP_H
#define LEAFPACK_PACK_LOOP_H

#include <poll.h>
#include <stddef.h>
#include <sys/types.h>

/* What the loop itself watches: its self-pipe. */
#define LOOP_OWN_FDS 1

struct loop {
	struct pollfd *set;	/* owned, max entries */
	size_t n, max;
	int timeout_ms;		/* this round's longest sleep; -1: none */
};

/*
 * Makes the poll set for max_watched descriptors besides the loop's own,
 * the self-pipe, and installs the signal handlers (SA_RESTART), unblocking
 * those signals: a mask is inherited through exec, and with SIGCHLD
 * blocked by whoever started us a child whose pipes closed before it was
 * reaped would never wake the loop.  Returns 0, or -1 with errno set.
 */
int loop_init(struct loop *l, size_t max_watched);

/* Starts a round: nothing watched but the self-pipe, no time limit. */
void loop_begin(struct loop *l);

/* Watches fd for input this round; fd < 0 is skipped.  Exits 4 when the
 * set is full (max_watched was too small: a bug, never an overflow). */
void loop_watch(struct loop *l, int fd);

/* The round sleeps ms milliseconds at most (the smallest asked wins). */
void loop_wake_within(struct loop *l, int ms);

/* Sleeps as the round says, then empties the self-pipe.  Returns 0, or
 * -1 with errno set when poll(2) failed (EINTR is not a failure). */
int loop_wait(struct loop *l);

/* Calls fn for each child that has exited, with its wait(2) status;
 * never waits for one that has not. */
void loop_reap(struct loop *l, void (*fn)(void *ctx, pid_t pid, int status),
    void *ctx);

/* The first of SIGINT, SIGTERM and SIGHUP received, or 0. */
int loop_stop_signal(void);

/* How many of those were received. */
int loop_stop_count(void);

/* Frees the set and closes the self-pipe (the handlers stay). */
void loop_free(struct loop *l);

#endif
