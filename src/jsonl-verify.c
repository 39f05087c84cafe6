/*
 * jsonl-verify - check finished leaves, changing nothing: every line of
 * each consolidated output one compact JSON value, the lines in key
 * order, the commit record (if any) matching the file, nothing of a run
 * left behind (verify.h says exactly what).  One line per problem on
 * stdout, "PATH:LINE: what" (or "PATH: what"), a summary with --stats.
 *
 * Leaves are the operands, or without any the paths on stdin (one per
 * line, or NUL-terminated with -0), as tree-scan prints them.  Run by
 * leafpack --verify, every call on the share is announced in its watch
 * record, so a call that hangs costs the leaf, never the run.
 *
 * Map: options, then one leaf (verify_one: verify.h does the checking and
 * tells of each problem), then the stats and main.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "diag.h"
#include "exitcode.h"
#include "jsonscan.h"
#include "pathstream.h"
#include "stats.h"
#include "verify.h"
#include "watch.h"

/* ---- options ---- */

static const char usage_text[] =
    "usage: jsonl-verify [-0] [--key PATH] [--output NAME] [--stats[=json]] "
    "[DIR...]\n";

static const char options_text[] =
    "  without DIR: read the leaves from stdin, one per line\n"
    "  -0                  stdin's leaves are NUL-terminated\n"
    "      --key PATH      the lines are in the order of the value at the "
    "dotted\n"
    "                      PATH (default timestamp)\n"
    "      --output NAME   the consolidated file's name (default "
    "consolidated.jsonl)\n"
    "      --stats[=json]  print counts (or one JSON object) on stderr at "
    "the end\n"
    "      --help          print this help and exit\n"
    "      --version       print the version and exit\n";

static const struct option long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "key", required_argument, NULL, 'k' },
	{ "output", required_argument, NULL, 'o' },
	{ "stats", optional_argument, NULL, 's' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The run: its options and what it counted. */
struct run {
	const char *output;
	struct jsonscan_keypath key;
	enum cli_stats stats;
	int delim;
	struct stats_clock clock;
	unsigned long long leaves;	/* checked to the end */
	unsigned long long with_output, with_record, clean;
	unsigned long long unreadable;	/* a call failed */
	unsigned long long lines, bytes, problems;
	bool stdout_failed;
};

static void
parse_options(struct run *r, int argc, char **argv)
{
	const char *key = "timestamp";
	int c;

	r->output = CLI_OUTPUT_DEFAULT;
	r->delim = '\n';
	while ((c = getopt_long(argc, argv, "0", long_options, NULL)) != -1) {
		switch (c) {
		case '0':
			r->delim = '\0';
			break;
		case 'h':
			cli_help(usage_text, options_text);
		case 'k':
			key = optarg;
			break;
		case 'o':
			r->output = optarg;
			if (cli_output(optarg) < 0)
				cli_usage(usage_text);
			break;
		case 's':
			if (cli_stats(optarg, &r->stats) < 0)
				cli_usage(usage_text);
			break;
		case 'V':
			cli_version();
		default:
			cli_usage(usage_text);
		}
	}
	if (cli_key(key) < 0)
		cli_usage(usage_text);
	if (jsonscan_keypath_parse(key, &r->key) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
}

/* ---- one leaf ---- */

/* One problem, one line on stdout. */
static void
tell(void *ctx, const char *path, unsigned long long line, const char *what)
{
	struct run *r = ctx;
	int n;

	if (line > 0)
		n = printf("%s:%llu: %s\n", path, line, what);
	else
		n = printf("%s: %s\n", path, what);
	/* A line at a time: several verifiers may share one stdout. */
	if (n < 0 || fflush(stdout) == EOF)
		r->stdout_failed = true;
}

static void
verify_one(struct run *r, const char *dir)
{
	struct verify_counts counts = { 0 };
	char *failed;

	if (verify_leaf(dir, r->output, &r->key, tell, r, &counts,
	    &failed) < 0) {
		diag_warn("%s", diag_quote(failed != NULL ? failed : dir));
		free(failed);
		r->unreadable++;
	} else {
		r->leaves++;
		if (counts.problems == 0)
			r->clean++;
	}
	r->with_output += counts.has_output;
	r->with_record += counts.has_record;
	r->lines += counts.lines;
	r->bytes += counts.bytes;
	r->problems += counts.problems;
}

static void
verify_stdin(struct run *r)
{
	struct pathstream in;
	ssize_t len;
	char *dir;

	pathstream_init(&in, stdin, r->delim);
	while ((len = pathstream_read(&in, &dir)) > 0) {
		if ((size_t)len != strlen(dir)) {
			diag_warnx("stdin: record %llu holds a NUL byte "
			    "(use -0)", in.count);
			r->unreadable++;
			continue;
		}
		verify_one(r, dir);
	}
	if (ferror(stdin)) {
		diag_warn("stdin");
		r->unreadable++;
	}
	pathstream_free(&in);
}

/* ---- stats and main ---- */

static void
print_stats(const struct run *r)
{
	json_object *o;

	if (r->stats == CLI_STATS_TEXT) {
		fprintf(stderr, "%s: %llu leaves checked, %llu clean; %llu "
		    "problems; %llu unreadable; %llu lines, %llu bytes\n",
		    diag_progname(), r->leaves, r->clean, r->problems,
		    r->unreadable, r->lines, r->bytes);
		return;
	}
	o = stats_new();
	stats_add_count(o, "leaves_checked", r->leaves);
	stats_add_count(o, "leaves_clean", r->clean);
	stats_add_count(o, "leaves_with_output", r->with_output);
	stats_add_count(o, "leaves_with_record", r->with_record);
	stats_add_count(o, "unreadable", r->unreadable);
	stats_add_count(o, "problems", r->problems);
	stats_add_count(o, "lines", r->lines);
	stats_add_count(o, "bytes", r->bytes);
	stats_add_elapsed(o, &r->clock);
	(void)stats_print(o, stderr);
}

int
main(int argc, char **argv)
{
	static struct run run;
	int status;

	diag_init(argv[0]);
	stats_clock_start(&run.clock);
	parse_options(&run, argc, argv);
	/* Run by leafpack, every call on the share is announced to it. */
	if (watch_attach() < 0)
		diag_err(EXITCODE_FAILED, "%s", WATCH_ENV);
	if (optind == argc)
		verify_stdin(&run);
	for (int i = optind; i < argc; i++)
		verify_one(&run, argv[i]);
	if (diag_close_stdout() < 0)
		run.stdout_failed = true;
	if (run.stats != CLI_STATS_NONE)
		print_stats(&run);
	jsonscan_keypath_free(&run.key);
	status = run.unreadable > 0 || run.stdout_failed ? EXITCODE_FAILED :
	    run.problems > 0 ? EXITCODE_PARTIAL : EXITCODE_DONE;
	return status;
}
