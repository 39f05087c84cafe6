/*
 * finder.c - the leaves: tree-scan's, or the arguments (see finder.h).
 */
#include "finder.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc.h"
#include "diag.h"
#include "exitcode.h"
#include "pathstream.h"
#include "xstd.h"

/*
 * The file for tree-scan's --stalled list: a memory file, which tree-scan
 * gets as its descriptor 3 and opens as /dev/fd/3, so that no name is left
 * behind whatever kills us (a temporary in $TMPDIR stayed after a
 * SIGKILL).  Without /proc (which /dev/fd needs), a temporary in $TMPDIR
 * after all, its name in *path.  Exits 4 when neither can be made.
 */
static int
stalled_file(char **path)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	*path = NULL;
	if (access("/proc/self/fd", X_OK) == 0 &&
	    (fd = memfd_create("leafpack-stalled", MFD_CLOEXEC)) >= 0)
		return fd;
	if (asprintf(path, "%s/leafpack-stalled.XXXXXX",
	    dir && *dir ? dir : "/tmp") < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	if ((fd = mkostemp(*path, O_CLOEXEC)) < 0)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(*path));
	return fd;
}

/* The leaves given as arguments, in a memory file; -1 (said). */
static int
leaves_file(const struct context *ctx)
{
	int fd = memfd_create("leaves", MFD_CLOEXEC);

	if (fd < 0) {
		diag_warn("memfd_create");
		return -1;
	}
	for (size_t i = 0; i < ctx->npaths; i++)
		if (xwrite(fd, ctx->paths[i], strlen(ctx->paths[i]) + 1) < 0) {
			diag_warn("memfd");
			close(fd);
			return -1;
		}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Starts c from argv with stdin on in, fd as descriptor 3 (-1: none) and
 * stdout into a new pipe, whose read end goes to *out.  Returns 0, or -1
 * (said). */
static int
start_stage(struct child *c, char *const argv[], int in, int fd, int *out)
{
	int p[2], child_err;

	if (pipe_cloexec(p, 0) < 0) {
		diag_warn("pipe");
		return -1;
	}
	/* A stage whose stderr cannot be relayed keeps ours. */
	if ((child_err = relay_open(&c->err)) < 0)
		diag_warn("pipe");
	c->pid = child_spawn_with_fd(argv, in, p[1], child_err, 0, fd);
	close(p[1]);
	close_quietly(&child_err);
	if (c->pid < 0) {
		c->pid = 0;
		close(p[0]);
		return -1;
	}
	*out = p[0];
	return 0;
}

int
finder_start(struct finder *f, struct context *ctx)
{
	memset(f, 0, sizeof(*f));
	f->leaves = f->scan_stalled = -1;
	f->leaves_mode = ctx->leaves_mode;
	child_init(&f->scan);
	if (ctx->leaves_mode)
		f->leaves = leaves_file(ctx);
	else {
		f->scan_stalled = stalled_file(&f->scan_stalled_path);
		if (start_stage(&f->scan, child_argv_fill(&ctx->scan,
		    f->scan_stalled_path ? f->scan_stalled_path :
		    "/dev/fd/3"), -1, f->scan_stalled_path ? -1 :
		    f->scan_stalled, &f->leaves) < 0)
			return -1;
	}
	if (f->leaves < 0)
		return -1;
	set_nonblock(f->leaves, 1);
	return 0;
}

void
finder_watch(const struct finder *f, struct loop *l, const struct backlog *q)
{
	if (!backlog_full(q))
		loop_watch(l, f->leaves);
	loop_watch(l, f->scan.err.fd);
}

bool
finder_reaped(struct finder *f, pid_t pid, int status)
{
	return child_reaped(&f->scan, pid, status);
}

size_t
finder_read(struct finder *f, struct backlog *q)
{
	char buf[65536];
	size_t found = 0;

	while (f->leaves >= 0 && !backlog_full(q)) {
		ssize_t got = read(f->leaves, buf, sizeof(buf));

		if (got < 0 && errno == EINTR)
			continue;
		/* tree-scan was reaped: all it wrote is here, and
		 * whatever still holds the pipe must not hold us. */
		if (got < 0 && errno == EAGAIN && f->scan.pid > 0)
			break;
		if (got <= 0) {
			if (got < 0 && errno != EAGAIN)
				diag_warn("reading from tree-scan");
			close_quietly(&f->leaves);
			break;
		}
		found += backlog_append(q, buf, (size_t)got);
	}
	relay_read(&f->scan.err, false);
	return found;
}

bool
finder_scanning(const struct finder *f)
{
	return f->leaves >= 0;
}

bool
finder_alive(const struct finder *f)
{
	return f->leaves >= 0 || f->scan.pid > 0;
}

void
finder_stop(struct finder *f)
{
	if (f->scan.pid > 0)
		kill(-f->scan.pid, SIGTERM);
	close_quietly(&f->leaves);
}

/* Appends the paths of a NUL-separated --stalled file, open as fd. */
static void
read_stalled(int fd, char ***paths, size_t *n, size_t *cap)
{
	int copy = lseek(fd, 0, SEEK_SET) == 0 ? dup_cloexec(fd) : -1;
	FILE *in = copy >= 0 ? fdopen(copy, "r") : NULL;
	struct pathstream ps;
	char *path;

	if (in == NULL) {
		close_quietly(&copy);
		return;
	}
	pathstream_init(&ps, in, '\0');
	while (pathstream_read(&ps, &path) > 0) {
		if (RESERVE(*paths, *cap, *n + 1) < 0 ||
		    ((*paths)[*n] = strdup(path)) == NULL)
			diag_err(EXITCODE_FAILED, "out of memory");
		++*n;
	}
	pathstream_free(&ps);
	fclose(in);
}

/* The --stalled file goes (its name too, where it has one). */
static void
remove_stalled(struct finder *f)
{
	close_quietly(&f->scan_stalled);
	if (f->scan_stalled_path != NULL)
		unlink(f->scan_stalled_path);
	free(f->scan_stalled_path);
	f->scan_stalled_path = NULL;
}

void
finder_stalled(struct finder *f, char ***paths, size_t *n, size_t *cap)
{
	if (f->scan_stalled >= 0)
		read_stalled(f->scan_stalled, paths, n, cap);
	remove_stalled(f);
}

/* Done with skipped or stalled parts is one status (1); a stage that
 * failed or was killed fails the run, unless the run stopped it (then its
 * leaves not found yet are parts not done). */
static int
stage_status(int st, const char *name, int status, bool stopping)
{
	if ((WIFEXITED(st) && (WEXITSTATUS(st) == EXITCODE_PARTIAL ||
	    WEXITSTATUS(st) == EXITCODE_STALLED)) ||
	    (stopping && WIFSIGNALED(st))) {
		if (status < EXITCODE_PARTIAL)
			status = EXITCODE_PARTIAL;
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != EXITCODE_DONE) {
		if (!stopping)
			diag_warnx("%s failed", name);
		status = EXITCODE_FAILED;
	}
	return status;
}

int
finder_status(const struct finder *f, int status, bool stopping)
{
	if (!f->leaves_mode)
		status = stage_status(f->scan.status, "tree-scan", status,
		    stopping);
	return status;
}

void
finder_free(struct finder *f)
{
	close_quietly(&f->leaves);
	child_forget(&f->scan);
	remove_stalled(f);
}
