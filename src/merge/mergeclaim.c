/*
 * mergeclaim.c - json-merge's side of the claim, and of a staged commit
 * (mergeclaim.h).
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
#include "mergeclaim.h"
#include "mergeoutput.h"
#include "mergesources.h"
#include "share.h"

/* True when stdout feeds a consumer (jsonl-write) rather than a file. */
static bool
stdout_is_pipe(void)
{
	struct stat st;

	return fstat(STDOUT_FILENO, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* The journal file could not be read or written: errno. */
int
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
int
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
int
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
		 * find unchanged: looking would take the leaf for busy).
		 * claim_take() makes its journal anew. */
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
int
finish_claim(struct leaf *l)
{
	/* The claim takes the entries over, whatever comes of it. */
	int r = claim_finish(&l->claim, &l->consumed, &l->out.hash);

	if (r < 0 && errno == EBUSY)
		/* Another run took the leaf over at the same time. */
		return claim_failed(l, CLAIM_BUSY);
	if (r < 0 && errno == ENOSPC && restage_claim(l) == 0)
		return 0;
	if (r < 0 && errno == ENOSPC && no_inodes(l))
		return -1;
	return r < 0 ? journal_error(l) : 0;
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
	spill_free(&l->names);
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
int
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
