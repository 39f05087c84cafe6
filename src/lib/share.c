/*
 * share.c - the calls on the share, each under its watch record (see
 * share.h).
 */
#include "share.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "watch.h"

/* Runs one call between watch_begin() and watch_end(), keeping its errno. */
#define WATCHED(op, name, type, call) do { \
	type result_; \
	int saved_; \
	watch_begin((op), (name)); \
	result_ = (call); \
	saved_ = errno; \
	watch_end(); \
	errno = saved_; \
	return result_; \
} while (0)

int
share_open(const char *path, int flags)
{
	WATCHED(WATCH_OPEN, NULL, int, open(path, flags));
}

int
share_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	WATCHED(flags & O_CREAT ? WATCH_CREATE : WATCH_OPEN, name, int,
	    openat(dirfd, name, flags, mode));
}

int
share_fstat(int fd, const char *name, struct stat *st)
{
	WATCHED(WATCH_STAT, name, int, fstat(fd, st));
}

int
share_fstatat(int dirfd, const char *name, struct stat *st, int flags)
{
	WATCHED(WATCH_STAT, name, int, fstatat(dirfd, name, st, flags));
}

int
share_faccessat(int dirfd, const char *name, int mode, int flags)
{
	WATCHED(WATCH_STAT, name, int, faccessat(dirfd, name, mode, flags));
}

ssize_t
share_pread(int fd, const char *name, void *buf, size_t len, off_t off)
{
	WATCHED(WATCH_READ, name, ssize_t, pread(fd, buf, len, off));
}

ssize_t
share_read_all(int fd, const char *name, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n;

		watch_begin(WATCH_READ, name);
		n = read(fd, p + got, len - got);
		watch_end();
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int
share_write_all(int fd, const char *name, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n;
		int saved;

		watch_begin(WATCH_WRITE, name);
		n = write(fd, p, len);
		saved = errno;
		watch_end();
		errno = saved;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
share_fsync(int fd, const char *name)
{
	WATCHED(WATCH_FSYNC, name, int, fsync(fd));
}

int
share_renameat(int dirfd, const char *from, const char *to)
{
	WATCHED(WATCH_RENAME, to, int, renameat(dirfd, from, dirfd, to));
}

int
share_renameat_noreplace(int dirfd, const char *from, const char *to)
{
	WATCHED(WATCH_RENAME, from, int, renameat2(dirfd, from, dirfd, to,
	    RENAME_NOREPLACE));
}

int
share_ftruncate(int fd, const char *name, off_t length)
{
	WATCHED(WATCH_WRITE, name, int, ftruncate(fd, length));
}

int
share_unlinkat(int dirfd, const char *name, int flags)
{
	WATCHED(WATCH_UNLINK, name, int, unlinkat(dirfd, name, flags));
}

int
share_linkat(int dirfd, const char *from, const char *to)
{
	WATCHED(WATCH_LINK, to, int, linkat(dirfd, from, dirfd, to, 0));
}

ssize_t
share_fgetxattr(int fd, const char *name, const char *attr, void *value,
    size_t size)
{
	WATCHED(WATCH_GETXATTR, name, ssize_t,
	    fgetxattr(fd, attr, value, size));
}

int
share_fsetxattr(int fd, const char *name, const char *attr,
    const void *value, size_t size, int flags)
{
	WATCHED(WATCH_SETXATTR, name, int,
	    fsetxattr(fd, attr, value, size, flags));
}

int
share_fremovexattr(int fd, const char *name, const char *attr)
{
	WATCHED(WATCH_REMOVEXATTR, name, int, fremovexattr(fd, attr));
}

int
share_fchmod(int fd, const char *name, mode_t mode)
{
	WATCHED(WATCH_CHMOD, name, int, fchmod(fd, mode));
}

int
share_fchown(int fd, const char *name, uid_t uid, gid_t gid)
{
	WATCHED(WATCH_CHOWN, name, int, fchown(fd, uid, gid));
}

int
share_close(int fd, const char *name)
{
	WATCHED(WATCH_CLOSE, name, int, close(fd));
}

void
share_close_quietly(int *fd, const char *name)
{
	if (*fd >= 0) {
		int saved = errno;

		share_close(*fd, name);
		errno = saved;
	}
	*fd = -1;
}

int
share_dir_start(struct share_dir *d, int fd, const char *name)
{
	d->fd = fd;
	d->name = name;
	d->len = d->off = 0;
	d->eof = false;
	/* A directory's offset is the client's own: no request. */
	return lseek(fd, 0, SEEK_SET) == -1 ? -1 : 0;
}

static ssize_t
share_getdents(struct share_dir *d)
{
	WATCHED(WATCH_LIST, d->name, ssize_t,
	    getdents64(d->fd, d->buf, sizeof(d->buf)));
}

const char *
share_dir_next(struct share_dir *d)
{
	const struct dirent64 *e;
	ssize_t got;

	if (d->off >= d->len) {
		if (d->eof) {
			errno = 0;
			return NULL;
		}
		if ((got = share_getdents(d)) < 0)
			return NULL;
		if (got == 0) {
			d->eof = true;
			errno = 0;
			return NULL;
		}
		d->len = (size_t)got;
		d->off = 0;
	}
	e = (const struct dirent64 *)(const void *)(d->buf + d->off);
	d->off += e->d_reclen;
	return e->d_name;
}

int
share_statvfs(const char *path, struct statvfs *sv)
{
	WATCHED(WATCH_STATFS, path, int, statvfs(path, sv));
}

int
share_fstatvfs(int fd, const char *name, struct statvfs *sv)
{
	WATCHED(WATCH_STATFS, name, int, fstatvfs(fd, sv));
}

bool
share_out_of_inodes(int dirfd, const char *name, unsigned long long *total)
{
	struct statvfs sv;
	int saved = errno;
	bool none;

	*total = 0;
	/* A few may be free again by now (the temporary of another
	 * process, gone), or taken by what one creation costs here (tmpfs
	 * counts a link(2) as an inode). */
	none = share_fstatvfs(dirfd, name, &sv) == 0 && sv.f_files > 0 &&
	    (sv.f_favail < SHARE_FEW_INODES || sv.f_ffree < SHARE_FEW_INODES)
	    && sv.f_bavail > 0;
	if (none)
		*total = (unsigned long long)sv.f_files;
	errno = saved;
	return none;
}
