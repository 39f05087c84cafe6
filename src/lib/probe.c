/*
 * probe.c - one question to the share, in a child, with a deadline (see
 * probe.h).
 */
#include "probe.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "watch.h"
#include "xstd.h"

int
probe_start(struct probe *p, const char *path, long long timeout_ms)
{
	struct spawn_options o;
	int fds[2];
	pid_t pid;

	p->pid = 0;
	p->fd = -1;
	if (pipe_cloexec(fds, 0) < 0)
		return -1;
	spawn_options_init(&o);
	/* Holding nothing anyone waits on: it may never end. */
	o.stdfd[0] = o.stdfd[1] = SPAWN_NULL;
	o.stdfd[2] = SPAWN_NULL_IF_PIPE;
	o.die_with_parent = true;
	pid = spawn_fork(&o);
	if (pid == 0) {
		struct statvfs sv;
		char answer = statvfs(path, &sv) == 0 ? '0' : '1';

		close(fds[0]);
		(void)!write(fds[1], &answer, 1);
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	p->pid = pid;
	p->fd = fds[0];
	p->deadline_ms = watch_clock_ms() + timeout_ms;
	return 0;
}

static void
probe_end(struct probe *p, bool kill_it)
{
	if (kill_it)
		kill(p->pid, SIGKILL);
	/* Reaped if it is gone; a child stuck on the share is left. */
	waitpid(p->pid, NULL, WNOHANG);
	close_quietly(&p->fd);
	p->pid = 0;
}

enum probe_result
probe_check(struct probe *p)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	char answer;

	if (p->fd < 0)
		return PROBE_SILENT;
	if (poll(&pfd, 1, 0) > 0) {
		bool answered = read(p->fd, &answer, 1) == 1;

		probe_end(p, !answered);
		return answered ? PROBE_ANSWERED : PROBE_SILENT;
	}
	if (watch_clock_ms() < p->deadline_ms)
		return PROBE_PENDING;
	probe_end(p, true);
	return PROBE_SILENT;
}

enum probe_result
probe_wait(const char *path, long long timeout_ms)
{
	struct probe p;
	enum probe_result r;

	if (probe_start(&p, path, timeout_ms) < 0)
		return PROBE_SILENT;
	while ((r = probe_check(&p)) == PROBE_PENDING) {
		struct pollfd pfd = { .fd = p.fd, .events = POLLIN };
		long long left = p.deadline_ms - watch_clock_ms();

		if (left > 0 && poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			break;
	}
	if (r == PROBE_PENDING)
		probe_end(&p, true);
	return r == PROBE_ANSWERED ? PROBE_ANSWERED : PROBE_SILENT;
}

/* Decodes the octal escapes (\040 for a space) of a mountinfo field. */
static void
unescape(char *s)
{
	char *out = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
			    (s[3] - '0'));
			s += 3;
		} else
			*out++ = *s;
	}
	*out = '\0';
}

/* True when dir is path or one of its ancestors, as strings. */
static bool
is_under(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, len) == 0 &&
	    (path[len] == '/' || path[len] == '\0');
}

int
probe_mount_point(const char *path, char *out, size_t size)
{
	char abs[PATH_MAX * 2], cwd[PATH_MAX], *line = NULL, point[PATH_MAX];
	size_t cap = 0, best = 0;
	FILE *f;

	snprintf(out, size, "/");
	if (path[0] == '/')
		snprintf(abs, sizeof(abs), "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		snprintf(abs, sizeof(abs), "%s/%s", cwd, path);
	else
		return -1;
	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...": the longest mount point
	 * that is an ancestor wins. */
	while (getline(&line, &cap, f) != -1) {
		if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
			continue;
		unescape(point);
		if (is_under(abs, point) && strlen(point) >= best) {
			best = strlen(point);
			snprintf(out, size, "%s", point);
		}
	}
	free(line);
	fclose(f);
	return 0;
}
