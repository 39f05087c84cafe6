/*
 * share.h - every system call json-merge and jsonl-write make on the
 * share, each announced to the process's watcher (watch.h) while it runs.
 *
 * They are the plain calls with the same arguments, results and errno,
 * plus the name of the file they are on (relative to the leaf directory
 * given to watch_set_dir(), or NULL for the directory itself), which is
 * what a stalled leaf's message names ("fsync of DIR/.x.tmp.12.ab blocked
 * for 30 s").  None retries EINTR: nothing here runs under a timer, and a
 * watcher that gives up on a call kills the process instead.
 *
 * Keeping them in one place is also the inventory of the requests a leaf
 * costs on a network file system, where each is a round trip.
 */
#ifndef LEAFPACK_SHARE_H
#define LEAFPACK_SHARE_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

/* Opens the leaf directory itself, path being the one given to
 * watch_set_dir(). */
int share_open(const char *path, int flags);
int share_openat(int dirfd, const char *name, int flags, mode_t mode);
int share_fstat(int fd, const char *name, struct stat *st);
int share_fstatat(int dirfd, const char *name, struct stat *st, int flags);
int share_faccessat(int dirfd, const char *name, int mode, int flags);
ssize_t share_pread(int fd, const char *name, void *buf, size_t len,
    off_t off);
/* Reads until len bytes or the end of the file (EINTR retried: a plain
 * read loop), as xread(). */
ssize_t share_read_all(int fd, const char *name, void *buf, size_t len);
/* Writes all len bytes, as xwrite(). */
int share_write_all(int fd, const char *name, const void *buf, size_t len);
int share_fsync(int fd, const char *name);
int share_renameat(int dirfd, const char *from, const char *to);
/* renameat2(RENAME_NOREPLACE) within dirfd: EEXIST when to exists. */
int share_renameat_noreplace(int dirfd, const char *from, const char *to);
int share_ftruncate(int fd, const char *name, off_t length);
int share_unlinkat(int dirfd, const char *name, int flags);
int share_linkat(int dirfd, const char *from, const char *to);
ssize_t share_fgetxattr(int fd, const char *name, const char *attr,
    void *value, size_t size);
int share_fsetxattr(int fd, const char *name, const char *attr,
    const void *value, size_t size, int flags);
int share_fremovexattr(int fd, const char *name, const char *attr);
int share_fchmod(int fd, const char *name, mode_t mode);
int share_fchown(int fd, const char *name, uid_t uid, gid_t gid);
int share_close(int fd, const char *name);
/* Closes *fd if it is open and sets it to -1, errors dropped (as
 * close_quietly() of xstd.h). */
void share_close_quietly(int *fd, const char *name);
/*
 * A listing of a directory on the share, read with getdents64(2) into a
 * buffer, each read announced (WATCH_LIST).  Not readdir(3): its
 * fdopendir(3) makes an fstat of the directory that nobody announces (a
 * request on a share that can hang in it unseen) and that nothing here
 * needs.  The directory's descriptor stays the caller's; the listing reads
 * it from the start, and moves its offset (shared with every duplicate).
 */
struct share_dir {
	int fd;
	const char *name;	/* for the watcher: NULL is the leaf */
	size_t len, off;	/* what buf holds, and what has been taken */
	bool eof;
	char buf[32768] __attribute__((aligned(8)));
};

/* Starts the listing of the directory open at fd; 0, or -1 (errno). */
int share_dir_start(struct share_dir *d, int fd, const char *name);

/* The next entry's name ("." and ".." included, as readdir(3) gives
 * them), valid until the next call; NULL at the end (errno 0) or on an
 * error (errno set). */
const char *share_dir_next(struct share_dir *d);
int share_statvfs(const char *path, struct statvfs *sv);
int share_fstatvfs(int fd, const char *name, struct statvfs *sv);

/*
 * After creating a file in the directory dirfd (named name for the
 * watcher: NULL is the leaf) failed with ENOSPC: true when the cause is
 * inodes, not blocks: its file system has inodes (f_files > 0), fewer
 * than SHARE_FEW_INODES free (f_favail or f_ffree: the creation failed,
 * so as good as none) and blocks free (f_bavail > 0).  Stores f_files in
 * *total.  False when it has free inodes, or cannot tell.  errno is kept.
 */
#define SHARE_FEW_INODES 64
bool share_out_of_inodes(int dirfd, const char *name,
    unsigned long long *total);

#endif
