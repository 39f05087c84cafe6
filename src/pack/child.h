/*
 * child.h - a child of the driver: the argument vector it is started with,
 * built once per kind of child (context.h builds them all), how it is
 * started (spawn.h, with the driver's usual set-up), and what the driver
 * keeps of it while it runs (its pid, then its status, and its stderr,
 * relayed).
 *
 * A vector may have one hole: the argument that differs at each start (the
 * leaf's DIR, its DIR/NAME, a temporary file), filled in just before the
 * start by child_argv_fill().  Everything else is built once.
 */
#ifndef LEAFPACK_PACK_CHILD_H
#define LEAFPACK_PACK_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "relay.h"
#include "watch.h"

struct child_argv {
	char **v;	/* NULL-terminated; the strings are owned, but for
			 * v[hole], which is borrowed from the last fill */
	size_t n, cap;
	size_t hole;	/* the index of the hole, or 0 for none */
};

/* Appends a copy of arg.  Exits with status 4 when out of memory. */
void child_argv_add(struct child_argv *a, const char *arg);

/* Appends the hole (at most one per vector).  Exits 4 out of memory. */
void child_argv_add_hole(struct child_argv *a);

/* Appends copies of every argument of from (which has no hole). */
void child_argv_add_all(struct child_argv *a, const struct child_argv *from);

/*
 * The vector with value in its hole, ready for child_spawn().  value is
 * borrowed: it must outlive the start (the child copies it when it forks),
 * not the vector.
 */
char *const *child_argv_fill(struct child_argv *a, const char *value);

/* Frees the strings it owns and zeroes a. */
void child_argv_free(struct child_argv *a);

/*
 * Starts argv[0] (from PATH unless it holds a '/') with stdin and stdout
 * on in and out (-1: /dev/null) and stderr on err (-1: ours), in process
 * group pgid (0: a new group it leads), killed when the driver dies
 * (PR_SET_PDEATHSIG).  Returns its pid, or -1 when it could not fork
 * (said on stderr: "leafpack: fork: ...").  A program that cannot be
 * executed is said by the child, which exits 127.
 */
pid_t child_spawn(char *const argv[], int in, int out, int err, pid_t pgid);

/*
 * child_spawn() of a child whose calls on the share the driver watches:
 * it gets record record of area (watch.h), as its descriptor 3 and the
 * variable LEAFPACK_WATCH; the record is cleared first.
 */
pid_t child_spawn_watched(char *const argv[], int in, int out, int err,
    pid_t pgid, struct watch_area *area, size_t record);

/* child_spawn() of a child that gets fd (ours stays open) as its
 * descriptor 3, which it may name /dev/fd/3. */
pid_t child_spawn_with_fd(char *const argv[], int in, int out, int err,
    pid_t pgid, int fd);

/* Closes each of the n descriptors that is open (>= 0): the driver's
 * copies of the pipe ends it gave a child. */
void child_close_all(const int fds[], size_t n);

/* A child the driver watches. */
struct child {
	pid_t pid;		/* 0 once reaped or forgotten (or never
				 * started) */
	int status;		/* its wait(2) status, once reaped */
	struct relay err;	/* its stderr, when relayed (else closed) */
};

/* No process, status 0, the relay closed. */
void child_init(struct child *c);

/*
 * True when pid is c's process, which is then reaped: status is kept and
 * all it wrote to its stderr is relayed now (the pipe drained, even if a
 * descendant still holds it).
 */
bool child_reaped(struct child *c, pid_t pid, int status);

/* Forgets the process without waiting for it (the loop reaps it later as
 * a stranger) and frees the relay. */
void child_forget(struct child *c);

#endif
