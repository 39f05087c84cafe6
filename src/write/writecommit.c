/*
 * writecommit.c - steps 2 to 5 of a commit (writecommit.h).
 */
#include "writecommit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "claim.h"
#include "diag.h"
#include "exitcode.h"
#include "fileid.h"
#include "journal.h"
#include "share.h"
#include "staging.h"
#include "writestaged.h"

/*
 * Checks the journal json-merge left (claim.h): sets have_claim when it is
 * a claim to commit; none is a plain write.  Anything else fails, with the
 * reason: nothing has been replaced yet.
 */
static int
check_claim(struct leaf *leaf)
{
	int flags = 0, err;
	enum claim_check verdict;

	if (leaf->in_stream)
		flags |= CLAIM_CHECK_STREAM;
	if (opt.remove_sources)
		flags |= CLAIM_CHECK_REMOVE;
	if (opt.filtered)
		flags |= CLAIM_CHECK_FILTERED;
	verdict = claim_check(leaf->dirfd, leaf->name, &leaf->hash, flags,
	    &leaf->claim);
	err = errno;
	switch (verdict) {
	case CLAIM_READY:
		leaf->have_claim = true;
		return EXITCODE_DONE;
	case CLAIM_NONE:
		return EXITCODE_DONE;
	case CLAIM_CHECK_ERROR:
		return fail("%s: %s", leaf_path(leaf, leaf->jname),
		    err == EBADMSG ? "not a valid journal: nothing written" :
		    strerror(err));
	case CLAIM_RECORD_ERROR:
		return fail("%s: %s", leaf_path(leaf, leaf->name),
		    err == EBADMSG ? "attribute " JOURNAL_ATTR " is not a "
		    "valid journal: nothing written" : strerror(err));
	case CLAIM_MISSING:
		return fail("no claim from json-merge in %s: nothing %s",
		    diag_quote(leaf->dir), leaf->in_stream ? "written" : "removed");
	case CLAIM_RECORD_HOLDS:
		return fail("%s (attribute " JOURNAL_ATTR ") records sources "
		    "already in %s: only json-merge's output may replace it "
		    "(nothing written)", leaf_path(leaf, leaf->name),
		    leaf_path(leaf, leaf->name));
	case CLAIM_MERGING:
		return fail("json-merge did not finish (%s is still merging): "
		    "nothing written", leaf_path(leaf, leaf->jname));
	case CLAIM_COMMITTED:
		return fail("%s records sources already in %s: only "
		    "json-merge's output may replace it (nothing written)",
		    leaf_path(leaf, leaf->jname), leaf_path(leaf, leaf->name));
	case CLAIM_STREAM_DIFFERS:
		return fail("the leaf stream for %s is not what json-merge "
		    "wrote: nothing written", diag_quote(leaf->dir));
	case CLAIM_EMPTY_INPUT:
		return fail("no input, but json-merge wrote %llu records for %s "
		    "(use --filtered if a filter drops them all): nothing "
		    "written", (unsigned long long)leaf->claim.records,
		    diag_quote(leaf->dir));
	case CLAIM_OUTPUT_ERROR:
		return fail("%s: %s", leaf_path(leaf, leaf->name),
		    strerror(err));
	case CLAIM_HELD:
		/* Our json-merge lost the leaf to that run: it is busy. */
		remove_temp();
		leaf->busy = true;
		diag_warnx("%s: busy: being consolidated by %s pid %lld: "
		    "nothing written", diag_quote(leaf->dir),
		    leaf->claim.host ? leaf->claim.host : "?", leaf->claim.pid);
		return EXITCODE_PARTIAL;
	case CLAIM_OUTPUT_CHANGED:
		break;
	}
	return fail("%s changed since json-merge read it",
	    leaf_path(leaf, leaf->name));
}

/* The byte-order first source json-merge consumed in *first (NULL when
 * none was; valid until the next call), or -1 (errno). */
int
first_source(struct leaf *leaf, const struct journal_entry **first)
{
	static struct journal_entry e;
	int r = journal_entries_first(&leaf->claim.sources, &e,
	    &leaf->first_name);

	*first = r == 1 ? &e : NULL;
	return r < 0 ? -1 : 0;
}

/*
 * The rule of jsonl-write(1): the mode and ids of the first consumed
 * source in byte order of names; else those of the existing output; else
 * 0666 & ~umask and our own ids.
 */
static int
set_mode_owner(struct leaf *leaf)
{
	const struct journal_entry *first = NULL;
	struct stat st;
	mode_t mode, mask;
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (leaf->have_claim && first_source(leaf, &first) < 0)
		return fail("%s: the claim's sources: %s",
		    diag_quote(leaf->dir), strerror(errno));
	mask = umask(0);
	umask(mask);
	mode = 0666 & ~mask;
	if (first != NULL) {
		mode = first->mode & 0777;
		uid = first->uid;
		gid = first->gid;
	} else if (share_fstatat(leaf->dirfd, leaf->name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
		mode = st.st_mode & 0777;
		uid = st.st_uid;
		gid = st.st_gid;
	}
	if ((uid != geteuid() || gid != getegid()) &&
	    share_fchown(leaf->fd, leaf->temp, uid, gid) == -1 &&
	    geteuid() == 0)
		return fail("%s: chown: %s", leaf_path(leaf, leaf->temp),
		    strerror(errno));
	if (share_fchmod(leaf->fd, leaf->temp, mode) == -1)
		return fail("%s: chmod: %s", leaf_path(leaf, leaf->temp),
		    strerror(errno));
	return EXITCODE_DONE;
}

/*
 * The output is durable and not yet published: a source rewritten since
 * json-merge read it (its old records are in the temporary) makes us
 * publish nothing for the leaf this time, and give the claim back, so
 * that a later run reads the leaf again; removing the other sources and
 * keeping that one would have the next run read its old records twice.
 * What remains is the window between this look and the rename (and the
 * unlinks after it): see jsonl-write(1).
 */
int
recheck_sources(struct leaf *leaf)
{
	struct buf name = { 0 };
	int r = claim_changed_source(leaf->dirfd, &leaf->claim,
	    opt.remove_sources ? &leaf->pins : NULL, &name);

	if (r == 0)
		return EXITCODE_DONE;
	pins_free(&leaf->pins);
	remove_temp();
	if (r > 0)
		diag_warnx("%s: changed since it was read: nothing published "
		    "for %s; a later run consolidates it",
		    leaf_path(leaf, name.data), diag_quote(leaf->dir));
	else
		diag_warnx("%s: the claim's sources: %s: nothing published; "
		    "a later run consolidates it", diag_quote(leaf->dir),
		    strerror(errno));
	buf_free(&name);
	if (claim_give_back(leaf->dirfd, leaf->name, &leaf->claim) == -1)
		diag_warn("%s", leaf_path(leaf, leaf->jname));
	leaf->counts.records = leaf->counts.bytes = 0;
	leaf->counts.sources_kept = leaf->claim.kept.count +
	    leaf->claim.sources.count;
	leaf->have_claim = false;
	return EXITCODE_PARTIAL;
}

/*
 * Steps 2 and 3: the temporary made ready to be renamed, with its commit
 * record (on its attribute, or in the journal file), mode and owner,
 * synced.
 */
static int
seal_temp(struct leaf *leaf)
{
	struct stat st;
	int status, closed;

	if (share_fstat(leaf->fd, leaf->temp, &st) == -1)
		return temp_failed(leaf);
	if (leaf->have_claim) {
		/* The commit record: once the rename is done, it says which
		 * sources the output holds, whatever happens next. */
		if (claim_record_init(&leaf->record, &leaf->claim, fileid_ino(&st),
		    &leaf->hash) == -1)
			return fail("out of memory");
		/* On the temporary itself, while it is still ours (0600):
		 * the fsync below makes it durable with the data, the rename
		 * publishes both at once. */
		leaf->in_attr = journal_attr_store(leaf->fd, leaf->temp,
		    &leaf->record) == 0;
	}
	if ((status = set_mode_owner(leaf)) != EXITCODE_DONE)
		return status;
	if (share_fsync(leaf->fd, leaf->temp) == -1)
		return temp_failed(leaf);
	if (leaf->have_claim && (status = recheck_sources(leaf)) !=
	    EXITCODE_DONE)
		return status;
	if (!leaf->in_attr) {
		/* The last report of a write error (NFS): the data is lost. */
		closed = share_close(leaf->fd, leaf->temp) == -1 &&
		    errno != EINTR ? -1 : 0;
		leaf->fd = -1;
		if (closed == -1)
			return temp_failed(leaf);
	}
	if (leaf->have_claim && !leaf->in_attr &&
	    journal_store(leaf->dirfd, leaf->name, &leaf->record, 1) == -1) {
		/* No inode for the record: the commit goes through the
		 * staging directory instead. */
		if (errno == ENOSPC && restage_temp(leaf, false) == 0)
			return EXITCODE_DONE;
		if (leaf->staged)
			return EXITCODE_FAILED;	/* said */
		if (errno == ENOSPC && no_inodes(leaf)) {
			remove_temp();
			return EXITCODE_FAILED;
		}
		return fail("%s: %s", leaf_path(leaf, leaf->jname),
		    strerror(errno));
	}
	return EXITCODE_DONE;
}

/* Failures after the commit leave the new output in place: status 1. */
bool
after_commit_warn(const char *what)
{
	diag_warn("%s", what);
	return true;
}

/* What became of a source in claim_remove_sources(): said and counted. */
void
count_removal(void *ctx, const struct journal_entry *e,
    enum claim_removal what, int err)
{
	struct leaf *leaf = ctx;

	switch (what) {
	case CLAIM_REMOVED:
		leaf->counts.sources_removed++;
		break;
	case CLAIM_GONE:
		break;
	case CLAIM_KEPT_CHANGED:
		diag_warnx("%s: changed since it was read; kept",
		    leaf_path(leaf, e->name));
		leaf->counts.sources_kept++;
		break;
	case CLAIM_KEPT_ERROR:
		errno = err;
		if (e != NULL)
			diag_warn("%s", leaf_path(leaf, e->name));
		else
			diag_warn("%s: the claim's sources; the rest are kept",
			    diag_quote(leaf->dir));
		leaf->counts.sources_kept++;
		break;
	}
}

/* Steps 4 (after the rename) and 5: sync, remove the sources, release the
 * claim.  Returns EXITCODE_DONE or EXITCODE_PARTIAL. */
static int
after_commit(struct leaf *leaf)
{
	bool partial = false, record_needed;

	if (share_fsync(leaf->dirfd, NULL) == -1)
		partial = after_commit_warn(leaf->dir);
	if (!leaf->have_claim)
		return partial ? EXITCODE_PARTIAL : EXITCODE_DONE;
	record_needed = partial;
	if (opt.remove_sources) {
		if (claim_remove_sources(leaf->dirfd, &leaf->claim,
		    &leaf->pins, count_removal, leaf, &record_needed) > 0)
			partial = true;
		if (share_fsync(leaf->dirfd, NULL) == -1) {
			partial = after_commit_warn(leaf->dir);
			record_needed = true;
		}
	} else if (leaf->claim.kept.count + leaf->claim.sources.count > 0)
		record_needed = true;	/* the kept sources */
	/*
	 * Not synced: a lost unlink brings back a claim of a dead process
	 * whose base is no longer the output, or a committed journal naming
	 * the output and sources that are all gone; a lost attribute removal
	 * leaves a record whose sources are all gone.  Each adds nothing, and
	 * the next run drops it.
	 */
	if (claim_release(leaf->dirfd, leaf->name, leaf->fd, leaf->in_attr,
	    record_needed) == -1)
		partial = after_commit_warn(leaf_path(leaf, leaf->jname));
	return partial ? EXITCODE_PARTIAL : EXITCODE_DONE;
}

/* Set when the leaf stream's reports cannot reach stdout: no more is
 * written there, and no leaf is committed. */
bool report_lost;

/*
 * In the leaf stream with --stats=json each leaf's report goes to stdout,
 * where the driver waits for it: before a commit, the channel must be able
 * to take it (open for writing, writable: a write of nothing fails on a
 * closed or read-only descriptor and on /dev/full; a pipe whose reader is
 * gone polls POLLERR), or the leaf would be committed and its sources
 * removed with a status saying nothing was.  Fails the leaf when it is
 * not, and stops the reports.
 */
static int
check_report_channel(const struct leaf *leaf)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };

	if (!leaf->in_stream || opt.stats != CLI_STATS_JSON)
		return EXITCODE_DONE;
	if (!report_lost && write(STDOUT_FILENO, "", 0) == -1)
		report_lost = true;
	else if (!report_lost && poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
		errno = EPIPE;
		report_lost = true;
	} else if (!report_lost)
		return EXITCODE_DONE;
	return fail("stdout: %s: the report of %s cannot be sent: nothing "
	    "written", strerror(errno), diag_quote(leaf->dir));
}

/*
 * Everything after the input is in the temporary: the claim, the commit,
 * the removal of the sources.  Returns EXITCODE_DONE, EXITCODE_PARTIAL
 * (committed, something after it failed) or EXITCODE_FAILED (said, the
 * previous output untouched).
 */
int
commit(struct leaf *leaf)
{
	int status;

	if ((status = find_staged_claim(leaf)) != EXITCODE_DONE ||
	    (status = check_claim(leaf)) != EXITCODE_DONE)
		return status;
	if (leaf->have_claim && opt.skip_unchanged &&
	    claim_check_idle(&leaf->claim)) {
		/* json-merge found nothing new: the output stays as it is. */
		remove_temp();
		if (claim_withdraw(leaf->dirfd, leaf->name, &leaf->claim) < 0)
			diag_warn("%s: withdrawing the claim",
			    diag_quote(leaf->dir));
		leaf->withdrawn = true;
		return EXITCODE_DONE;
	}
	if ((status = check_report_channel(leaf)) != EXITCODE_DONE)
		return status;
	if (leaf->staged)
		return staged_commit(leaf);
	if ((status = seal_temp(leaf)) != EXITCODE_DONE)
		return status;
	if (leaf->staged)
		return staged_commit(leaf);
	if (share_renameat(leaf->dirfd, leaf->temp, leaf->name) == -1)
		return fail("%s: rename: %s", leaf_path(leaf, leaf->name),
		    strerror(errno));
	/* Committed: from here on the previous output is gone. */
	handler.live = 0;
	leaf->committed = true;
	return after_commit(leaf);
}
