/*
 * staging.h - a share with no free inode: how the programs say so, and
 * the staging directory (--staging DIR) through which such a leaf is
 * consolidated all the same.
 *
 * On a file system whose inodes are all taken nothing can be created:
 * not the claim's journal, not the temporary of the next output.  The
 * blocks may be free all the same (many small files use up the inodes
 * first).  What tells the two apart is statvfs(2): f_favail (or f_ffree)
 * 0 while f_bavail is not (share_out_of_inodes() in share.h).
 *
 * The message is one, the same from every program:
 *
 *   PROG: PATH: no free inodes (0 of N): nothing can be created there;
 *         run with --staging DIR, a directory on another file system
 *         with room for one leaf
 *
 * leafpack says it once for the run (a leaf that meets it stops the
 * dispatch of new leaves); json-merge and jsonl-write say it only when
 * they run on their own, and otherwise report it to the driver
 * ("no_inodes" and "inodes" in leafstream.h).
 *
 * The staged commit.  With --staging DIR (another file system: leafpack
 * refuses the share's own), a leaf whose output cannot be created on the
 * share is built in DIR instead, and moved into the leaf in a way that
 * needs no free inode there.  Its entry in DIR is named E =
 * "leaf-DEV-INO" (the leaf directory's st_dev and st_ino):
 *
 *   DIR/E            the consolidated file, complete and synced;
 *   DIR/.E.journal   the claim (journal.h), state merged: the sources
 *                    consumed with their identities, the base output
 *                    merged, the records, bytes and hash;
 *   DIR/.E.entry     the entry (its existence says the two above are
 *                    durable): {"version":1, "leaf":DIR of the leaf,
 *                    "output":NAME, "host":.., "first":NAME of a source,
 *                    "first_id":{"ino","size","mtime_ns"}, "records",
 *                    "bytes", "hash": what DIR/E holds}.
 *
 * Then, in the leaf (staging_finish()):
 *   1. the sources are checked unchanged; the first consumed source (in
 *      byte order) is renamed to .NAME.staged (RENAME_NOREPLACE): the
 *      mark, which needs no new inode; then its content is replaced by
 *      STAGING_MARK_MAGIC and {"staging":DIR,"host":..,"entry":E}, synced
 *      (its records are already durable in DIR/E).  An extended attribute
 *      on the leaf would need no inode either, but NFSv3 has none;
 *   2. the leaf's own journal, if any, and the other sources still the
 *      files that were read are removed (their inodes are freed);
 *   3. the existing output is checked to be the base that was merged;
 *   4. DIR/E is copied INTO the mark's inode (truncated, written, its
 *      hash checked, synced) and the mark renamed over NAME, the leaf
 *      synced: no inode is needed even if a writer took the ones freed.
 *      Its mode and owner are the first source's, as jsonl-write(1)'s
 *      rule says: it is that inode;
 *   5. the entry goes from DIR (E, .E.journal, .E.entry), DIR synced.
 * A run killed anywhere in it is finished by the next run with the same
 * --staging (staging_finish() again): the mark says step 1 was done,
 * its content whether its rewrite was (else it is still the renamed
 * source, or a copy being made: step 4 again); no mark and the first
 * source still there is an entry whose records never left the share: it
 * is dropped (STAGING_STALE); so is one with neither the mark nor the
 * first source (the output was moved in: STAGING_DONE when it holds the
 * staged records; else the leaf was consolidated since, without it: no
 * record was ever only in DIR without a mark in the leaf).  A run without --staging, or with another,
 * that meets a mark says where the records wait and leaves the leaf.
 *
 * Functions return 0 (or what they document) and -1 with errno set; only
 * staging_warn_*() print.  Every call on the leaf goes through share.h,
 * under the deadlines; calls on DIR are plain (it is local).
 */
#ifndef LEAFPACK_STAGING_H
#define LEAFPACK_STAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal.h"

/* The first bytes of a mark whose content is written (a record line is
 * never this). */
#define STAGING_MARK_MAGIC "leafpack-staged 1\n"

/* "leaf-DEV-INO" fits here. */
#define STAGING_ENTRY_MAX 64

/* The entry of a staged leaf (.E.entry). */
struct staging_entry {
	char *leaf;		/* the leaf directory, as the run was given it */
	char *output;		/* NAME */
	char *host;		/* the host that staged it */
	char *first;		/* the source renamed into the mark */
	struct journal_identity first_id;
	/* What DIR/E holds (json-merge's output, or what a filter made of
	 * it): journal_hash of its bytes. */
	unsigned long long records, bytes;
	uint64_t hash;
};

/* The name E of the leaf open as leaf_dirfd (its fstat) into out
 * (STAGING_ENTRY_MAX bytes). */
int staging_entry_name(int leaf_dirfd, char *out);

/* ".NAME.staged", malloc()ed, or NULL (ENOMEM). */
char *staging_mark_name(const char *output);

/* Writes DIR/.E.entry (a temporary, fsync, rename, fsync of DIR). */
int staging_entry_store(int stagefd, const char *e,
    const struct staging_entry *en);

/* Reads DIR/.E.entry: 1, 0 when there is none, -1 (EBADMSG: not one). */
int staging_entry_load(int stagefd, const char *e, struct staging_entry *en);
void staging_entry_free(struct staging_entry *en);

/* Removes the entry E from DIR (what of it is there: .E.entry first, and
 * synced), then syncs DIR. */
int staging_drop(int stagefd, const char *e);

/* What staging_finish() came to. */
enum staging_result {
	STAGING_DONE,		/* the leaf holds the output; the entry gone */
	STAGING_STALE,		/* not marked (only when not fresh): the
				 * records are in the leaf; the entry is
				 * dropped */
	STAGING_FAILED		/* errno; *step names what failed; the
				 * records are in DIR/E, the entry kept */
};

/*
 * Steps 1 to 5 above for the entry e (in stagefd, with its claim) of the
 * leaf leaf_dirfd, from wherever an earlier run stopped: fresh is set for
 * a commit just staged (the mark is made), clear for a resume.
 * staging_dir and host go into the mark.  *removed counts the sources
 * removed.
 */
enum staging_result staging_finish(int stagefd, const char *staging_dir,
    const char *e, int leaf_dirfd, const struct staging_entry *en,
    const struct journal *claim, bool fresh, unsigned long long *removed,
    const char **step);

/* What the mark .NAME.staged of a leaf says. */
struct staging_mark {
	char staging[4096];	/* the staging DIR ("" when not written) */
	char host[256];
	char entry[STAGING_ENTRY_MAX];
};

/* Reads the mark of the leaf: 1 when there is one (m filled, or left
 * empty when its content is not written yet), 0 when there is none. */
int staging_mark_read(int leaf_dirfd, const char *output,
    struct staging_mark *m);

/* n with a comma between groups of three digits ("3,000,000") into buf
 * (size bytes; 32 are always enough). */
void staging_format_count(char *buf, size_t size, unsigned long long n);

/* Says the message above for path (quoted here), whose file system has
 * total inodes. */
void staging_warn_no_inodes(const char *path, unsigned long long total);

/*
 * After creating a file in the leaf dirfd (path dir) failed with ENOSPC:
 * true when its file system has no free inode, which then sets
 * *no_inodes and *total (its inodes).  A program run by leafpack only
 * reports it (the driver says it once for the run); one run on its own
 * says it (staging_warn_no_inodes()).
 */
bool staging_out_of_inodes(int dirfd, const char *dir, bool *no_inodes,
    unsigned long long *total);

/* Says that the records of leaf dir wait in a staging directory, and how
 * to finish (m as staging_mark_read() filled it). */
void staging_warn_waiting(const char *dir, const struct staging_mark *m);

#endif
