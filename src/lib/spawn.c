/*
 * spawn.c - starting children (see spawn.h).
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

void
spawn_options_init(struct spawn_options *o)
{
	o->stdfd[0] = o->stdfd[1] = o->stdfd[2] = SPAWN_INHERIT;
	o->keep_fd = -1;
	o->close_others = false;
	o->pgid = SPAWN_SAME_GROUP;
	o->die_with_parent = false;
	o->env = NULL;
}

static bool
is_pipe_or_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* A close-on-exec copy of fd numbered 10 or above: those below are
 * about to be overwritten. */
static int
above(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/* /dev/null, numbered 10 or above. */
static int
null_above(void)
{
	int low = open("/dev/null", O_RDWR | O_CLOEXEC), high;

	if (low < 0)
		return -1;
	high = above(low);
	close(low);
	return high;
}

/* In the child: everything o asks for.  Returns -1 when it cannot. */
static int
child_setup(const struct spawn_options *o, pid_t parent)
{
	struct sigaction dfl, old;
	int null = -1, from[3], keep;
	sigset_t none;

	if (o->pgid != SPAWN_SAME_GROUP && setpgid(0, o->pgid) < 0)
		return -1;
	/* Checked after the prctl: the parent may have died before it. */
	if (o->die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    getppid() != parent))
		return -1;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &old) == 0 &&
		    old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)
			sigaction(sig, &dfl, NULL);
	/* Every source is first copied above the targets (0 to 3), so that
	 * no dup2() below overwrites a source another one still needs. */
	keep = o->keep_fd;
	if (keep >= 0 && keep != 3 && (keep = above(keep)) < 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		from[i] = o->stdfd[i];
		if (from[i] == SPAWN_NULL_IF_PIPE)
			from[i] = is_pipe_or_socket(i) ? SPAWN_NULL :
			    SPAWN_INHERIT;
		if (from[i] == SPAWN_NULL && null < 0 &&
		    (null = null_above()) < 0)
			return -1;
		if (from[i] == SPAWN_NULL)
			from[i] = null;
		else if (from[i] >= 0 && from[i] != i &&
		    (from[i] = above(from[i])) < 0)
			return -1;
	}
	if (keep >= 0 && keep != 3 && dup3(keep, 3, 0) < 0)
		return -1;
	if (keep == 3 && fcntl(3, F_SETFD, 0) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (from[i] >= 0 && from[i] != i && dup2(from[i], i) < 0)
			return -1;
		else if (from[i] == i && fcntl(i, F_SETFD, 0) < 0)
			return -1;
	if (o->close_others)
		close_range(o->keep_fd >= 0 ? 4 : 3, ~0U, 0);
	/* The child's own copy of the environment: the parent's is not
	 * touched. */
	if (o->env != NULL && putenv((char *)o->env) != 0)
		return -1;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	return 0;
}

pid_t
spawn_fork(const struct spawn_options *o)
{
	pid_t parent = getpid(), pid;
	sigset_t all, old;
	int saved;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		if (child_setup(o, parent) < 0)
			_exit(127);
		return 0;
	}
	saved = errno;
	/* Both sides set the group, so that it is set whichever runs first
	 * (a kill of the group must not miss the child). */
	if (pid > 0 && o->pgid != SPAWN_SAME_GROUP)
		setpgid(pid, o->pgid == SPAWN_NEW_GROUP ? pid : o->pgid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

pid_t
spawn_exec(const struct spawn_options *o, char *const argv[])
{
	pid_t pid = spawn_fork(o);

	if (pid != 0)
		return pid;
	execvp(argv[0], argv);
	diag_warn("%s", diag_quote(argv[0]));
	_exit(127);
}
