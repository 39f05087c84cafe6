/*
 * tree-scan - print every leaf directory (a directory with no
 * subdirectories) under the roots, reading directories in forked worker
 * processes so that a hung directory costs one directory, never the scan.
 *
 * The parent owns the queue of pending directories: one deque per worker
 * slot, so that the children of a directory go to the worker that read it
 * and still holds it open.  A worker reads one directory at a time; the
 * parent sends it jobs over a socket pair (a few ahead, which go back to
 * the queue if the worker is lost), receives the names of subdirectories
 * and polls every busy worker with a deadline.  A worker that misses it is
 * killed, never waited for, and replaced.  Only the parent writes stdout
 * and the --stalled file.  The worker side is in scanworker.c, the
 * directories known (nodes, queues, the (dev, ino) set) in dirtree.c.
 *
 * This file holds the command line, the setup, the top-level loop
 * (scan_run), the end and the summary; the parts it calls are modules of src/scan/:
 * the state of the scan and its slots (scanstate.h), the workers seen
 * from the parent, their jobs, deadlines and the breaker (workerpool.h),
 * the leaves on stdout (leafoutput.h), the stalled directories named and
 * written to --stalled FILE (stallreport.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "diag.h"
#include "dirtree.h"
#include "exitcode.h"
#include "leafoutput.h"
#include "progress.h"
#include "scanstate.h"
#include "scanworker.h"
#include "stallreport.h"
#include "stats.h"
#include "watch.h"
#include "workerpool.h"
#include "xstd.h"

/* Workers are requests in flight on a network share, not processors. */
#define DEFAULT_WORKERS 8
#define DEFAULT_RETRIES 1
#define MAX_RETRIES 100

/* ------------------------------------------------------------------ */
/* The loop */

/* The status line, in ranked fields (progress.h): a narrow terminal
 * loses the directories in flight first, never the counts. */
static void
show_progress(struct scan *s)
{
	double secs = progress_seconds();
	struct progress_line line = { .n = 0 };

	if (!progress_due())
		return;
	progress_add(&line, 0, "tree-scan: %llu dirs read",
	    (unsigned long long)s->dirs);
	progress_add(&line, 0, "%llu leaves", (unsigned long long)s->leaves);
	progress_add(&line, 2, "%u in flight", s->inflight);
	progress_add(&line, s->nstalled ? 0 : 3, "%llu stalled",
	    (unsigned long long)s->nstalled);
	progress_add(&line, 1, "%.0f dirs/s",
	    secs > 0 ? (double)s->dirs / secs : 0.0);
	progress_show_line(&line);
}

static void
scan_run(struct scan *s)
{
	int round = 0, idle = 0;

	for (;;) {
		dispatch(s);
		if (s->inflight == 0) {
			if (!queues_empty(s)) {
				/* Workers could not be started or died at
				 * once; give up after a few tries. */
				if (++idle > 3)
					diag_err(EXITCODE_FAILED,
					    "cannot start workers");
				continue;
			}
			if (s->stalled == NULL || round >= s->retries ||
			    s->gave_up)
				break;
			round++;
			retry_stalled(s);
			continue;
		}
		idle = 0;
		wait_workers(s);
		show_progress(s);
		if (s->max_stalls > 0 && s->stalls_in_row >= s->max_stalls &&
		    breaker(s))
			break;
	}
}

static void
print_stats(struct scan *s, double elapsed)
{
	json_object *o;

	if (s->stats == CLI_STATS_TEXT) {
		diag_warnx("%llu directories read, %llu leaves, %llu errors "
		    "(%llu loops), %llu stalled; %d workers, %llu killed; "
		    "%.3f s", (unsigned long long)s->dirs,
		    (unsigned long long)s->leaves,
		    (unsigned long long)s->errors,
		    (unsigned long long)s->loops,
		    (unsigned long long)s->stalled_final, s->nworkers,
		    (unsigned long long)s->killed, elapsed);
		return;
	}
	o = stats_new();
	stats_add_count(o, "dirs", s->dirs);
	stats_add_count(o, "leaves", s->leaves);
	stats_add_count(o, "errors", s->errors);
	stats_add_count(o, STATS_KEY_STALLED, s->stalled_final);
	stats_add_count(o, "loops", s->loops);
	stats_add_count(o, "workers", (unsigned long long)s->nworkers);
	stats_add_count(o, "workers_killed", s->killed);
	stats_add_seconds(o, STATS_KEY_ELAPSED, elapsed);
	/* The exit status says how the scan went, not whether its summary
	 * could be written. */
	(void)stats_print(o, stderr);
}

static void
scan_free(struct scan *s)
{
	workers_free(s);
	dirtree_free(&s->tree);
	buf_free(&s->sorted);
	free(s->offsets);
}

/* ------------------------------------------------------------------ */
/* Command line */

enum {
	OPT_RETRIES = 256,
	OPT_MAX_STALLS,
	OPT_STALLED,
	OPT_XDEV,
	OPT_SORT,
	OPT_PROGRESS,
	OPT_STATS,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option longopts[] = {
	{ "null", no_argument, NULL, '0' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "max-stalls", required_argument, NULL, OPT_MAX_STALLS },
	{ "stalled", required_argument, NULL, OPT_STALLED },
	{ "xdev", no_argument, NULL, OPT_XDEV },
	{ "sort", no_argument, NULL, OPT_SORT },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "stats", optional_argument, NULL, OPT_STATS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const char synopsis[] =
    "usage: tree-scan [-0] [-j N] [-t SECONDS] [--retries N] "
    "[--max-stalls N]\n"
    "                 [--stalled FILE] [--xdev] [--sort] [--progress] "
    "[--stats[=json]]\n"
    "                 ROOT...\n";

static const char options_text[] =
    "Print every leaf directory (one with no subdirectories) "
    "under the roots.\n"
    "  -0, --null          write paths NUL-terminated, not "
    "newline-terminated\n"
    "  -j, --jobs N        read directories with N worker processes "
    "(default 8)\n"
    "  -t, --timeout SECONDS\n"
    "                      a directory not read within SECONDS is "
    "stalled (default 30)\n"
    "      --retries N     retry stalled directories N times at the "
    "end (default 1)\n"
    "      --max-stalls N  after N directories in a row stalled, stop if "
    "the share\n"
    "                      does not answer at all (default 2 x -j; 0: "
    "never)\n"
    "      --stalled FILE  write the stalled directories to FILE\n"
    "      --xdev          do not descend into other file systems\n"
    "      --sort          print the leaves byte-sorted, at the end\n"
    "      --progress      show a status line on stderr even when it "
    "is not a terminal\n"
    "      --stats[=json]  print a summary (or one JSON object) on "
    "stderr at the end\n"
    "      --help          print this help and exit\n"
    "      --version       print the version and exit\n";

/* One option into s; a bad one ends in usage (exit 2). */
static void
parse_option(struct scan *s, int ch, const char *arg)
{
	long long n;

	switch (ch) {
	case '0':
		s->delim = '\0';
		break;
	case 'j':
		if (cli_count("-j", arg, 1, CLI_WORKERS_MAX, &n) < 0)
			cli_usage(synopsis);
		s->nworkers = (int)n;
		break;
	case 't':
		if (cli_timeout("-t", arg, &s->timeout_ms) < 0)
			cli_usage(synopsis);
		break;
	case OPT_RETRIES:
		if (cli_count("--retries", arg, 0, MAX_RETRIES, &n) < 0)
			cli_usage(synopsis);
		s->retries = (int)n;
		break;
	case OPT_MAX_STALLS:
		if (cli_count("--max-stalls", arg, 0, CLI_MAX_STALLS_MAX,
		    &n) < 0)
			cli_usage(synopsis);
		s->max_stalls = (long)n;
		break;
	case OPT_STALLED:
		s->stalled_path = arg;
		break;
	case OPT_XDEV:
		s->xdev = 1;
		break;
	case OPT_SORT:
		s->sort = 1;
		break;
	case OPT_PROGRESS:
		s->force_progress = 1;
		break;
	case OPT_STATS:
		if (cli_stats(arg, &s->stats) < 0)
			cli_usage(synopsis);
		break;
	case OPT_HELP:
		cli_help(synopsis, options_text);
	case OPT_VERSION:
		cli_version();
	default:
		cli_usage(synopsis);
	}
}

/* Parses the command line into s.  Returns the index of the first ROOT
 * in argv (getopt_long moves the operands to the end). */
static int
parse_args(struct scan *s, int argc, char *argv[])
{
	int ch;

	s->delim = '\n';
	s->nworkers = DEFAULT_WORKERS;
	s->timeout_ms = CLI_TIMEOUT_DEFAULT_MS;
	s->retries = DEFAULT_RETRIES;
	s->max_stalls = -1;
	while ((ch = getopt_long(argc, argv, "0j:t:", longopts, NULL)) != -1)
		parse_option(s, ch, optarg);
	/* A share that stops answering stalls every worker at once: two
	 * rounds of them, about twice the time limit, and the scan asks. */
	if (s->max_stalls < 0)
		s->max_stalls = 2L * s->nworkers;
	if (optind == argc)
		cli_usage(synopsis);
	return optind;
}

/* ------------------------------------------------------------------ */
/* Setup and the end */

/* Everything the scan needs before the first job: its limits, the
 * --stalled file, stdout's buffer, the workers and their shared words. */
static void
scan_setup(struct scan *s)
{
	/* A late answer is not a stall: the worker's own timer fires first,
	 * the parent kills only a worker that cannot answer at all. */
	s->time_limit_ms = scanworker_time_limit(s->timeout_ms);
	s->grace_ms = watch_grace_ms(s->timeout_ms);
	if (s->stalled_path != NULL) {
		s->stalled_file = fopen(s->stalled_path, "we");
		if (s->stalled_file == NULL)
			diag_err(EXITCODE_FAILED, "%s",
			    diag_quote(s->stalled_path));
	}
	/* Leaves are written in large blocks, flushed whenever the parent
	 * waits for its workers. */
	setvbuf(stdout, NULL, _IOFBF, 64 * 1024);
	progress_init(s->force_progress);
	workers_start(s);
}

/* Queues the roots, in the order given: the first is taken first. */
static void
scan_add_roots(struct scan *s, char *const roots[], int n)
{
	for (int i = n - 1; i >= 0; i--)
		dirqueue_push(&s->workers[0].queue,
		    dirtree_node(&s->tree, NULL, roots[i], strlen(roots[i])));
}

/* What is left after the walk: the stalled directories named, the sorted
 * leaves printed, stdout closed and the summary.  Returns the exit status. */
static int
scan_finish(struct scan *s)
{
	double elapsed;
	int status;

	report_stalled(s);
	if (s->sort)
		emit_sorted(s);
	elapsed = progress_seconds();
	progress_end();
	status = s->stalled_final ? EXITCODE_STALLED :
	    s->errors ? EXITCODE_PARTIAL : EXITCODE_DONE;
	if (diag_close_stdout() != 0)
		status = EXITCODE_FAILED;
	if (s->stats != CLI_STATS_NONE)
		print_stats(s, elapsed);
	return status;
}

int
main(int argc, char *argv[])
{
	static struct scan scan;
	int first_root, status;

	diag_init(argv[0]);
	/* No socket or file of ours may land on 0-2 (a worker's socket must
	 * not be its stdout). */
	if (open_std_fds() < 0)
		exit(EXITCODE_FAILED);
	first_root = parse_args(&scan, argc, argv);
	scan_setup(&scan);
	scan_add_roots(&scan, argv + first_root, argc - first_root);
	scan_run(&scan);
	status = scan_finish(&scan);
	scan_free(&scan);
	return status;
}
