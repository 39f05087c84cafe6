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
 *   struct leaf      one leaf, and what is kept from leaf to leaf
 *   counts           --stats, and the counts of the end record
 *   sources          which to read (sourceload.h reads each), and
 *                    what became of them
 *   existing output  checking it, then sorting or merging it
 *   stdout           the records, plain or in data frames, hashed
 *   claim            the claim's steps, and their messages
 *   one leaf         merge_leaf(): the steps in order
 *   leaf loops       merge_stream() (the leaf stream), merge_one() (DIR)
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
/* The stdout buffer, kept from leaf to leaf. */
#define WRITE_SIZE (256 * 1024)

/* --claim, --no-claim, or neither (claim when stdout is a pipe). */
enum opt_claim { OPT_CLAIM_AUTO, OPT_CLAIM_ALWAYS, OPT_CLAIM_NEVER };

/* Set by parse_options(), read only afterwards. */
static struct {
	const char *key;
	const char **globs;
	size_t nglobs;
	long long min_age_ms;
	const char *output;
	long long memory;
	bool strict;
	bool skip_unchanged;	/* --skip-unchanged, or the leaf stream */
	bool keep_sources;	/* --keep-sources */
	bool list_young;	/* --list-young */
	const char *staging;	/* --staging DIR, or NULL */
	int stagefd;		/* it, open */
	enum opt_claim claim;
	enum cli_stats stats;
	int delim;		/* of the directories on stdin */
	bool streaming;		/* no DIR: the leaf stream */
	const char *dir;	/* DIR */
} opt;

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

/* ---- struct leaf ---- */

/* stdout, written in large blocks; counts and hashes what it writes. */
struct output {
	struct buf buf;			/* WRITE_SIZE bytes, never grown */
	struct journal_hash hash;
};

/* Why a step that cannot print failed (runsort's callbacks): its caller
 * prints the message, with errno. */
enum leaf_failure {
	LEAF_FAILED_SORTING,	/* the sorter (in $TMPDIR), the default */
	LEAF_FAILED_STDOUT,
	LEAF_FAILED_OUTPUT,	/* reading the existing output again */
	LEAF_FAILED_MEMORY
};

/*
 * One leaf, owned by the leaf loop (merge_stream(), or merge_one() for
 * DIR).  The first part is kept from leaf to leaf (the big buffers, the
 * scanner, the sorter and its arena); the rest is the leaf's own, given
 * back by leaf_reset() however the leaf ended.
 */
struct leaf {
	struct jsonscan_keypath keypath;	/* --key */
	struct sourceload load;		/* reader of the sources */
	struct output out;
	struct jsonlines lines;		/* reader of the existing output */
	struct runsort *sorter;
	bool sorting;			/* the sorter holds this leaf's runs */
	struct sortkey_buf prev_key;	/* of the previous output line */
	char *journal_name;		/* .NAME.journal, for messages */

	const char *dir;		/* as given */
	struct stats_clock clock;
	struct leafstream_merge stats;
	bool unchanged;			/* idle: left as it is */
	int dirfd;
	int outfd;			/* the existing output, or -1 */
	struct stat outst;
	bool out_sorted;		/* it is in key order */
	struct claim claim;
	struct sources_rules rules;
	bool listed;			/* names holds the listing */
	bool busy;			/* a live run holds the leaf */
	bool staged_mark;		/* the listing met .NAME.staged */
	bool temps_seen;		/* the listing met a temporary */
	bool claim_staged;		/* the claim is in --staging DIR */
	bool waiting;			/* its records wait in a staging
					 * directory: left */
	bool resumed;			/* a staged commit finished here */
	char entry[STAGING_ENTRY_MAX];	/* its name there */
	char **names;			/* named like sources */
	size_t nnames;
	int srcfd;			/* the source being read */
	const char *srcname;		/* its name (in names) */
	char current[PATH_MAX * 2];	/* its path, for messages */
	struct journal_entry *consumed;	/* for the claim */
	size_t nconsumed, consumedcap;
	enum leaf_failure failure;
};

/* Makes what is kept from leaf to leaf; exits 4 when out of memory. */
static void
leaf_init(struct leaf *l)
{
	memset(l, 0, sizeof(*l));
	l->dirfd = l->outfd = l->srcfd = -1;
	if (jsonscan_keypath_parse(opt.key, &l->keypath) < 0 ||
	    sourceload_init(&l->load, &l->keypath) < 0 ||
	    buf_reserve(&l->out.buf, WRITE_SIZE) < 0 ||
	    (l->journal_name = journal_name(opt.output)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	/* In the leaf stream our claim goes to jsonl-write, which looks at
	 * every source again before it publishes anything. */
	l->load.trust_reader = opt.streaming && opt.claim != OPT_CLAIM_NEVER;
}

/* Starts the leaf dir: no counts yet, its clock running. */
static void
leaf_start(struct leaf *l, const char *dir)
{
	l->dir = dir;
	memset(&l->stats, 0, sizeof(l->stats));
	stats_clock_start(&l->clock);
	l->unchanged = l->busy = false;
	l->waiting = l->resumed = l->claim_staged = false;
}

/* Gives back what one leaf held, succeeded or failed, keeping the
 * buffers and the sorter's arena for the next. */
static void
leaf_reset(struct leaf *l)
{
	share_close_quietly(&l->srcfd, l->srcname);
	sources_names_free(l->names, l->nnames);
	l->names = NULL;
	l->nnames = 0;
	l->listed = false;
	journal_entries_free(l->consumed, l->nconsumed);
	l->consumed = NULL;
	l->nconsumed = l->consumedcap = 0;
	claim_free(&l->claim);
	journal_redirect_clear();
	share_close_quietly(&l->outfd, opt.output);
	share_close_quietly(&l->dirfd, NULL);
	watch_set_dir(NULL);
	l->out_sorted = false;
	l->sorting = false;
	l->failure = LEAF_FAILED_SORTING;
}

/* Frees everything (the process ends anyway; this keeps leak checkers
 * meaningful). */
static void
leaf_free(struct leaf *l)
{
	leaf_reset(l);
	runsort_free(l->sorter);
	jsonscan_keypath_free(&l->keypath);
	sourceload_free(&l->load);
	buf_free(&l->out.buf);
	jsonlines_free(&l->lines);
	sortkey_buf_free(&l->prev_key);
	free(l->journal_name);
}

/* "DIR/name" for messages, quoted (diag_quote's rotating buffers). */
static const char *
leaf_path(const struct leaf *l, const char *name)
{
	char buf[PATH_MAX * 2];
	size_t n = strlen(l->dir);

	snprintf(buf, sizeof(buf), "%s%s%s", l->dir,
	    n > 0 && l->dir[n - 1] == '/' ? "" : "/", name);
	return diag_quote(buf);
}

static int
out_of_memory(void)
{
	diag_warnx("out of memory");
	return -1;
}

/* A failure of the sorter (its temporary files, or memory): errno. */
static int
sorter_failed(void)
{
	const char *tmp = getenv("TMPDIR");

	diag_warnx("sorting in %s: %s", diag_quote(tmp && *tmp ? tmp :
	    "/tmp"), strerror(errno));
	return -1;
}

/* The message for what a runsort callback left in l->failure. */
static int
callback_failed(const struct leaf *l)
{
	const char *tmp = getenv("TMPDIR");
	int saved = errno;

	switch (l->failure) {
	case LEAF_FAILED_MEMORY:
		return out_of_memory();
	case LEAF_FAILED_STDOUT:
		diag_warnx("stdout: %s", strerror(saved));
		break;
	case LEAF_FAILED_OUTPUT:
		diag_warnx("%s: %s", leaf_path(l, opt.output), strerror(saved));
		break;
	case LEAF_FAILED_SORTING:
		diag_warnx("%s: %s", diag_quote(tmp && *tmp ? tmp : "/tmp"),
		    strerror(saved));
		break;
	}
	return -1;
}

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

/* ---- sources ---- */

/* A source left for a later run: modified within --min-age. */
static void
source_young(struct leaf *l, const char *name)
{
	l->stats.skipped[LEAFSTREAM_SKIP_TOO_YOUNG]++;
	if (opt.list_young)
		diag_warnx("%s: modified within --min-age; left for a later run",
		    leaf_path(l, name));
}

/* A source left for a later run: another process holds it open (counted
 * as too young). */
static void
source_held(struct leaf *l, const char *name)
{
	l->stats.skipped[LEAFSTREAM_SKIP_TOO_YOUNG]++;
	if (opt.list_young)
		diag_warnx("%s: held open by another process; left for a "
		    "later run", leaf_path(l, name));
}

/*
 * Opens the source name (its fstat in *st) if it is to be read.  Returns
 * its descriptor, also held in l->srcfd, or -1 when it is not read, with
 * *skipped 1 when that makes the run partial (it is named on stderr).
 */
static int
source_open(struct leaf *l, const char *name, struct stat *st, int *skipped)
{
	unsigned long long *skip = l->stats.skipped;
	int fd;

	*skipped = 1;
	/* O_NONBLOCK: a fifo named like a source must not hang us. */
	fd = share_openat(l->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | O_NOCTTY, 0);
	l->srcfd = fd;
	l->srcname = name;
	if (fd < 0) {
		if (errno == ENOENT) {
			*skipped = 0;	/* gone since the listing */
			return -1;
		}
		if (errno == ELOOP &&
		    share_fstatat(l->dirfd, name, st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st->st_mode)) {
			skip[LEAFSTREAM_SKIP_SYMLINK]++;
			diag_warnx("%s: symbolic link; not consumed",
			    l->current);
			return -1;
		}
		skip[LEAFSTREAM_SKIP_UNREADABLE]++;
		diag_warn("%s", l->current);
		return -1;
	}
	if (share_fstat(fd, name, st) < 0) {
		skip[LEAFSTREAM_SKIP_UNREADABLE]++;
		diag_warn("%s", l->current);
		share_close_quietly(&l->srcfd, name);
		return -1;
	}
	switch (sources_classify(&l->rules, name, st)) {
	case SOURCES_ELIGIBLE:
		/* Unless its records are in the existing output already, or
		 * its writer may still be at it. */
		if (claim_holds(&l->claim, name, st)) {
			*skipped = 0;
			break;
		}
		if (!sources_held_open(fd, name))
			return fd;
		source_held(l, name);
		*skipped = 0;
		break;
	case SOURCES_TOO_YOUNG:
		source_young(l, name);
		*skipped = 0;
		break;
	case SOURCES_SYMLINK:
	case SOURCES_NOT_REGULAR:
		skip[LEAFSTREAM_SKIP_NOT_REGULAR]++;
		diag_warnx("%s: not a regular file; not consumed", l->current);
		break;
	case SOURCES_IGNORED:
		*skipped = 0;
		break;
	}
	share_close_quietly(&l->srcfd, name);
	return -1;
}

/* Counts and names a source that was read but is not consumed. */
static void
source_rejected(struct leaf *l, enum sourceload_result r,
    const struct jsonscan_error *err)
{
	unsigned long long *skip = l->stats.skipped;

	switch (r) {
	case SOURCELOAD_INVALID:
		skip[LEAFSTREAM_SKIP_INVALID]++;
		diag_warnx("%s:%lu:%lu: %s", l->current, err->line,
		    err->column, err->reason);
		break;
	case SOURCELOAD_CHANGED:
		skip[LEAFSTREAM_SKIP_CHANGED]++;
		diag_warnx("%s: changed while read; not consumed this time",
		    l->current);
		break;
	default:
		skip[LEAFSTREAM_SKIP_UNREADABLE]++;
		diag_warn("%s", l->current);
		break;
	}
}

/* Remembers a consumed source for the claim. */
static int
source_consumed(struct leaf *l, const char *name, const struct stat *st)
{
	l->stats.sources++;
	l->stats.bytes_in += st->st_size;
	if (RESERVE(l->consumed, l->consumedcap, l->nconsumed + 1) < 0 ||
	    journal_entry_from_stat(&l->consumed[l->nconsumed], name, st) < 0)
		return out_of_memory();
	l->nconsumed++;
	return 0;
}

/*
 * Consumes the source name if it is eligible: its records go to the
 * sorter.  Returns 0, 1 when it was skipped for a reason that makes the
 * run partial (named on stderr), or -1 when the leaf fails.
 */
static int
consume_source(struct leaf *l, const char *name)
{
	struct jsonscan_error err;
	enum sourceload_result r;
	struct stat st;
	int fd, skipped;

	snprintf(l->current, sizeof(l->current), "%s", leaf_path(l, name));
	if ((fd = source_open(l, name, &st, &skipped)) < 0)
		return skipped;
	r = sourceload_read(&l->load, l->sorter, fd, name, &st, &err);
	if (r == SOURCELOAD_SORTER_FAILED)
		return sorter_failed();
	if (r == SOURCELOAD_LOST) {
		diag_warnx("%s: changed or failed while read a second time "
		    "(its records were spilled already)", l->current);
		return -1;
	}
	share_close_quietly(&l->srcfd, name);
	if (r == SOURCELOAD_OK)
		return source_consumed(l, name, &st);
	source_rejected(l, r, &err);
	if (opt.strict) {
		diag_warnx("%s: bad source and --strict: nothing merged",
		    diag_quote(l->dir));
		return -1;
	}
	return 1;
}

/* The names that may be sources, once per leaf: 0, or -1 (said). */
static int
list_sources(struct leaf *l)
{
	if (l->listed)
		return 0;
	sources_rules_init(&l->rules, opt.globs, opt.nglobs, opt.output,
	    opt.min_age_ms);
	l->rules.staged = &l->staged_mark;
	l->rules.temps = &l->temps_seen;
	if (sources_list(l->dirfd, &l->rules, &l->names, &l->nnames) < 0) {
		diag_warnx("%s: %s", diag_quote(l->dir), strerror(errno));
		return -1;
	}
	l->listed = true;
	return 0;
}

/*
 * Whether the leaf has anything new, from metadata alone, before anything
 * is read or claimed: a dead run's claim to finish, sources the output
 * holds to remove (unless --keep-sources), or one eligible source it does
 * not hold (the look stops there).  Returns 1, 0 (nothing new: the young
 * sources are counted then), or -1 (said).
 */
static int
has_work(struct leaf *l)
{
	size_t *young = NULL, nyoung = 0, cap = 0;
	int work = 0;
	struct stat st;

	if (claim_unfinished(&l->claim) ||
	    (l->claim.nabsorbed > 0 && !opt.keep_sources))
		return 1;
	if (list_sources(l) < 0)
		return -1;
	for (size_t i = 0; !work && i < l->nnames; i++) {
		/* Gone, or unreadable: said by the reading, if any. */
		if (share_fstatat(l->dirfd, l->names[i], &st,
		    AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		switch (sources_classify(&l->rules, l->names[i], &st)) {
		case SOURCES_ELIGIBLE:
			work = !claim_holds(&l->claim, l->names[i], &st);
			break;
		case SOURCES_TOO_YOUNG:
			if (RESERVE(young, cap, nyoung + 1) < 0) {
				free(young);
				return out_of_memory();
			}
			young[nyoung++] = i;
			break;
		default:
			break;
		}
	}
	/* With work the reading counts them, each once. */
	for (size_t k = 0; !work && k < nyoung; k++)
		source_young(l, l->names[young[k]]);
	free(young);
	return work;
}

/* Lists the sources and consumes them: 0, 1 (partial) or -1. */
static int
consume_sources(struct leaf *l)
{
	int partial = 0, r;

	if (list_sources(l) < 0)
		return -1;
	for (size_t i = 0; i < l->nnames; i++) {
		if ((r = consume_source(l, l->names[i])) < 0)
			return -1;
		partial |= r;
	}
	return partial;
}

/* ---- existing output ---- */

/* Opens the existing output, if any, and checks what it is. */
static int
open_output(struct leaf *l)
{
	l->outfd = share_openat(l->dirfd, opt.output, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
	if (l->outfd < 0) {
		if (errno == ENOENT)
			return 0;
		diag_warnx("%s: %s", leaf_path(l, opt.output),
		    errno == ELOOP ? "symbolic link" : strerror(errno));
		return -1;
	}
	if (share_fstat(l->outfd, opt.output, &l->outst) < 0) {
		diag_warnx("%s: %s", leaf_path(l, opt.output),
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(l->outst.st_mode)) {
		diag_warnx("%s: not a regular file", leaf_path(l, opt.output));
		return -1;
	}
	return 0;
}

/*
 * Checks every line of the existing output before anything is written:
 * one invalid line fails the leaf.  Notes whether it is in key order (it
 * is, unless --key changed or someone else wrote it).
 */
static int
check_output(struct leaf *l)
{
	struct sortkey_buf *prev = &l->prev_key, *key = &l->lines.sortkey;
	struct jsonlines *lines = &l->lines;
	struct jsonscan_error err;

	if (jsonlines_rewind(lines, l->outfd, opt.output, &l->keypath) < 0)
		return out_of_memory();
	l->out_sorted = true;
	for (;;) {
		switch (jsonlines_next(lines, &err)) {
		case JSONLINES_RECORD:
			break;
		case JSONLINES_END:
			return 0;
		case JSONLINES_INVALID:
			diag_warnx("%s:%llu:%lu: %s", leaf_path(l, opt.output),
			    lines->lineno, err.column, err.reason);
			return -1;
		case JSONLINES_READ_ERROR:
			diag_warnx("%s: %s", leaf_path(l, opt.output),
			    strerror(errno));
			return -1;
		case JSONLINES_NO_MEMORY:
			return out_of_memory();
		}
		if (lines->lineno > 1 && sortkey_compare(prev->data, prev->len,
		    key->data, key->len) > 0)
			l->out_sorted = false;
		if (RESERVE(prev->data, prev->cap, key->len) < 0)
			return out_of_memory();
		memcpy(prev->data, key->data, key->len);
		prev->len = key->len;
	}
}

/* runsort_input: the existing output's records, read a second time. */
static int
output_next(void *ctx, const char **key, size_t *keylen, const char **record,
    size_t *reclen)
{
	struct leaf *l = ctx;
	struct jsonlines *lines = &l->lines;
	struct jsonscan_error err;

	switch (jsonlines_next(lines, &err)) {
	case JSONLINES_RECORD:
		*key = (const char *)lines->sortkey.data;
		*keylen = lines->sortkey.len;
		*record = lines->record.data;
		*reclen = lines->record.len;
		return 1;
	case JSONLINES_END:
		return 0;
	case JSONLINES_INVALID:
		/* Valid a moment ago: rewritten in place. */
		errno = EIO;
		l->failure = LEAF_FAILED_OUTPUT;
		return -1;
	case JSONLINES_READ_ERROR:
		l->failure = LEAF_FAILED_OUTPUT;
		return -1;
	case JSONLINES_NO_MEMORY:
		break;
	}
	errno = ENOMEM;
	l->failure = LEAF_FAILED_MEMORY;
	return -1;
}

/* An existing output out of key order goes through the sorter, first. */
static int
sort_output(struct leaf *l)
{
	const char *key, *rec;
	size_t keylen, reclen;
	int r;

	if (jsonlines_rewind(&l->lines, l->outfd, opt.output,
	    &l->keypath) < 0)
		return out_of_memory();
	while ((r = output_next(l, &key, &keylen, &rec, &reclen)) > 0)
		if (runsort_add(l->sorter, key, keylen, rec, reclen) < 0)
			return sorter_failed();
	return r < 0 ? callback_failed(l) : 0;
}

/* ---- stdout ---- */

/* Hashes a then b and writes them on stdout: plain, or as one data frame
 * of the leaf stream.  Hashed by the block: the hash does not depend on
 * the cutting. */
static int
output_write(struct leaf *l, const char *a, size_t alen, const char *b,
    size_t blen)
{
	journal_hash_update(&l->out.hash, a, alen);
	journal_hash_update(&l->out.hash, b, blen);
	if (alen + blen == 0)
		return 0;
	if (opt.streaming ? leafstream_write_frame(STDOUT_FILENO,
	    LEAFSTREAM_DATA, a, alen, b, blen) < 0 :
	    xwrite(STDOUT_FILENO, a, alen) < 0 ||
	    xwrite(STDOUT_FILENO, b, blen) < 0) {
		l->failure = LEAF_FAILED_STDOUT;
		return -1;
	}
	return 0;
}

static int
output_flush(struct leaf *l)
{
	if (output_write(l, l->out.buf.data, l->out.buf.len, "", 0) < 0)
		return -1;
	l->out.buf.len = 0;
	return 0;
}

/* runsort_emit_fn: one record and its newline. */
static int
output_record(void *ctx, const char *record, size_t reclen)
{
	struct leaf *l = ctx;
	struct buf *b = &l->out.buf;

	l->stats.records++;
	l->stats.bytes_out += reclen + 1;
	if (b->len + reclen + 1 > b->cap) {
		if (output_flush(l) < 0)
			return -1;
		if (reclen + 1 > b->cap)
			return output_write(l, record, reclen, "\n", 1);
	}
	memcpy(b->data + b->len, record, reclen);
	b->data[b->len + reclen] = '\n';
	b->len += reclen + 1;
	return 0;
}

/* ---- claim ---- */

/* True when stdout feeds a consumer (jsonl-write) rather than a file. */
static bool
stdout_is_pipe(void)
{
	struct stat st;

	return fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* The journal file could not be read or written: errno. */
static int
journal_error(const struct leaf *l)
{
	diag_warnx("%s: %s", leaf_path(l, l->journal_name), strerror(errno));
	return -1;
}

/*
 * Creating a file in the leaf failed with ENOSPC: true when its file
 * system has no free inode (staging.h), which is then in the counts.  Run
 * by leafpack, which says it once for the run, we only report it.
 */
static bool
no_inodes(struct leaf *l)
{
	return staging_out_of_inodes(l->dirfd, l->dir, &l->stats.no_inodes,
	    &l->stats.inodes);
}

/* What a failed claim_look() or claim_take() came to, said. */
static int
claim_failed(struct leaf *l, enum claim_begin r)
{
	const struct claim *c = &l->claim;

	switch (r) {
	case CLAIM_BEGUN:
	case CLAIM_READ_ONLY:	/* a look at a leaf we may not change */
		return 0;
	case CLAIM_BUSY:
		l->busy = true;
		if (c->busy_pid != 0)
			diag_warnx("%s: busy: being consolidated by %s pid "
			    "%lld", diag_quote(l->dir), c->busy_host,
			    c->busy_pid);
		else
			diag_warnx("%s: busy: being consolidated by another "
			    "process", diag_quote(l->dir));
		return -1;
	case CLAIM_BAD_JOURNAL:
		if (errno != EBADMSG)
			return journal_error(l);
		diag_warnx("%s: not a valid journal (move it away once no run "
		    "is using the leaf)", leaf_path(l, l->journal_name));
		return -1;
	case CLAIM_BAD_RECORD:
		diag_warnx("%s: attribute " JOURNAL_ATTR " is not a valid "
		    "journal (remove it once no run is using the leaf)",
		    leaf_path(l, opt.output));
		return -1;
	case CLAIM_BAD_DIR:
		diag_warnx("%s: %s", diag_quote(l->dir), strerror(errno));
		return -1;
	case CLAIM_NO_MEMORY:
		return out_of_memory();
	case CLAIM_CANNOT_WRITE:
		if (errno == ENOSPC && no_inodes(l))
			return -1;
		break;
	}
	return journal_error(l);
}

/*
 * The claim, first half (the protocol is in jsonl-write(1)): a live
 * holder makes the leaf busy; else claim_look() learns what the existing
 * output (the one opened) already holds.  Nothing is changed yet.
 */
static int
look_leaf(struct leaf *l)
{
	return claim_failed(l, claim_look(&l->claim, l->dirfd, opt.output,
	    l->outfd, &l->outst));
}

/*
 * The second half: the leaf is claimed when a consumer reads stdout.
 * Without claiming, the temporaries of dead runs still go; with
 * --no-claim nothing is touched.
 */
static int
claim_leaf(struct leaf *l)
{
	enum claim_mode mode = CLAIM_PREPARE;
	enum claim_begin r;

	if (opt.claim == OPT_CLAIM_NEVER)
		mode = CLAIM_LOOK;
	else if (opt.claim == OPT_CLAIM_ALWAYS || opt.streaming ||
	    stdout_is_pipe())
		mode = CLAIM_TAKE;
	l->claim.temps_unseen = l->listed && !l->temps_seen;
	r = claim_take(&l->claim, mode);
	/* No inode for the claim: it goes to the staging directory (and
	 * jsonl-write builds the output there). */
	if (r == CLAIM_CANNOT_WRITE && errno == ENOSPC &&
	    opt.stagefd >= 0 && !opt.keep_sources &&
	    share_out_of_inodes(l->dirfd, NULL, &l->stats.inodes) &&
	    staging_entry_name(l->dirfd, l->entry) == 0) {
		journal_redirect(l->dirfd, opt.stagefd, l->entry);
		l->claim_staged = true;
		/* The claim that could not be written, made again.  A dead
		 * run's journal in the leaf was found still that one just
		 * now; the claim is new where it goes (nothing there to
		 * find unchanged: looking would take the leaf for busy). */
		journal_free(&l->claim.mine);
		l->claim.had_journal = false;
		r = claim_take(&l->claim, mode);
		l->stats.inodes = 0;
	}
	return claim_failed(l, r);
}

/*
 * The claim, taken in the leaf, cannot be marked merged there (no inode
 * for the new journal): with --staging it moves to the staging directory
 * (staging.h), and the leaf's own journal goes.  0, or -1 (errno ENOSPC).
 */
static int
restage_claim(struct leaf *l)
{
	if (opt.stagefd < 0 || opt.keep_sources || l->claim_staged ||
	    !share_out_of_inodes(l->dirfd, NULL, &l->stats.inodes) ||
	    staging_entry_name(l->dirfd, l->entry) < 0) {
		errno = ENOSPC;
		return -1;
	}
	l->stats.inodes = 0;
	journal_redirect(l->dirfd, opt.stagefd, l->entry);
	if (journal_store(l->dirfd, opt.output, &l->claim.mine, 0) < 0) {
		journal_redirect_clear();
		errno = ENOSPC;
		return -1;
	}
	l->claim_staged = true;
	/* Ours, merging: a run that meets it after a crash takes it over. */
	share_unlinkat(l->dirfd, l->journal_name, 0);
	return 0;
}

/* Marks the claim "merged" with what was consumed and written. */
static int
finish_claim(struct leaf *l)
{
	int r = claim_finish(&l->claim, l->consumed, l->nconsumed,
	    &l->out.hash);

	/* The claim took the entries over, whatever came of it. */
	l->consumed = NULL;
	l->nconsumed = l->consumedcap = 0;
	if (r < 0 && errno == EBUSY)
		/* Another run took the leaf over at the same time. */
		return claim_failed(l, CLAIM_BUSY);
	if (r < 0 && errno == ENOSPC && restage_claim(l) == 0)
		return 0;
	if (r < 0 && errno == ENOSPC && no_inodes(l))
		return -1;
	return r < 0 ? journal_error(l) : 0;
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

/* .E.journal or E in the staging directory without .E.entry: what a run
 * that died before it staged anything left (the records are all still in
 * the leaf); removed, unless the claim's holder lives. */
static void
drop_stale_staged(struct leaf *l)
{
	char name[STAGING_ENTRY_MAX + 16];
	struct journal j;
	int r;

	if ((r = journal_load(opt.stagefd, l->entry, &j)) < 0)
		return;
	if (r == 1 && claim_holder_alive(&j)) {
		journal_free(&j);
		return;
	}
	journal_free(&j);
	snprintf(name, sizeof(name), ".%s.journal", l->entry);
	unlinkat(opt.stagefd, name, 0);
	unlinkat(opt.stagefd, l->entry, 0);
}

/* A staged commit of this leaf, cut short (staging.h), finished: the
 * leaf is then looked at again, as it is now.  0, or -1 (said). */
static int
finish_staged(struct leaf *l, const struct staging_entry *en)
{
	unsigned long long removed;
	enum staging_result r;
	struct journal claim;
	const char *step;

	if (journal_load(opt.stagefd, l->entry, &claim) != 1) {
		diag_warnx("%s/.%s.journal: %s", diag_quote(opt.staging),
		    l->entry, errno == 0 ? "missing" : strerror(errno));
		return -1;
	}
	r = staging_finish(opt.stagefd, opt.staging, l->entry, l->dirfd, en,
	    &claim, false, &removed, &step);
	journal_free(&claim);
	if (r == STAGING_FAILED) {
		diag_warnx("%s: finishing its staged commit: %s: %s; its records "
		    "wait in %s/%s", diag_quote(l->dir), step, strerror(errno),
		    diag_quote(opt.staging), l->entry);
		return -1;
	}
	l->resumed = r == STAGING_DONE;
	/* What the leaf holds now. */
	sources_names_free(l->names, l->nnames);
	l->names = NULL;
	l->nnames = 0;
	l->listed = false;
	share_close_quietly(&l->outfd, opt.output);
	return open_output(l);
}

/*
 * Before the claim: a leaf staged through our --staging DIR is finished;
 * a leaf holding the mark of a commit staged elsewhere (or without
 * --staging) is left, its records waiting (said; l->waiting).  Returns 0
 * to go on, 1 when the leaf is left, -1 (said).
 */
static int
look_staged(struct leaf *l)
{
	struct staging_entry en;
	struct staging_mark m;
	int have = 0, r;

	if (list_sources(l) < 0)
		return -1;
	if (opt.stagefd >= 0) {
		if (staging_entry_name(l->dirfd, l->entry) < 0) {
			diag_warnx("%s: %s", diag_quote(l->dir),
			    strerror(errno));
			return -1;
		}
		if ((have = staging_entry_load(opt.stagefd, l->entry,
		    &en)) < 0) {
			diag_warnx("%s/.%s.entry: %s", diag_quote(opt.staging),
			    l->entry, strerror(errno));
			return -1;
		}
		/* What runs that died left there. */
		claim_remove_dead_temps(opt.stagefd, l->entry);
		if (have == 0)
			drop_stale_staged(l);
	}
	if (have == 1) {
		r = finish_staged(l, &en);
		staging_entry_free(&en);
		return r;
	}
	if (!l->staged_mark)
		return 0;
	if (staging_mark_read(l->dirfd, opt.output, &m) < 0) {
		diag_warnx("%s: %s", diag_quote(l->dir), strerror(errno));
		return -1;
	}
	staging_warn_waiting(l->dir, &m);
	l->waiting = l->unchanged = true;
	return 1;
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
	if (opt.skip_unchanged && claim_idle(&l->claim, l->nconsumed)) {
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
