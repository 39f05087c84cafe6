/*
 * spawn.h - the one way a leafpack program starts a child: a program it
 * executes (the driver's stages, jq) or a copy of itself (tree-scan's and
 * leaf-filter's workers), with its descriptors, process group and signals
 * set up in the child before anything of the caller's runs there.
 *
 * Every signal is blocked across the fork, and the child puts back the
 * default action of every signal the parent handles before unblocking
 * them: a child must never run a handler of its parent's (one that writes
 * the parent's wake-up pipe, or carries on after a SIGTERM meant to stop
 * it).  A signal sent to the child meanwhile waits and then acts.
 */
#ifndef LEAFPACK_SPAWN_H
#define LEAFPACK_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/* Values of spawn_options.stdfd[] other than a descriptor. */
#define SPAWN_INHERIT (-1)	/* leave it as it is in the parent */
#define SPAWN_NULL (-2)		/* /dev/null */
#define SPAWN_NULL_IF_PIPE (-3)	/* /dev/null if it is a pipe or a socket
				 * (nothing downstream may wait on a stuck
				 * child), else as it is */

/* Values of spawn_options.pgid other than a group to join. */
#define SPAWN_SAME_GROUP (-1)	/* the parent's group */
#define SPAWN_NEW_GROUP 0	/* a new group, led by the child */

struct spawn_options {
	int stdfd[3];		/* what becomes the child's 0, 1 and 2 */
	int keep_fd;		/* moved to descriptor 3 in the child, or -1 */
	bool close_others;	/* close every descriptor above 2 (above 3
				 * with keep_fd): for a forked copy, which
				 * inherits the parent's open files */
	pid_t pgid;
	bool die_with_parent;	/* SIGKILL when the parent dies */
	const char *env;	/* "NAME=VALUE" added to the child's
				 * environment, or NULL */
};

/* Fills o with the defaults: every stdfd inherited, no keep_fd, no
 * closing, the parent's group, not tied to the parent's life. */
void spawn_options_init(struct spawn_options *o);

/*
 * Starts argv[0] (searched in PATH when it holds no '/') as o says.
 * Returns its pid, or -1 with errno set when it could not fork.  A program
 * that cannot be executed is reported by the child on its stderr
 * ("prog: name: reason") and exits 127.
 */
pid_t spawn_exec(const struct spawn_options *o, char *const argv[]);

/*
 * Forks a copy of the caller set up as o says.  Returns 0 in the child
 * (which must end with _exit(), never return into the parent's code
 * paths), the pid in the parent, or -1 with errno set.
 */
pid_t spawn_fork(const struct spawn_options *o);

#endif
