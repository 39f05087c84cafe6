/*
 * loop.c - the event loop (see loop.h).
 */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "xstd.h"

/* File-scope because the signal handler writes them. */
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t stop_count;
static int wake[2] = { -1, -1 };	/* the self-pipe */

static void
on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (sig != SIGCHLD) {
		if (stop_signal == 0)
			stop_signal = sig;
		stop_count++;
	}
	(void)!write(wake[1], &c, 1);
	errno = saved;
}

static void
install_handlers(void)
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	sigset_t sigs;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&sigs);
	for (size_t i = 0; i < countof(stops); i++) {
		sigaction(stops[i], &sa, NULL);
		sigaddset(&sigs, stops[i]);
	}
	sa.sa_flags |= SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sigaddset(&sigs, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &sigs, NULL);
}

int
loop_init(struct loop *l, size_t max_watched)
{
	memset(l, 0, sizeof(*l));
	l->max = LOOP_OWN_FDS + max_watched;
	if ((l->set = calloc(l->max, sizeof(*l->set))) == NULL)
		return -1;
	if (pipe_cloexec(wake, O_NONBLOCK) < 0) {
		free(l->set);
		l->set = NULL;
		return -1;
	}
	install_handlers();
	return 0;
}

void
loop_begin(struct loop *l)
{
	l->n = 0;
	l->timeout_ms = -1;
	loop_watch(l, wake[0]);
}

void
loop_watch(struct loop *l, int fd)
{
	/* Only open descriptors: poll() refuses more entries than the limit
	 * on open files, and nothing looks at revents. */
	if (fd < 0)
		return;
	if (l->n >= l->max)
		diag_errx(EXITCODE_FAILED, "internal error: the poll set holds "
		    "%zu descriptors at most", l->max);
	l->set[l->n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
}

void
loop_wake_within(struct loop *l, int ms)
{
	if (l->timeout_ms < 0 || ms < l->timeout_ms)
		l->timeout_ms = ms;
}

int
loop_wait(struct loop *l)
{
	char drain[256];

	if (poll(l->set, l->n, l->timeout_ms) < 0 && errno != EINTR)
		return -1;
	while (read(wake[0], drain, sizeof(drain)) > 0)
		;
	return 0;
}

void
loop_reap(struct loop *l, void (*fn)(void *ctx, pid_t pid, int status),
    void *ctx)
{
	pid_t pid;
	int status;

	(void)l;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		fn(ctx, pid, status);
}

int
loop_stop_signal(void)
{
	return stop_signal;
}

int
loop_stop_count(void)
{
	return stop_count;
}

void
loop_free(struct loop *l)
{
	int writer = wake[1];

	free(l->set);
	l->set = NULL;
	/* The handler may still run (a late SIGCHLD): it must find no
	 * descriptor, never one reused for a file. */
	wake[1] = -1;
	close_quietly(&writer);
	close_quietly(&wake[0]);
}
