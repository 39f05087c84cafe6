/*
 * writestaged.c - the commit through the staging directory
 * (writestaged.h).
 */
#include "writestaged.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "claim.h"
#include "diag.h"
#include "exitcode.h"
#include "journal.h"
#include "share.h"
#include "staging.h"
#include "writecommit.h"
#include "xstd.h"

/*
 * Creating the temporary failed with ENOSPC: true when DIR's file system
 * has no free inode (staging.h), which is then in the counts.  Run by
 * leafpack, which says it once for the run, we only report it.
 */
bool
no_inodes(struct leaf *leaf)
{
	return staging_out_of_inodes(leaf->dirfd, leaf->dir,
	    &leaf->counts.no_inodes, &leaf->counts.inodes);
}

/*
 * The leaf's file system has no free inode: with --staging (and
 * --remove-sources, which frees the inodes the commit needs) the
 * temporary is made in the staging directory instead (staging.h), where
 * the commit goes on.  0, -1 when it is not for staging, -2 when creating
 * it there failed (said).
 */
int
stage_temp(struct leaf *leaf, bool force)
{
	unsigned long long total;
	struct stat leafst, stagest;

	if (opt.stagefd < 0 || !opt.remove_sources ||
	    (!force && !share_out_of_inodes(leaf->dirfd, NULL, &total)) ||
	    share_fstat(leaf->dirfd, NULL, &leafst) < 0 ||
	    fstat(opt.stagefd, &stagest) < 0 ||
	    leafst.st_dev == stagest.st_dev ||
	    staging_entry_name(leaf->dirfd, leaf->entry) < 0)
		return -1;
	leaf->fd = journal_temp_create(opt.stagefd, leaf->entry, "tmp", 0600,
	    &leaf->temp);
	if (leaf->fd < 0) {
		fail("%s: cannot create a temporary file: %s",
		    diag_quote(opt.staging), strerror(errno));
		return -2;
	}
	leaf->staged = true;
	return 0;
}

/*
 * The temporary was made in the leaf, but its commit needs one more inode
 * there, and none is free: with --staging, it is copied whole into a new
 * temporary in the staging directory and removed from the leaf, and
 * leaf->staged set; with force also when inodes are free (the claim is in
 * the staging directory already).  0, or -1 (errno ENOSPC: not for
 * staging; else said, with leaf->staged set).
 */
int
restage_temp(struct leaf *leaf, bool force)
{
	static char buf[1 << 20];
	char *leaftemp = leaf->temp;
	ssize_t n = 0;
	int in;

	share_close_quietly(&leaf->fd, leaftemp);
	leaf->temp = NULL;
	if (stage_temp(leaf, force) < 0) {
		if (leaf->temp == NULL)
			leaf->temp = leaftemp;
		else
			free(leaftemp);
		errno = ENOSPC;
		return -1;
	}
	/* The signal handler removes the new one from now on. */
	snprintf(handler.temp, sizeof(handler.temp), "%s", leaf->temp);
	handler.dirfd = opt.stagefd;
	in = share_openat(leaf->dirfd, leaftemp, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC, 0);
	while (in >= 0 && (n = share_read_all(in, leaftemp, buf,
	    sizeof(buf))) > 0) {
		if (xwrite(leaf->fd, buf, (size_t)n) < 0) {
			n = -1;
			break;
		}
		if ((size_t)n < sizeof(buf))
			break;
	}
	if (in < 0 || n < 0) {
		int err = errno;

		share_close_quietly(&in, leaftemp);
		share_unlinkat(leaf->dirfd, leaftemp, 0);
		free(leaftemp);
		errno = err;
		return fail("%s: %s", leaf_path(leaf, leaf->temp),
		    strerror(errno)), -1;
	}
	share_close_quietly(&in, leaftemp);
	share_unlinkat(leaf->dirfd, leaftemp, 0);
	free(leaftemp);
	return 0;
}

/* A staged commit that failed: said, and when the leaf was not marked
 * (its records are all still there), the staged copy dropped. */
static int
staged_failed(struct leaf *leaf, const struct journal_entry *first,
    const char *step)
{
	int err = errno;
	char *mark = staging_mark_name(leaf->name);

	if (mark != NULL && share_faccessat(leaf->dirfd, mark, F_OK,
	    AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
	    journal_identity_matches(leaf->dirfd, first->name, &first->id)) {
		staging_drop(opt.stagefd, leaf->entry);
		diag_warnx("%s: staged commit: %s: %s; nothing changed",
		    diag_quote(leaf->dir), step, strerror(err));
	} else
		diag_warnx("%s: staged commit: %s: %s; its records wait in "
		    "%s/%s (run again with --staging %s)",
		    diag_quote(leaf->dir), step, strerror(err),
		    diag_quote(opt.staging), leaf->entry,
		    diag_quote(opt.staging));
	free(mark);
	return EXITCODE_FAILED;
}

/*
 * A staged commit with no source consumed: the output already holds
 * every record (json-merge only rewrote it), so it stays as it is; the
 * kept sources it holds go (--remove-sources), and the claim.
 */
static int
staged_nothing_new(struct leaf *leaf)
{
	bool record_needed = false;
	int status = EXITCODE_DONE;

	remove_temp();
	if (claim_remove_sources(leaf->dirfd, &leaf->claim, &leaf->pins,
	    count_removal, leaf, &record_needed) > 0)
		status = EXITCODE_PARTIAL;
	if (claim_release(leaf->dirfd, leaf->name, -1, false,
	    record_needed) < 0)
		status = after_commit_warn(leaf_path(leaf, leaf->jname)) ?
		    EXITCODE_PARTIAL : status;
	/* With the claim in the staging directory, a journal left in the
	 * leaf is a dead run's, which the claim took over. */
	if (!record_needed)
		share_unlinkat(leaf->dirfd, leaf->jname, 0);
	leaf->withdrawn = true;
	return status;
}

/*
 * The commit through the staging directory (staging.h): the temporary
 * there becomes DIR/E, the claim DIR/.E.journal and the entry
 * DIR/.E.entry, each durable; then staging_finish() moves the output
 * into the leaf without a new inode there.
 */
int
staged_commit(struct leaf *leaf)
{
	const struct journal_entry *first;
	struct staging_entry en;
	unsigned long long removed;
	enum staging_result r;
	const char *step;
	int closed, status;

	if (!leaf->have_claim)
		return fail("no claim from json-merge in %s: a staged commit "
		    "needs one (nothing written)", diag_quote(leaf->dir));
	/* As before a rename in the leaf: a source rewritten since it was
	 * read keeps the whole leaf back. */
	if ((status = recheck_sources(leaf)) != EXITCODE_DONE)
		return status;
	if (first_source(leaf, &first) < 0)
		return fail("%s: the claim's sources: %s", diag_quote(leaf->dir),
		    strerror(errno));
	if (first == NULL)
		return staged_nothing_new(leaf);
	if (share_fsync(leaf->fd, leaf->temp) < 0)
		return temp_failed(leaf);
	closed = share_close(leaf->fd, leaf->temp);
	leaf->fd = -1;
	if (closed < 0)
		return temp_failed(leaf);
	if (renameat(opt.stagefd, leaf->temp, opt.stagefd, leaf->entry) < 0)
		return fail("%s/%s: rename: %s", diag_quote(opt.staging),
		    leaf->entry, strerror(errno));
	handler.live = 0;
	en.leaf = leaf->dir;
	en.output = (char *)leaf->name;
	en.host = (char *)journal_this_host();
	en.first = first->name;
	en.first_id = first->id;
	en.records = leaf->hash.records;
	en.bytes = leaf->hash.bytes;
	en.hash = journal_hash_final(&leaf->hash);
	if (journal_store(opt.stagefd, leaf->entry, &leaf->claim, 1) < 0 ||
	    staging_entry_store(opt.stagefd, leaf->entry, &en) < 0) {
		diag_warnx("%s: %s: nothing changed", diag_quote(opt.staging),
		    strerror(errno));
		staging_drop(opt.stagefd, leaf->entry);
		return EXITCODE_FAILED;
	}
	journal_redirect_clear();
	r = staging_finish(opt.stagefd, opt.staging, leaf->entry, leaf->dirfd,
	    &en, &leaf->claim, true, &removed, &step);
	if (r != STAGING_DONE)
		return staged_failed(leaf, first, step);
	leaf->counts.sources_removed = removed + 1;
	leaf->counts.staged = true;
	return EXITCODE_DONE;
}

/*
 * With --staging: json-merge's claim is in the staging directory when the
 * leaf had no inode for it; it is read there, and the commit is staged
 * too, whatever the leaf has now (a commit record in the staging
 * directory without an entry would be a dead run's, dropped).  Returns
 * EXITCODE_DONE, or EXITCODE_FAILED (said).
 */
int
find_staged_claim(struct leaf *leaf)
{
	char jname[STAGING_ENTRY_MAX + 16];

	if (opt.stagefd < 0 || (!leaf->staged &&
	    staging_entry_name(leaf->dirfd, leaf->entry) < 0))
		return EXITCODE_DONE;
	snprintf(jname, sizeof(jname), ".%s.journal", leaf->entry);
	if (faccessat(opt.stagefd, jname, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
		return EXITCODE_DONE;
	journal_redirect(leaf->dirfd, opt.stagefd, leaf->entry);
	if (leaf->staged || !opt.remove_sources)
		return EXITCODE_DONE;
	if (restage_temp(leaf, true) < 0)
		return leaf->staged ? EXITCODE_FAILED : fail("%s: a claim in "
		    "%s, but the output cannot be staged: nothing written",
		    diag_quote(leaf->dir), diag_quote(opt.staging));
	return EXITCODE_DONE;
}
