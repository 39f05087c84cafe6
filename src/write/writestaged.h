/*
 * writestaged.h - jsonl-write's commit through the staging directory, for
 * a leaf whose file system has no free inode (staging.h; --staging DIR
 * with --remove-sources): the temporary made there, or moved there, and
 * the staged commit that frees the leaf's inodes first.
 */
#ifndef LEAFPACK_WRITESTAGED_H
#define LEAFPACK_WRITESTAGED_H

#include <stdbool.h>

#include "writeleaf.h"

/*
 * Creating the temporary failed with ENOSPC: true when DIR's file system
 * has no free inode (staging.h), which is then in the counts.  Run by
 * leafpack, which says it once for the run, we only report it.
 */
bool no_inodes(struct leaf *leaf);

/*
 * The leaf's file system has no free inode: with --staging (and
 * --remove-sources, which frees the inodes the commit needs) the
 * temporary is made in the staging directory instead (staging.h), where
 * the commit goes on.  0, -1 when it is not for staging, -2 when creating
 * it there failed (said).
 */
int stage_temp(struct leaf *leaf, bool force);

/*
 * The temporary was made in the leaf, but its commit needs one more inode
 * there, and none is free: with --staging, it is copied whole into a new
 * temporary in the staging directory and removed from the leaf, and
 * leaf->staged set; with force also when inodes are free (the claim is in
 * the staging directory already).  0, or -1 (errno ENOSPC: not for
 * staging; else said, with leaf->staged set).
 */
int restage_temp(struct leaf *leaf, bool force);

/*
 * The commit through the staging directory (staging.h): the temporary
 * there becomes DIR/E, the claim DIR/.E.journal and the entry
 * DIR/.E.entry, each durable; then staging_finish() moves the output
 * into the leaf without a new inode there.
 */
int staged_commit(struct leaf *leaf);

/*
 * With --staging: json-merge's claim is in the staging directory when the
 * leaf had no inode for it; it is read there, and the commit is staged
 * too, whatever the leaf has now (a commit record in the staging
 * directory without an entry would be a dead run's, dropped).  Returns
 * EXITCODE_DONE, or EXITCODE_FAILED (said).
 */
int find_staged_claim(struct leaf *leaf);

#endif
