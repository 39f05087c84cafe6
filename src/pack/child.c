/*
 * child.c - argument vectors and starts of the driver's children (see
 * child.h).
 */
#include "child.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "diag.h"
#include "exitcode.h"
#include "spawn.h"
#include "xstd.h"

/* Room for one more argument and the NULL after it. */
static void
reserve_one(struct child_argv *a)
{
	if (RESERVE(a->v, a->cap, a->n + 2) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
}

void
child_argv_add(struct child_argv *a, const char *arg)
{
	reserve_one(a);
	if ((a->v[a->n] = strdup(arg)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	a->v[++a->n] = NULL;
}

void
child_argv_add_hole(struct child_argv *a)
{
	reserve_one(a);
	a->hole = a->n;
	a->v[a->n] = (char *)"";
	a->v[++a->n] = NULL;
}

void
child_argv_add_all(struct child_argv *a, const struct child_argv *from)
{
	for (size_t i = 0; i < from->n; i++)
		child_argv_add(a, from->v[i]);
}

char *const *
child_argv_fill(struct child_argv *a, const char *value)
{
	if (a->hole > 0)
		a->v[a->hole] = (char *)value;
	return a->v;
}

void
child_argv_free(struct child_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (i != a->hole || a->hole == 0)
			free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static pid_t
spawn_child(char *const argv[], int in, int out, int err, pid_t pgid,
    struct watch_area *area, size_t record, int fd)
{
	struct spawn_options o;
	char env[64];
	pid_t pid;

	spawn_options_init(&o);
	o.keep_fd = fd;
	if (area != NULL) {
		watch_area_clear(area, record);
		watch_area_env(record, 3, env, sizeof(env));
		o.keep_fd = area->fd;
		o.env = env;
	}
	o.stdfd[0] = in >= 0 ? in : SPAWN_NULL;
	o.stdfd[1] = out >= 0 ? out : SPAWN_NULL;
	o.stdfd[2] = err >= 0 ? err : SPAWN_INHERIT;
	o.pgid = pgid > 0 ? pgid : SPAWN_NEW_GROUP;
	/* As in a power cut, which the commit protocol is built to survive. */
	o.die_with_parent = true;
	if ((pid = spawn_exec(&o, argv)) < 0)
		diag_warn("fork");
	return pid;
}

pid_t
child_spawn(char *const argv[], int in, int out, int err, pid_t pgid)
{
	return spawn_child(argv, in, out, err, pgid, NULL, 0, -1);
}

pid_t
child_spawn_watched(char *const argv[], int in, int out, int err,
    pid_t pgid, struct watch_area *area, size_t record)
{
	return spawn_child(argv, in, out, err, pgid, area, record, -1);
}

pid_t
child_spawn_with_fd(char *const argv[], int in, int out, int err,
    pid_t pgid, int fd)
{
	return spawn_child(argv, in, out, err, pgid, NULL, 0, fd);
}

void
child_close_all(const int fds[], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int fd = fds[i];

		close_quietly(&fd);
	}
}

void
child_init(struct child *c)
{
	c->pid = 0;
	c->status = 0;
	relay_init(&c->err);
}

bool
child_reaped(struct child *c, pid_t pid, int status)
{
	if (c->pid <= 0 || pid != c->pid)
		return false;
	c->pid = 0;
	c->status = status;
	relay_read(&c->err, true);
	return true;
}

void
child_forget(struct child *c)
{
	c->pid = 0;
	relay_free(&c->err);
}
