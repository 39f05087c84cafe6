/*
 * leafpack - the whole job in one command: tree-scan | leaf-filter, then for
 * each leaf with work json-merge [| jq -c FILTER] | jsonl-write, -P leaves
 * at once, each stage its own process.
 *
 * The driver owns no data: it starts the programs, connects them with pipes,
 * reads their --stats=json lines (the last line of each child's stderr, on a
 * pipe of its own; other lines pass through unchanged) and decides, for each
 * leaf, whether jsonl-write may commit.  It holds a copy of the write end of
 * the pipe into jsonl-write, so jsonl-write cannot see end of input (and so
 * cannot commit) before the driver has seen every upstream stage exit well;
 * otherwise it writes a line no JSON parser accepts, and jsonl-write fails
 * the leaf with the old output untouched.
 *
 * Signals: the leaf pipelines run in process groups of their own, so a
 * terminal's Ctrl-C reaches only the driver, which starts no new leaf and
 * waits for those in flight (a second signal asks them to roll back).  They
 * die with the driver when it is killed (PR_SET_PDEATHSIG), as they would in
 * a power cut, which the commit protocol is built to survive.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "journal.h"
#include "pathstream.h"
#include "progress.h"
#include "units.h"
#include "version.h"

static const char usage_text[] =
    "usage: leafpack [-0] [--leaves] [--dates LIST] [--name GLOB]... "
    "[--match GLOB]...\n"
    "                [--min-age DURATION] [--key PATH] [--output NAME] "
    "[--memory SIZE]\n"
    "                [-j N] [-t SECONDS] [-P N] [--jq FILTER] [--dry-run] "
    "[--keep-sources]\n"
    "                [--strict] [--stalled FILE] [--progress] "
    "[--stats[=json]] ROOT...\n";

static const char options_text[] =
    "  -0                  --dry-run prints NUL-terminated paths\n"
    "      --leaves        the arguments are leaf directories, not roots\n"
    "      --dates LIST    only leaves named by the comma-separated LIST\n"
    "      --name GLOB     only leaves whose own name matches GLOB "
    "(repeatable)\n"
    "      --match GLOB    sources are files matching GLOB (repeatable; "
    "default *.txt)\n"
    "      --min-age DURATION  leave sources younger than this (default "
    "2m)\n"
    "      --key PATH      sort records by PATH (default timestamp)\n"
    "      --output NAME   the consolidated file (default "
    "consolidated.jsonl)\n"
    "      --memory SIZE   memory per leaf before spilling (json-merge's "
    "default)\n"
    "  -j N                tree-scan workers (tree-scan's default)\n"
    "  -t SECONDS          time limit per directory read (default 30)\n"
    "  -P N                leaves consolidated at once (default: 4 x CPUs, "
    "4 to 64)\n"
    "      --jq FILTER     pass every record through jq -c FILTER\n"
    "      --dry-run       print the leaves that would be consolidated; "
    "change nothing\n"
    "      --keep-sources  consolidate but remove no source\n"
    "      --strict        an invalid source fails its whole leaf\n"
    "      --stalled FILE  write the stalled directories to FILE\n"
    "      --progress      show the status line even when stderr is not a "
    "terminal\n"
    "      --stats[=json]  print the summary (or one JSON object) on stderr\n"
    "      --help          print this help and exit\n"
    "      --version       print the version and exit\n";

enum {
	OPT_LEAVES = 256, OPT_DATES, OPT_NAME, OPT_MATCH, OPT_MIN_AGE, OPT_KEY,
	OPT_OUTPUT, OPT_MEMORY, OPT_JQ, OPT_DRY_RUN, OPT_KEEP_SOURCES,
	OPT_STRICT, OPT_STALLED, OPT_PROGRESS, OPT_STATS, OPT_HELP,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "leaves", no_argument, NULL, OPT_LEAVES },
	{ "dates", required_argument, NULL, OPT_DATES },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "match", required_argument, NULL, OPT_MATCH },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "jq", required_argument, NULL, OPT_JQ },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "keep-sources", no_argument, NULL, OPT_KEEP_SOURCES },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "stalled", required_argument, NULL, OPT_STALLED },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "stats", optional_argument, NULL, OPT_STATS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* A growable argument vector. */
struct args {
	char **v;
	size_t n, cap;
};

static void
args_add(struct args *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		char **v = realloc(a->v, cap * sizeof(*v));

		if (v == NULL)
			diag_err(EXITCODE_FAILED, "out of memory");
		a->v = v;
		a->cap = cap;
	}
	if ((a->v[a->n] = strdup(s)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	a->v[++a->n] = NULL;
}

/* args_add() of a string we own: it is freed. */
static void
args_add_owned(struct args *a, char *s)
{
	args_add(a, s);
	free(s);
}

static void
args_free(struct args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/*
 * A child's stderr on a pipe: complete lines pass through to our stderr as
 * they come, except a line that may be the child's last (a JSON object),
 * which is held until the next line shows it was not.
 */
struct errpipe {
	int fd;			/* -1 once closed */
	char *buf;		/* the partial line */
	size_t len, cap;
	char *held;		/* a held "{..." line, or NULL */
	json_object *stats;	/* the parsed last line, once closed */
	bool quiet;		/* drop the lines instead */
};

struct leaf {
	char *dir;
	bool streamed;		/* handed to the slot's worker */
	bool reported;		/* its report came (or the worker died) */
	pid_t merge, jq, write;	/* 0 once reaped (or never started) */
	int merge_status, jq_status, write_status;
	int hold;		/* our copy of the pipe into jsonl-write */
	pid_t pgid;		/* also json-merge's pid */
	bool withdrawn;		/* nothing new: jsonl-write stopped */
	struct errpipe merge_err, write_err;
};

/*
 * Without --jq, each slot keeps one json-merge | jsonl-write pair that
 * consolidates leaves one after the other (the leaf stream of json-merge(1)):
 * the driver writes a leaf's path into json-merge and waits for
 * jsonl-write's report line before it sends the next.  Starting two
 * programs per leaf cost more than the leaf itself (about 10 ms of CPU
 * against 3 ms here): each pair is started once, and again only after it
 * died.
 */
struct worker {
	pid_t merge, write;	/* 0 once reaped (or never started) */
	pid_t pgid;
	int paths;		/* into json-merge; -1 when none */
	int reports;		/* from jsonl-write; -1 once closed */
	char *buf;		/* a partial report line */
	size_t len, cap;
	struct errpipe merge_err, write_err;
};

/* Totals over the run. */
struct totals {
	unsigned long long leaves_found, leaves_done, leaves_consolidated,
	    leaves_partial, leaves_failed, leaves_unchanged, files_consumed,
	    files_removed, records, bytes_in, bytes_out, errors, stalled,
	    leaves_idle, leaves_busy;
	json_object *skipped;	/* reason -> count */
};

static struct {
	struct args merge_opts, filter_opts;
	char *jq;		/* --jq FILTER */
	char *jq_program;	/* what jq runs for it */
	char *output;
	char *stalled_path;
	char *progdir;		/* where our sibling programs are */
	long parallel;
	int delim;
	int stats;
	bool leaves_mode, dry_run, keep_sources, progress;
} opt = { .output = "consolidated.jsonl", .delim = '\n' };

/* The most leaves read ahead from leaf-filter and not yet started. */
#define MAX_BACKLOG 65536

static volatile sig_atomic_t stop_signal;	/* first SIGINT/TERM/HUP */
static volatile sig_atomic_t stop_count;
static int wake[2] = { -1, -1 };		/* the self-pipe */

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
usage(void)
{
	fputs(usage_text, stderr);
	exit(EXITCODE_USAGE);
}

/* The path of a sibling program: next to our own executable if it is
 * there (bin/ of a build, or the installed directory), else from PATH. */
static char *
program(const char *name)
{
	char *path;

	if (opt.progdir != NULL) {
		if (asprintf(&path, "%s/%s", opt.progdir, name) < 0)
			diag_err(EXITCODE_FAILED, "out of memory");
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	if ((path = strdup(name)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	return path;
}

static void
find_progdir(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return;
	*slash = '\0';
	opt.progdir = strdup(self);
}

/*
 * Starts argv[0] with stdin, stdout and stderr on the given descriptors (-1:
 * /dev/null for stdin and stdout, ours for stderr), in process group pgid
 * (0: a new one), killed when we die.  Returns its pid, or -1.
 *
 * Every signal is blocked across the fork: a child that has not yet reset
 * our handlers would otherwise run on_signal() for a SIGTERM we send it (to
 * withdraw or poison a leaf) and carry on into jsonl-write as if never
 * told, and it would write our wake-up pipe.  Blocked, such a signal waits
 * until the default action is back, then acts.
 */
static pid_t
spawn(char **argv, int in, int out, int err, pid_t pgid)
{
	static const int handled[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	pid_t parent = getpid(), pid;
	sigset_t all, old;
	size_t i;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid != 0) {
		int saved = errno;

		/* Both sides set the group, so that it is set whichever runs
		 * first (the kill of a group must not miss a child). */
		if (pid > 0)
			setpgid(pid, pgid ? pgid : pid);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (pid < 0) {
			errno = saved;
			diag_warn("fork");
		}
		return pid;
	}
	setpgid(0, pgid);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(EXITCODE_FAILED);
	for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++)
		signal(handled[i], SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (in < 0 || out < 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null < 0)
			_exit(EXITCODE_FAILED);
		if (in < 0)
			in = null;
		if (out < 0)
			out = null;
	}
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    (err >= 0 && dup2(err, 2) < 0))
		_exit(EXITCODE_FAILED);
	execvp(argv[0], argv);
	diag_warn("%s", diag_quote(argv[0]));
	_exit(127);
}

static void
errpipe_open(struct errpipe *e, int *child_end)
{
	int p[2];

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	*child_end = -1;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		diag_warn("pipe");
		return;
	}
	/* The child's end blocks: a child must not lose a message to EAGAIN. */
	fcntl(p[1], F_SETFL, 0);
	e->fd = p[0];
	*child_end = p[1];
}

/*
 * Appends n bytes read from a pipe to the partial line in *buf and passes
 * each line they complete to fn, without its newline and NUL-terminated in
 * its place; what follows the last newline stays in *buf.
 */
static void
lines_feed(char **buf, size_t *len, size_t *cap, const char *chunk, size_t n,
    void (*fn)(void *ctx, char *line, size_t len), void *ctx)
{
	char *nl;
	size_t used = 0;

	if (*len + n > *cap) {
		size_t want = (*len + n) * 2;
		char *b = realloc(*buf, want);

		if (b == NULL)
			diag_err(EXITCODE_FAILED, "out of memory");
		*buf = b;
		*cap = want;
	}
	memcpy(*buf + *len, chunk, n);
	*len += n;
	while ((nl = memchr(*buf + used, '\n', *len - used)) != NULL) {
		*nl = '\0';
		fn(ctx, *buf + used, nl - (*buf + used));
		used = nl - *buf + 1;
	}
	memmove(*buf, *buf + used, *len - used);
	*len -= used;
}

static void
errpipe_line(struct errpipe *e, const char *line, size_t len)
{
	if (e->quiet)
		return;
	if (e->held != NULL) {
		progress_clear();
		fprintf(stderr, "%s\n", e->held);
		free(e->held);
		e->held = NULL;
	}
	if (len > 0 && line[0] == '{') {
		e->held = strndup(line, len);
		return;
	}
	progress_clear();
	fwrite(line, 1, len, stderr);
	fputc('\n', stderr);
}

/* Closes the pipe: the last line, if it is a JSON object, is the stats. */
static void
errpipe_close(struct errpipe *e)
{
	if (e->fd < 0)
		return;
	close(e->fd);
	e->fd = -1;
	if (e->len > 0)
		errpipe_line(e, e->buf, e->len);
	e->len = 0;
	if (e->held == NULL)
		return;
	e->stats = json_tokener_parse(e->held);
	if (e->stats != NULL && !json_object_is_type(e->stats,
	    json_type_object)) {
		json_object_put(e->stats);
		e->stats = NULL;
	}
	if (e->stats == NULL) {
		progress_clear();
		fprintf(stderr, "%s\n", e->held);
	}
	free(e->held);
	e->held = NULL;
}

static void
errpipe_feed_line(void *ctx, char *line, size_t len)
{
	errpipe_line(ctx, line, len);
}

/*
 * Reads what the pipe holds now, passing complete lines on; closes it at
 * end of file, or with drain when nothing more is there (the child was
 * reaped: all it wrote is in the pipe, and a descendant of it that still
 * holds the pipe must not keep us waiting).
 */
static void
errpipe_read(struct errpipe *e, bool drain)
{
	char chunk[4096];
	ssize_t n;

	while (e->fd >= 0) {
		n = read(e->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !drain)
			return;
		if (n <= 0) {
			errpipe_close(e);
			return;
		}
		lines_feed(&e->buf, &e->len, &e->cap, chunk, (size_t)n,
		    errpipe_feed_line, e);
	}
}

static void
errpipe_free(struct errpipe *e)
{
	if (e->fd >= 0)
		close(e->fd);
	free(e->buf);
	free(e->held);
	if (e->stats != NULL)
		json_object_put(e->stats);
	memset(e, 0, sizeof(*e));
	e->fd = -1;
}

static unsigned long long
stat_number(json_object *stats, const char *key)
{
	json_object *v;

	if (stats == NULL || !json_object_object_get_ex(stats, key, &v))
		return 0;
	return json_object_get_uint64(v);
}

/* Adds every number of the object stats[key] to totals->skipped. */
static void
add_skipped(struct totals *t, json_object *stats, const char *key)
{
	json_object *reasons, *have;

	if (stats == NULL || !json_object_object_get_ex(stats, key, &reasons)
	    || !json_object_is_type(reasons, json_type_object))
		return;
	json_object_object_foreach(reasons, reason, count) {
		uint64_t n = json_object_get_uint64(count);

		/* leaf-filter counts those, in every leaf, and names them. */
		if (n == 0 || strcmp(reason, "too_young") == 0)
			continue;
		t->errors += n;
		if (json_object_object_get_ex(t->skipped, reason, &have))
			n += json_object_get_uint64(have);
		json_object_object_add(t->skipped, reason,
		    json_object_new_uint64(n));
	}
}

/*
 * Writes a line that no JSON parser accepts into the pipe to jsonl-write,
 * so it fails the leaf instead of committing what it read.  An empty line
 * is invalid after a complete line, "]" after a partial one.  When the pipe
 * is full or jsonl-write is gone, SIGTERM (its handler removes its
 * temporary file) does the same: it cannot have committed, since we hold
 * the pipe open.
 */
static void
poison(struct leaf *l)
{
	sigset_t pipe_set, old;
	struct timespec zero = { 0, 0 };

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	fcntl(l->hold, F_SETFL, O_NONBLOCK);
	if (write(l->hold, "\n]\n", 3) != 3 && l->write > 0)
		kill(l->write, SIGTERM);
	/* A SIGPIPE raised by that write is consumed here, never delivered. */
	while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void
close_all(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static bool
exited_with(int status, int a, int b)
{
	return WIFEXITED(status) &&
	    (WEXITSTATUS(status) == a || WEXITSTATUS(status) == b);
}

/* A slot taking the leaf dir: no process, no pipe yet. */
static void
leaf_init(struct leaf *l, const char *dir)
{
	memset(l, 0, sizeof(*l));
	l->hold = -1;
	l->merge_err.fd = l->write_err.fd = -1;
	if ((l->dir = strdup(dir)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
}

/* Starts the pipeline of a leaf; one that cannot start is finished at once,
 * failed. */
static void
start_leaf(struct leaf *l, const char *dir)
{
	struct args av = { 0 };
	int merge_out[2] = { -1, -1 }, jq_out[2] = { -1, -1 },
	    err_merge = -1, err_write = -1;
	char *outpath;
	size_t i;

	leaf_init(l, dir);
	errpipe_open(&l->merge_err, &err_merge);
	if (err_merge < 0)
		goto fail;
	if (!opt.dry_run) {
		errpipe_open(&l->write_err, &err_write);
		if (err_write < 0)
			goto fail;
		if (pipe2(merge_out, O_CLOEXEC) < 0 ||
		    (opt.jq && pipe2(jq_out, O_CLOEXEC) < 0)) {
			diag_warn("pipe");
			goto fail;
		}
	}

	args_add_owned(&av, program("json-merge"));
	for (i = 0; i < opt.merge_opts.n; i++)
		args_add(&av, opt.merge_opts.v[i]);
	if (opt.dry_run)
		args_add(&av, "--no-claim");
	args_add(&av, "--stats=json");
	args_add(&av, "--");
	args_add(&av, dir);
	l->merge = spawn(av.v, -1, opt.dry_run ? -1 : merge_out[1], err_merge,
	    0);
	args_free(&av);
	close(err_merge);
	err_merge = -1;
	if (l->merge < 0)
		goto fail;
	l->pgid = l->merge;
	if (opt.dry_run)
		return;

	/* Our copy of the write end of the pipe into jsonl-write is l->hold:
	 * see the head comment.  It is close-on-exec, so no child holds it. */
	if (opt.jq) {
		close(merge_out[1]);
		args_add(&av, "jq");
		args_add(&av, "-c");
		args_add(&av, "-n");
		args_add(&av, opt.jq_program);
		l->jq = spawn(av.v, merge_out[0], jq_out[1], -1, l->pgid);
		args_free(&av);
		close(merge_out[0]);
		merge_out[0] = jq_out[0];
		l->hold = jq_out[1];
		if (l->jq < 0) {
			l->jq = 0;
			l->jq_status = EXITCODE_FAILED << 8;
		}
	} else
		l->hold = merge_out[1];

	if (asprintf(&outpath, "%s/%s", dir, opt.output) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	args_add_owned(&av, program("jsonl-write"));
	if (!opt.keep_sources)
		args_add(&av, "--remove-sources");
	if (opt.jq)
		args_add(&av, "--filtered");
	args_add(&av, "--stats=json");
	args_add(&av, "--");
	args_add(&av, outpath);
	free(outpath);
	l->write = spawn(av.v, merge_out[0], -1, err_write, l->pgid);
	args_free(&av);
	close(merge_out[0]);
	close(err_write);
	if (l->write < 0) {
		l->write = 0;
		l->write_status = EXITCODE_FAILED << 8;
	}
	return;

fail:
	/* A leaf that does not start holds no descriptor: a pipe end left
	 * open here is one whose end of file the loop would wait for, with
	 * no child left to give it. */
	l->merge = 0;
	l->merge_status = EXITCODE_FAILED << 8;
	close_all((int[]){ err_merge, err_write, merge_out[0], merge_out[1],
	    jq_out[0], jq_out[1] }, 6);
	errpipe_free(&l->merge_err);
	errpipe_free(&l->write_err);
}

/* ---- the workers of the leaf stream ---- */

static void
worker_init(struct worker *w)
{
	memset(w, 0, sizeof(*w));
	w->paths = w->reports = -1;
	w->merge_err.fd = w->write_err.fd = -1;
}

/* True while a process or a pipe of the worker remains. */
static bool
worker_alive(const struct worker *w)
{
	return w->merge > 0 || w->write > 0 || w->reports >= 0 ||
	    w->merge_err.fd >= 0 || w->write_err.fd >= 0;
}

/* Starts the pair; returns 0, or -1 (said) when it could not. */
static void worker_free(struct worker *w);

static int
worker_start(struct worker *w)
{
	struct args av = { 0 };
	int paths[2] = { -1, -1 }, mid[2] = { -1, -1 }, reports[2] = { -1, -1 },
	    err_merge = -1, err_write = -1;
	size_t i;

	/* What is left of a pair that died goes (its processes are reaped
	 * as strangers). */
	worker_free(w);
	worker_init(w);
	errpipe_open(&w->merge_err, &err_merge);
	errpipe_open(&w->write_err, &err_write);
	if (err_merge < 0 || err_write < 0 || pipe2(paths, O_CLOEXEC) < 0 ||
	    pipe2(mid, O_CLOEXEC) < 0 || pipe2(reports, O_CLOEXEC) < 0) {
		diag_warn("pipe");
		goto fail;
	}
	args_add_owned(&av, program("json-merge"));
	args_add(&av, "-0");
	for (i = 0; i < opt.merge_opts.n; i++)
		args_add(&av, opt.merge_opts.v[i]);
	w->merge = spawn(av.v, paths[0], mid[1], err_merge, 0);
	args_free(&av);
	if (w->merge < 0) {
		w->merge = 0;
		goto fail;
	}
	w->pgid = w->merge;
	args_add_owned(&av, program("jsonl-write"));
	if (!opt.keep_sources)
		args_add(&av, "--remove-sources");
	args_add(&av, "--stats=json");
	w->write = spawn(av.v, mid[0], reports[1], err_write, w->pgid);
	args_free(&av);
	if (w->write < 0) {
		w->write = 0;
		kill(-w->pgid, SIGKILL);
		goto fail;
	}
	close_all((int[]){ paths[0], mid[0], mid[1], reports[1], err_merge,
	    err_write }, 6);
	w->paths = paths[1];
	w->reports = reports[0];
	fcntl(w->reports, F_SETFL, O_NONBLOCK);
	return 0;

fail:
	close_all((int[]){ paths[0], paths[1], mid[0], mid[1], reports[0],
	    reports[1], err_merge, err_write }, 8);
	errpipe_close(&w->merge_err);
	errpipe_close(&w->write_err);
	return -1;
}

/* Writes the whole buffer, or fails with EPIPE rather than die of it. */
static int
write_nosigpipe(int fd, const char *p, size_t n)
{
	sigset_t pipe_set, old;
	struct timespec zero = { 0, 0 };
	int ret = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -1;
			break;
		}
		p += w;
		n -= w;
	}
	while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

/* No more leaves for the worker: it finishes the one in hand and exits. */
static void
worker_retire(struct worker *w)
{
	if (w->paths >= 0) {
		close(w->paths);
		w->paths = -1;
	}
}

/* Hands the leaf l->dir to the worker (started first if need be). */
static void
start_leaf_stream(struct leaf *l, struct worker *w, const char *dir)
{
	leaf_init(l, dir);
	l->streamed = true;
	/* A pair that died after its last report is found here, by EPIPE:
	 * the leaf goes to a new pair. */
	for (int tries = 0;; tries++) {
		if ((w->paths >= 0 || worker_start(w) == 0) &&
		    write_nosigpipe(w->paths, dir, strlen(dir) + 1) == 0)
			break;
		worker_retire(w);
		if (tries == 1 || w->merge == 0) {
			/* It cannot start: the leaf fails, untouched. */
			l->reported = true;
			l->merge_status = EXITCODE_FAILED << 8;
			return;
		}
	}
	l->pgid = w->pgid;
}

/* The report of the leaf in hand: the fields finish_leaf() reads. */
static void
leaf_report(void *ctx, char *line, size_t len)
{
	struct leaf *l = ctx;
	json_object *r = json_tokener_parse(line), *merge, *v;
	int merge_status = EXITCODE_FAILED, write_status = EXITCODE_FAILED;

	(void)len;
	if (l == NULL || !l->streamed || l->reported) {
		if (r != NULL)
			json_object_put(r);
		return;
	}
	l->reported = true;
	if (r != NULL && json_object_object_get_ex(r, "merge", &merge) &&
	    json_object_is_type(merge, json_type_object)) {
		if (json_object_object_get_ex(merge, "status", &v))
			merge_status = json_object_get_int(v);
		l->merge_err.stats = json_object_get(merge);
	}
	if (r != NULL && json_object_object_get_ex(r, "status", &v))
		write_status = json_object_get_int(v);
	if (r != NULL && json_object_object_get_ex(r, "unchanged", &v))
		l->withdrawn = json_object_get_boolean(v);
	l->merge_status = (merge_status & 0xff) << 8;
	l->write_status = (write_status & 0xff) << 8;
	l->write_err.stats = r;
}

/* Reads the worker's reports; at their end the leaf in hand failed. */
static void
worker_read(struct worker *w, struct leaf *l)
{
	char chunk[4096];
	ssize_t n;

	errpipe_read(&w->merge_err, false);
	errpipe_read(&w->write_err, false);
	while (w->reports >= 0) {
		n = read(w->reports, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(w->reports);
			w->reports = -1;
			worker_retire(w);
			if (l->streamed && !l->reported && l->dir != NULL) {
				l->reported = true;
				l->merge_status = EXITCODE_FAILED << 8;
			}
			return;
		}
		lines_feed(&w->buf, &w->len, &w->cap, chunk, (size_t)n,
		    leaf_report, l);
	}
}

/* Reaps one process of the worker. */
static bool
worker_reaped(struct worker *w, pid_t pid)
{
	if (pid == w->merge)
		w->merge = 0;
	else if (pid == w->write)
		w->write = 0;
	else
		return false;
	/* All it wrote is in its pipes: take it now, even if a descendant
	 * still holds them. */
	if (pid == w->pgid)
		errpipe_read(&w->merge_err, true);
	else
		errpipe_read(&w->write_err, true);
	return true;
}

static void
worker_free(struct worker *w)
{
	worker_retire(w);
	if (w->reports >= 0)
		close(w->reports);
	errpipe_free(&w->merge_err);
	errpipe_free(&w->write_err);
	free(w->buf);
}

/* Adds a finished leaf to the totals; returns its exit status. */
static int
finish_leaf(struct leaf *l, struct totals *t)
{
	json_object *ms = l->merge_err.stats, *ws = l->write_err.stats;
	bool merged = exited_with(l->merge_status, EXITCODE_DONE, EXITCODE_PARTIAL);
	bool written = opt.dry_run || l->withdrawn ||
	    exited_with(l->write_status, EXITCODE_DONE, EXITCODE_PARTIAL);
	bool jq_ok = !opt.jq || opt.dry_run ||
	    exited_with(l->jq_status, EXITCODE_DONE, EXITCODE_DONE);
	unsigned long long consumed = stat_number(ms, "sources");
	int status;

	t->leaves_done++;
	if (merged && written && jq_ok) {
		if (!l->withdrawn)
			t->records += stat_number(ms, "records");
		t->bytes_in += stat_number(ms, "bytes_in");
		t->files_consumed += consumed;
		t->bytes_out += stat_number(ws, "bytes");
		t->files_removed += stat_number(ws, "sources_removed");
		if (consumed == 0 && stat_number(ws, "sources_removed") == 0)
			t->leaves_unchanged++;
		else
			t->leaves_consolidated++;
		status = exited_with(l->merge_status, EXITCODE_DONE, EXITCODE_DONE) &&
		    (opt.dry_run || l->withdrawn || exited_with(
		    l->write_status, EXITCODE_DONE, EXITCODE_DONE)) ? EXITCODE_DONE :
		    EXITCODE_PARTIAL;
		if (status == EXITCODE_PARTIAL)
			t->leaves_partial++;
		if (opt.dry_run && pathstream_write(stdout, l->dir, opt.delim)
		    < 0) {
			if (errno != EINVAL)
				diag_err(EXITCODE_FAILED, "stdout");
			diag_warnx("%s: path holds a newline; use -0",
			    diag_quote(l->dir));
		}
	} else {
		t->leaves_failed++;
		status = EXITCODE_FAILED;
		if (!jq_ok)
			diag_warnx("%s: jq failed; nothing committed",
			    diag_quote(l->dir));
		else
			diag_warnx("%s: not consolidated; its files are "
			    "untouched", diag_quote(l->dir));
	}
	add_skipped(t, ms, "sources_skipped");
	errpipe_free(&l->merge_err);
	errpipe_free(&l->write_err);
	free(l->dir);
	l->dir = NULL;
	return status;
}

/*
 * True when DIR's journal is the claim of our json-merge (pid) with nothing
 * consumed and nothing kept: a commit would only rewrite the output with
 * the same records (or make an empty one), and remove nothing.
 */
static bool
claim_is_idle(const char *dir, pid_t pid)
{
	struct journal j;
	bool idle;
	int dfd, r;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return false;
	r = journal_load(dfd, opt.output, &j);
	idle = r == 1 && j.state == JOURNAL_MERGED && j.pid == pid &&
	    j.nkept == 0 && j.nsources == 0;
	if (r >= 0)
		journal_free(&j);
	close(dfd);
	return idle;
}

/* Removes the idle claim of our json-merge, if it is still that. */
static void
claim_withdraw(const char *dir, pid_t pid)
{
	int dfd;

	if (!claim_is_idle(dir, pid))
		return;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    journal_remove(dfd, opt.output) < 0)
		diag_warn("%s: removing the claim", diag_quote(dir));
	if (dfd >= 0)
		close(dfd);
}

/* Reaps one child of a leaf; releases jsonl-write when upstream is done. */
static bool
leaf_reaped(struct leaf *l, pid_t pid, int status)
{
	if (pid == l->merge) {
		l->merge = 0;
		l->merge_status = status;
		errpipe_read(&l->merge_err, true);
	} else if (pid == l->jq) {
		l->jq = 0;
		l->jq_status = status;
	} else if (pid == l->write) {
		l->write = 0;
		l->write_status = status;
		errpipe_read(&l->write_err, true);
		if (l->withdrawn)
			claim_withdraw(l->dir, l->pgid);
	} else
		return false;
	if (l->hold >= 0 && l->merge == 0 && l->jq == 0) {
		if (!exited_with(l->merge_status, EXITCODE_DONE, EXITCODE_PARTIAL) ||
		    (opt.jq && !exited_with(l->jq_status, EXITCODE_DONE,
		    EXITCODE_DONE)))
			poison(l);
		else if (stat_number(l->merge_err.stats, "sources") == 0 &&
		    l->merge_err.stats != NULL && l->write > 0 &&
		    claim_is_idle(l->dir, l->pgid)) {
			/* Nothing new (say only invalid sources): leave the
			 * leaf as it is rather than rewrite it.  jsonl-write
			 * cannot have committed: we hold its input open. */
			l->withdrawn = true;
			l->write_err.quiet = true;
			kill(l->write, SIGTERM);
		}
		close(l->hold);
		l->hold = -1;
	}
	return true;
}

static bool
leaf_running(const struct leaf *l)
{
	return l->dir != NULL;
}

static bool
leaf_finished(const struct leaf *l)
{
	if (l->streamed)
		return l->reported;
	return l->merge == 0 && l->jq == 0 && l->write == 0 &&
	    l->merge_err.fd < 0 && l->write_err.fd < 0;
}

/*
 * Leaves waiting to start: the bytes read from leaf-filter, NUL-terminated
 * paths; the last one may still be incomplete.
 */
struct queue {
	char *buf;
	size_t len, cap;
	size_t head;		/* the next path to start */
	size_t complete;	/* the end of the last complete path */
};

/* Appends bytes read; returns the number of paths they completed. */
static size_t
queue_append(struct queue *q, const char *bytes, size_t len)
{
	size_t found = 0, i;

	/* What was started is dropped once it is half the buffer. */
	if (q->head > 0 && q->head >= q->len / 2) {
		memmove(q->buf, q->buf + q->head, q->len - q->head);
		q->len -= q->head;
		q->complete -= q->head;
		q->head = 0;
	}
	if (q->len + len > q->cap) {
		size_t cap = (q->len + len) * 2;
		char *b = realloc(q->buf, cap);

		if (b == NULL)
			diag_err(EXITCODE_FAILED, "out of memory");
		q->buf = b;
		q->cap = cap;
	}
	memcpy(q->buf + q->len, bytes, len);
	for (i = 0; i < len; i++)
		if (bytes[i] == '\0') {
			found++;
			q->complete = q->len + i + 1;
		}
	q->len += len;
	return found;
}

static const char *
queue_pop(struct queue *q)
{
	const char *path;

	if (q->head >= q->complete)
		return NULL;
	path = q->buf + q->head;
	q->head += strlen(path) + 1;
	return path;
}

static bool
queue_empty(const struct queue *q)
{
	return q->head >= q->complete;
}

static void
human_bytes(char *buf, size_t size, unsigned long long n)
{
	static const char units[] = "BKMGTP";
	double v = n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%lluB", n);
	else
		snprintf(buf, size, "%.1f%c", v, units[u]);
}

static void
show_progress(const struct totals *t, size_t running, bool scanning)
{
	char in[16], out[16], eta[32] = "";
	double secs = progress_seconds();
	unsigned long long left = t->leaves_found - t->leaves_done;

	if (!progress_due())
		return;
	human_bytes(in, sizeof(in), t->bytes_in);
	human_bytes(out, sizeof(out), t->bytes_out);
	if (!scanning && t->leaves_done > 0 && left > 0)
		snprintf(eta, sizeof(eta), " ETA %.0fs",
		    secs / t->leaves_done * left);
	progress_show("leaves %llu/%llu%s (%zu running), files %llu, "
	    "records %llu, in %s, out %s, inodes freed %llu, errors %llu, "
	    "stalled %llu%s", t->leaves_done, t->leaves_found,
	    scanning ? "+" : "", running, t->files_consumed, t->records, in,
	    out, t->files_removed, t->errors + t->leaves_failed, t->stalled,
	    eta);
}

static void
print_summary(const struct totals *t, double secs, char **stalled_dirs,
    size_t nstalled)
{
	char in[16], out[16];
	size_t i;

	if (opt.stats == 2) {
		json_object *o = json_object_new_object(), *dirs;
		const struct {
			const char *name;
			unsigned long long value;
		} counts[] = {
			{ "leaves_found", t->leaves_found },
			{ "leaves_consolidated", t->leaves_consolidated },
			{ "leaves_unchanged", t->leaves_unchanged },
			{ "leaves_partial", t->leaves_partial },
			{ "leaves_failed", t->leaves_failed },
			{ "leaves_busy", t->leaves_busy },
			{ "files_consumed", t->files_consumed },
			{ "files_removed", t->files_removed },
			{ "records", t->records },
			{ "bytes_in", t->bytes_in },
			{ "bytes_out", t->bytes_out },
		};

		json_object_object_add(o, "dry_run",
		    json_object_new_boolean(opt.dry_run));
		for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
			json_object_object_add(o, counts[i].name,
			    json_object_new_uint64(counts[i].value));
		json_object_object_add(o, "sources_skipped",
		    json_object_get(t->skipped));
		dirs = json_object_new_array();
		for (i = 0; i < nstalled; i++)
			json_object_array_add(dirs,
			    json_object_new_string(stalled_dirs[i]));
		json_object_object_add(o, "stalled", dirs);
		snprintf(in, sizeof(in), "%.3f", secs);
		json_object_object_add(o, "elapsed",
		    json_object_new_double_s(secs, in));
		fprintf(stderr, "%s\n", json_object_to_json_string_ext(o,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return;
	}
	human_bytes(in, sizeof(in), t->bytes_in);
	human_bytes(out, sizeof(out), t->bytes_out);
	if (!opt.dry_run && t->leaves_consolidated == 0 &&
	    t->files_removed == 0 && t->leaves_failed == 0 && nstalled == 0 &&
	    t->leaves_busy == 0) {
		if (t->leaves_unchanged == 0)
			fprintf(stderr, "%s: nothing to do: no leaf has new "
			    "sources\n", diag_progname());
		else
			fprintf(stderr, "%s: nothing to do: no new sources "
			    "(%llu leaves hold sources that cannot be "
			    "consumed, left in place)\n", diag_progname(),
			    t->leaves_unchanged);
		return;
	}
	fprintf(stderr, "%s: %s%llu leaves %s (%llu partial, %llu failed, "
	    "%llu busy, %llu unchanged), %llu files %s, %llu records, %s in, "
	    "%s out, %zu stalled, %.1fs\n", diag_progname(),
	    opt.dry_run ? "dry run: " : "", t->leaves_consolidated,
	    opt.dry_run ? "to consolidate" : "consolidated",
	    t->leaves_partial, t->leaves_failed, t->leaves_busy,
	    t->leaves_unchanged,
	    opt.dry_run ? t->files_consumed : t->files_removed,
	    opt.dry_run ? "to consume" : "removed", t->records, in, out,
	    nstalled, secs);
	if (json_object_object_length(t->skipped) > 0) {
		fprintf(stderr, "%s: sources skipped:", diag_progname());
		json_object_object_foreach(t->skipped, reason, count)
			fprintf(stderr, " %s %llu", reason, (unsigned long long)
			    json_object_get_uint64(count));
		fputc('\n', stderr);
	}
}

/*
 * Warns when the jq in use rounds integers beyond 2^53 (jq 1.6 does):
 * records would then change where the filter did not mean to touch them.
 */
static void
check_jq_numbers(void)
{
	static const char big[] = "12345678901234567890123";
	char *argv[] = { "jq", "-c", ".", NULL }, out[128];
	int in[2], res[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
		diag_err(EXITCODE_FAILED, "pipe");
	if ((pid = spawn(argv, in[0], res[1], -1, 0)) < 0)
		exit(EXITCODE_FAILED);
	close(in[0]);
	close(res[1]);
	(void)!write(in[1], big, sizeof(big) - 1);
	close(in[1]);
	while ((n = read(res[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += n;
	close(res[0]);
	out[got] = '\0';
	waitpid(pid, &status, 0);
	if (!exited_with(status, 0, 0))
		diag_errx(EXITCODE_FAILED, "jq does not run; --jq needs it");
	if (strncmp(out, big, sizeof(big) - 1) != 0)
		diag_warnx("warning: this jq rounds big integers (%s becomes "
		    "%.*s): --jq changes such numbers in every record",
		    big, (int)strcspn(out, "\n"), out);
}

/* Reads a --stalled file of the given delimiter into list. */
static void
read_stalled(const char *file, int delim, struct args *list)
{
	FILE *in = fopen(file, "re");
	struct pathstream ps;
	char *path;

	if (in == NULL)
		return;
	pathstream_init(&ps, in, delim);
	while (pathstream_read(&ps, &path) > 0)
		args_add(list, path);
	pathstream_free(&ps);
	fclose(in);
}

static char *
temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (asprintf(&path, "%s/leafpack-stalled.XXXXXX",
	    dir && *dir ? dir : "/tmp") < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(path));
	close(fd);
	return path;
}

static void
poll_add(struct pollfd *pfd, size_t *n, int fd)
{
	if (fd >= 0)
		pfd[(*n)++] = (struct pollfd){ .fd = fd, .events = POLLIN };
}

static void
add_option(struct args *a, const char *name, const char *value)
{
	args_add(a, name);
	if (value != NULL)
		args_add(a, value);
}

int
main(int argc, char *argv[])
{
	struct args scan_opts = { 0 }, av = { 0 }, stalled = { 0 };
	struct totals t = { 0 };
	struct queue q = { 0 };
	struct leaf *slots;
	struct worker *workers;
	struct errpipe filter_err, scan_err;
	struct sigaction sa;
	sigset_t sigs;
	const char *why, *path;
	char *scan_stalled = NULL, *filter_stalled = NULL, *date, *list;
	pid_t scan = 0, filter = 0;
	int c, leaves_fd, scan_status = 0, filter_status = 0, status, p[2],
	    child_err, fd;
	size_t i, running = 0, npoll;
	bool stopping = false, forwarded = false, use_workers;
	long long n;

	diag_init(argv[0]);
	/* A leaf's commit waits on fsync far longer than it computes: with
	 * 2 CPUs, -P 8 took a fifth of the time of -P 2 (local ext4). */
	opt.parallel = 4 * sysconf(_SC_NPROCESSORS_ONLN);
	if (opt.parallel < 4)
		opt.parallel = 4;
	if (opt.parallel > 64)
		opt.parallel = 64;
	while ((c = getopt_long(argc, argv, "0j:t:P:", long_options, NULL))
	    != -1) {
		switch (c) {
		case '0':
			opt.delim = '\0';
			break;
		case 'j':
			if (units_parse_count(optarg, 1, 1024, &n, &why) < 0) {
				diag_warnx("-j %s: %s", optarg, why);
				usage();
			}
			add_option(&scan_opts, "-j", optarg);
			break;
		case 't':
			if (units_parse_duration(optarg, &n, &why) < 0 ||
			    (n < 1 && (why = "too small")) ||
			    (n > 86400000 && (why = "too large"))) {
				diag_warnx("-t %s: %s", optarg, why);
				usage();
			}
			add_option(&scan_opts, "-t", optarg);
			add_option(&opt.filter_opts, "-t", optarg);
			break;
		case 'P':
			if (units_parse_count(optarg, 1, 1024, &n, &why) < 0) {
				diag_warnx("-P %s: %s", optarg, why);
				usage();
			}
			opt.parallel = n;
			break;
		case OPT_LEAVES:
			opt.leaves_mode = true;
			break;
		case OPT_DATES:
			if ((list = strdup(optarg)) == NULL)
				diag_err(EXITCODE_FAILED, "out of memory");
			for (date = strtok(list, ","); date != NULL;
			    date = strtok(NULL, ","))
				add_option(&opt.filter_opts, "--name", date);
			free(list);
			break;
		case OPT_NAME:
			add_option(&opt.filter_opts, "--name", optarg);
			break;
		case OPT_MATCH:
			add_option(&opt.filter_opts, "--match", optarg);
			add_option(&opt.merge_opts, "--match", optarg);
			break;
		case OPT_MIN_AGE:
			if (units_parse_duration(optarg, &n, &why) < 0) {
				diag_warnx("--min-age %s: %s", optarg, why);
				usage();
			}
			add_option(&opt.filter_opts, "--min-age", optarg);
			add_option(&opt.merge_opts, "--min-age", optarg);
			break;
		case OPT_KEY:
			add_option(&opt.merge_opts, "--key", optarg);
			break;
		case OPT_OUTPUT:
			if (*optarg == '\0' || strchr(optarg, '/') != NULL ||
			    strcmp(optarg, ".") == 0 ||
			    strcmp(optarg, "..") == 0) {
				diag_warnx("--output %s: not a plain file name",
				    diag_quote(optarg));
				usage();
			}
			opt.output = optarg;
			add_option(&opt.filter_opts, "--output", optarg);
			add_option(&opt.merge_opts, "--output", optarg);
			break;
		case OPT_MEMORY:
			if (units_parse_size(optarg, &n, &why) < 0) {
				diag_warnx("--memory %s: %s", optarg, why);
				usage();
			}
			add_option(&opt.merge_opts, "--memory", optarg);
			break;
		case OPT_JQ:
			/* jq 1.6 exits 0 when an error hit any record but the
			 * last: inputs inside one program stops at the first.
			 * The newline ends a comment at the end of FILTER. */
			opt.jq = optarg;
			free(opt.jq_program);
			if (asprintf(&opt.jq_program, "inputs | (%s\n)", optarg)
			    < 0)
				diag_err(EXITCODE_FAILED, "out of memory");
			break;
		case OPT_DRY_RUN:
			opt.dry_run = true;
			break;
		case OPT_KEEP_SOURCES:
			opt.keep_sources = true;
			add_option(&opt.filter_opts, "--keep-sources", NULL);
			break;
		case OPT_STRICT:
			add_option(&opt.merge_opts, "--strict", NULL);
			break;
		case OPT_STALLED:
			opt.stalled_path = optarg;
			break;
		case OPT_PROGRESS:
			opt.progress = true;
			break;
		case OPT_STATS:
			if (optarg == NULL)
				opt.stats = 1;
			else if (strcmp(optarg, "json") == 0)
				opt.stats = 2;
			else {
				diag_warnx("--stats=%s: expected json", optarg);
				usage();
			}
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			fputs(options_text, stdout);
			return diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE;
		case OPT_VERSION:
			printf("leafpack (leafpack) %s\n", LEAFPACK_VERSION);
			return diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE;
		default:
			usage();
		}
	}
	if (optind == argc)
		usage();
	find_progdir();
	if (opt.jq != NULL && !opt.dry_run)
		check_jq_numbers();
	t.skipped = json_object_new_object();

	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
		diag_err(EXITCODE_FAILED, "pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_flags |= SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	/* A mask is inherited through exec: with SIGCHLD blocked by whoever
	 * started us, a child whose pipes closed before it could be reaped
	 * would never wake the loop again (seen: a hang in 2 runs of 3). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	progress_init(opt.progress);

	/* The leaves: tree-scan over the roots, or the arguments themselves
	 * (from a memory file, which cannot block like a pipe we fill). */
	filter_stalled = temp_file();
	if (opt.leaves_mode) {
		if ((fd = memfd_create("leaves", MFD_CLOEXEC)) < 0)
			diag_err(EXITCODE_FAILED, "memfd_create");
		for (i = optind; i < (size_t)argc; i++)
			if (write(fd, argv[i], strlen(argv[i]) + 1) < 0)
				diag_err(EXITCODE_FAILED, "memfd");
		lseek(fd, 0, SEEK_SET);
		memset(&scan_err, 0, sizeof(scan_err));
		scan_err.fd = -1;
	} else {
		scan_stalled = temp_file();
		if (pipe2(p, O_CLOEXEC) < 0)
			diag_err(EXITCODE_FAILED, "pipe");
		errpipe_open(&scan_err, &child_err);
		args_add_owned(&av, program("tree-scan"));
		args_add(&av, "-0");
		for (i = 0; i < scan_opts.n; i++)
			args_add(&av, scan_opts.v[i]);
		add_option(&av, "--stalled", scan_stalled);
		args_add(&av, "--");
		for (i = optind; i < (size_t)argc; i++)
			args_add(&av, argv[i]);
		scan = spawn(av.v, -1, p[1], child_err, 0);
		args_free(&av);
		close(p[1]);
		close(child_err);
		if (scan < 0)
			exit(EXITCODE_FAILED);
		fd = p[0];
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		diag_err(EXITCODE_FAILED, "pipe");
	errpipe_open(&filter_err, &child_err);
	args_add_owned(&av, program("leaf-filter"));
	args_add(&av, "-0");
	for (i = 0; i < opt.filter_opts.n; i++)
		args_add(&av, opt.filter_opts.v[i]);
	add_option(&av, "--stalled", filter_stalled);
	args_add(&av, "--list-young");
	args_add(&av, "--stats=json");
	filter = spawn(av.v, fd, p[1], child_err, 0);
	args_free(&av);
	close(fd);
	close(p[1]);
	close(child_err);
	if (filter < 0)
		exit(EXITCODE_FAILED);
	leaves_fd = p[0];
	fcntl(leaves_fd, F_SETFL, O_NONBLOCK);

	if ((slots = calloc(opt.parallel, sizeof(*slots))) == NULL ||
	    (workers = calloc(opt.parallel, sizeof(*workers))) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	/* jq takes no leaf stream, and a dry run commits nothing. */
	use_workers = opt.jq == NULL && !opt.dry_run;
	for (i = 0; i < (size_t)opt.parallel; i++)
		worker_init(&workers[i]);
	/* An idle slot has no pipes: zeroed, it would name our stdin, which
	 * the loop would then poll, read (blocking, on a terminal or a pipe
	 * left open) and close as if it were a child's stderr. */
	for (i = 0; i < (size_t)opt.parallel; i++) {
		slots[i].merge_err.fd = slots[i].write_err.fd = -1;
		slots[i].hold = -1;
	}
	status = EXITCODE_DONE;
	for (;;) {
		struct pollfd pfd[2 + 2 * 1024 + 2];
		char buf[65536];
		unsigned long long backlog;
		int timeout;
		ssize_t got;
		pid_t pid;
		int st;

		if (stop_signal && !stopping) {
			stopping = true;
			if (scan > 0)
				kill(-scan, SIGTERM);
			if (filter > 0)
				kill(-filter, SIGTERM);
			if (leaves_fd >= 0) {
				close(leaves_fd);
				leaves_fd = -1;
			}
			if (running > 0)
				diag_warnx("stopping: waiting for %zu leaves "
				    "in flight to finish (again to roll them "
				    "back)", running);
		}
		if (stop_count >= 2 && !forwarded) {
			forwarded = true;
			for (i = 0; i < (size_t)opt.parallel; i++)
				if (leaf_running(&slots[i]))
					kill(-slots[i].pgid, SIGTERM);
		}
		for (i = 0; i < (size_t)opt.parallel; i++) {
			if (!leaf_running(&slots[i]) ||
			    !leaf_finished(&slots[i]))
				continue;
			st = finish_leaf(&slots[i], &t);
			if (st > status)
				status = st;
			running--;
		}
		for (i = 0; !stopping && running < (size_t)opt.parallel &&
		    i < (size_t)opt.parallel; i++) {
			if (leaf_running(&slots[i]))
				continue;
			if ((path = queue_pop(&q)) == NULL)
				break;
			running++;
			if (use_workers)
				start_leaf_stream(&slots[i], &workers[i], path);
			else
				start_leaf(&slots[i], path);
		}
		if (leaves_fd < 0 && scan == 0 && filter == 0 &&
		    running == 0 && (queue_empty(&q) || stopping)) {
			bool alive = false;

			/* No more leaves: the workers finish and exit. */
			for (i = 0; i < (size_t)opt.parallel; i++) {
				worker_retire(&workers[i]);
				alive |= worker_alive(&workers[i]);
			}
			if (!alive)
				break;
		}

		/* Only open descriptors: poll() refuses more entries than the
		 * limit on open files, and nothing looks at revents. */
		npoll = 0;
		poll_add(pfd, &npoll, wake[0]);
		/* Leaves are read ahead only so far: memory stays bounded
		 * however many a tree has (leaf-filter then waits on us). */
		backlog = t.leaves_found - t.leaves_done - running;
		if (backlog < MAX_BACKLOG)
			poll_add(pfd, &npoll, leaves_fd);
		poll_add(pfd, &npoll, scan_err.fd);
		poll_add(pfd, &npoll, filter_err.fd);
		for (i = 0; i < (size_t)opt.parallel; i++) {
			poll_add(pfd, &npoll, slots[i].merge_err.fd);
			poll_add(pfd, &npoll, slots[i].write_err.fd);
			poll_add(pfd, &npoll, workers[i].reports);
			poll_add(pfd, &npoll, workers[i].merge_err.fd);
			poll_add(pfd, &npoll, workers[i].write_err.fd);
		}
		/* While a child lives, SIGCHLD is the news of its exit once
		 * its pipes are closed; the wait is bounded all the same, so
		 * that news lost would cost a second, never the run. */
		timeout = progress_enabled() ? PROGRESS_INTERVAL_MS : -1;
		if (timeout < 0 && (scan > 0 || filter > 0 || running > 0))
			timeout = 1000;
		for (i = 0; timeout < 0 && i < (size_t)opt.parallel; i++)
			if (worker_alive(&workers[i]))
				timeout = 1000;
		/* A leaf that failed to start is finished already. */
		for (i = 0; i < (size_t)opt.parallel; i++)
			if (leaf_running(&slots[i]) && leaf_finished(&slots[i]))
				timeout = 0;
		if (poll(pfd, npoll, timeout) < 0 && errno != EINTR)
			diag_err(EXITCODE_FAILED, "poll");
		while (read(wake[0], buf, sizeof(buf)) > 0)
			;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			if (pid == scan) {
				scan = 0;
				scan_status = st;
				errpipe_read(&scan_err, true);
				continue;
			}
			if (pid == filter) {
				filter = 0;
				filter_status = st;
				errpipe_read(&filter_err, true);
				continue;
			}
			for (i = 0; i < (size_t)opt.parallel; i++)
				if (worker_reaped(&workers[i], pid) ||
				    (leaf_running(&slots[i]) &&
				    leaf_reaped(&slots[i], pid, st)))
					break;
		}

		while (leaves_fd >= 0 && backlog < MAX_BACKLOG) {
			got = read(leaves_fd, buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			/* leaf-filter was reaped: all it wrote is here, and
			 * whatever still holds the pipe must not hold us. */
			if (got < 0 && errno == EAGAIN && filter > 0)
				break;
			if (got <= 0) {
				if (got < 0 && errno != EAGAIN)
					diag_warn("reading from leaf-filter");
				close(leaves_fd);
				leaves_fd = -1;
				break;
			}
			got = queue_append(&q, buf, got);
			t.leaves_found += got;
			backlog += got;
		}
		errpipe_read(&scan_err, false);
		errpipe_read(&filter_err, false);
		for (i = 0; i < (size_t)opt.parallel; i++) {
			errpipe_read(&slots[i].merge_err, false);
			errpipe_read(&slots[i].write_err, false);
			worker_read(&workers[i], &slots[i]);
		}
		show_progress(&t, running, leaves_fd >= 0);
	}
	progress_end();

	if (scan_stalled != NULL) {
		read_stalled(scan_stalled, '\0', &stalled);
		unlink(scan_stalled);
	}
	read_stalled(filter_stalled, '\0', &stalled);
	unlink(filter_stalled);
	t.stalled = stalled.n;
	t.leaves_idle = stat_number(filter_err.stats, "leaves_idle");
	t.leaves_busy = stat_number(filter_err.stats, "leaves_busy");
	if (stat_number(filter_err.stats, "sources_too_young") > 0)
		json_object_object_add(t.skipped, "too_young",
		    json_object_new_uint64(stat_number(filter_err.stats,
		    "sources_too_young")));
	if (opt.stalled_path != NULL) {
		FILE *out = fopen(opt.stalled_path, "we");

		if (out == NULL)
			diag_err(EXITCODE_FAILED, "%s",
			    diag_quote(opt.stalled_path));
		for (i = 0; i < stalled.n; i++)
			pathstream_write(out, stalled.v[i], opt.delim);
		if (fclose(out) == EOF)
			diag_err(EXITCODE_FAILED, "%s",
			    diag_quote(opt.stalled_path));
	}
	print_summary(&t, progress_seconds(), stalled.v, stalled.n);

	/* Done with skipped or stalled parts is one status (1); a scan or
	 * filter that failed or was killed fails the run. */
	for (i = 0; i < 2; i++) {
		int st = i == 0 ? scan_status : filter_status;
		if (i == 0 && opt.leaves_mode)
			continue;
		if (WIFEXITED(st) && (WEXITSTATUS(st) == EXITCODE_PARTIAL ||
		    WEXITSTATUS(st) == EXITCODE_STALLED)) {
			if (status < EXITCODE_PARTIAL)
				status = EXITCODE_PARTIAL;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != EXITCODE_DONE) {
			if (!stopping)
				diag_warnx("%s failed", i == 0 ? "tree-scan" :
				    "leaf-filter");
			status = EXITCODE_FAILED;
		}
	}
	/* A leaf left to another run, or stalled, is a part not done. */
	if ((stalled.n > 0 || t.leaves_busy > 0) && status < EXITCODE_PARTIAL)
		status = EXITCODE_PARTIAL;
	if (opt.dry_run && diag_close_stdout() < 0)
		status = EXITCODE_FAILED;
	errpipe_free(&scan_err);
	errpipe_free(&filter_err);
	free(scan_stalled);
	free(filter_stalled);
	free(opt.progdir);
	free(opt.jq_program);
	args_free(&opt.merge_opts);
	args_free(&opt.filter_opts);
	for (i = 0; i < (size_t)opt.parallel; i++)
		worker_free(&workers[i]);
	free(workers);
	free(slots);
	free(q.buf);
	args_free(&stalled);
	args_free(&scan_opts);
	json_object_put(t.skipped);
	if (stopping)
		return 128 + stop_signal;
	return status;
}
