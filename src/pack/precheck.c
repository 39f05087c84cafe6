/*
 * precheck.c - the roots' file systems, asked by a child, before the
 * first leaf (see precheck.h).
 */
#include "precheck.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "spawn.h"
#include "staging.h"
#include "watch.h"
#include "xstd.h"

/* What the child learns of one root. */
struct answer {
	int stat_errno;		/* 0: st_dev is valid */
	int statvfs_errno;	/* 0: the counts are valid */
	dev_t dev;
	unsigned long long files, favail, ffree, bavail;
};

/* The child: one answer per path, in order, then it exits. */
static void __attribute__((noreturn))
ask(int fd, char *const paths[], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct answer a = { 0 };
		struct statvfs sv;
		struct stat st;

		if (stat(paths[i], &st) < 0)
			a.stat_errno = errno ? errno : EIO;
		else
			a.dev = st.st_dev;
		if (statvfs(paths[i], &sv) < 0)
			a.statvfs_errno = errno ? errno : EIO;
		else {
			a.files = sv.f_files;
			a.favail = sv.f_favail;
			a.ffree = sv.f_ffree;
			a.bavail = sv.f_bavail;
		}
		if (xwrite(fd, &a, sizeof(a)) < 0)
			break;
	}
	_exit(0);
}

/* Reads one answer by deadline_ms (watch_clock_ms()); -1 when none came
 * (the share does not answer, or the child failed). */
static int
read_answer(int fd, long long deadline_ms, struct answer *a)
{
	size_t got = 0;

	while (got < sizeof(*a)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline_ms - watch_clock_ms();
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, left > 60000 ? 60000 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fd, (char *)a + got, sizeof(*a) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* --staging DIR, in the driver (it is local: that is its point): a
 * writable directory, whose st_dev goes to *dev. */
static void
check_staging(const char *dir, dev_t *dev)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		diag_warnx("--staging %s: %s", diag_quote(dir),
		    strerror(errno));
		context_usage();
	}
	if (!S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) < 0) {
		diag_warnx("--staging %s: not a directory we can write in",
		    diag_quote(dir));
		context_usage();
	}
	*dev = st.st_dev;
}

/* The verdict on one root's answer: 0, or 4 (said). */
static int
judge(const struct context *ctx, const char *path, const struct answer *a,
    dev_t staging_dev)
{
	if (ctx->staging != NULL && a->stat_errno == 0 &&
	    a->dev == staging_dev) {
		diag_warnx("--staging %s: on the same file system as %s; it "
		    "must be on another", diag_quote(ctx->staging),
		    diag_quote(path));
		context_usage();
	}
	if (a->statvfs_errno != 0 || a->files == 0 || a->bavail == 0 ||
	    (a->favail > 0 && a->ffree > 0) || ctx->staging != NULL)
		return 0;
	staging_warn_no_inodes(path, a->files);
	return EXITCODE_FAILED;
}

int
precheck(const struct context *ctx)
{
	size_t n = ctx->npaths;
	struct spawn_options o;
	dev_t staging_dev = 0;
	int fds[2], status = 0;
	size_t i = 0;
	pid_t pid;

	if (ctx->staging != NULL)
		check_staging(ctx->staging, &staging_dev);
	/* Looking changes nothing: no inode needed. */
	if (ctx->dry_run || ctx->verify)
		return 0;
	if (ctx->leaves_mode && n > PRECHECK_LEAVES_MAX)
		n = PRECHECK_LEAVES_MAX;
	if (pipe_cloexec(fds, 0) < 0)
		return 0;
	spawn_options_init(&o);
	/* Holding nothing anyone waits on: it may never end. */
	o.stdfd[0] = o.stdfd[1] = SPAWN_NULL;
	o.stdfd[2] = SPAWN_NULL_IF_PIPE;
	o.die_with_parent = true;
	if ((pid = spawn_fork(&o)) == 0) {
		close(fds[0]);
		ask(fds[1], ctx->paths, n);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return 0;
	}
	for (i = 0; i < n && status == 0; i++) {
		struct answer a;

		/* No answer: the run meets the share with its deadlines. */
		if (read_answer(fds[0], watch_clock_ms() + ctx->timeout_ms,
		    &a) < 0)
			break;
		status = judge(ctx, ctx->paths[i], &a, staging_dev);
	}
	close(fds[0]);
	if (i == n && status == 0)
		/* Every answer came: it is exiting. */
		waitpid(pid, NULL, 0);
	else {
		/* Reaped if it is gone; one stuck on the share is left. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, WNOHANG);
	}
	return status;
}
