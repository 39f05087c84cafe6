/*
 * claim.c - the claim protocol over the journal (see claim.h).
 */
#include "claim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "share.h"
#include "watch.h"
#include "xstd.h"

int
claim_remove_dead_temps(int dirfd, const char *name)
{
	static struct share_dir dir;	/* 32 KiB: not on the stack */
	const char *entry;
	long long pid;
	int fd, removed = 0;

	/* A descriptor of its own: dirfd may be AT_FDCWD. */
	fd = share_openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (share_dir_start(&dir, fd, NULL) < 0) {
		share_close_quietly(&fd, NULL);
		return -1;
	}
	/* The unlinks do not disturb the listing: getdents64 goes on from
	 * the directory's offset, past what it gave. */
	while ((entry = share_dir_next(&dir)) != NULL) {
		if (journal_classify(entry, name, &pid) != JOURNAL_FILE_TEMP)
			continue;
		if (pid == getpid() || claim_pid_alive(pid, 0))
			continue;
		if (share_unlinkat(dirfd, entry, 0) == 0)
			removed++;
	}
	share_close_quietly(&fd, NULL);
	return removed;
}

/* ---- absorbed sources ---- */

/* Appends the entries of from that are still the files they name to
 * out. */
static int
append_still_matching(int dirfd, const struct spill *from, struct spill *out)
{
	struct spill_cursor c;
	struct journal_entry e;
	int r;

	spill_cursor_init(&c, from);
	while ((r = journal_entries_next(&c, &e)) == 1)
		if (journal_identity_matches(dirfd, e.name, &e.id) &&
		    journal_entries_add(out, &e) < 0) {
			r = -1;
			break;
		}
	spill_cursor_free(&c);
	return r;
}

/* claim_absorbed(), of the output open as outfd (its fstat outst) when
 * outfd >= 0: the record and the identity of the very file read.  With
 * known set, outfd -1 means the caller found no output (a look at it
 * again would cost a round trip and tell nothing: an output that came
 * since is not the base of our claim, which jsonl-write checks). */
static int
absorbed(int dirfd, const char *name, int outfd, const struct stat *outst,
    bool known, const struct journal *j, struct spill *out, bool *recorded)
{
	struct journal attr;
	struct stat st;
	int have_output, r, failed = 0, saved;

	memset(out, 0, sizeof(*out));
	*recorded = false;
	/* The record on the output describes exactly that inode's bytes: it
	 * came into place with them, so it wins over any journal file. */
	if (outfd >= 0)
		r = journal_attr_load_fd(outfd, name, outst, &attr);
	else
		r = known ? 0 : journal_attr_load(dirfd, name, &attr);
	if (r == -1)
		return -1;
	if (r == 1) {
		*recorded = true;
		failed = append_still_matching(dirfd, &attr.kept, out) == -1 ||
		    append_still_matching(dirfd, &attr.sources, out) == -1;
		saved = errno;
		journal_free(&attr);
		errno = saved;
	} else if (j != NULL) {
		if (outfd >= 0) {
			st = *outst;
			have_output = 1;
		} else if (known)
			have_output = 0;
		else if (!(have_output = share_fstatat(dirfd, name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0) && errno != ENOENT)
			return -1;
		if (have_output && journal_record_is_of(j, &st))
			failed = append_still_matching(dirfd, &j->kept,
			    out) == -1 || append_still_matching(dirfd,
			    &j->sources, out) == -1;
		else if (have_output && journal_base_is(j, &st))
			failed = append_still_matching(dirfd, &j->kept,
			    out) == -1;
	}
	if (failed || journal_entries_sort(out) < 0) {
		saved = errno;
		spill_free(out);
		/* Not EBADMSG, which callers read as a malformed record. */
		errno = saved == EBADMSG ? EIO : saved;
		return -1;
	}
	return 0;
}

int
claim_absorbed(int dirfd, const char *name, const struct journal *j,
    struct spill *out)
{
	bool recorded;

	return absorbed(dirfd, name, -1, NULL, false, j, out, &recorded);
}

/* The walk one entry on: 0, or -1. */
static int
walk_step(struct claim_walk *w)
{
	int r = journal_entries_next(&w->c, &w->e);

	if (r < 0)
		return -1;
	w->state = r == 1 ? 1 : 2;
	return 0;
}

int
claim_entries_hold(const struct spill *list, struct claim_walk *w,
    const char *name, const struct stat *st)
{
	struct journal_identity id;
	int c;

	if (list->count == 0)
		return 0;
	if (w->state != 0 && strcmp(name, w->last.data) <= 0) {
		spill_cursor_free(&w->c);
		w->state = 0;
	}
	if (w->state == 0) {
		spill_cursor_init(&w->c, list);
		if (walk_step(w) < 0)
			goto fail;
	}
	w->last.len = 0;
	if (buf_append(&w->last, name, strlen(name) + 1) < 0)
		goto fail;
	journal_identity_from_stat(&id, st);
	while (w->state == 1 && (c = strcmp(w->e.name, name)) <= 0) {
		if (c == 0 && journal_identity_equal(&w->e.id, &id))
			return 1;
		if (walk_step(w) < 0)
			goto fail;
	}
	return 0;
fail:
	/* Begun again at the next question. */
	spill_cursor_free(&w->c);
	w->state = 0;
	return -1;
}

void
claim_walk_free(struct claim_walk *w)
{
	spill_cursor_free(&w->c);
	buf_free(&w->last);
	memset(w, 0, sizeof(*w));
}

/* ---- json-merge: claiming a leaf ---- */

static void
note_busy(struct claim *c, const struct journal *holder)
{
	c->busy_host[0] = '\0';
	c->busy_pid = 0;
	if (holder != NULL && claim_holder_alive(holder)) {
		snprintf(c->busy_host, sizeof(c->busy_host), "%s",
		    holder->host ? holder->host : "?");
		c->busy_pid = holder->pid;
	}
}

enum claim_begin
claim_look(struct claim *c, int dirfd, const char *output, int outfd,
    const struct stat *outst)
{
	bool recorded;
	int r;

	claim_free(c);
	c->dirfd = dirfd;
	c->output = output;
	if ((c->has_output = outfd >= 0))
		c->outst = *outst;
	r = journal_load(dirfd, output, &c->previous);
	if (r < 0)
		return CLAIM_BAD_JOURNAL;
	c->had_journal = r == 1;
	if (c->had_journal && claim_holder_alive(&c->previous)) {
		note_busy(c, &c->previous);
		return CLAIM_BUSY;
	}
	if (absorbed(dirfd, output, outfd, outst, true, c->had_journal ?
	    &c->previous : NULL, &c->absorbed, &recorded) < 0)
		return errno == EBADMSG ? CLAIM_BAD_RECORD : CLAIM_BAD_DIR;
	/* Only the previous journal's header is looked at from here on (who
	 * held it, when, its state): its entries, one per source, are in
	 * absorbed now, or held nothing. */
	spill_free(&c->previous.kept);
	spill_free(&c->previous.sources);
	/* A commit record whose sources are all gone (a run killed after
	 * removing them) holds nothing back; clearing it needs a claim. */
	c->leftover = c->absorbed.count == 0 && (recorded || (c->had_journal &&
	    c->previous.state == JOURNAL_COMMITTED));
	return CLAIM_BEGUN;
}

bool
claim_unfinished(const struct claim *c)
{
	return (c->had_journal && c->previous.state != JOURNAL_COMMITTED) ||
	    c->leftover;
}

enum claim_begin
claim_begin(struct claim *c, int dirfd, const char *output, int outfd,
    const struct stat *outst, enum claim_mode mode)
{
	enum claim_begin r = claim_look(c, dirfd, output, outfd, outst);

	if (r != CLAIM_BEGUN)
		return r;
	return claim_take(c, mode);
}

/* Frees our claim's journal, whose kept entries are absorbed's. */
static void
mine_free(struct claim *c)
{
	memset(&c->mine.kept, 0, sizeof(c->mine.kept));
	journal_free(&c->mine);
}

/* True when the leaf's journal is still the dead one claim_look() read;
 * else notes who holds it now.  now is left freed. */
static bool
still_previous(struct claim *c, struct journal *now)
{
	const struct journal *was = &c->previous;
	bool same;

	if (journal_load(c->dirfd, c->output, now) != 1) {
		journal_free(now);
		/* Gone: whoever removed it holds the leaf, or finished it. */
		c->busy_host[0] = '\0';
		c->busy_pid = 0;
		return false;
	}
	same = now->pid == was->pid && now->state == was->state &&
	    now->file_mtime_ns == was->file_mtime_ns && now->host != NULL &&
	    was->host != NULL && strcmp(now->host, was->host) == 0;
	if (!same)
		note_busy(c, now);
	journal_free(now);
	return same;
}

enum claim_begin
claim_take(struct claim *c, enum claim_mode mode)
{
	struct journal *mine = &c->mine, now;
	int dirfd = c->dirfd, r;
	const char *output = c->output;

	if (mode == CLAIM_LOOK)
		return CLAIM_BEGUN;
	/* Leftovers of dead runs; a failure here harms nothing.  One made
	 * since the caller's listing is a live run's. */
	if (!c->temps_unseen)
		claim_remove_dead_temps(dirfd, output);
	if (mode == CLAIM_PREPARE)
		return CLAIM_BEGUN;

	/* A claim taken again (moved to the staging directory) is made
	 * anew. */
	mine_free(c);
	if (journal_init(mine) < 0)
		return CLAIM_NO_MEMORY;
	mine->state = JOURNAL_MERGING;
	mine->start_ticks = claim_own_start_ticks();
	if (c->has_output) {
		mine->has_base = 1;
		journal_identity_from_stat(&mine->base, &c->outst);
		/* The output's ctime moves with its attribute (a record
		 * dropped): not part of what says it is the one read. */
		mine->base.ctime_ns = 0;
	}
	/* The kept sources are absorbed itself, borrowed (mine_free()): a
	 * copy would cost another entry per source. */
	mine->kept = c->absorbed;
	/* A dead run's journal is replaced, if it is still that one (another
	 * run may have taken it over since we looked); none is created
	 * exclusively, so that of two runs starting at once one gets the
	 * leaf. */
	if (c->had_journal && !still_previous(c, &now))
		return CLAIM_BUSY;
	r = c->had_journal ? journal_store(dirfd, output, mine, 0) :
	    journal_create(dirfd, output, mine);
	if (r < 0) {
		if (errno == EEXIST) {
			/* Another run's claim came first. */
			if (journal_load(dirfd, output, &now) == 1)
				note_busy(c, &now);
			journal_free(&now);
			return CLAIM_BUSY;
		}
		/* A read-only look at a leaf we may not change. */
		if (errno == EACCES || errno == EROFS || errno == EPERM)
			return CLAIM_READ_ONLY;
		return CLAIM_CANNOT_WRITE;
	}
	c->claimed = true;
	return CLAIM_BEGUN;
}

int
claim_holds(struct claim *c, const char *name, const struct stat *st)
{
	return claim_entries_hold(&c->absorbed, &c->walk, name, st);
}

/* True when the leaf's journal is still our claim, then open in f; else
 * notes the holder.  Where our own journal cannot be opened for writing
 * (a umask that took its write bit), f->fd is -1 and it is replaced. */
static bool
claim_still_ours(struct claim *c, struct journal_held *f)
{
	struct journal now;
	bool ours;
	int r;

	r = journal_open(c->dirfd, c->output, &now, f);
	if (r == -1 && errno == EACCES)
		r = journal_load(c->dirfd, c->output, &now);
	if (r != 1) {
		journal_free(&now);
		return false;
	}
	ours = claim_is_ours(&now);
	if (!ours) {
		note_busy(c, &now);
		journal_held_close(f);
	}
	journal_free(&now);
	return ours;
}

int
claim_finish(struct claim *c, struct spill *consumed,
    const struct journal_hash *written)
{
	struct journal *mine = &c->mine;
	struct journal_held f;

	if (!c->claimed) {
		spill_free(consumed);
		return 0;
	}
	/* A run that took the leaf over at the same time as we did (both
	 * found the same dead claim) replaced ours: it has the leaf. */
	if (!claim_still_ours(c, &f)) {
		spill_free(consumed);
		c->claimed = false;
		errno = EBUSY;
		return -1;
	}
	mine->state = JOURNAL_MERGED;
	spill_move(&mine->sources, consumed);
	mine->records = written->records;
	mine->bytes = written->bytes;
	mine->hash = journal_hash_final(written);
	/* Added to the claim, the file that was just found to be ours: no
	 * new file (an inode, and a rename) for it. */
	if (f.fd >= 0)
		return journal_append(&f, mine);
	return journal_store(c->dirfd, c->output, mine, 0);
}

void
claim_abort(struct claim *c, bool remove_if_new)
{
	struct journal now;
	int saved = errno;

	if (!c->claimed)
		return;
	c->claimed = false;
	if (remove_if_new && !c->had_journal) {
		journal_remove(c->dirfd, c->output);
		errno = saved;
		return;
	}
	if (journal_load(c->dirfd, c->output, &now) == 1 &&
	    claim_is_ours(&now) && now.state != JOURNAL_MERGING) {
		c->mine.state = JOURNAL_MERGING;
		journal_store(c->dirfd, c->output, &c->mine, 0);
	}
	/* Loaded or not (0 still holds the host name): freed. */
	journal_free(&now);
	errno = saved;
}

bool
claim_idle(const struct claim *c, size_t nconsumed)
{
	return nconsumed == 0 && c->absorbed.count == 0;
}

int
claim_withdraw_idle(struct claim *c, int outfd)
{
	if (!c->claimed)
		return 0;
	/* Ours to drop: we hold the claim, and the record names no source
	 * that is still there (none is absorbed). */
	if (outfd >= 0)
		share_fremovexattr(outfd, c->output, JOURNAL_ATTR);
	if (journal_remove(c->dirfd, c->output) < 0 && errno != ENOENT)
		return -1;
	c->claimed = false;
	return 0;
}

void
claim_free(struct claim *c)
{
	/* Without a journal file, journal_load() still left a host name in
	 * previous (after an error nothing: freeing it is harmless). */
	journal_free(&c->previous);
	mine_free(c);
	spill_free(&c->absorbed);
	claim_walk_free(&c->walk);
	memset(c, 0, sizeof(*c));
	c->dirfd = -1;
}

/* ---- jsonl-write: checking a claim and committing ---- */

enum claim_check
claim_check(int dirfd, const char *output, const struct journal_hash *written,
    int flags, struct journal *claim)
{
	struct spill held;
	struct journal_identity now;
	struct stat st;
	size_t nheld;
	int r, have_output;
	enum claim_check verdict;

	r = journal_load(dirfd, output, claim);
	if (r == -1)
		return CLAIM_CHECK_ERROR;
	if (r == 1 && claim->state != JOURNAL_COMMITTED && claim->pgid > 0 &&
	    claim->pgid != (long long)getpgrp() && claim->host != NULL &&
	    strcmp(claim->host, journal_this_host()) == 0)
		/* Not our upstream's: it lost the leaf to that run. */
		return claim_holder_alive(claim) ? CLAIM_HELD : CLAIM_MISSING;
	if (r == 0) {
		journal_free(claim);
		if (flags & (CLAIM_CHECK_STREAM | CLAIM_CHECK_REMOVE))
			return CLAIM_MISSING;
		/* The output's own record naming sources that are still there
		 * forbids a plain write, as a committed journal file does.  One
		 * whose sources are all gone only missed its removal. */
		if (claim_absorbed(dirfd, output, NULL, &held) == -1)
			return CLAIM_RECORD_ERROR;
		nheld = held.count;
		spill_free(&held);
		return nheld > 0 ? CLAIM_RECORD_HOLDS : CLAIM_NONE;
	}
	verdict = CLAIM_READY;
	if (claim->state == JOURNAL_MERGING)
		verdict = CLAIM_MERGING;
	else if (claim->state == JOURNAL_COMMITTED)
		/* Replacing the output behind json-merge's back would make its
		 * kept sources count twice on the next run. */
		verdict = CLAIM_COMMITTED;
	/*
	 * Input that differs from what json-merge wrote has been through a
	 * filter (json-merge DIR | jq ... | jsonl-write), which is how the
	 * tools are meant to be combined, so it is accepted: the claim is
	 * complete, so json-merge finished, and a filter cut off mid-record
	 * leaves an invalid last line.  In the leaf stream nothing sits in
	 * between.  Only an empty input for a non-empty claim needs
	 * --filtered: it is also what a second, refused run on a busy leaf
	 * would send while the first run's claim is waiting here.
	 */
	else if ((flags & CLAIM_CHECK_STREAM) &&
	    (claim->records != written->records ||
	    claim->bytes != written->bytes ||
	    claim->hash != journal_hash_final(written)))
		verdict = CLAIM_STREAM_DIFFERS;
	else if (!(flags & CLAIM_CHECK_FILTERED) && written->records == 0 &&
	    claim->records > 0)
		verdict = CLAIM_EMPTY_INPUT;
	else {
		have_output = share_fstatat(dirfd, output, &st,
		    AT_SYMLINK_NOFOLLOW) == 0;
		if (!have_output && errno != ENOENT)
			verdict = CLAIM_OUTPUT_ERROR;
		else {
			if (have_output)
				journal_identity_from_stat(&now, &st);
			if (have_output != claim->has_base || (have_output &&
			    !journal_identity_equal(&now, &claim->base)))
				verdict = CLAIM_OUTPUT_CHANGED;
		}
	}
	return verdict;
}

bool
claim_check_idle(const struct journal *claim)
{
	return claim->sources.count == 0 && claim->kept.count == 0;
}

int
claim_withdraw(int dirfd, const char *output, const struct journal *claim)
{
	struct journal now;
	bool same;

	if (journal_load(dirfd, output, &now) != 1) {
		journal_free(&now);
		return 0;
	}
	same = now.pid == claim->pid && now.state == claim->state &&
	    now.host != NULL && claim->host != NULL &&
	    strcmp(now.host, claim->host) == 0 && claim_check_idle(&now);
	journal_free(&now);
	if (same && journal_remove(dirfd, output) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int
claim_record_init(struct journal *record, const struct journal *claim,
    unsigned long long ino, const struct journal_hash *written)
{
	if (journal_init(record) == -1)
		return -1;
	record->state = JOURNAL_COMMITTED;
	record->has_base = claim->has_base;
	record->base = claim->base;
	record->output_ino = ino;
	record->kept = claim->kept;
	record->sources = claim->sources;
	record->records = written->records;
	record->bytes = written->bytes;
	record->hash = journal_hash_final(written);
	return 0;
}

void
claim_record_free(struct journal *record)
{
	/* The entries are the claim's: only the host is the record's own. */
	free(record->host);
	memset(record, 0, sizeof(*record));
}

int
claim_changed_source(int dirfd, const struct journal *claim,
    struct pins *pins, struct buf *name)
{
	const struct spill *lists[2] = { &claim->kept, &claim->sources };
	struct spill_cursor c;
	struct journal_entry e;
	int r = 0;

	for (int l = 0; r == 0 && l < 2; l++) {
		spill_cursor_init(&c, lists[l]);
		while ((r = journal_entries_next(&c, &e)) == 1)
			/* One that is gone adds nothing to read again. */
			if (!pins_look(pins, dirfd, &e) &&
			    share_faccessat(dirfd, e.name, F_OK,
			    AT_SYMLINK_NOFOLLOW) == 0)
				break;
		if (r == 1) {
			name->len = 0;
			if (buf_append(name, e.name, strlen(e.name) + 1) < 0)
				r = -1;
		}
		spill_cursor_free(&c);
	}
	return r;
}

int
claim_give_back(int dirfd, const char *output, struct journal *claim)
{
	claim->state = JOURNAL_MERGING;
	claim->pid = 0;
	claim->pgid = 0;
	return journal_store(dirfd, output, claim, 0);
}

size_t
claim_remove_sources(int dirfd, const struct journal *claim,
    const struct pins *pins, void (*report)(void *ctx,
    const struct journal_entry *e, enum claim_removal what, int err),
    void *ctx, bool *record_needed)
{
	const struct spill *lists[2] = { &claim->kept, &claim->sources };
	struct spill_cursor c;
	struct journal_entry e;
	size_t left = 0, i = 0;
	int r = 0;

	for (int l = 0; r == 0 && l < 2; l++) {
		spill_cursor_init(&c, lists[l]);
		while ((r = journal_entries_next(&c, &e)) == 1) {
			enum claim_removal what = CLAIM_REMOVED;
			int err = 0;

			if (!pins_still(pins, i++, dirfd, &e))
				what = share_faccessat(dirfd, e.name, F_OK,
				    AT_SYMLINK_NOFOLLOW) == 0 ?
				    CLAIM_KEPT_CHANGED : CLAIM_GONE;
			else if (share_unlinkat(dirfd, e.name, 0) == -1 &&
			    errno != ENOENT) {
				err = errno;
				what = CLAIM_KEPT_ERROR;
			}
			if (what == CLAIM_KEPT_CHANGED ||
			    what == CLAIM_KEPT_ERROR)
				left++;
			if (what == CLAIM_KEPT_ERROR)
				*record_needed = true;
			if (report != NULL)
				report(ctx, &e, what, err);
		}
		if (r < 0) {
			/* The rest is not known: the record keeps them. */
			int err = errno;

			left++;
			*record_needed = true;
			if (report != NULL)
				report(ctx, NULL, CLAIM_KEPT_ERROR, err);
		}
		spill_cursor_free(&c);
	}
	return left;
}

int
claim_release(int dirfd, const char *output, int outfd, bool in_attr,
    bool record_needed)
{
	if (in_attr) {
		/* Our claim file was only the claim. */
		int failed = journal_remove(dirfd, output) == -1 &&
		    errno != ENOENT, saved = errno;

		if (!record_needed && outfd >= 0)
			share_fremovexattr(outfd, output, JOURNAL_ATTR);
		errno = saved;
		return failed ? -1 : 0;
	}
	if (!record_needed && journal_remove(dirfd, output) == -1)
		return -1;
	return 0;
}

/* ---- leaf-filter: what a leaf's journal asks of a run ---- */

int
claim_inspect(int dirfd, const char *output, struct claim_view *v)
{
	struct journal j;
	int r;

	memset(v, 0, sizeof(*v));
	r = journal_load(dirfd, output, &j);
	if (r < 0 && errno == EBADMSG) {
		/* Not ours to judge: json-merge reports it. */
		v->unfinished = true;
		return 0;
	}
	if (r < 0)
		return -1;
	if (r == 1) {
		if (claim_holder_alive(&j))
			v->busy = true;
		else if (j.state == JOURNAL_COMMITTED)
			v->committed = true;
		else
			v->unfinished = true;
	}
	r = claim_absorbed(dirfd, output, r == 1 ? &j : NULL, &v->absorbed);
	journal_free(&j);
	if (r < 0 && errno == EBADMSG) {
		/* The output's record is malformed: json-merge reports it. */
		v->unfinished = true;
		return 0;
	}
	/* Without a claim, sources the output holds are those of a commit
	 * (its record on the output, or its journal file). */
	if (!v->busy && !v->unfinished && v->absorbed.count > 0)
		v->committed = true;
	return r;
}

int
claim_view_holds(struct claim_view *v, const char *name,
    const struct stat *st)
{
	return claim_entries_hold(&v->absorbed, &v->walk, name, st);
}

void
claim_view_free(struct claim_view *v)
{
	spill_free(&v->absorbed);
	claim_walk_free(&v->walk);
	memset(v, 0, sizeof(*v));
}
