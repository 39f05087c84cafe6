/*
 * json-merge - print every record of a leaf directory's sources (and of its
 * existing consolidated file) as compact JSON lines on stdout, sorted by a
 * key, byte for byte as the records were written.
 *
 * Flow: open DIR; look at the hand-over journal (busy? what is already in
 * the output?) and claim the leaf when a consumer reads our stdout
 * (claim.h); check the existing output line by line (jsonlines.h); read
 * every eligible source into the sorter (sourceload.h, runsort.h), taking
 * back the records of a source that turns out invalid; merge the sorted records
 * with the existing output (already sorted: merged, not sorted again) onto
 * stdout; then mark the claim "merged" with what was consumed and what was
 * written, for jsonl-write.  Without DIR, the directories come on stdin and
 * the leaves go out one after the other as the leaf stream (leafstream.h).
 *
 * The parts of this file, in order:
 *   options          the command line, into opt
 *   counts           --stats, and the counts of the end record
 *   one leaf         merge_leaf(): the steps in order
 *   leaf loops       merge_stream() (the leaf stream), merge_one() (DIR)
 * and the parts it calls, each a module of src/merge/: struct leaf and
 * the common messages (mergeleaf.h), which sources to read and reading
 * them (mergesources.h), the existing output and stdout (mergeoutput.h),
 * the claim's steps and a staged commit (mergeclaim.h).
 *
 * A step that fails prints its message and returns -1 (runsort's
 * callbacks, which cannot print, leave the reason in leaf->failure for
 * their caller); merge_leaf() then returns EXITCODE_FAILED to the loop
 * that owns the leaf, which gives the claim back, prints the counts and
 * frees the leaf with leaf_reset(), the one cleanup of success and
 * failure alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "claim.h"
#include "cli.h"
#include "diag.h"
#include "exitcode.h"
#include "journal.h"
#include "mergeclaim.h"
#include "mergeleaf.h"
#include "mergeoutput.h"
#include "mergesources.h"
#include "jsonlines.h"
#include "jsonscan.h"
#include "leafstream.h"
#include "pathstream.h"
#include "runsort.h"
#include "share.h"
#include "sortkey.h"
#include "sourceload.h"
#include "sources.h"
#include "staging.h"
#include "stats.h"
#include "watch.h"
#include "xstd.h"

/* ---- options ---- */

static const char usage_text[] =
    "usage: json-merge [-0] [--key PATH] [--match GLOB]... "
    "[--min-age DURATION]\n"
    "                  [--output NAME] [--memory SIZE] [--strict] "
    "[--claim | --no-claim]\n"
    "                  [--skip-unchanged] [--keep-sources] [--list-young] "
    "[--staging DIR]\n"
    "                  [--stats[=json]] [DIR]\n";

static const char options_text[] =
    "  without DIR: read leaf directories from stdin, one per line, and "
    "write\n"
    "  a leaf stream for jsonl-write (see json-merge(1))\n"
    "  -0                      the directories on stdin end with NUL, not "
    "newline\n"
    "      --key PATH          sort by the value at PATH (default "
    "timestamp)\n"
    "      --match GLOB        sources are files matching GLOB (repeatable; "
    "default *.txt)\n"
    "      --min-age DURATION  leave sources younger than this (default 2m; "
    "0: none)\n"
    "      --output NAME       the consolidated file in DIR (default "
    "consolidated.jsonl)\n"
    "      --memory SIZE       sort in this much memory, then spill to "
    "$TMPDIR (default 256M)\n"
    "      --strict            any bad source fails the whole leaf\n"
    "      --claim             claim the leaf for jsonl-write even if stdout "
    "is not a pipe\n"
    "      --no-claim          never claim the leaf (read-only use)\n"
    "      --skip-unchanged    with nothing new in DIR, print nothing and "
    "claim nothing\n"
    "                          (always so in the leaf stream)\n"
    "      --keep-sources      sources the output holds already are nothing "
    "new\n"
    "      --list-young        name each source left for being younger than "
    "--min-age\n"
    "      --staging DIR       where the claim goes when the leaf's file "
    "system has no\n"
    "                          free inode; finish leaves staged there "
    "(see leafpack(1))\n"
    "      --stats[=json]      print counts (or one JSON object) on stderr "
    "at the end\n"
    "      --help              print this help\n"
    "      --version           print the version\n";

#define DEFAULT_MEMORY (256LL * 1024 * 1024)

static const struct option long_options[] = {
	{ "claim", no_argument, NULL, 'C' },
	{ "help", no_argument, NULL, 'h' },
	{ "keep-sources", no_argument, NULL, 'K' },
	{ "key", required_argument, NULL, 'k' },
	{ "list-young", no_argument, NULL, 'Y' },
	{ "match", required_argument, NULL, 'm' },
	{ "memory", required_argument, NULL, 'M' },
	{ "min-age", required_argument, NULL, 'a' },
	{ "no-claim", no_argument, NULL, 'N' },
	{ "output", required_argument, NULL, 'o' },
	{ "skip-unchanged", no_argument, NULL, 'U' },
	{ "staging", required_argument, NULL, 'T' },
	{ "stats", optional_argument, NULL, 's' },
	{ "strict", no_argument, NULL, 'S' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* One option into opt; a bad one ends in usage (exit 2). */
static void
parse_option(int c)
{
	switch (c) {
	case '0':
		opt.delim = '\0';
		break;
	case 'a':
		if (cli_duration("--min-age", optarg, &opt.min_age_ms) < 0)
			cli_usage(usage_text);
		break;
	case 'C':
		opt.claim = OPT_CLAIM_ALWAYS;
		break;
	case 'h':
		cli_help(usage_text, options_text);
	case 'K':
		opt.keep_sources = true;
		break;
	case 'k':
		opt.key = optarg;
		break;
	case 'm':
		opt.globs[opt.nglobs++] = optarg;
		break;
	case 'M':
		if (cli_memory("--memory", optarg, &opt.memory) < 0)
			cli_usage(usage_text);
		break;
	case 'N':
		opt.claim = OPT_CLAIM_NEVER;
		break;
	case 'o':
		opt.output = optarg;
		if (cli_output(optarg) < 0)
			cli_usage(usage_text);
		break;
	case 's':
		if (cli_stats(optarg, &opt.stats) < 0)
			cli_usage(usage_text);
		break;
	case 'S':
		opt.strict = true;
		break;
	case 'T':
		opt.staging = optarg;
		break;
	case 'U':
		opt.skip_unchanged = true;
		break;
	case 'V':
		cli_version();
	case 'Y':
		opt.list_young = true;
		break;
	default:
		cli_usage(usage_text);
	}
}

/* Fills opt from the command line; exits 2 on a bad one. */
static void
parse_options(int argc, char **argv)
{
	int c;

	opt.key = "timestamp";
	opt.output = CLI_OUTPUT_DEFAULT;
	opt.memory = DEFAULT_MEMORY;
	opt.min_age_ms = SOURCES_DEFAULT_MIN_AGE_MS;
	opt.delim = '\n';
	opt.globs = calloc(argc, sizeof(*opt.globs));
	if (opt.globs == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	while ((c = getopt_long(argc, argv, "0", long_options, NULL)) != -1)
		parse_option(c);
	if (argc - optind > 1)
		cli_usage(usage_text);
	/* After the other options: a bad one of those is named first. */
	if (cli_key(opt.key) < 0)
		cli_usage(usage_text);
	opt.streaming = optind == argc;
	opt.dir = opt.streaming ? NULL : argv[optind];
	/* In the leaf stream, a leaf with nothing new is left as it is. */
	if (opt.streaming)
		opt.skip_unchanged = true;
	opt.stagefd = -1;
	if (opt.staging != NULL && (opt.stagefd = cli_staging(opt.staging)) < 0)
		cli_usage(usage_text);
}

/* Set by parse_options(), read only afterwards. */
struct merge_options opt;

/* ---- counts ---- */

/* The leaf's counts, with the runs and the time as they are now. */
static const struct leafstream_merge *
leaf_counts(struct leaf *l)
{
	/* A leaf that failed before its sorter was emptied spilled none:
	 * the count there is the previous leaf's. */
	if (l->sorting)
		l->stats.runs = runsort_runs_spilled(l->sorter);
	l->stats.unchanged = l->unchanged;
	l->stats.busy = l->busy;
	l->stats.waiting = l->waiting;
	l->stats.staged = l->resumed;
	l->stats.elapsed = stats_clock_seconds(&l->clock);
	return &l->stats;
}

/* --stats: the last line of stderr for the leaf, text or one JSON object
 * (the keys are in json-merge(1), STATS). */
static void
print_stats(struct leaf *l)
{
	const struct leafstream_merge *s = leaf_counts(l);
	unsigned long long skipped = 0;

	if (opt.stats == CLI_STATS_JSON) {
		stats_print(leafstream_merge_json(s), stderr);
		return;
	}
	for (size_t i = 0; i < LEAFSTREAM_SKIP_REASONS; i++)
		skipped += s->skipped[i];
	fprintf(stderr, "json-merge: %s: %llu sources merged, %llu skipped "
	    "(%llu too young), %llu records, %llu bytes in, %llu bytes out, "
	    "%llu runs spilled, %.3f s\n", diag_quote(l->dir), s->sources,
	    skipped, s->skipped[LEAFSTREAM_SKIP_TOO_YOUNG], s->records,
	    s->bytes_in, s->bytes_out, s->runs, s->elapsed);
}

/* ---- one leaf ---- */

/* Opens the leaf directory and its existing output. */
static int
open_leaf(struct leaf *l)
{
	watch_set_dir(l->dir);
	l->dirfd = share_open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0) {
		diag_warnx("%s: %s", diag_quote(l->dir), strerror(errno));
		return -1;
	}
	return open_output(l);
}

/* A sorter for this leaf: the one of the last leaf, emptied. */
static int
sorter_ready(struct leaf *l)
{
	if (l->sorter == NULL)
		l->sorter = runsort_new(opt.memory, NULL);
	else if (runsort_reset(l->sorter) < 0) {
		int saved = errno;

		runsort_free(l->sorter);
		l->sorter = NULL;
		errno = saved;
	}
	if (l->sorter == NULL)
		return sorter_failed();
	l->sorting = true;
	return 0;
}

/* Merges the sorted records with the existing output onto stdout; the
 * existing output must not have changed meanwhile. */
static int
write_merged(struct leaf *l)
{
	struct runsort_input first = { output_next, l };
	bool merge_output = l->outfd >= 0 && l->out_sorted;
	struct stat now;

	journal_hash_init(&l->out.hash);
	l->out.buf.len = 0;
	if (merge_output &&
	    jsonlines_rewind(&l->lines, l->outfd, opt.output,
	    &l->keypath) < 0)
		return out_of_memory();
	if (runsort_finish(l->sorter, merge_output ? &first : NULL,
	    output_record, l) < 0 || output_flush(l) < 0)
		return callback_failed(l);
	if (l->outfd >= 0 && (share_fstat(l->outfd, opt.output, &now) < 0 ||
	    !sourceload_same_file(&l->outst, &now))) {
		diag_warnx("%s: changed while read", leaf_path(l, opt.output));
		return -1;
	}
	return 0;
}

/*
 * Merges the leaf l->dir onto stdout.  Returns EXITCODE_DONE,
 * EXITCODE_PARTIAL (a source was skipped), or EXITCODE_FAILED once the
 * failing step has printed why; sets l->unchanged for an idle leaf.
 */
static int
merge_leaf(struct leaf *l)
{
	int partial, work, staged;

	if (open_leaf(l) < 0 || (staged = look_staged(l)) < 0)
		return EXITCODE_FAILED;
	/* Its records wait in a staging directory: not now. */
	if (staged == 1)
		return EXITCODE_PARTIAL;
	if (look_leaf(l) < 0)
		return EXITCODE_FAILED;
	/* Nothing new: left as it is, unread and unclaimed. */
	if (opt.skip_unchanged) {
		if ((work = has_work(l)) < 0)
			return EXITCODE_FAILED;
		if (work == 0) {
			l->unchanged = true;
			return EXITCODE_DONE;
		}
	}
	if (claim_leaf(l) < 0)
		return EXITCODE_FAILED;
	/* Check the existing output before a byte goes out. */
	if (l->outfd >= 0 && check_output(l) < 0)
		return EXITCODE_FAILED;
	if (sorter_ready(l) < 0 ||
	    (l->outfd >= 0 && !l->out_sorted && sort_output(l) < 0))
		return EXITCODE_FAILED;
	if ((partial = consume_sources(l)) < 0)
		return EXITCODE_FAILED;
	if (opt.skip_unchanged && claim_idle(&l->claim, l->consumed.count)) {
		/* Nothing new and nothing kept: in the leaf stream the leaf
		 * is left as it is, rather than rewritten the same. */
		if (claim_withdraw_idle(&l->claim, l->outfd) < 0) {
			journal_error(l);
			return EXITCODE_FAILED;
		}
		l->unchanged = true;
	} else if (write_merged(l) < 0 || finish_claim(l) < 0)
		return EXITCODE_FAILED;
	return partial ? EXITCODE_PARTIAL : EXITCODE_DONE;
}

/* What ends every leaf: a failed one gives its claim back (see
 * claim_abort()), then --stats. */
static void
leaf_conclude(struct leaf *l, int status)
{
	if (status == EXITCODE_FAILED)
		claim_abort(&l->claim, opt.streaming);
	if (opt.stats != CLI_STATS_NONE)
		print_stats(l);
}

/* ---- leaf loops ---- */

/* The leaf frame that opens a leaf: the file its records are for. */
static int
write_leaf_frame(struct buf *target, const char *dir, size_t len)
{
	target->len = 0;
	if (buf_append(target, dir, len) < 0 ||
	    (dir[len - 1] != '/' && buf_append(target, "/", 1) < 0) ||
	    buf_append(target, opt.output, strlen(opt.output)) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	return leafstream_write_frame(STDOUT_FILENO, LEAFSTREAM_LEAF,
	    target->data, target->len, "\n", 1);
}

/* The end frame that closes it: its counts, status and unchanged. */
static int
write_end_frame(struct leaf *l, int status)
{
	struct leafstream_end end = {
		.status = status,
		.merge = *leaf_counts(l),
	};
	json_object *o = leafstream_end_json(&end);
	const char *text = stats_text(o);
	int r = leafstream_write_frame(STDOUT_FILENO, LEAFSTREAM_END, text,
	    strlen(text), "\n", 1);

	json_object_put(o);
	return r;
}

/*
 * The leaf stream: every directory named on stdin, framed on stdout.  A
 * failed leaf ends with status 4 in its end frame and the next follows;
 * the stream stops when stdout fails (jsonl-write is gone).  Returns the
 * worst status.
 */
static int
merge_stream(struct leaf *l)
{
	struct buf target = { 0 };
	struct pathstream in;
	int worst = EXITCODE_DONE, status;
	bool broken = false;
	ssize_t len;
	char *dir;

	pathstream_init(&in, stdin, opt.delim);
	while (!broken && (len = pathstream_read(&in, &dir)) > 0) {
		if ((size_t)len != strlen(dir)) {
			diag_warnx("stdin: record %llu holds a NUL byte "
			    "(use -0)", in.count);
			worst = EXITCODE_FAILED;
			continue;
		}
		leaf_start(l, dir);
		if (write_leaf_frame(&target, dir, (size_t)len) < 0) {
			broken = true;
			break;
		}
		status = merge_leaf(l);
		broken = l->failure == LEAF_FAILED_STDOUT;
		leaf_conclude(l, status);
		leaf_reset(l);
		if (status > worst)
			worst = status;
		if (write_end_frame(l, status) < 0)
			broken = true;
	}
	if (!broken && ferror(stdin)) {
		diag_warn("stdin");
		worst = EXITCODE_FAILED;
	}
	if (broken) {
		diag_warn("stdout");
		worst = EXITCODE_FAILED;
	}
	buf_free(&target);
	pathstream_free(&in);
	return worst;
}

/* DIR: one leaf onto plain stdout; its counts run from the start. */
static int
merge_one(struct leaf *l, const struct stats_clock *started)
{
	int status;

	leaf_start(l, opt.dir);
	l->clock = *started;
	status = merge_leaf(l);
	if (status != EXITCODE_FAILED && xclose(STDOUT_FILENO) < 0) {
		diag_warnx("stdout: %s", strerror(errno));
		status = EXITCODE_FAILED;
	}
	leaf_conclude(l, status);
	return status;
}

int
main(int argc, char **argv)
{
	struct stats_clock started;
	struct leaf leaf;
	int status;

	diag_init(argv[0]);
	/* No file of ours may land on a closed 1: records into a journal. */
	if (open_std_fds() < 0)
		diag_err(EXITCODE_FAILED, "standard descriptors");
	stats_clock_start(&started);
	parse_options(argc, argv);
	/* Run by leafpack, every call on the share is announced to it. */
	if (watch_attach() < 0)
		diag_err(EXITCODE_FAILED, "%s", WATCH_ENV);
	leaf_init(&leaf);
	status = opt.streaming ? merge_stream(&leaf) :
	    merge_one(&leaf, &started);
	leaf_free(&leaf);
	free(opt.globs);
	if (opt.streaming && diag_close_stdout() < 0)
		status = EXITCODE_FAILED;
	return status;
}