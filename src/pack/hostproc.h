/*
 * hostproc.h - a process of leafpack --hosts (the look here, the check of
 * the hosts, tree-scan, leaf-filter, parallel) whose stdout and stderr are
 * read line by line, and the one wait for a set of them, in the event loop
 * (loop.h): the phases of hosts.c and hostjobs.c each start theirs, then
 * wait for all of them at once, so that none blocks on a pipe no one reads.
 */
#ifndef LEAFPACK_PACK_HOSTPROC_H
#define LEAFPACK_PACK_HOSTPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "alloc.h"
#include "child.h"
#include "loop.h"

/* A process of ours whose stdout and stderr are read line by line. */
struct proc {
	const char *what;
	pid_t pid;		/* 0 once reaped (or never started) */
	int status;		/* its wait status, once reaped */
	bool started, reaped;
	bool bounded;		/* killed at wait_procs()'s deadline */
	int fd[2];		/* our ends of its stdout, stderr; -1 none */
	struct buf partial[2];
	void (*on_line[2])(void *arg, char *line, size_t len);
	void *arg;
};

/* Makes p a process not started, named what in messages, whose on_line
 * calls get arg; the caller then sets on_line and bounded. */
void proc_init(struct proc *p, const char *what, void *arg);

/*
 * Starts argv with stdin on in (-1: /dev/null); stdout goes to out when it
 * is >= 0, else, like stderr, to a pipe of ours read by on_line (NULL:
 * /dev/null for stdout, ours for stderr).  -1 (said).
 */
int proc_start(struct proc *p, char *const argv[], int in, int out);

/* Closes what is left of p's pipes and frees its partial lines; p need
 * not have started. */
void proc_free(struct proc *p);

/* True when it exited with status. */
bool proc_exited(const struct proc *p, int status);

/*
 * Waits until every process of procs has ended, reading their lines,
 * calling tick(arg) (if tick is not NULL) each round.  Each stop signal
 * sends each of them SIGTERM (parallel: the first stops new jobs, the
 * second kills those in flight) and sets *stopping; past deadline_ms (on
 * watch_clock_ms(); 0: none) those that are bounded are killed (SIGKILL,
 * to their groups) and -1 is returned.  Returns 0.
 */
int wait_procs(struct loop *loop, bool *stopping, struct proc **procs,
    size_t n, long long deadline_ms, void (*tick)(void *arg), void *arg);

#endif
