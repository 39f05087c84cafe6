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
 */
#ifndef LEAFPACK_STAGING_H
#define LEAFPACK_STAGING_H

#include <stddef.h>

/* n with a comma between groups of three digits ("3,000,000") into buf
 * (size bytes; 32 are always enough). */
void staging_format_count(char *buf, size_t size, unsigned long long n);

/* Says the message above for path (quoted here), whose file system has
 * total inodes. */
void staging_warn_no_inodes(const char *path, unsigned long long total);

#endif
