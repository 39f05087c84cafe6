/*
 * pins.h - the sources jsonl-write will remove, held open from the look
 * before publishing to the look just before the unlink.
 *
 * Why: on a share every look by name is a lookup of the name plus the
 * attributes of the file (and, where permissions are checked, of the
 * directory): three requests on stallfs.  A source removed is looked at
 * twice by name (before the output is published, and before its unlink),
 * then unlinked.  Held open (O_PATH: no open request, nothing read) from
 * the first look, the second is an fstat of what we hold: one request.
 *
 * It is as sure as the look by name.  The first look is still by name (the
 * open) and checks the identity of what it opened.  Whatever moves the name
 * off the inode we hold after that changes that inode: an unlink or a
 * rename over the name drops its link count; a rename of it elsewhere, or
 * a new link, sets its ctime (but see below); a rewrite changes its size,
 * mtime and ctime, as before.  The identity has the ctime, so the fstat
 * sees each.
 * The window left is the one between the last look and the unlink, as it
 * was by name.
 *
 * It takes the server to change a file's ctime when the file is renamed:
 * every Linux file system and the Linux NFS server do, but POSIX allows
 * one not to, and then a source moved away with a new file made under its
 * name would look unchanged.  LEAFPACK_NO_PINS=1 turns pins off for such a
 * server.
 *
 * At most PINS_MAX, and a quarter of RLIMIT_NOFILE; the sources past that
 * (or whose identity has no ctime, from an old journal) are looked at by
 * name as before.  A pin that cannot be taken (EMFILE, ENOMEM) is no
 * error: that source is looked at by name.
 */
#ifndef LEAFPACK_PINS_H
#define LEAFPACK_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "journal.h"

#define PINS_MAX 1024

struct pins {
	int *fd;		/* one per entry looked at, in order; -1: none */
	nlink_t *nlink;		/* its link count at the first look */
	size_t count;		/* entries looked at through pins_look() */
	size_t max;		/* no more than that */
	bool decided;		/* max is set (at the first look) */
	size_t cap;		/* what fd and nlink have room for */
};

/*
 * The look before publishing at entry number count (the entries are looked
 * at in order, from 0): 1 when dirfd/e->name is still the file that was
 * read, 0 when it is not (changed, gone or not to be checked), as
 * journal_identity_matches(); a match is pinned when it can be.  p NULL:
 * by name only.
 */
int pins_look(struct pins *p, int dirfd, const struct journal_entry *e);

/*
 * The look just before the unlink of entry number i (the same order):
 * through its pin when it has one, else by name.  1 or 0, as pins_look().
 */
int pins_still(const struct pins *p, size_t i, int dirfd,
    const struct journal_entry *e);

/* Closes every pin and zeroes p (a zeroed struct pins holds none). */
void pins_free(struct pins *p);

#endif
