/*
 * mergesources.c - which of a leaf's files json-merge reads, and reading
 * them into the sorter (mergesources.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "mergesources.h"
#include "share.h"

/* A source left for a later run: modified within --min-age. */
void
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
 * *skipped 1 when that makes the run partial (it is named on stderr), -1
 * when the leaf fails (said).
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
		switch (claim_holds(&l->claim, name, st)) {
		case 1:
			*skipped = 0;
			break;
		case 0:
			if (!sources_held_open(fd, name))
				return fd;
			source_held(l, name);
			*skipped = 0;
			break;
		default:
			/* Not knowing whether the output holds it, reading it
			 * could double its records. */
			diag_warn("%s: the output's list of sources",
			    diag_quote(l->dir));
			*skipped = -1;
			break;
		}
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
	struct journal_entry e;

	l->stats.sources++;
	l->stats.bytes_in += st->st_size;
	journal_entry_from_stat(&e, name, st);
	if (journal_entries_add(&l->consumed, &e) < 0) {
		if (errno == ENOMEM)
			return out_of_memory();
		diag_warn("%s: the list of consumed sources",
		    diag_quote(l->dir));
		return -1;
	}
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
int
list_sources(struct leaf *l)
{
	if (l->listed)
		return 0;
	sources_rules_init(&l->rules, opt.globs, opt.nglobs, opt.output,
	    opt.min_age_ms);
	l->rules.staged = &l->staged_mark;
	l->rules.temps = &l->temps_seen;
	if (sources_list(l->dirfd, &l->rules, &l->names) < 0) {
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
int
has_work(struct leaf *l)
{
	struct spill young = { 0 };
	struct spill_cursor c;
	const char *name;
	int work = 0, r;
	struct stat st;

	if (claim_unfinished(&l->claim) ||
	    (l->claim.absorbed.count > 0 && !opt.keep_sources))
		return 1;
	if (list_sources(l) < 0)
		return -1;
	spill_cursor_init(&c, &l->names);
	while (!work && (r = sources_next(&c, &name)) == 1) {
		/* Gone, or unreadable: said by the reading, if any. */
		if (share_fstatat(l->dirfd, name, &st,
		    AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		switch (sources_classify(&l->rules, name, &st)) {
		case SOURCES_ELIGIBLE:
			if ((work = claim_holds(&l->claim, name, &st)) >= 0)
				work = !work;
			break;
		case SOURCES_TOO_YOUNG:
			/* Only their names, in a list of bounded memory. */
			if (spill_add(&young, name, strlen(name) + 1) < 0)
				work = -1;
			break;
		default:
			break;
		}
	}
	spill_cursor_free(&c);
	if (work == 0 && r < 0)
		work = -1;
	/* With work the reading counts them, each once. */
	spill_cursor_init(&c, &young);
	while (work == 0 && sources_next(&c, &name) == 1)
		source_young(l, name);
	spill_cursor_free(&c);
	spill_free(&young);
	if (work < 0)
		diag_warn("%s: the list of sources", diag_quote(l->dir));
	return work;
}

/* Lists the sources and consumes them: 0, 1 (partial) or -1. */
int
consume_sources(struct leaf *l)
{
	struct spill_cursor c;
	const char *name;
	int partial = 0, r;

	if (list_sources(l) < 0)
		return -1;
	spill_cursor_init(&c, &l->names);
	while ((r = sources_next(&c, &name)) == 1) {
		int consumed = consume_source(l, name);

		if (consumed < 0) {
			spill_cursor_free(&c);
			return -1;
		}
		partial |= consumed;
	}
	if (r < 0)
		diag_warn("%s: the list of sources", diag_quote(l->dir));
	spill_cursor_free(&c);
	return r < 0 ? -1 : partial;
}
