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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
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

#include "diag.h"
#include "exitcode.h"
#include "claim.h"
#include "journal.h"
#include "pathstream.h"
#include "sources.h"
#include "units.h"
#include "version.h"

static const char usage_text[] =
    "usage: leaf-filter [-0] [--name GLOB]... [--names-from FILE] "
    "[--match GLOB]...\n"
    "                   [--min-files N] [--min-age DURATION] "
    "[--output NAME] [-t SECONDS]\n"
    "                   [--stalled FILE] [--keep-sources] [--list-young] "
    "[--stats[=json]]\n";

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
    "  -t SECONDS          time limit per directory (default 30)\n"
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
	OPT_OUTPUT, OPT_STALLED, OPT_KEEP_SOURCES, OPT_LIST_YOUNG, OPT_STATS,
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
	{ "keep-sources", no_argument, NULL, OPT_KEEP_SOURCES },
	{ "list-young", no_argument, NULL, OPT_LIST_YOUNG },
	{ "stats", optional_argument, NULL, OPT_STATS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

struct filter {
	char **globs;		/* --name */
	size_t nglobs;
	char **names;		/* --names-from, sorted for bsearch */
	size_t nnames;
	bool names_given;	/* --names-from was given (even an empty file) */
	char **match;		/* --match */
	size_t nmatch;
	const char *output;	/* --output */
	long long min_age_ms;	/* --min-age */
	long long min_files;
	bool keep_sources;
	bool list_young;	/* --list-young */
	long long timeout_ms;	/* -t */
};

/*
 * What a worker found in one leaf.  With --list-young, young_len bytes of
 * NUL-terminated names of the young sources follow it on the pipe.
 */
struct verdict {
	int error;		/* errno when the leaf could not be read, or 0 */
	uint32_t fresh;		/* eligible sources not yet absorbed */
	uint32_t young;		/* sources younger than --min-age */
	uint32_t young_len;
	uint8_t unfinished;	/* a journal a run must finish */
	uint8_t busy;		/* a live run holds the leaf */
};

/* The most bytes of young names a verdict carries (the rest are counted). */
#define YOUNG_MAX 16384

struct worker {
	pid_t pid;
	int request;		/* write end: length-prefixed paths */
	int reply;		/* read end: struct verdict */
	int died;		/* wait status of one that died, or 0 */
};

struct counts {
	unsigned long long read, printed, unwanted, idle, busy, stalled,
	    unreadable, young;
};

static int
cmp_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_string(char ***list, size_t *n, const char *s)
{
	char **grown = realloc(*list, (*n + 1) * sizeof(**list));

	if (grown == NULL || (grown[*n] = strdup(s)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	*list = grown;
	(*n)++;
}

static void
free_strings(char **list, size_t n)
{
	while (n > 0)
		free(list[--n]);
	free(list);
}

static void
load_names(struct filter *f, const char *file)
{
	FILE *in = fopen(file, "re");
	struct pathstream ps;
	char *line;
	ssize_t len;

	if (in == NULL)
		diag_err(EXITCODE_USAGE, "%s", diag_quote(file));
	pathstream_init(&ps, in, '\n');
	while ((len = pathstream_read(&ps, &line)) > 0)
		add_string(&f->names, &f->nnames, line);
	if (len < 0)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(file));
	pathstream_free(&ps);
	fclose(in);
	if (f->nnames > 1)
		qsort(f->names, f->nnames, sizeof(*f->names), cmp_string);
	f->names_given = true;
}

/* The last component of path, ignoring trailing slashes; copied into buf. */
static const char *
leaf_name(const char *path, char *buf, size_t size)
{
	size_t len = strlen(path);
	const char *start;

	while (len > 1 && path[len - 1] == '/')
		len--;
	start = path + len;
	while (start > path && start[-1] != '/')
		start--;
	len -= start - path;
	if (len >= size)
		len = size - 1;
	memcpy(buf, start, len);
	buf[len] = '\0';
	return buf;
}

static bool
wanted(const struct filter *f, const char *path)
{
	char buf[NAME_MAX + 1];
	const char *name;
	size_t i;

	if (f->nglobs == 0 && !f->names_given)
		return true;
	name = leaf_name(path, buf, sizeof(buf));
	for (i = 0; i < f->nglobs; i++)
		if (fnmatch(f->globs[i], name, 0) == 0)
			return true;
	return f->nnames > 0 && bsearch(&name, f->names, f->nnames,
	    sizeof(*f->names), cmp_string) != NULL;
}

/* What a leaf's journal says to the filter. */
struct leaf_journal {
	bool busy;		/* a live run holds the leaf */
	bool unfinished;	/* a dead run's claim: the next run finishes it */
	bool committed;		/* a commit whose sources or journal remain */
	struct journal_entry *absorbed;	/* what the output already holds */
	size_t nabsorbed;
};

static int
leaf_journal_load(int dfd, const char *output, struct leaf_journal *lj)
{
	struct journal j;
	int r;

	memset(lj, 0, sizeof(*lj));
	r = journal_load(dfd, output, &j);
	if (r < 0 && errno == EBADMSG) {
		/* Not ours to judge: json-merge reports it. */
		lj->unfinished = true;
		return 0;
	}
	if (r < 0)
		return -1;
	if (r == 1) {
		if (claim_holder_alive(&j))
			lj->busy = true;
		else if (j.state == JOURNAL_COMMITTED)
			lj->committed = true;
		else
			lj->unfinished = true;
	}
	r = claim_absorbed(dfd, output, r == 1 ? &j : NULL, &lj->absorbed,
	    &lj->nabsorbed);
	journal_free(&j);
	if (r < 0 && errno == EBADMSG) {
		/* The output's record is malformed: json-merge reports it. */
		lj->unfinished = true;
		return 0;
	}
	/* Without a claim, sources the output holds are those of a commit
	 * (its record on the output, or its journal file). */
	if (!lj->busy && !lj->unfinished && lj->nabsorbed > 0)
		lj->committed = true;
	return r;
}

/* True when the output already holds the source name with stat st. */
static bool
leaf_journal_holds(const struct leaf_journal *lj, const char *name,
    const struct stat *st)
{
	struct journal_identity id;
	size_t i;

	journal_identity_from_stat(&id, st);
	for (i = 0; i < lj->nabsorbed; i++)
		if (strcmp(lj->absorbed[i].name, name) == 0 &&
		    journal_identity_equal(&lj->absorbed[i].id, &id))
			return true;
	return false;
}

static void
leaf_journal_free(struct leaf_journal *lj)
{
	journal_entries_free(lj->absorbed, lj->nabsorbed);
	memset(lj, 0, sizeof(*lj));
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
	struct leaf_journal lj;
	struct stat st;
	char **names;
	size_t count, i;
	int dfd;

	memset(v, 0, sizeof(*v));
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		v->error = errno;
		return;
	}
	if (leaf_journal_load(dfd, f->output, &lj) < 0) {
		v->error = errno;
		close(dfd);
		return;
	}
	v->busy = lj.busy;
	/* A commit leaves its journal only with --keep-sources: without it,
	 * its sources and journal are to be removed. */
	v->unfinished = lj.unfinished || (lj.committed && !f->keep_sources);
	sources_rules_init(&rules, (const char *const *)f->match, f->nmatch,
	    f->output, f->min_age_ms);
	if (!v->busy && sources_list(dfd, &rules, &names, &count) < 0)
		v->error = errno;
	else if (!v->busy) {
		for (i = 0; i < count; i++) {
			if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			switch (sources_classify(&rules, names[i], &st)) {
			case SOURCES_ELIGIBLE:
				if (!leaf_journal_holds(&lj, names[i], &st))
					v->fresh++;
				break;
			case SOURCES_TOO_YOUNG:
				v->young++;
				add_young(v, young, names[i]);
				break;
			default:
				break;
			}
		}
		sources_names_free(names, count);
	}
	leaf_journal_free(&lj);
	close(dfd);
}

static int
read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* alarm() with milliseconds: SIGALRM after ms (0 disarms). */
static void
arm(long long ms)
{
	struct itimerval it = { .it_value = { .tv_sec = ms / 1000,
	    .tv_usec = ms % 1000 * 1000 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void
worker_main(const struct filter *f, int request, int reply)
{
	char path[PATH_MAX + 1], reply_buf[sizeof(struct verdict) + YOUNG_MAX];
	struct verdict v;
	uint32_t len;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* A worker stuck in the kernel must hold nothing a reader waits on:
	 * not our stdout, stdin or stderr (a pipe to a driver).  It reports
	 * through its verdicts only. */
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0)
		_exit(EXITCODE_FAILED);
	signal(SIGALRM, SIG_DFL);
	while (read_full(request, &len, sizeof(len)) == 0) {
		if (len > PATH_MAX || read_full(request, path, len) < 0)
			_exit(EXITCODE_FAILED);
		path[len] = '\0';
		arm(f->timeout_ms);
		examine(f, path, &v, reply_buf + sizeof(v));
		arm(0);
		if (!f->list_young)
			v.young_len = 0;
		memcpy(reply_buf, &v, sizeof(v));
		len = sizeof(v) + v.young_len;
		if (write(reply, reply_buf, len) != (ssize_t)len)
			_exit(EXITCODE_FAILED);
	}
	_exit(EXITCODE_DONE);
}

static int
worker_start(struct worker *w, const struct filter *f, int keep_fd)
{
	int req[2], rep[2];

	if (pipe2(req, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(rep, O_CLOEXEC) < 0) {
		close(req[0]);
		close(req[1]);
		return -1;
	}
	w->pid = fork();
	if (w->pid < 0) {
		close(req[0]);
		close(req[1]);
		close(rep[0]);
		close(rep[1]);
		return -1;
	}
	if (w->pid == 0) {
		close(req[1]);
		close(rep[0]);
		if (keep_fd >= 0)
			close(keep_fd);
		worker_main(f, req[0], rep[1]);
	}
	close(req[0]);
	close(rep[1]);
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
 * Sends path to the worker and waits for its verdict, at most a little
 * longer than the worker's own alarm.  On a stall the worker is gone.
 */
static enum ask
worker_ask(struct worker *w, const struct filter *f, const char *path,
    struct verdict *v, char *young)
{
	uint32_t len = strlen(path);
	struct pollfd pfd = { .fd = w->reply, .events = POLLIN };
	struct timespec start, now;
	long long limit_ms = f->timeout_ms + 2000, left;
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
		if (write(w->request, buf, sizeof(len) + len) < 0)
			goto died;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = limit_ms - ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0) {
			worker_drop(w, true);
			return ASK_STALLED;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return ASK_FAILED;
		if (r > 0)
			break;
	}
	if (read_full(w->reply, v, sizeof(*v)) == 0 && v->young_len <= YOUNG_MAX
	    && read_full(w->reply, young, v->young_len) == 0)
		return ASK_OK;
died:
	close(w->request);
	close(w->reply);
	if (waitpid(w->pid, &status, 0) == w->pid && WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGALRM) {
		w->pid = -1;
		return ASK_STALLED;
	}
	w->pid = -1;
	w->died = status;
	errno = EIO;
	return ASK_FAILED;
}

static void
print_stats(const struct counts *c, bool json)
{
	if (json) {
		fprintf(stderr, "{\"leaves_read\":%llu,\"leaves_printed\":%llu,"
		    "\"leaves_unwanted\":%llu,\"leaves_idle\":%llu,"
		    "\"leaves_busy\":%llu,\"stalled\":%llu,"
		    "\"unreadable\":%llu,\"sources_too_young\":%llu}\n",
		    c->read, c->printed, c->unwanted, c->idle, c->busy,
		    c->stalled, c->unreadable, c->young);
		return;
	}
	fprintf(stderr, "%s: %llu leaves read, %llu with work, %llu not "
	    "wanted, %llu with nothing new, %llu busy, %llu stalled, %llu "
	    "unreadable; %llu sources too young\n", diag_progname(), c->read,
	    c->printed, c->unwanted, c->idle, c->busy, c->stalled,
	    c->unreadable, c->young);
}

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EXITCODE_USAGE);
}

int
main(int argc, char *argv[])
{
	struct filter f = { .min_files = 1, .timeout_ms = 30000,
	    .output = "consolidated.jsonl",
	    .min_age_ms = SOURCES_DEFAULT_MIN_AGE_MS };
	struct counts c = { 0 };
	struct worker w = { .pid = -1 };
	struct pathstream ps;
	struct verdict v;
	char young[YOUNG_MAX], *name;
	const char *stalled_path = NULL, *why;
	FILE *stalled = NULL;
	int delim = '\n', stats = 0, opt, status = EXITCODE_DONE;
	long long n;
	ssize_t len;
	char *path;

	diag_init(argv[0]);
	while ((opt = getopt_long(argc, argv, "0t:", long_options, NULL))
	    != -1) {
		switch (opt) {
		case '0':
			delim = '\0';
			break;
		case 't':
			if (units_parse_duration(optarg, &n, &why) < 0 ||
			    (n < 1 && (why = "too small")) ||
			    (n > 86400000 && (why = "too large"))) {
				diag_warnx("-t %s: %s", optarg, why);
				usage();
			}
			f.timeout_ms = n;
			break;
		case OPT_NAME:
			add_string(&f.globs, &f.nglobs, optarg);
			break;
		case OPT_NAMES_FROM:
			load_names(&f, optarg);
			break;
		case OPT_MATCH:
			add_string(&f.match, &f.nmatch, optarg);
			break;
		case OPT_MIN_FILES:
			if (units_parse_count(optarg, 1, INT32_MAX, &n, &why)
			    < 0) {
				diag_warnx("--min-files %s: %s", optarg, why);
				usage();
			}
			f.min_files = n;
			break;
		case OPT_MIN_AGE:
			if (units_parse_duration(optarg, &n, &why) < 0) {
				diag_warnx("--min-age %s: %s", optarg, why);
				usage();
			}
			f.min_age_ms = n;
			break;
		case OPT_OUTPUT:
			if (*optarg == '\0' || strchr(optarg, '/') != NULL ||
			    strcmp(optarg, ".") == 0 ||
			    strcmp(optarg, "..") == 0) {
				diag_warnx("--output %s: not a plain file name",
				    diag_quote(optarg));
				usage();
			}
			f.output = optarg;
			break;
		case OPT_STALLED:
			stalled_path = optarg;
			break;
		case OPT_KEEP_SOURCES:
			f.keep_sources = true;
			break;
		case OPT_LIST_YOUNG:
			f.list_young = true;
			break;
		case OPT_STATS:
			if (optarg == NULL)
				stats = 1;
			else if (strcmp(optarg, "json") == 0)
				stats = 2;
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
			printf("leaf-filter (leafpack) %s\n", LEAFPACK_VERSION);
			return diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (stalled_path != NULL &&
	    (stalled = fopen(stalled_path, "we")) == NULL)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(stalled_path));

	pathstream_init(&ps, stdin, delim);
	while ((len = pathstream_read(&ps, &path)) > 0) {
		c.read++;
		if ((size_t)len != strlen(path)) {
			diag_warnx("%s: path holds a NUL byte; skipped",
			    diag_quote(path));
			c.unreadable++;
			continue;
		}
		if (!wanted(&f, path)) {
			c.unwanted++;
			continue;
		}
		if (w.pid < 0 && worker_start(&w, &f,
		    stalled ? fileno(stalled) : -1) < 0)
			diag_err(EXITCODE_FAILED, "cannot start a worker");
		switch (worker_ask(&w, &f, path, &v, young)) {
		case ASK_STALLED:
			diag_warnx("%s: stalled (no answer in %gs); left out",
			    diag_quote(path), f.timeout_ms / 1000.0);
			c.stalled++;
			if (stalled != NULL &&
			    pathstream_write(stalled, path, delim) < 0)
				diag_err(EXITCODE_FAILED, "%s",
				    diag_quote(stalled_path));
			continue;
		case ASK_FAILED:
			if (w.died != 0 && WIFSIGNALED(w.died))
				diag_warnx("%s: its examiner died of signal "
				    "%d", diag_quote(path), WTERMSIG(w.died));
			else
				diag_warn("%s", diag_quote(path));
			w.died = 0;
			c.unreadable++;
			continue;
		case ASK_OK:
			break;
		}
		c.young += v.young;
		for (name = young; name < young + v.young_len;
		    name += strlen(name) + 1)
			diag_warnx("%s/%s: modified within --min-age; left for "
			    "a later run", diag_quote(path), diag_quote(name));
		if (v.error != 0) {
			errno = v.error;
			diag_warn("%s", diag_quote(path));
			c.unreadable++;
		} else if (v.busy) {
			/* Its holder finishes it; json-merge would refuse. */
			diag_warnx("%s: busy: another run is consolidating it; "
			    "left to it", diag_quote(path));
			c.busy++;
		} else if (v.unfinished || v.fresh >= f.min_files) {
			if (pathstream_write(stdout, path, delim) < 0) {
				if (errno == EINVAL)
					diag_warnx("%s: path holds a newline; "
					    "use -0", diag_quote(path));
				else
					break;
				c.unreadable++;
				continue;
			}
			/* Downstream starts on a leaf as soon as it is found. */
			if (fflush(stdout) == EOF)
				break;
			c.printed++;
		} else
			c.idle++;
	}
	if (len < 0)
		diag_err(EXITCODE_FAILED, "stdin");
	if (w.pid > 0)
		worker_drop(&w, false);
	pathstream_free(&ps);
	free_strings(f.globs, f.nglobs);
	free_strings(f.names, f.nnames);
	free_strings(f.match, f.nmatch);
	if (stalled != NULL && fclose(stalled) == EOF) {
		diag_warn("%s", diag_quote(stalled_path));
		status = EXITCODE_FAILED;
	}
	if (diag_close_stdout() < 0)
		return EXITCODE_FAILED;
	if (stats)
		print_stats(&c, stats == 2);
	if (status == EXITCODE_DONE)
		status = c.stalled ? EXITCODE_STALLED :
		    c.unreadable ? EXITCODE_PARTIAL : EXITCODE_DONE;
	return status;
}
