/*
 * verify.c - checking a finished leaf (see verify.h).
 */
#include "verify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "claim.h"
#include "journal.h"
#include "jsonlines.h"
#include "share.h"
#include "sortkey.h"

/* One leaf being checked. */
struct check {
	const char *dir, *name;
	char *outpath;			/* DIR/NAME, the name calls go by */
	verify_problem_fn *problem;
	void *ctx;
	struct verify_counts *counts;
	char *failed;			/* what a failed call was reading */
	unsigned long long told;	/* problems told of the current file */
	unsigned long long untold;	/* and those past VERIFY_MAX_TOLD */
};

static char *
join(const char *dir, const char *entry)
{
	char *path;

	if (asprintf(&path, "%s/%s", dir, entry) < 0)
		return NULL;
	return path;
}

/* Tells of a problem with DIR/entry at line (0: the whole file). */
__attribute__((format(printf, 4, 5)))
static void
problem(struct check *c, const char *entry, unsigned long long line,
    const char *fmt, ...)
{
	char what[512], *path;
	va_list ap;

	c->counts->problems++;
	if (c->told >= VERIFY_MAX_TOLD) {
		c->untold++;
		return;
	}
	c->told++;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	path = join(c->dir, entry);
	c->problem(c->ctx, path != NULL ? path : entry, line, what);
	free(path);
}

/* Done with one file: the problems not told of are counted aloud. */
static void
file_done(struct check *c, const char *entry)
{
	unsigned long long untold = c->untold;

	if (untold > 0) {
		c->told = 0;
		c->counts->problems--;	/* the summary is no problem */
		problem(c, entry, 0, "%llu more problems not shown", untold);
	}
	c->told = c->untold = 0;
}

/* A call on entry failed: remembered, for the caller's message; -1. */
static int
failed(struct check *c, const char *entry)
{
	int saved = errno;

	free(c->failed);
	c->failed = entry != NULL ? join(c->dir, entry) : strdup(c->dir);
	errno = saved;
	return -1;
}

static int
compare_keys(const struct sortkey_buf *a, const struct sortkey_buf *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int r = n == 0 ? 0 : memcmp(a->data, b->data, n);

	if (r != 0)
		return r;
	return (a->len > b->len) - (a->len < b->len);
}

/* The record of the output (its attribute, or the journal file's
 * committed record that names it) against what the lines add up to. */
static void
check_record(struct check *c, const struct journal *rec,
    const struct journal_hash *h, const char *where)
{
	uint64_t hash = journal_hash_final(h);

	c->counts->has_record = true;
	if (rec->bytes != h->bytes)
		problem(c, c->name, 0, "the commit record (%s) says %llu bytes; "
		    "the file has %llu", where, rec->bytes, h->bytes);
	if (rec->records != h->records)
		problem(c, c->name, 0, "the commit record (%s) says %llu "
		    "records; the file has %llu lines", where, rec->records,
		    h->records);
	if (rec->bytes == h->bytes && rec->hash != hash)
		problem(c, c->name, 0, "the commit record (%s) holds hash "
		    "%016" PRIx64 "; the file hashes to %016" PRIx64
		    " (its bytes changed after the commit)", where, rec->hash,
		    hash);
}

/* Every line of the output open as fd: one JSON value, compact, ended, in
 * key order; hashed into *h as jsonl-write hashes what it commits. */
static int
check_lines(struct check *c, int fd, const struct jsonscan_keypath *key,
    struct journal_hash *h)
{
	struct sortkey_buf prev = { 0 };
	struct jsonlines r = { 0 };
	struct jsonscan_error err;
	enum jsonlines_status st;
	unsigned long long prev_line = 0;
	int ret = 0;

	if (jsonlines_rewind(&r, fd, c->outpath, key) < 0)
		return failed(c, c->name);
	while ((st = jsonlines_next(&r, &err)) != JSONLINES_END) {
		if (st == JSONLINES_READ_ERROR || st == JSONLINES_NO_MEMORY) {
			if (st == JSONLINES_NO_MEMORY)
				errno = ENOMEM;
			ret = failed(c, c->name);
			break;
		}
		journal_hash_update(h, r.line, r.line_len);
		if (r.line_ended)
			journal_hash_update(h, "\n", 1);
		else
			problem(c, c->name, r.lineno, "no newline at the end "
			    "of the last line");
		if (st == JSONLINES_INVALID) {
			problem(c, c->name, r.lineno, "not one JSON value: %s "
			    "(column %lu)", err.reason, err.column);
			continue;
		}
		if (r.record.len != r.line_len)
			problem(c, c->name, r.lineno, "not compact (%zu bytes; "
			    "compact, %zu)", r.line_len, r.record.len);
		if (prev_line > 0 && compare_keys(&r.sortkey, &prev) < 0)
			problem(c, c->name, r.lineno, "out of order: its key "
			    "sorts before line %llu's", prev_line);
		if (RESERVE(prev.data, prev.cap, r.sortkey.len) < 0) {
			ret = failed(c, c->name);
			break;
		}
		if (r.sortkey.len > 0)
			memcpy(prev.data, r.sortkey.data, r.sortkey.len);
		prev.len = r.sortkey.len;
		prev_line = r.lineno;
	}
	/* jsonlines counts a last line without '\n' too: so do we. */
	if (h->records < r.lineno && ret == 0)
		h->records = r.lineno;
	c->counts->lines += r.lineno;
	jsonlines_free(&r);
	free(prev.data);
	return ret;
}

/* The output, if there is one: its lines, and its attribute's record. */
static int
check_output(struct check *c, const struct jsonscan_keypath *key,
    struct stat *st, struct journal_hash *h, bool *attr_record)
{
	struct journal rec;
	int fd, r;

	*attr_record = false;
	/* By its whole path, which a stall then names. */
	fd = share_open(c->outpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP) {
		problem(c, c->name, 0, "a symbolic link, not the output");
		return 0;
	}
	if (fd < 0 || share_fstat(fd, c->outpath, st) < 0)
		goto fail;
	if (!S_ISREG(st->st_mode)) {
		problem(c, c->name, 0, "not a regular file");
		share_close_quietly(&fd, c->outpath);
		return 0;
	}
	c->counts->has_output = true;
	c->counts->bytes += (unsigned long long)st->st_size;
	if (check_lines(c, fd, key, h) < 0) {
		share_close_quietly(&fd, c->outpath);
		return -1;
	}
	if ((unsigned long long)st->st_size != h->bytes)
		problem(c, c->name, 0, "read %llu bytes of %lld (it changed "
		    "while read)", h->bytes, (long long)st->st_size);
	r = journal_attr_load_fd(fd, c->outpath, st, &rec);
	if (r < 0 && errno == EBADMSG)
		problem(c, c->name, 0, "its commit record (attribute %s) is "
		    "not a well-formed journal", JOURNAL_ATTR);
	else if (r < 0)
		goto fail;
	else if (r == 1) {
		*attr_record = true;
		check_record(c, &rec, h, "attribute");
		journal_free(&rec);
	}
	if (share_close(fd, c->outpath) < 0)
		return failed(c, c->name);
	return 0;
fail:
	r = failed(c, c->name);
	if (fd >= 0)
		share_close_quietly(&fd, c->outpath);
	return r;
}

/* The journal file .NAME.journal, if any: a claim, the output's record,
 * or something left behind. */
static int
check_journal(struct check *c, int dirfd, const struct stat *st,
    const struct journal_hash *h, bool attr_record)
{
	char *jname = journal_name(c->name);
	struct journal j;
	int r;

	if (jname == NULL)
		return failed(c, NULL);
	r = journal_load(dirfd, c->name, &j);
	if (r < 0 && errno == EBADMSG) {
		problem(c, jname, 0, "not a well-formed journal");
		r = 0;
		goto out;
	}
	if (r < 0) {
		r = failed(c, jname);
		goto out;
	}
	if (r == 0) {
		/* No journal: j is initialized all the same. */
		journal_free(&j);
		goto out;
	}
	if (j.state != JOURNAL_COMMITTED)
		problem(c, jname, 0, claim_holder_alive(&j) ?
		    "a claim (%s) of a run still at work (host %s, pid %lld)" :
		    "a claim (%s) left by a run that ended (host %s, pid "
		    "%lld): a rerun finishes the leaf",
		    journal_state_name(j.state), j.host != NULL ? j.host : "?",
		    j.pid);
	else if (!c->counts->has_output || !journal_record_is_of(&j, st))
		problem(c, jname, 0, "the record of an output that is gone "
		    "(inode %llu)", j.output_ino);
	else if (attr_record)
		problem(c, jname, 0, "left beside the output, whose attribute "
		    "holds the record");
	else
		check_record(c, &j, h, "journal file");
	journal_free(&j);
	r = 0;
out:
	file_done(c, jname);
	free(jname);
	return r;
}

/* The temporaries of runs, and the mark of a staged commit cut short,
 * in a listing of the leaf. */
static int
check_leftovers(struct check *c, int dirfd)
{
	static struct share_dir dir;	/* 32 KiB: not on the stack */
	const char *entry;
	long long pid;

	if (share_dir_start(&dir, dirfd, NULL) < 0)
		return failed(c, NULL);
	while ((entry = share_dir_next(&dir)) != NULL) {
		switch (journal_classify(entry, c->name, &pid)) {
		case JOURNAL_FILE_TEMP:
			problem(c, entry, 0, "a temporary file of a run "
			    "(pid %lld)", pid);
			break;
		case JOURNAL_FILE_STAGED:
			problem(c, entry, 0, "a staged commit cut short: "
			    "its records wait in a staging directory "
			    "(see leafpack(1), --staging)");
			break;
		default:
			continue;
		}
		file_done(c, entry);
	}
	return errno != 0 ? failed(c, NULL) : 0;
}

int
verify_leaf(const char *dir, const char *name,
    const struct jsonscan_keypath *key, verify_problem_fn *fn, void *ctx,
    struct verify_counts *counts, char **failed_path)
{
	struct check c = {
		.dir = dir, .name = name, .problem = fn, .ctx = ctx,
		.counts = counts,
	};
	struct journal_hash h;
	struct stat st = { 0 };
	bool attr_record = false;
	int dirfd, r = -1;

	*failed_path = NULL;
	journal_hash_init(&h);
	if ((c.outpath = join(dir, name)) == NULL)
		return -1;
	if ((dirfd = share_open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		failed(&c, NULL);
		goto out;
	}
	if (check_output(&c, key, &st, &h, &attr_record) == 0) {
		file_done(&c, name);
		if (check_journal(&c, dirfd, &st, &h, attr_record) == 0 &&
		    check_leftovers(&c, dirfd) == 0)
			r = 0;
	}
	share_close_quietly(&dirfd, dir);
out:
	if (r < 0) {
		int saved = errno;

		*failed_path = c.failed;
		errno = saved;
	} else
		free(c.failed);
	free(c.outpath);
	return r;
}
