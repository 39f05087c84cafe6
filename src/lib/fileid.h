/*
 * fileid.h - inode numbers that can be trusted to name a file from one run
 * to the next, or 0 where the file system does not keep them.
 *
 * The identity of a source (journal.h) and the commit record's tie to its
 * output rest on the inode number.  Most file systems keep a file's number
 * for its life, NFS included.  FUSE file systems need not: sshfs (without
 * -o use_ino) numbers a file anew each time the kernel forgets it, so
 * after memory pressure the same file comes back with another number, and
 * a rerun that compared numbers took every source an output holds for a
 * new file and merged its records twice.  SMB mounted with noserverino
 * numbers files on the client, the same way.  On those file systems the
 * number is reported as 0, unknown, and identities rest on the size and
 * the times alone.
 *
 * The file system is looked up in /proc/self/mountinfo by st_dev (no
 * request to the share, so nothing that can hang), once per device.
 */
#ifndef LEAFPACK_FILEID_H
#define LEAFPACK_FILEID_H

#include <stdbool.h>
#include <sys/stat.h>

/* st's inode number, or 0 when its file system does not keep them. */
unsigned long long fileid_ino(const struct stat *st);

/* True when inode numbers a and b may name the same file: equal, or one
 * of them unknown (0). */
bool fileid_ino_same(unsigned long long a, unsigned long long b);

#endif
