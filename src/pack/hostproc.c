/*
 * hostproc.c - the processes of leafpack --hosts, their lines read and
 * all waited for in the event loop (see hostproc.h).
 */
#include "hostproc.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "progress.h"
#include "relay.h"
#include "watch.h"
#include "xstd.h"

void
proc_init(struct proc *p, const char *what, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->fd[0] = p->fd[1] = -1;
	p->arg = arg;
}

int
proc_start(struct proc *p, char *const argv[], int in, int out)
{
	int pipes[2][2] = { { -1, -1 }, { -1, -1 } }, ends[2] = { out, -1 };

	for (int i = 0; i < 2; i++) {
		if (p->on_line[i] == NULL || (i == 0 && out >= 0))
			continue;
		if (pipe_cloexec(pipes[i], 0) < 0) {
			diag_warn("pipe");
			child_close_all(&pipes[0][0], 4);
			return -1;
		}
		ends[i] = pipes[i][1];
	}
	p->pid = child_spawn(argv, in, ends[0], ends[1], 0);
	for (int i = 0; i < 2; i++) {
		close_quietly(&pipes[i][1]);
		p->fd[i] = pipes[i][0];
		if (p->fd[i] >= 0)
			set_nonblock(p->fd[i], 1);
	}
	if (p->pid < 0) {
		p->pid = 0;
		close_quietly(&p->fd[0]);
		close_quietly(&p->fd[1]);
		return -1;
	}
	p->started = true;
	return 0;
}

static void
proc_read(struct proc *p, bool drain)
{
	for (int i = 0; i < 2; i++)
		if (p->fd[i] >= 0 && relay_read_lines(p->fd[i],
		    &p->partial[i], drain, p->on_line[i], p->arg) != 0) {
			/* What is left without a newline is a line too. */
			if (p->partial[i].len > 0) {
				if (buf_append(&p->partial[i], "", 1) < 0)
					diag_err(EXITCODE_FAILED,
					    "out of memory");
				p->on_line[i](p->arg, p->partial[i].data,
				    p->partial[i].len - 1);
				p->partial[i].len = 0;
			}
			close_quietly(&p->fd[i]);
		}
}

static bool
proc_alive(const struct proc *p)
{
	return p->pid > 0 || p->fd[0] >= 0 || p->fd[1] >= 0;
}

static void
proc_kill(struct proc *p, int sig)
{
	if (p->pid > 0)
		kill(-p->pid, sig);
}

void
proc_free(struct proc *p)
{
	close_quietly(&p->fd[0]);
	close_quietly(&p->fd[1]);
	buf_free(&p->partial[0]);
	buf_free(&p->partial[1]);
}

bool
proc_exited(const struct proc *p, int status)
{
	return p->reaped && WIFEXITED(p->status) &&
	    WEXITSTATUS(p->status) == status;
}

struct reap {
	struct proc **procs;
	size_t n;
};

static void
reaped(void *arg, pid_t pid, int status)
{
	struct reap *w = arg;

	for (size_t i = 0; i < w->n; i++)
		if (w->procs[i]->pid == pid) {
			w->procs[i]->pid = 0;
			w->procs[i]->status = status;
			w->procs[i]->reaped = true;
			proc_read(w->procs[i], true);
			return;
		}
}

int
wait_procs(struct loop *loop, bool *stopping, struct proc **procs,
    size_t n, long long deadline_ms, void (*tick)(void *arg), void *arg)
{
	struct reap w = { procs, n };
	bool alive = true;
	int timed_out = 0, stops = 0;

	while (alive) {
		loop_begin(loop);
		for (size_t i = 0; i < n; i++) {
			loop_watch(loop, procs[i]->fd[0]);
			loop_watch(loop, procs[i]->fd[1]);
		}
		loop_wake_within(loop, progress_enabled() ?
		    PROGRESS_INTERVAL_MS : 1000);
		if (loop_wait(loop) < 0)
			diag_err(EXITCODE_FAILED, "poll");
		loop_reap(loop, reaped, &w);
		for (size_t i = 0; i < n; i++)
			proc_read(procs[i], false);
		if (loop_stop_count() > stops) {
			*stopping = true;
			stops = loop_stop_count();
			for (size_t i = 0; i < n; i++)
				if (procs[i]->pid > 0)
					kill(procs[i]->pid, SIGTERM);
		}
		if (deadline_ms != 0 && watch_clock_ms() > deadline_ms &&
		    !timed_out) {
			timed_out = 1;
			for (size_t i = 0; i < n; i++)
				if (procs[i]->bounded)
					proc_kill(procs[i], SIGKILL);
		}
		if (tick != NULL)
			tick(arg);
		alive = false;
		for (size_t i = 0; i < n; i++)
			alive |= proc_alive(procs[i]);
	}
	return timed_out ? -1 : 0;
}
