/*
 * leaf-filter - reads leaf directory paths and prints those with work to do.
 *
 * A leaf has work to do when its own name is wanted (--name, --names-from)
 * and it holds at least --min-files eligible sources that its consolidated
 * file does not already hold (claim_absorbed()), or a journal that a run
 * must finish.  Reading a directory on a sick share can hang, so each leaf
 * is examined by a worker process that arms alarm(-t) around the work (the
 * default SIGALRM action ends it, which also breaks a killable wait in the
 * kernel); the parent waits a little longer than that and abandons a worker
 * that still does not answer.  A stalled leaf is named and left out, never
 * waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "claim.h"
#include "cli.h"
#include "diag.h"
#include "exitcode.h"
#include "leafname.h"
#include "pathstream.h"
#include "probe.h"
#include "share.h"
#include "sources.h"
#include "spawn.h"
#include "stats.h"
#include "watch.h"
#include "xstd.h"

static const char usage_text[] =
    "usage: leaf-filter [-0] [--name GLOB]... [--names-from FILE] "
    "[--match GLOB]...\n"
    "                   [--min-files N] [--min-age DURATION] "
    "[--output NAME] [-t SECONDS]\n"
    "                   [--max-stalls N] [--stalled FILE] [--keep-sources] "
    "[--list-young]\n"
    "                   [--stats[=json]]\n";

static const char options_text[] =
    "  -0                  read and write NUL-terminated paths\n"
    "      --name GLOB     only leaves whose own name matches GLOB "
    "(repeatable)\n"
    "      --names-from FILE  only leaves whose name is a line of FILE\n"
    "      --match GLOB    sources are files matching GLOB (repeatable; "
    "default *.txt)\n"
    "      --min-files N   at least N new sources (default 1)\n"
    "      --min-age DURATION  sources modified longer ago (default 2m; "
    "0 disables)\n"
    "      --output NAME   the consolidated file's name (default "
    "consolidated.jsonl)\n"
    "  -t SECONDS          time limit of every call on the share "
    "(default 30)\n"
    "      --max-stalls N  after N leaves in a row stalled, stop if the "
    "share does\n"
    "                      not answer at all (default 2; 0: never)\n"
    "      --stalled FILE  write stalled leaves to FILE\n"
    "      --keep-sources  a finished leaf whose sources were kept has "
    "no work\n"
    "      --list-young    name the sources left for being younger than "
    "--min-age\n"
    "      --stats[=json]  print a summary (or one JSON object) on stderr\n"
    "      --help          print this help and exit\n"
    "      --version       print the version and exit\n";

enum {
	OPT_NAME = 256, OPT_NAMES_FROM, OPT_MATCH, OPT_MIN_FILES, OPT_MIN_AGE,
	OPT_OUTPUT, OPT_STALLED, OPT_MAX_STALLS, OPT_KEEP_SOURCES,
	OPT_LIST_YOUNG, OPT_STATS,
	OPT_HELP, OPT_VERSION,
};

static const struct option long_options[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "names-from", required_argument, NULL, OPT_NAMES_FROM },
	{ "match", required_argument, NULL, OPT_MATCH },
	{ "min-files", required_argument, NULL, OPT_MIN_FILES },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "stalled", required_argument, NULL, OPT_STALLED },
	{ "max-stalls", required_argument, NULL, OPT_MAX_STALLS },
	{ "keep-sources", no_argument, NULL, OPT_KEEP_SOURCES },
	{ "list-young", no_argument, NULL, OPT_LIST_YOUNG },
	{ "stats", optional_argument, NULL, OPT_STATS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* A list of strings, each a copy (the options that repeat). */
struct strings {
	char **v;
	size_t n, cap;
};

/* What the options ask of every leaf, the worker's too. */
struct filter {
	struct leafname_filter names;	/* --name, --names-from */
	struct strings match;	/* --match */
	const char *output;	/* --output */
	long long min_age_ms;	/* --min-age */
	long long min_files;
	bool keep_sources;
	bool list_young;	/* --list-young */
	long long timeout_ms;	/* -t */
	long max_stalls;	/* --max-stalls */
};

/*
 * What a worker found in one leaf.  With --list-young, young_len bytes of
 * NUL-terminated names of the young sources follow it on the pipe.
 */
struct verdict {
	int error;		/* errno when the leaf could not be read,
				 * or 0 */
	uint32_t fresh;		/* eligible sources not yet absorbed */
	uint32_t young;		/* sources younger than --min-age */
	uint32_t young_len;
	uint8_t unfinished;	/* a journal a run must finish */
	uint8_t busy;		/* a live run holds the leaf */
};

/* Leaves stalled in a row before the share is asked whether it answers:
 * twice the one worker, so that a share that freezes costs about twice
 * the time limit. */
#define DEFAULT_MAX_STALLS 2

/* The most bytes of young names a verdict carries (the rest are counted). */
#define YOUNG_MAX 16384

/* The worker, and the record of its calls on the share (watch.h), which
 * gives each call, not each leaf, the time limit: a leaf of a hundred
 * thousand sources on a slow share is slow, not stalled. */
struct worker {
	pid_t pid;
	int request;		/* write end: length-prefixed paths */
	int reply;		/* read end: struct verdict */
	int died;		/* wait status of one that died, or 0 */
	struct watch_area watch;
};

struct counts {
	unsigned long long read, printed, unwanted, idle, busy, stalled,
	    unreadable, young;
};

/* The run: the options, the one worker, the --stalled file, the counts. */
struct run {
	struct filter f;
	int delim;		/* -0 */
	enum cli_stats stats;
	const char *stalled_path;
	FILE *stalled;
	struct worker w;
	struct counts c;
	long stalls_in_row;	/* leaves, since the last verdict */
	bool gave_up;		/* the share does not answer */
	struct stats_clock clock;
	char young[YOUNG_MAX];	/* the young names of the last verdict */
};

static void
add_string(struct strings *list, const char *s)
{
	if (RESERVE(list->v, list->cap, list->n + 1) < 0 ||
	    (list->v[list->n] = strdup(s)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	list->n++;
}

static void
free_strings(struct strings *list)
{
	while (list->n > 0)
		free(list->v[--list->n]);
	free(list->v);
	list->v = NULL;
	list->cap = 0;
}

static void
add_young(struct verdict *v, char *young, const char *name)
{
	size_t len = strlen(name) + 1;

	if (v->young_len + len <= YOUNG_MAX) {
		memcpy(young + v->young_len, name, len);
		v->young_len += len;
	}
}

/*
 * In the worker: looks at one leaf, under the timer.  Counts the eligible
 * sources the consolidated file does not hold yet, and says whether the
 * journal asks for a run.
 */
static void
examine(const struct filter *f, const char *path, struct verdict *v,
    char *young)
{
	struct sources_rules rules;
	struct claim_view view;
	struct spill names;
	struct spill_cursor c;
	struct stat st;
	const char *name;
	bool staged = false;
	int dfd, r;

	memset(v, 0, sizeof(*v));
	watch_set_dir(path);
	dfd = share_open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		v->error = errno;
		return;
	}
	if (claim_inspect(dfd, f->output, &view) < 0) {
		v->error = errno;
		share_close_quietly(&dfd, NULL);
		return;
	}
	v->busy = view.busy;
	/* A commit leaves its journal only with --keep-sources: without it,
	 * its sources and journal are to be removed. */
	v->unfinished = view.unfinished ||
	    (view.committed && !f->keep_sources);
	sources_rules_init(&rules, (const char *const *)f->match.v,
	    f->match.n, f->output, f->min_age_ms);
	/* The mark of a staged commit (staging.h): json-merge must finish
	 * the leaf, or say where its records wait. */
	rules.staged = &staged;
	if (!v->busy && sources_list(dfd, &rules, &names) < 0)
		v->error = errno;
	else if (!v->busy) {
		v->unfinished |= staged;
		spill_cursor_init(&c, &names);
		while ((r = sources_next(&c, &name)) == 1) {
			if (share_fstatat(dfd, name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			switch (sources_classify(&rules, name, &st)) {
			case SOURCES_ELIGIBLE:
				if ((r = claim_view_holds(&view, name,
				    &st)) == 0)
					v->fresh++;
				break;
			case SOURCES_TOO_YOUNG:
				v->young++;
				add_young(v, young, name);
				break;
			default:
				break;
			}
			if (r < 0)
				break;
		}
		if (r < 0)
			v->error = errno;
		spill_cursor_free(&c);
		spill_free(&names);
	}
	claim_view_free(&view);
	share_close_quietly(&dfd, NULL);
}

/*
 * The worker: reads length-prefixed paths on stdin and answers each with
 * a verdict on stdout, until end-of-file.  Each of its calls on the share
 * is in its watch record: the parent kills it when one takes longer than
 * -t, which is the leaf's stall.
 */
static void __attribute__((noreturn))
worker_main(const struct filter *f, struct watch_record *record)
{
	char path[PATH_MAX + 1], reply_buf[sizeof(struct verdict) + YOUNG_MAX];
	struct verdict v;
	uint32_t len;

	watch_attach_record(record);
	while (xread(STDIN_FILENO, &len, sizeof(len)) == sizeof(len)) {
		if (len > PATH_MAX ||
		    xread(STDIN_FILENO, path, len) != (ssize_t)len)
			_exit(EXITCODE_FAILED);
		path[len] = '\0';
		examine(f, path, &v, reply_buf + sizeof(v));
		if (!f->list_young)
			v.young_len = 0;
		memcpy(reply_buf, &v, sizeof(v));
		len = sizeof(v) + v.young_len;
		if (xwrite(STDOUT_FILENO, reply_buf, len) < 0)
			_exit(EXITCODE_FAILED);
	}
	_exit(EXITCODE_DONE);
}

/*
 * Starts the worker.  Its stdin and stdout are its two pipes, its stderr
 * /dev/null, and nothing else of ours stays open in it: a worker stuck in
 * the kernel must hold nothing a reader waits on (not our stdout, stdin or
 * stderr, a pipe to a driver, nor the --stalled file).  It reports through
 * its verdicts only.
 */
static int
worker_start(struct worker *w, const struct filter *f)
{
	struct spawn_options o;
	int req[2], rep[2];

	if (pipe_cloexec(req, 0) < 0)
		return -1;
	if (pipe_cloexec(rep, 0) < 0) {
		close_quietly(&req[0]);
		close_quietly(&req[1]);
		return -1;
	}
	spawn_options_init(&o);
	o.stdfd[0] = req[0];
	o.stdfd[1] = rep[1];
	o.stdfd[2] = SPAWN_NULL;
	o.close_others = true;
	watch_area_clear(&w->watch, 0);
	w->pid = spawn_fork(&o);
	if (w->pid == 0)
		worker_main(f, &w->watch.records[0]);
	close_quietly(&req[0]);
	close_quietly(&rep[1]);
	if (w->pid < 0) {
		close_quietly(&req[1]);
		close_quietly(&rep[0]);
		return -1;
	}
	w->request = req[1];
	w->reply = rep[0];
	return 0;
}

/* Abandons a worker: killed, reaped if it can be, never waited for. */
static void
worker_drop(struct worker *w, bool kill_it)
{
	if (kill_it)
		kill(w->pid, SIGKILL);
	close(w->request);
	close(w->reply);
	if (kill_it)
		waitpid(w->pid, NULL, WNOHANG);
	else
		waitpid(w->pid, NULL, 0);
	w->pid = -1;
}

enum ask { ASK_OK, ASK_STALLED, ASK_FAILED };

/*
 * Waits for the worker's answer while each of its calls on the share stays
 * within limit_ms, and it is never silent that long (a call it makes that
 * the record does not show).  Returns 1 when the answer is there, 0 when
 * the worker hangs (*p then names the call, or has op WATCH_NONE), -1 on a
 * poll error.
 */
static int
worker_wait(struct worker *w, long long limit_ms, struct watch_pending *p)
{
	struct pollfd pfd = { .fd = w->reply, .events = POLLIN };
	long long now, quiet_since = watch_clock_ms(), due;
	uint64_t calls = watch_area_calls(&w->watch, 0), seen;
	int r;

	for (;;) {
		now = watch_clock_ms();
		if ((seen = watch_area_calls(&w->watch, 0)) != calls) {
			calls = seen;
			quiet_since = now;
		}
		if (watch_area_pending(&w->watch, 0, p))
			due = p->since_ms + limit_ms;
		else {
			p->op = WATCH_NONE;
			due = quiet_since + limit_ms;
		}
		if (due <= now)
			return 0;
		/* A new call's clock is looked at within a second. */
		r = poll(&pfd, 1, due - now < 1000 ? (int)(due - now) : 1000);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0)
			return 1;
	}
}

/*
 * Sends path to the worker and waits for its verdict.  On a stall the
 * worker is gone.
 */
static enum ask
worker_ask(struct worker *w, const struct filter *f, const char *path,
    struct verdict *v, char *young, struct watch_pending *stall)
{
	uint32_t len = strlen(path);
	long long limit_ms = f->timeout_ms + watch_grace_ms(f->timeout_ms);
	int status, r;

	if (len > PATH_MAX) {
		errno = ENAMETOOLONG;
		return ASK_FAILED;
	}
	/* One write: the pipe holds a whole request, so it cannot block. */
	{
		char buf[sizeof(len) + PATH_MAX];

		memcpy(buf, &len, sizeof(len));
		memcpy(buf + sizeof(len), path, len);
		if (xwrite(w->request, buf, sizeof(len) + len) < 0)
			goto died;
	}
	if ((r = worker_wait(w, limit_ms, stall)) == 0) {
		worker_drop(w, true);
		return ASK_STALLED;
	}
	if (r < 0)
		return ASK_FAILED;
	if (xread(w->reply, v, sizeof(*v)) == sizeof(*v) &&
	    v->young_len <= YOUNG_MAX &&
	    xread(w->reply, young, v->young_len) == (ssize_t)v->young_len)
		return ASK_OK;
died:
	close_quietly(&w->request);
	close_quietly(&w->reply);
	/* It closed its pipe: it has ended, or is about to. */
	waitpid(w->pid, &status, 0);
	w->pid = -1;
	w->died = status;
	errno = EIO;
	return ASK_FAILED;
}

/* ---- one leaf ---- */

/* Prints a leaf with work.  Returns -1 when stdout failed (the run
 * stops; diag_close_stdout() reports it). */
static int
print_leaf(struct run *r, const char *path)
{
	if (pathstream_write(stdout, path, r->delim) < 0) {
		if (errno != EINVAL)
			return -1;
		diag_warnx("%s: path holds a newline; use -0",
		    diag_quote(path));
		r->c.unreadable++;
		return 0;
	}
	/* Downstream starts on a leaf as soon as it is found. */
	if (fflush(stdout) == EOF)
		return -1;
	r->c.printed++;
	return 0;
}

/* Acts on the worker's verdict on path.  Returns -1 when stdout failed. */
static int
leaf_verdict(struct run *r, const char *path, const struct verdict *v)
{
	r->c.young += v->young;
	for (const char *name = r->young; name < r->young + v->young_len;
	    name += strlen(name) + 1)
		diag_warnx("%s/%s: modified within --min-age; left for "
		    "a later run", diag_quote(path), diag_quote(name));
	if (v->error != 0) {
		errno = v->error;
		diag_warn("%s", diag_quote(path));
		r->c.unreadable++;
	} else if (v->busy) {
		/* Its holder finishes it; json-merge would refuse. */
		diag_warnx("%s: busy: another run is consolidating it; "
		    "left to it", diag_quote(path));
		r->c.busy++;
	} else if (v->unfinished || v->fresh >= r->f.min_files)
		return print_leaf(r, path);
	else
		r->c.idle++;
	return 0;
}

/* A leaf left out for the share: counted, and in --stalled FILE. */
static void
leaf_stalled(struct run *r, const char *path)
{
	r->c.stalled++;
	if (r->stalled != NULL &&
	    pathstream_write(r->stalled, path, r->delim) < 0)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(r->stalled_path));
}

/*
 * max_stalls leaves in a row stalled: a hung subtree, or a share that
 * answers nothing any more?  Its mount point is asked (a statvfs within
 * -t, in a child); without an answer every leaf still to come is left
 * out, stalled, without a look.
 */
static void
breaker(struct run *r, const char *path)
{
	char point[PATH_MAX];

	if (r->f.max_stalls == 0 || ++r->stalls_in_row < r->f.max_stalls)
		return;
	probe_mount_point(path, point, sizeof(point));
	if (probe_wait(point, r->f.timeout_ms) == PROBE_ANSWERED) {
		r->stalls_in_row = 0;
		return;
	}
	r->gave_up = true;
	diag_warnx("%s: the share is not answering: %ld leaves stalled in a "
	    "row; stopping (the leaves still to come are left out; run again "
	    "once it answers)", diag_quote(point), r->stalls_in_row);
}

/* A leaf the worker could not give a verdict on. */
static void
leaf_lost(struct run *r, const char *path, enum ask what,
    const struct watch_pending *stall)
{
	if (what == ASK_STALLED && stall->op != WATCH_NONE) {
		diag_warnx("%s: stalled: %s of %s blocked for %g s; left out",
		    diag_quote(path), watch_op_name(stall->op),
		    diag_quote(stall->path), r->f.timeout_ms / 1000.0);
		leaf_stalled(r, path);
		breaker(r, path);
		return;
	}
	if (what == ASK_STALLED) {
		diag_warnx("%s: stalled (no answer in %gs); left out",
		    diag_quote(path), r->f.timeout_ms / 1000.0);
		leaf_stalled(r, path);
		breaker(r, path);
		return;
	}
	if (r->w.died != 0 && WIFSIGNALED(r->w.died))
		diag_warnx("%s: its examiner died of signal %d",
		    diag_quote(path), WTERMSIG(r->w.died));
	else
		diag_warn("%s", diag_quote(path));
	r->w.died = 0;
	r->c.unreadable++;
}

/* One path of the input (len bytes as read).  Returns -1 when stdout
 * failed. */
static int
filter_leaf(struct run *r, const char *path, size_t len)
{
	struct watch_pending stall;
	struct verdict v;
	enum ask what;

	r->c.read++;
	if (len != strlen(path)) {
		diag_warnx("%s: path holds a NUL byte; skipped",
		    diag_quote(path));
		r->c.unreadable++;
		return 0;
	}
	if (!leafname_wanted(&r->f.names, path)) {
		r->c.unwanted++;
		return 0;
	}
	if (r->gave_up) {
		leaf_stalled(r, path);
		return 0;
	}
	if (r->w.pid < 0 && worker_start(&r->w, &r->f) < 0)
		diag_err(EXITCODE_FAILED, "cannot start a worker");
	what = worker_ask(&r->w, &r->f, path, &v, r->young, &stall);
	if (what != ASK_OK) {
		leaf_lost(r, path, what, &stall);
		return 0;
	}
	r->stalls_in_row = 0;
	return leaf_verdict(r, path, &v);
}

/* Every path of stdin, until its end or a failed stdout. */
static void
filter_all(struct run *r)
{
	struct pathstream ps;
	ssize_t len;
	char *path;

	pathstream_init(&ps, stdin, r->delim);
	while ((len = pathstream_read(&ps, &path)) > 0)
		if (filter_leaf(r, path, (size_t)len) < 0)
			break;
	if (len < 0)
		diag_err(EXITCODE_FAILED, "stdin");
	pathstream_free(&ps);
}

/* ---- command line and the end ---- */

static void
print_stats(struct run *r)
{
	const struct counts *c = &r->c;
	json_object *o;

	if (r->stats == CLI_STATS_TEXT) {
		fprintf(stderr, "%s: %llu leaves read, %llu with work, %llu "
		    "not wanted, %llu with nothing new, %llu busy, %llu "
		    "stalled, %llu unreadable; %llu sources too young\n",
		    diag_progname(), c->read, c->printed, c->unwanted,
		    c->idle, c->busy, c->stalled, c->unreadable, c->young);
		return;
	}
	o = stats_new();
	stats_add_count(o, "leaves_read", c->read);
	stats_add_count(o, "leaves_printed", c->printed);
	stats_add_count(o, "leaves_unwanted", c->unwanted);
	stats_add_count(o, "leaves_idle", c->idle);
	stats_add_count(o, "leaves_busy", c->busy);
	stats_add_count(o, STATS_KEY_STALLED, c->stalled);
	stats_add_count(o, "unreadable", c->unreadable);
	stats_add_count(o, "sources_too_young", c->young);
	stats_add_elapsed(o, &r->clock);
	/* The exit status says how the leaves went, not whether the summary
	 * could be written. */
	(void)stats_print(o, stderr);
}

/* One option into r; a bad one ends in usage (exit 2). */
static void
parse_option(struct run *r, int opt, const char *arg)
{
	struct filter *f = &r->f;
	long long n;

	switch (opt) {
	case '0':
		r->delim = '\0';
		break;
	case 't':
		if (cli_timeout("-t", arg, &f->timeout_ms) < 0)
			cli_usage(usage_text);
		break;
	case OPT_NAME:
		if (leafname_add_glob(&f->names, arg) < 0)
			diag_err(EXITCODE_FAILED, "out of memory");
		break;
	case OPT_NAMES_FROM:
		if (leafname_load(&f->names, arg) < 0)
			diag_err(errno == ENOMEM ? EXITCODE_FAILED :
			    EXITCODE_USAGE, "%s", diag_quote(arg));
		break;
	case OPT_MATCH:
		add_string(&f->match, arg);
		break;
	case OPT_MIN_FILES:
		if (cli_count("--min-files", arg, 1, INT32_MAX,
		    &f->min_files) < 0)
			cli_usage(usage_text);
		break;
	case OPT_MIN_AGE:
		if (cli_duration("--min-age", arg, &f->min_age_ms) < 0)
			cli_usage(usage_text);
		break;
	case OPT_OUTPUT:
		if (cli_output(arg) < 0)
			cli_usage(usage_text);
		f->output = arg;
		break;
	case OPT_STALLED:
		r->stalled_path = arg;
		break;
	case OPT_MAX_STALLS:
		if (cli_count("--max-stalls", arg, 0, CLI_MAX_STALLS_MAX,
		    &n) < 0)
			cli_usage(usage_text);
		f->max_stalls = (long)n;
		break;
	case OPT_KEEP_SOURCES:
		f->keep_sources = true;
		break;
	case OPT_LIST_YOUNG:
		f->list_young = true;
		break;
	case OPT_STATS:
		if (cli_stats(arg, &r->stats) < 0)
			cli_usage(usage_text);
		break;
	case OPT_HELP:
		cli_help(usage_text, options_text);
	case OPT_VERSION:
		cli_version();
	default:
		cli_usage(usage_text);
	}
}

/* The command line into r, and the --stalled file opened. */
static void
parse_args(struct run *r, int argc, char *argv[])
{
	int opt;

	r->f.min_files = 1;
	r->f.timeout_ms = CLI_TIMEOUT_DEFAULT_MS;
	r->f.output = CLI_OUTPUT_DEFAULT;
	r->f.min_age_ms = SOURCES_DEFAULT_MIN_AGE_MS;
	r->delim = '\n';
	r->f.max_stalls = DEFAULT_MAX_STALLS;
	r->w.pid = -1;
	while ((opt = getopt_long(argc, argv, "0t:", long_options, NULL))
	    != -1)
		parse_option(r, opt, optarg);
	if (watch_area_create(&r->w.watch, 1) < 0)
		diag_err(EXITCODE_FAILED, "memfd_create");
	if (optind != argc)
		cli_usage(usage_text);
	if (r->stalled_path != NULL &&
	    (r->stalled = fopen(r->stalled_path, "we")) == NULL)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(r->stalled_path));
}

/* Ends the run: the worker, the --stalled file, stdout and the summary.
 * Returns the exit status. */
static int
run_finish(struct run *r)
{
	int status = EXITCODE_DONE;

	if (r->w.pid > 0)
		worker_drop(&r->w, false);
	watch_area_free(&r->w.watch);
	leafname_free(&r->f.names);
	free_strings(&r->f.match);
	if (r->stalled != NULL && fclose(r->stalled) == EOF) {
		diag_warn("%s", diag_quote(r->stalled_path));
		status = EXITCODE_FAILED;
	}
	if (diag_close_stdout() < 0)
		return EXITCODE_FAILED;
	if (r->stats != CLI_STATS_NONE)
		print_stats(r);
	if (status == EXITCODE_DONE)
		status = r->c.stalled ? EXITCODE_STALLED :
		    r->c.unreadable ? EXITCODE_PARTIAL : EXITCODE_DONE;
	return status;
}

int
main(int argc, char *argv[])
{
	static struct run run;

	diag_init(argv[0]);
	/* No pipe of ours may land on a standard descriptor. */
	if (open_std_fds() < 0)
		diag_err(EXITCODE_FAILED, "standard descriptors");
	stats_clock_start(&run.clock);
	parse_args(&run, argc, argv);
	filter_all(&run);
	return run_finish(&run);
}
