/*
 * json-merge - print every record of a leaf directory's sources (and of its
 * existing consolidated file) as compact JSON lines on stdout, sorted by a
 * key, byte for byte as the records were written.
 *
 * Flow: open DIR; look at the hand-over journal (busy? what is already in
 * the output?) and claim the leaf when a consumer reads our stdout; check
 * the existing output line by line; read every eligible source into the
 * sorter (runsort.h), taking back the records of a source that turns out
 * invalid; merge the sorted records with the existing output (already
 * sorted: merged, not sorted again) onto stdout; then mark the claim
 * "merged" with what was consumed and what was written, for jsonl-write.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "claim.h"
#include "journal.h"
#include "jsonscan.h"
#include "pathstream.h"
#include "runsort.h"
#include "sortkey.h"
#include "sources.h"
#include "units.h"
#include "version.h"

static const char usage_text[] =
    "usage: json-merge [-0] [--key PATH] [--match GLOB]... "
    "[--min-age DURATION]\n"
    "                  [--output NAME] [--memory SIZE] [--strict] "
    "[--claim | --no-claim]\n"
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
    "      --stats[=json]      print counts (or one JSON object) on stderr "
    "at the end\n"
    "      --help              print this help\n"
    "      --version           print the version\n";

#define DEFAULT_OUTPUT "consolidated.jsonl"
#define DEFAULT_MEMORY (256LL * 1024 * 1024)
#define READ_SIZE (1024 * 1024)
#define WRITE_SIZE (256 * 1024)

enum merge_claim_mode { CLAIM_AUTO, CLAIM_ALWAYS, CLAIM_NEVER };

static struct {
	const char *key;
	const char **globs;
	size_t nglobs;
	long long min_age_ms;
	const char *output;
	long long memory;
	int strict;
	enum merge_claim_mode claim;
	int stats;		/* 0, 1 text, 2 json */
	int delim;		/* of the directories on stdin */
} opt;

/* Why a source was not consumed, for --stats. */
enum skip_reason {
	SKIP_INVALID, SKIP_UNREADABLE, SKIP_SYMLINK, SKIP_NOT_REGULAR,
	SKIP_CHANGED, SKIP_TOO_YOUNG, SKIP_REASONS
};
static const char *const skip_names[SKIP_REASONS] = {
	"invalid", "unreadable", "symlink", "not_regular", "changed",
	"too_young",
};

static struct {
	unsigned long long sources, skipped[SKIP_REASONS];
	unsigned long long records, bytes_in, bytes_out;
	unsigned long runs;
	struct timespec start;
} stats;

/* Everything about the leaf being merged. */
struct leaf {
	const char *dir;	/* as given */
	int dirfd;
	struct jsonscan_keypath keypath;
	struct runsort *sorter;
	struct sources_rules rules;
	/* scratch for keys and compact records */
	struct sortkey_buf key;
	struct jsonscan_buf element;
	struct jsonscan_array *scan;
	/* source read buffer */
	char *buf;
	size_t cap;
	/* consumed sources, for the journal */
	struct journal_entry *consumed;
	size_t nconsumed, consumedcap;
	/* sources already in the existing output (claim_absorbed) */
	struct journal_entry *absorbed;
	size_t nabsorbed;
	/* the existing output */
	int outfd;
	struct stat outst;
	int out_sorted;
	/* the claim: the journal as we found it, and ours */
	char *journal_name;
	struct journal previous;
	int had_journal;
	struct journal mine;
	int claimed;
	/* the source being read, for messages */
	char current[PATH_MAX * 2];
	/* what failed during the merge, for its message */
	const char *merge_failure;
	/* held while reading, so that a failed leaf releases them */
	int srcfd;
	char **names;
	size_t nnames;
};

/*
 * The leaf stream (no DIR operand): leaves read from stdin one after the
 * other, each framed on stdout for jsonl-write (see json-merge(1)).  A
 * failed leaf returns to the loop through failed_leaf.
 */
static int streaming;
static jmp_buf failed_leaf;
static int stdout_broken;	/* jsonl-write is gone: no more leaves */

static struct leaf leaf;

static void fail_leaf(struct leaf *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EXITCODE_USAGE);
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

static double
elapsed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - stats.start.tv_sec) +
	    (now.tv_nsec - stats.start.tv_nsec) / 1e9;
}

static json_object *stats_json(void);

/* The last line of stderr: the counts, as text or one JSON object. */
static void
print_stats(const char *dir)
{
	unsigned long long skipped = 0;
	json_object *o;

	for (int i = 0; i < SKIP_REASONS; i++)
		skipped += stats.skipped[i];
	if (leaf.sorter != NULL)
		stats.runs = runsort_runs_spilled(leaf.sorter);
	if (opt.stats == 1) {
		fprintf(stderr, "json-merge: %s: %llu sources merged, %llu "
		    "skipped (%llu too young), %llu records, %llu bytes in, "
		    "%llu bytes out, %lu runs spilled, %.3f s\n",
		    diag_quote(dir), stats.sources, skipped,
		    stats.skipped[SKIP_TOO_YOUNG], stats.records,
		    stats.bytes_in, stats.bytes_out, stats.runs, elapsed());
		return;
	}
	o = stats_json();
	fprintf(stderr, "%s\n",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* The counts as one JSON object (--stats=json, and the end of a leaf in
 * the leaf stream). */
static json_object *
stats_json(void)
{
	json_object *o, *s;
	char secs[32];

	if (leaf.sorter != NULL)
		stats.runs = runsort_runs_spilled(leaf.sorter);
	o = json_object_new_object();
	s = json_object_new_object();
	json_object_object_add(o, "sources",
	    json_object_new_uint64(stats.sources));
	for (int i = 0; i < SKIP_REASONS; i++)
		json_object_object_add(s, skip_names[i],
		    json_object_new_uint64(stats.skipped[i]));
	json_object_object_add(o, "sources_skipped", s);
	json_object_object_add(o, "records",
	    json_object_new_uint64(stats.records));
	json_object_object_add(o, "bytes_in",
	    json_object_new_uint64(stats.bytes_in));
	json_object_object_add(o, "bytes_out",
	    json_object_new_uint64(stats.bytes_out));
	json_object_object_add(o, "runs", json_object_new_uint64(stats.runs));
	/* Milliseconds are enough, and "0.00017029400000000001" is noise. */
	snprintf(secs, sizeof(secs), "%.3f", elapsed());
	json_object_object_add(o, "elapsed",
	    json_object_new_double_s(atof(secs), secs));
	return o;
}

/* What scanning a source came to. */
enum scan_result {
	SCAN_OK,
	SCAN_INVALID,		/* *err says where and why */
	SCAN_UNREADABLE,	/* reading the source failed: errno */
	SCAN_CHANGED,		/* the source changed while it was read */
	SCAN_FULL,		/* the sorter's arena is full (SCAN_TRY) */
	SCAN_FAILED		/* the sorter failed (errno): the leaf fails */
};

/* How scan_source() treats the records it finds. */
enum scan_mode {
	SCAN_TRY,		/* add them, but stop when the arena is full */
	SCAN_SPILL,		/* add them, spilling as needed */
	SCAN_CHECK		/* only validate */
};

/*
 * Reads more of fd at *off after the len bytes kept at the start of the
 * buffer (growing it when full).  Returns the bytes read (0 at the end), or
 * -1 with errno set; *eof is set at the end of the file.
 */
static ssize_t
refill(struct leaf *l, int fd, off_t *off, off_t size, size_t len, int *eof)
{
	size_t want;
	ssize_t n;

	if (len == l->cap) {
		/* One element bigger than the buffer. */
		char *b = realloc(l->buf, 2 * l->cap);

		if (b == NULL)
			return -1;
		l->buf = b;
		l->cap *= 2;
	}
	want = l->cap - len;
	do
		n = pread(fd, l->buf + len, want, *off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	*off += n;
	/* A short read that reaches the size fstat gave is the end: saves a
	 * read per file.  Had the file grown meanwhile, the identity check
	 * afterwards sees the new size and the source is not consumed. */
	if (n == 0 || ((size_t)n < want && *off == size))
		*eof = 1;
	return n;
}

/*
 * Scans the source fd (size: its size when opened) from its start with
 * large reads into the reusable buffer, feeding the scanner, and treats the
 * records as mode says.
 */
static enum scan_result
scan_source(struct leaf *l, int fd, off_t size, enum scan_mode mode,
    struct jsonscan_error *err)
{
	size_t pos = 0, len = 0, used;
	struct jsonscan_keyval kv;
	off_t off = 0;
	ssize_t n;
	int eof = 0, r;

	jsonscan_array_init(l->scan, &l->keypath);
	for (;;) {
		l->element.len = 0;
		switch (jsonscan_array_next(l->scan, l->buf + pos, len - pos,
		    eof, &used, &l->element, &kv, err)) {
		case JSONSCAN_ELEMENT:
			pos += used;
			if (mode == SCAN_CHECK)
				break;
			if (sortkey_from_keyval(&kv, &l->key) == SORTKEY_ERROR)
				return SCAN_FAILED;
			r = (mode == SCAN_TRY ? runsort_try_add : runsort_add)(
			    l->sorter, (const char *)l->key.data, l->key.len,
			    l->element.data, l->element.len);
			if (r != 0)
				return r > 0 ? SCAN_FULL : SCAN_FAILED;
			break;
		case JSONSCAN_MORE:
			pos += used;
			if (eof) {
				/* The scanner promises an error at eof. */
				errno = EIO;
				return SCAN_UNREADABLE;
			}
			memmove(l->buf, l->buf + pos, len - pos);
			len -= pos;
			pos = 0;
			if ((n = refill(l, fd, &off, size, len, &eof)) < 0)
				return errno == ENOMEM ? SCAN_FAILED :
				    SCAN_UNREADABLE;
			len += n;
			break;
		case JSONSCAN_END:
			return SCAN_OK;
		case JSONSCAN_ERROR:
			if (errno == ENOMEM && err->reason != NULL &&
			    strcmp(err->reason, "out of memory") == 0)
				return SCAN_FAILED;
			return SCAN_INVALID;
		}
	}
}

/* True when the file behind the two stats is the same and unchanged. */
static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Orders entries by name, for bsearch. */
static int
compare_entries(const void *a, const void *b)
{
	return strcmp(((const struct journal_entry *)a)->name,
	    ((const struct journal_entry *)b)->name);
}

/* True when the source name with stat st is already in the output. */
static int
is_absorbed(const struct leaf *l, const char *name, const struct stat *st)
{
	struct journal_entry key = { .name = (char *)name };
	struct journal_identity id;
	const struct journal_entry *e;

	if (l->nabsorbed == 0)
		return 0;
	e = bsearch(&key, l->absorbed, l->nabsorbed, sizeof(key),
	    compare_entries);
	journal_identity_from_stat(&id, st);
	return e != NULL && journal_identity_equal(&e->id, &id);
}

/* Reports a failure of the sorter (its temporary files, or memory). */
static void __attribute__((noreturn))
sorter_failed(struct leaf *l)
{
	const char *tmp = getenv("TMPDIR");

	fail_leaf(l, "sorting in %s: %s", diag_quote(tmp && *tmp ? tmp :
	    "/tmp"), strerror(errno));
}

/*
 * Reads the source fd into the sorter; returns how it went.  Its records
 * are taken back when it turns out invalid, unreadable or changed while
 * read.  A source that does not fit in the arena's free space is read
 * again after a spill, and one bigger than the whole arena is validated
 * first and then read with spills, so that taking back is never needed
 * after a spill.
 */
static enum scan_result
read_source(struct leaf *l, int fd, const struct stat *before,
    struct jsonscan_error *err)
{
	struct runsort_mark mark;
	enum scan_mode mode = SCAN_TRY;
	enum scan_result r;
	struct stat after;

	runsort_mark(l->sorter, &mark);
	for (;;) {
		r = scan_source(l, fd, before->st_size, mode, err);
		if (r == SCAN_FAILED)
			sorter_failed(l);
		if (mode == SCAN_TRY && r != SCAN_OK) {
			/* Nothing was spilled while trying. */
			if (runsort_rollback(l->sorter, &mark) < 0)
				sorter_failed(l);
			if (r != SCAN_FULL)
				return r;
			if (mark.count == 0) {
				mode = SCAN_CHECK;
				continue;
			}
			/* Make room, and read it again into an empty arena. */
			if (runsort_spill(l->sorter) < 0)
				sorter_failed(l);
			runsort_mark(l->sorter, &mark);
			continue;
		}
		if (mode == SCAN_CHECK && r == SCAN_OK) {
			mode = SCAN_SPILL;
			continue;
		}
		break;
	}
	if (r == SCAN_OK) {
		if (fstat(fd, &after) < 0)
			r = SCAN_UNREADABLE;
		else if (!same_file(before, &after))
			r = SCAN_CHANGED;
	}
	if (r != SCAN_OK && runsort_rollback(l->sorter, &mark) < 0)
		fail_leaf(l, "%s: changed or failed while read a second time "
		    "(its records were spilled already)", l->current);
	return r;
}

/* Remembers a consumed source for the journal. */
static void
add_consumed(struct leaf *l, const char *name, const struct stat *st)
{
	struct journal_entry *e;

	if (l->nconsumed == l->consumedcap) {
		size_t cap = l->consumedcap ? 2 * l->consumedcap : 64;

		e = realloc(l->consumed, cap * sizeof(*e));
		if (e == NULL)
			fail_leaf(l, "out of memory");
		l->consumed = e;
		l->consumedcap = cap;
	}
	e = &l->consumed[l->nconsumed];
	if (journal_entry_from_stat(e, name, st) < 0)
		fail_leaf(l, "out of memory");
	l->nconsumed++;
}

static void
source_close(struct leaf *l)
{
	close(l->srcfd);
	l->srcfd = -1;
}

/*
 * Consumes the source name if it is eligible: its records go to the
 * sorter.  Returns 0, or 1 when it was skipped for a reason that makes the
 * run partial (named on stderr).
 */
static int
consume_source(struct leaf *l, const char *name)
{
	struct jsonscan_error err;
	enum scan_result r;
	struct stat st;
	int fd, saved;

	snprintf(l->current, sizeof(l->current), "%s", leaf_path(l, name));
	/* O_NONBLOCK: a fifo named like a source must not hang us. */
	fd = openat(l->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | O_NOCTTY);
	l->srcfd = fd;
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;	/* gone since the listing */
		if (errno == ELOOP &&
		    fstatat(l->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode)) {
			stats.skipped[SKIP_SYMLINK]++;
			diag_warnx("%s: symbolic link; not consumed",
			    l->current);
			return 1;
		}
		stats.skipped[SKIP_UNREADABLE]++;
		diag_warn("%s", l->current);
		return 1;
	}
	if (fstat(fd, &st) < 0) {
		stats.skipped[SKIP_UNREADABLE]++;
		diag_warn("%s", l->current);
		source_close(l);
		return 1;
	}
	switch (sources_classify(&l->rules, name, &st)) {
	case SOURCES_ELIGIBLE:
		break;
	case SOURCES_TOO_YOUNG:
		stats.skipped[SKIP_TOO_YOUNG]++;
		source_close(l);
		return 0;
	case SOURCES_SYMLINK:
	case SOURCES_NOT_REGULAR:
		stats.skipped[SKIP_NOT_REGULAR]++;
		diag_warnx("%s: not a regular file; not consumed", l->current);
		source_close(l);
		return 1;
	case SOURCES_IGNORED:
		source_close(l);
		return 0;
	}
	if (is_absorbed(l, name, &st)) {
		/* Its records are in the existing output already. */
		source_close(l);
		return 0;
	}
	r = read_source(l, fd, &st, &err);
	saved = errno;
	source_close(l);
	errno = saved;
	switch (r) {
	case SCAN_OK:
		stats.sources++;
		stats.bytes_in += st.st_size;
		add_consumed(l, name, &st);
		return 0;
	case SCAN_INVALID:
		stats.skipped[SKIP_INVALID]++;
		diag_warnx("%s:%lu:%lu: %s", l->current, err.line, err.column,
		    err.reason);
		break;
	case SCAN_CHANGED:
		stats.skipped[SKIP_CHANGED]++;
		diag_warnx("%s: changed while read; not consumed this time",
		    l->current);
		break;
	default:
		stats.skipped[SKIP_UNREADABLE]++;
		diag_warn("%s", l->current);
		break;
	}
	if (opt.strict)
		fail_leaf(l, "%s: bad source and --strict: nothing merged",
		    diag_quote(l->dir));
	return 1;
}

/* Reading the lines of the existing output. */
struct lines {
	int fd;
	char *buf;
	size_t cap, start, end;
	int eof;
	unsigned long long lineno;
	off_t off;
	/* for the sorted-input callback: */
	struct leaf *leaf;
	struct jsonscan_buf compact;
	struct sortkey_buf key;
};

static int
lines_open(struct lines *lr, struct leaf *l)
{
	memset(lr, 0, sizeof(*lr));
	lr->fd = l->outfd;
	lr->leaf = l;
	lr->cap = READ_SIZE;
	lr->buf = malloc(lr->cap);
	return lr->buf == NULL ? -1 : 0;
}

/* Frees what lines_open() allocated; harmless on a zeroed or closed one. */
static void
lines_close(struct lines *lr)
{
	free(lr->buf);
	jsonscan_buf_free(&lr->compact);
	sortkey_buf_free(&lr->key);
	memset(lr, 0, sizeof(*lr));
}

/* The readers of the existing output (checking, sorting, merging) and the
 * key of the previous line: file-scope so that a failed leaf frees them. */
static struct lines check_lines, sort_lines, merge_lines;
static struct sortkey_buf prev_key;

/*
 * The next line (without its '\n'; a last line without one counts).
 * Returns 1, 0 at the end, or -1 with errno set.
 */
static int
lines_next(struct lines *lr, char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(lr->buf + lr->start, '\n',
		    lr->end - lr->start);
		ssize_t n;

		if (nl != NULL || (lr->eof && lr->start < lr->end)) {
			if (nl == NULL)
				nl = lr->buf + lr->end;
			*line = lr->buf + lr->start;
			*len = nl - *line;
			lr->start = nl - lr->buf + (nl < lr->buf + lr->end);
			lr->lineno++;
			return 1;
		}
		if (lr->eof)
			return 0;
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
		if (lr->end == lr->cap) {
			char *b = realloc(lr->buf, 2 * lr->cap);

			if (b == NULL)
				return -1;
			lr->buf = b;
			lr->cap *= 2;
		}
		do
			n = pread(lr->fd, lr->buf + lr->end, lr->cap - lr->end,
			    lr->off);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -1;
		if (n == 0)
			lr->eof = 1;
		lr->off += n;
		lr->end += n;
	}
}

/* Validates and compacts one line into lr->compact and its key into
 * lr->key.  Returns 0, or -1 with *err filled. */
static int
line_record(struct lines *lr, const char *line, size_t len,
    struct jsonscan_error *err)
{
	struct jsonscan_keyval kv;
	ssize_t n;

	if (lr->compact.cap < len + 1) {
		char *b = realloc(lr->compact.data, len + 1);

		if (b == NULL)
			fail_leaf(lr->leaf, "out of memory");
		lr->compact.data = b;
		lr->compact.cap = len + 1;
	}
	n = jsonscan_compact_value_key(line, len, lr->compact.data,
	    &lr->leaf->keypath, &kv, err);
	if (n < 0)
		return -1;
	lr->compact.len = n;
	if (sortkey_from_keyval(&kv, &lr->key) == SORTKEY_ERROR)
		fail_leaf(lr->leaf, "out of memory");
	return 0;
}

/*
 * Checks every line of the existing output before anything is written:
 * one invalid line fails the leaf.  Notes whether it is in key order (it
 * is, unless --key changed or someone else wrote it).
 */
static void
check_output(struct leaf *l)
{
	struct sortkey_buf *prev = &prev_key;
	struct jsonscan_error err;
	struct lines *lr = &check_lines;
	char *line;
	size_t len;
	int r;

	if (lines_open(lr, l) < 0)
		fail_leaf(l, "out of memory");
	l->out_sorted = 1;
	while ((r = lines_next(lr, &line, &len)) > 0) {
		if (line_record(lr, line, len, &err) < 0)
			fail_leaf(l, "%s:%llu:%lu: %s", leaf_path(l, opt.output),
			    lr->lineno, err.column, err.reason);
		if (lr->lineno > 1 && sortkey_compare(prev->data, prev->len,
		    lr->key.data, lr->key.len) > 0)
			l->out_sorted = 0;
		if (prev->cap < lr->key.len) {
			unsigned char *b = realloc(prev->data, lr->key.len);

			if (b == NULL)
				fail_leaf(l, "out of memory");
			prev->data = b;
			prev->cap = lr->key.len;
		}
		memcpy(prev->data, lr->key.data, lr->key.len);
		prev->len = lr->key.len;
	}
	if (r < 0)
		fail_leaf(l, "%s: %s", leaf_path(l, opt.output),
		    strerror(errno));
	sortkey_buf_free(prev);
	lines_close(lr);
}

/* runsort_input: the existing output's records, read a second time. */
static int
output_next(void *ctx, const char **key, size_t *keylen, const char **record,
    size_t *reclen)
{
	struct lines *lr = ctx;
	struct jsonscan_error err;
	char *line;
	size_t len;
	int r;

	if ((r = lines_next(lr, &line, &len)) == 0)
		return 0;
	if (r < 0 || line_record(lr, line, len, &err) < 0) {
		/* Valid a moment ago: unreadable now, or rewritten in place. */
		if (r > 0)
			errno = EIO;
		lr->leaf->merge_failure = leaf_path(lr->leaf, opt.output);
		return -1;
	}
	*key = (const char *)lr->key.data;
	*keylen = lr->key.len;
	*record = lr->compact.data;
	*reclen = lr->compact.len;
	return 1;
}

/* An existing output out of key order goes through the sorter, first. */
static void
sort_output(struct leaf *l)
{
	struct lines *lr = &sort_lines;
	const char *key, *rec;
	size_t keylen, reclen;
	int r;

	if (lines_open(lr, l) < 0)
		fail_leaf(l, "out of memory");
	while ((r = output_next(lr, &key, &keylen, &rec, &reclen)) > 0)
		if (runsort_add(l->sorter, key, keylen, rec, reclen) < 0)
			sorter_failed(l);
	if (r < 0)
		fail_leaf(l, "%s: %s", leaf_path(l, opt.output),
		    strerror(errno));
	lines_close(lr);
}

/* stdout, written in large blocks; counts and hashes what it writes. */
struct output {
	char *buf;
	size_t len, cap;
	struct journal_hash hash;
};

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= w;
	}
	return 0;
}

static int frame_write(const char *type, const char *a, size_t alen,
    const char *b, size_t blen);

/* Hashes a then b and writes them on stdout: plain, or as one data frame
 * of the leaf stream.  Hashed by the block: the hash does not depend on
 * the cutting. */
static int
output_write(struct output *o, const char *a, size_t alen, const char *b,
    size_t blen)
{
	journal_hash_update(&o->hash, a, alen);
	journal_hash_update(&o->hash, b, blen);
	if (alen + blen == 0)
		return 0;
	if (streaming ? frame_write("data", a, alen, b, blen) < 0 :
	    write_all(STDOUT_FILENO, a, alen) < 0 ||
	    write_all(STDOUT_FILENO, b, blen) < 0) {
		leaf.merge_failure = "stdout";
		return -1;
	}
	return 0;
}

static int
output_flush(struct output *o)
{
	if (output_write(o, o->buf, o->len, "", 0) < 0)
		return -1;
	o->len = 0;
	return 0;
}

/* runsort_emit_fn: one record and its newline. */
static int
output_record(void *ctx, const char *record, size_t reclen)
{
	struct output *o = ctx;

	stats.records++;
	stats.bytes_out += reclen + 1;
	if (o->len + reclen + 1 > o->cap) {
		if (output_flush(o) < 0)
			return -1;
		if (reclen + 1 > o->cap)
			return output_write(o, record, reclen, "\n", 1);
	}
	memcpy(o->buf + o->len, record, reclen);
	o->buf[o->len + reclen] = '\n';
	o->len += reclen + 1;
	return 0;
}

static void __attribute__((noreturn))
busy(struct leaf *l)
{
	char host[256] = "";
	struct journal j;
	long long pid = 0;

	if (journal_load(l->dirfd, opt.output, &j) == 1) {
		if (claim_holder_alive(&j)) {
			snprintf(host, sizeof(host), "%s", j.host ? j.host : "?");
			pid = j.pid;
		}
		journal_free(&j);
	}
	if (pid != 0)
		fail_leaf(l, "%s: busy: being consolidated by %s pid %lld",
		    diag_quote(l->dir), host, pid);
	fail_leaf(l, "%s: busy: being consolidated by another process",
	    diag_quote(l->dir));
}

/*
 * The claim (the protocol is in jsonl-write(1)).  Looks at the journal:
 * busy if a live process holds it; otherwise learns which sources the
 * existing output already holds and removes the temporaries of dead
 * processes; then, when claiming, writes our claim in state "merging".
 */
static void
leaf_claim_begin(struct leaf *l, int claim)
{
	struct journal *mine = &l->mine;
	int r;

	r = journal_load(l->dirfd, opt.output, &l->previous);
	if (r < 0)
		fail_leaf(l, "%s: %s", leaf_path(l, l->journal_name),
		    errno == EBADMSG ? "not a valid journal (move it away "
		    "once no run is using the leaf)" : strerror(errno));
	l->had_journal = r == 1;
	if (l->had_journal && claim_holder_alive(&l->previous))
		busy(l);
	if (claim_absorbed(l->dirfd, opt.output,
	    l->had_journal ? &l->previous : NULL, &l->absorbed,
	    &l->nabsorbed) < 0)
		fail_leaf(l, "%s: %s", errno == EBADMSG ?
		    leaf_path(l, opt.output) : diag_quote(l->dir),
		    errno == EBADMSG ? "attribute " JOURNAL_ATTR " is not a "
		    "valid journal (remove it once no run is using the leaf)" :
		    strerror(errno));
	if (l->nabsorbed > 1)
		qsort(l->absorbed, l->nabsorbed, sizeof(*l->absorbed),
		    compare_entries);
	if (opt.claim == CLAIM_NEVER)
		return;
	/* Leftovers of dead runs; a failure here harms nothing. */
	claim_remove_dead_temps(l->dirfd, opt.output);
	if (!claim)
		return;

	if (journal_init(mine) < 0)
		fail_leaf(l, "out of memory");
	mine->state = JOURNAL_MERGING;
	if (l->outfd >= 0) {
		mine->has_base = 1;
		journal_identity_from_stat(&mine->base, &l->outst);
	}
	for (size_t i = 0; i < l->nabsorbed; i++)
		if (journal_entries_append(&mine->kept, &mine->nkept,
		    &l->absorbed[i]) < 0)
			fail_leaf(l, "out of memory");
	r = l->had_journal ? journal_store(l->dirfd, opt.output, mine, 0) :
	    journal_create(l->dirfd, opt.output, mine);
	if (r < 0) {
		if (errno == EEXIST)
			busy(l);
		/* A read-only look at a leaf we may not change. */
		if (errno == EACCES || errno == EROFS || errno == EPERM)
			return;
		fail_leaf(l, "%s: %s", leaf_path(l, l->journal_name),
		    strerror(errno));
	}
	l->claimed = 1;
}

/* Marks the claim "merged" with what was consumed and written. */
static void
leaf_claim_finish(struct leaf *l, const struct output *out)
{
	struct journal *mine = &l->mine;

	if (!l->claimed)
		return;
	mine->state = JOURNAL_MERGED;
	mine->sources = l->consumed;
	mine->nsources = l->nconsumed;
	l->consumed = NULL;
	l->nconsumed = 0;
	mine->records = out->hash.records;
	mine->bytes = out->hash.bytes;
	mine->hash = journal_hash_final(&out->hash);
	if (journal_store(l->dirfd, opt.output, mine, 0) < 0)
		fail_leaf(l, "%s: %s", leaf_path(l, l->journal_name),
		    strerror(errno));
}

/*
 * After a failure the claim stays, in state "merging" (in the leaf stream,
 * see below): whatever reached
 * stdout is incomplete, and a jsonl-write downstream must see that and
 * refuse to commit (with no journal at all it would take the stream for a
 * plain write and replace the output with it).  The claim carries the base
 * output and its kept sources, so nothing the previous journal knew is lost;
 * the next run takes the dead claim over.
 */
static void
leaf_claim_abort(struct leaf *l)
{
	struct journal now;

	if (!l->claimed)
		return;
	l->claimed = 0;
	/* In the leaf stream the end frame tells jsonl-write, and a claim
	 * of ours, alive until the stream ends, would keep other runs off
	 * the leaf: a claim that carried nothing from before goes. */
	if (streaming && !l->had_journal) {
		journal_remove(l->dirfd, opt.output);
		return;
	}
	if (journal_load(l->dirfd, opt.output, &now) != 1)
		return;
	if (claim_is_ours(&now) && now.state != JOURNAL_MERGING) {
		l->mine.state = JOURNAL_MERGING;
		journal_store(l->dirfd, opt.output, &l->mine, 0);
	}
	journal_free(&now);
}

static void
fail_leaf(struct leaf *l, const char *fmt, ...)
{
	char msg[PATH_MAX * 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_warnx("%s", msg);
	leaf_claim_abort(l);
	if (opt.stats)
		print_stats(l->dir);
	if (streaming)
		longjmp(failed_leaf, 1);
	exit(EXITCODE_FAILED);
}

/* The message for a failed merge: stdout, the existing output or TMPDIR. */
static const char *
merge_error(struct leaf *l)
{
	static char msg[PATH_MAX * 2];
	const char *tmp = getenv("TMPDIR");
	int saved = errno;

	if (l->merge_failure == NULL)
		l->merge_failure = diag_quote(tmp && *tmp ? tmp : "/tmp");
	snprintf(msg, sizeof(msg), "%s: %s", l->merge_failure,
	    strerror(saved));
	return msg;
}

static const struct option long_options[] = {
	{ "claim", no_argument, NULL, 'C' },
	{ "help", no_argument, NULL, 'h' },
	{ "key", required_argument, NULL, 'k' },
	{ "match", required_argument, NULL, 'm' },
	{ "memory", required_argument, NULL, 'M' },
	{ "min-age", required_argument, NULL, 'a' },
	{ "no-claim", no_argument, NULL, 'N' },
	{ "output", required_argument, NULL, 'o' },
	{ "stats", optional_argument, NULL, 's' },
	{ "strict", no_argument, NULL, 'S' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void
parse_options(int argc, char **argv)
{
	const char *why;
	int c;

	opt.key = "timestamp";
	opt.output = DEFAULT_OUTPUT;
	opt.memory = DEFAULT_MEMORY;
	opt.min_age_ms = SOURCES_DEFAULT_MIN_AGE_MS;
	opt.delim = '\n';
	opt.globs = calloc(argc, sizeof(*opt.globs));
	if (opt.globs == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	while ((c = getopt_long(argc, argv, "0", long_options, NULL)) != -1) {
		switch (c) {
		case '0':
			opt.delim = '\0';
			break;
		case 'a':
			if (units_parse_duration(optarg, &opt.min_age_ms,
			    &why) < 0) {
				diag_warnx("--min-age %s: %s", optarg, why);
				usage();
			}
			break;
		case 'C':
			opt.claim = CLAIM_ALWAYS;
			break;
		case 'h':
			printf("%s%s", usage_text, options_text);
			exit(diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE);
		case 'k':
			opt.key = optarg;
			break;
		case 'm':
			opt.globs[opt.nglobs++] = optarg;
			break;
		case 'M':
			if (units_parse_size(optarg, &opt.memory, &why) < 0) {
				diag_warnx("--memory %s: %s", optarg, why);
				usage();
			}
			if (opt.memory < 1024 * 1024) {
				diag_warnx("--memory %s: too small (at least "
				    "1M)", optarg);
				usage();
			}
			break;
		case 'N':
			opt.claim = CLAIM_NEVER;
			break;
		case 'o':
			opt.output = optarg;
			if (*optarg == '\0' || strchr(optarg, '/') != NULL ||
			    strcmp(optarg, ".") == 0 ||
			    strcmp(optarg, "..") == 0) {
				diag_warnx("--output %s: a file name in DIR, "
				    "without '/'", diag_quote(optarg));
				usage();
			}
			break;
		case 's':
			if (optarg == NULL)
				opt.stats = 1;
			else if (strcmp(optarg, "json") == 0)
				opt.stats = 2;
			else {
				diag_warnx("--stats=%s: expected json", optarg);
				usage();
			}
			break;
		case 'S':
			opt.strict = 1;
			break;
		case 'V':
			printf("json-merge (leafpack) %s\n", LEAFPACK_VERSION);
			exit(diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE);
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
}

/* Opens the existing output, if any, and checks what it is. */
static void
open_output(struct leaf *l)
{
	l->outfd = openat(l->dirfd, opt.output, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (l->outfd < 0) {
		if (errno == ENOENT)
			return;
		fail_leaf(l, "%s: %s", leaf_path(l, opt.output),
		    errno == ELOOP ? "symbolic link" : strerror(errno));
	}
	if (fstat(l->outfd, &l->outst) < 0)
		fail_leaf(l, "%s: %s", leaf_path(l, opt.output),
		    strerror(errno));
	if (!S_ISREG(l->outst.st_mode))
		fail_leaf(l, "%s: not a regular file", leaf_path(l, opt.output));
}

/* Gives back what one leaf held, keeping the buffers, the sorter's arena
 * and the options for the next. */
static void
leaf_reset(struct leaf *l)
{
	if (l->srcfd >= 0)
		source_close(l);
	sources_names_free(l->names, l->nnames);
	l->names = NULL;
	l->nnames = 0;
	lines_close(&check_lines);
	lines_close(&sort_lines);
	lines_close(&merge_lines);
	sortkey_buf_free(&prev_key);
	journal_entries_free(l->consumed, l->nconsumed);
	l->consumed = NULL;
	l->nconsumed = l->consumedcap = 0;
	journal_entries_free(l->absorbed, l->nabsorbed);
	l->absorbed = NULL;
	l->nabsorbed = 0;
	journal_free(&l->previous);
	journal_free(&l->mine);
	if (l->outfd >= 0)
		close(l->outfd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	l->outfd = l->dirfd = -1;
	l->had_journal = l->claimed = l->out_sorted = 0;
	l->merge_failure = NULL;
}

/* Frees what the leaf holds (the process ends anyway; this keeps leak
 * checkers meaningful). */
static void
leaf_free(struct leaf *l)
{
	leaf_reset(l);
	runsort_free(l->sorter);
	jsonscan_keypath_free(&l->keypath);
	sortkey_buf_free(&l->key);
	jsonscan_buf_free(&l->element);
	free(l->scan);
	free(l->buf);
	free(l->journal_name);
	free(opt.globs);
}

/* True when stdout feeds a consumer (jsonl-write) rather than a file. */
static int
stdout_is_pipe(void)
{
	struct stat st;

	return fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* One frame of the leaf stream: "TYPE LENGTH\n", then the bytes of a and
 * b.  A failure means jsonl-write is gone: no leaf can be handed over. */
static int
frame_write(const char *type, const char *a, size_t alen, const char *b,
    size_t blen)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "%s %zu\n", type, alen + blen);

	if (write_all(STDOUT_FILENO, head, (size_t)n) < 0 ||
	    write_all(STDOUT_FILENO, a, alen) < 0 ||
	    write_all(STDOUT_FILENO, b, blen) < 0) {
		stdout_broken = 1;
		return -1;
	}
	return 0;
}

/*
 * Nothing to hand over: no new source, and none recorded as kept.  In the
 * leaf stream the leaf is left as it is (no rewrite of the output with the
 * same records) and the claim, ours or a dead run's with nothing in it,
 * is removed.
 */
static int
leaf_is_idle(const struct leaf *l)
{
	return l->nconsumed == 0 && l->nabsorbed == 0;
}

/* Merges the leaf l->dir onto stdout; returns EXITCODE_DONE or EXITCODE_PARTIAL
 * (failures go through fail_leaf()), and sets *idle. */
static int
merge_leaf(struct leaf *l, struct output *out, int *idle)
{
	struct runsort_input first = { output_next, &merge_lines };
	int partial = 0;

	*idle = 0;
	l->dirfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		fail_leaf(l, "%s: %s", diag_quote(l->dir), strerror(errno));
	open_output(l);
	leaf_claim_begin(l, opt.claim == CLAIM_ALWAYS ||
	    (opt.claim == CLAIM_AUTO && (streaming || stdout_is_pipe())));

	/* Check the existing output before a byte goes out. */
	if (l->outfd >= 0)
		check_output(l);
	if (l->sorter == NULL)
		l->sorter = runsort_new(opt.memory, NULL);
	else if (runsort_reset(l->sorter) < 0) {
		runsort_free(l->sorter);
		l->sorter = NULL;
	}
	if (l->sorter == NULL)
		sorter_failed(l);
	if (l->outfd >= 0 && !l->out_sorted)
		sort_output(l);

	sources_rules_init(&l->rules, opt.globs, opt.nglobs, opt.output,
	    opt.min_age_ms);
	if (sources_list(l->dirfd, &l->rules, &l->names, &l->nnames) < 0)
		fail_leaf(l, "%s: %s", diag_quote(l->dir), strerror(errno));
	for (size_t i = 0; i < l->nnames; i++)
		partial |= consume_source(l, l->names[i]);

	if (streaming && leaf_is_idle(l)) {
		/* A commit record on the output whose sources are all gone
		 * (a crash after their removal) holds nothing back; a rewrite
		 * would have dropped it.  Ours to drop: we hold the claim. */
		if (l->claimed && l->outfd >= 0)
			fremovexattr(l->outfd, JOURNAL_ATTR);
		if (l->claimed && journal_remove(l->dirfd, opt.output) < 0 &&
		    errno != ENOENT)
			fail_leaf(l, "%s: %s", leaf_path(l, l->journal_name),
			    strerror(errno));
		l->claimed = 0;
		*idle = 1;
		return partial ? EXITCODE_PARTIAL : EXITCODE_DONE;
	}
	journal_hash_init(&out->hash);
	out->len = 0;
	if (l->outfd >= 0 && l->out_sorted && lines_open(&merge_lines, l) < 0)
		fail_leaf(l, "out of memory");
	if (runsort_finish(l->sorter, l->outfd >= 0 && l->out_sorted ?
	    &first : NULL, output_record, out) < 0 || output_flush(out) < 0)
		fail_leaf(l, "%s", merge_error(l));
	if (l->outfd >= 0) {
		struct stat now;

		if (fstat(l->outfd, &now) < 0 || !same_file(&l->outst, &now))
			fail_leaf(l, "%s: changed while read",
			    leaf_path(l, opt.output));
	}
	leaf_claim_finish(l, out);
	return partial ? EXITCODE_PARTIAL : EXITCODE_DONE;
}

/* The leaf stream: every directory named on stdin, framed on stdout. */
static int
merge_stream(struct leaf *l, struct output *out)
{
	struct pathstream in;
	char *dir, *target;
	ssize_t len;
	int worst = EXITCODE_DONE;

	streaming = 1;
	pathstream_init(&in, stdin, opt.delim);
	while (!stdout_broken && (len = pathstream_read(&in, &dir)) > 0) {
		/* Both survive a longjmp() from fail_leaf(). */
		volatile int status = EXITCODE_FAILED;
		static int idle;
		json_object *end;
		const char *text;

		if ((size_t)len != strlen(dir)) {
			diag_warnx("stdin: record %llu holds a NUL byte "
			    "(use -0)", in.count);
			worst = EXITCODE_FAILED;
			continue;
		}
		memset(&stats, 0, sizeof(stats));
		clock_gettime(CLOCK_MONOTONIC, &stats.start);
		l->dir = dir;
		if (asprintf(&target, "%s%s%s", dir, dir[len - 1] == '/' ?
		    "" : "/", opt.output) < 0)
			diag_err(EXITCODE_FAILED, "out of memory");
		if (frame_write("leaf", target, strlen(target), "\n", 1) < 0) {
			free(target);
			break;
		}
		free(target);
		idle = 0;
		if (setjmp(failed_leaf) == 0) {
			status = merge_leaf(l, out, &idle);
			if (opt.stats)
				print_stats(l->dir);
		}
		leaf_reset(l);
		if (status > worst)
			worst = status;
		end = stats_json();
		json_object_object_add(end, "status",
		    json_object_new_int(status));
		json_object_object_add(end, "unchanged",
		    json_object_new_boolean(idle));
		text = json_object_to_json_string_ext(end,
		    JSON_C_TO_STRING_PLAIN);
		frame_write("end", text, strlen(text), "\n", 1);
		json_object_put(end);
	}
	if (!stdout_broken && ferror(stdin)) {
		diag_warn("stdin");
		worst = EXITCODE_FAILED;
	}
	if (stdout_broken) {
		diag_warn("stdout");
		worst = EXITCODE_FAILED;
	}
	pathstream_free(&in);
	return worst;
}

int
main(int argc, char **argv)
{
	static struct output out;
	struct leaf *l = &leaf;
	int status;

	diag_init(argv[0]);
	clock_gettime(CLOCK_MONOTONIC, &stats.start);
	parse_options(argc, argv);
	l->outfd = l->dirfd = l->srcfd = -1;
	if (jsonscan_keypath_parse(opt.key, &l->keypath) < 0) {
		diag_warnx("--key %s: not a dotted path of member names",
		    diag_quote(opt.key));
		usage();
	}
	l->cap = READ_SIZE;
	out.cap = WRITE_SIZE;
	l->buf = malloc(l->cap);
	out.buf = malloc(out.cap);
	l->scan = malloc(sizeof(*l->scan));
	if (l->buf == NULL || out.buf == NULL || l->scan == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	if ((l->journal_name = journal_name(opt.output)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");

	if (optind == argc) {
		status = merge_stream(l, &out);
	} else {
		int idle;

		l->dir = argv[optind];
		status = merge_leaf(l, &out, &idle);
		if (close(STDOUT_FILENO) < 0)
			fail_leaf(l, "stdout: %s", strerror(errno));
		if (opt.stats)
			print_stats(l->dir);
	}
	free(out.buf);
	leaf_free(l);
	if (streaming && diag_close_stdout() < 0)
		status = EXITCODE_FAILED;
	return status;
}
