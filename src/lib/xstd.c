/*
 * xstd.c - the thin layer over libc (see xstd.h).
 */
#include "xstd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

ssize_t
xread(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

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

ssize_t
xpread(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n;

	do
		n = pread(fd, buf, len, off);
	while (n < 0 && errno == EINTR);
	return n;
}

int
xwrite(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

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
xwrite_nosigpipe(int fd, const void *buf, size_t len)
{
	struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old;
	int ret, saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	ret = xwrite(fd, buf, len);
	saved = errno;
	/* A SIGPIPE raised by that write is consumed here, never delivered. */
	while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
		continue;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return ret;
}

int
xclose(int fd)
{
	if (fd < 0)
		return 0;
	if (close(fd) < 0 && errno != EINTR)
		return -1;
	return 0;
}

void
close_quietly(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
	*fd = -1;
}

int
pipe_cloexec(int fds[2], int flags)
{
	return pipe2(fds, O_CLOEXEC | flags);
}

int
dup_cloexec(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

int
set_nonblock(int fd, int on)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, flags);
}

int
open_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		int null;

		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		/* The lowest free number is fd itself.  Opened for the other
		 * direction, so that using it still fails with EBADF, as a
		 * closed descriptor would (bfs does the same). */
		null = open("/dev/null", fd == STDIN_FILENO ? O_WRONLY :
		    O_RDONLY);
		if (null < 0)
			return -1;
		if (null != fd) {
			close(null);
			errno = EBADF;
			return -1;
		}
	}
	return 0;
}
