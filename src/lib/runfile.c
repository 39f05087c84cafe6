#include "runfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t
load32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int
runfile_open(const char *dir)
{
	char *path;
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	if (asprintf(&path, "%s/json-merge-run.XXXXXX", dir) < 0)
		return -1;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	free(path);
	return fd;
}

int
runfile_write_iov(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= w;
		}
	}
	return 0;
}

int
runfile_flush(struct runfile_writer *w)
{
	struct iovec iov = { w->buf, w->len };

	if (w->len > 0 && runfile_write_iov(w->fd, &iov, 1) < 0)
		return -1;
	w->len = 0;
	return 0;
}

int
runfile_write(struct runfile_writer *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		struct iovec iov = { (void *)p, n };

		if (runfile_flush(w) < 0)
			return -1;
		if (n > w->cap)
			return runfile_write_iov(w->fd, &iov, 1);
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

int
runfile_put(struct runfile_writer *w, const char *key, size_t keylen,
    const char *rec, size_t reclen)
{
	uint32_t k32 = keylen, r32 = reclen;
	size_t need = 8 + keylen + reclen;
	struct iovec iov[4] = {
		{ &k32, 4 }, { (void *)key, keylen },
		{ &r32, 4 }, { (void *)rec, reclen },
	};

	if (w->len + need > w->cap) {
		if (runfile_flush(w) < 0)
			return -1;
		if (need > w->cap)
			return runfile_write_iov(w->fd, iov, 4);
	}
	for (int i = 0; i < 4; i++)
		if (runfile_write(w, iov[i].iov_base, iov[i].iov_len) < 0)
			return -1;
	return 0;
}

void
runfile_reader_init(struct runfile_reader *r, int fd, size_t bufsize)
{
	r->fd = fd;
	r->buf = NULL;
	r->cap = bufsize;
	r->start = r->end = 0;
	r->pending = 0;
	r->pos = 0;
	r->limit = -1;
}

void
runfile_reader_range(struct runfile_reader *r, int fd, size_t bufsize,
    off_t limit)
{
	runfile_reader_init(r, fd, bufsize);
	r->limit = limit;
}

int
runfile_fill(struct runfile_reader *r, size_t want)
{
	if (r->buf == NULL) {
		if (r->cap < want)
			r->cap = want;
		if ((r->buf = malloc(r->cap)) == NULL)
			return -1;
	}
	while (r->end - r->start < want) {
		ssize_t n;

		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (want > r->cap) {
			char *b = realloc(r->buf, want);

			if (b == NULL)
				return -1;
			r->buf = b;
			r->cap = want;
		}
		if (r->limit < 0)
			n = read(r->fd, r->buf + r->end, r->cap - r->end);
		else if (r->pos >= r->limit)
			n = 0;
		else if ((n = pread(r->fd, r->buf + r->end, (size_t)(r->limit -
		    r->pos) < r->cap - r->end ? (size_t)(r->limit - r->pos) :
		    r->cap - r->end, r->pos)) > 0)
			r->pos += n;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			if (r->end == r->start)
				return 0;
			errno = EIO;
			return -1;
		}
		r->end += n;
	}
	return 1;
}

int
runfile_next(struct runfile_reader *r, const char **key, size_t *keylen,
    const char **rec, size_t *reclen)
{
	size_t kl, rl;
	int f;

	if ((f = runfile_fill(r, 4)) <= 0)
		return f;
	kl = load32(r->buf + r->start);
	if ((f = runfile_fill(r, 8 + kl)) <= 0)
		return f < 0 ? -1 : (errno = EIO, -1);
	rl = load32(r->buf + r->start + 4 + kl);
	if ((f = runfile_fill(r, 8 + kl + rl)) <= 0)
		return f < 0 ? -1 : (errno = EIO, -1);
	*key = r->buf + r->start + 4;
	*keylen = kl;
	*rec = *key + kl + 4;
	*reclen = rl;
	r->start += 8 + kl + rl;
	return 1;
}

int
runfile_next_lazy(struct runfile_reader *r, const char **key, size_t *keylen,
    const char **rec, size_t *reclen)
{
	size_t kl, rl;
	int f;

	if (r->pending != 0) {
		errno = EINVAL;
		return -1;
	}
	if ((f = runfile_fill(r, 4)) <= 0)
		return f;
	kl = load32(r->buf + r->start);
	if ((f = runfile_fill(r, 8 + kl)) <= 0)
		return f < 0 ? -1 : (errno = EIO, -1);
	rl = load32(r->buf + r->start + 4 + kl);
	if (8 + kl + rl <= r->cap)
		return runfile_next(r, key, keylen, rec, reclen);
	/* The header stays where it is (nothing moves the buffer until the
	 * next call), the body is the caller's to read. */
	*key = r->buf + r->start + 4;
	*keylen = kl;
	*rec = NULL;
	*reclen = rl;
	r->start += 8 + kl;
	r->pending = rl;
	return 1;
}

int
runfile_body(struct runfile_reader *r, char *dst, size_t reclen)
{
	size_t got = r->end - r->start;

	if (reclen != r->pending) {
		errno = EINVAL;
		return -1;
	}
	if (got > reclen)
		got = reclen;
	memcpy(dst, r->buf + r->start, got);
	r->start += got;
	while (got < reclen) {
		ssize_t n = read(r->fd, dst + got, reclen - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		got += (size_t)n;
	}
	r->pending = 0;
	return 0;
}

void
runfile_reader_free(struct runfile_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}
