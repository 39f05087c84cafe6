/*
 * pins.c - sources held open between two looks (pins.h).
 */
#include "pins.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "share.h"

/* How many pins this process may hold: a quarter of its descriptors, so
 * that the rest of the leaf (the journal, the lists' files) never runs out
 * of them. */
static size_t
pins_limit(void)
{
	const char *off = getenv("LEAFPACK_NO_PINS");
	struct rlimit rl;
	size_t max = PINS_MAX;

	if (off != NULL && strcmp(off, "1") == 0)
		return 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < max)
		max = rl.rlim_cur / 4;
	return max;
}

/* Appends fd (or -1) and its link count; 0, or -1 when out of memory. */
static int
pins_add(struct pins *p, int fd, nlink_t nlink)
{
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		int *fds;
		nlink_t *links;

		if (cap > p->max)
			cap = p->max;
		if ((fds = realloc(p->fd, cap * sizeof(*fds))) == NULL)
			return -1;
		p->fd = fds;
		if ((links = realloc(p->nlink, cap * sizeof(*links))) == NULL)
			return -1;
		p->nlink = links;
		p->cap = cap;
	}
	p->fd[p->count] = fd;
	p->nlink[p->count] = nlink;
	p->count++;
	return 0;
}

int
pins_look(struct pins *p, int dirfd, const struct journal_entry *e)
{
	struct journal_identity now;
	struct stat st;
	int fd = -1, match;

	if (p != NULL && !p->decided) {
		p->max = pins_limit();
		p->decided = true;
	}
	if (p == NULL || p->count >= p->max)
		return journal_identity_matches(dirfd, e->name, &e->id);
	/* Without the ctime the fstat would miss a rename: by name. */
	if (e->id.ctime_ns == 0)
		match = journal_identity_matches(dirfd, e->name, &e->id);
	else if ((fd = share_openat(dirfd, e->name, O_PATH | O_NOFOLLOW |
	    O_CLOEXEC, 0)) < 0) {
		if (errno == EMFILE || errno == ENFILE) {
			p->max = p->count;
			return journal_identity_matches(dirfd, e->name, &e->id);
		}
		match = 0;	/* gone, or not to be looked at */
	} else if ((match = share_fstat(fd, e->name, &st) == 0)) {
		journal_identity_from_stat(&now, &st);
		match = journal_identity_equal(&now, &e->id);
	}
	if (fd >= 0 && !match) {
		close(fd);
		fd = -1;
	}
	/* Every entry looked at has its place, pinned or not, so that
	 * pins_still() finds entry i at i. */
	if (pins_add(p, fd, fd >= 0 ? st.st_nlink : 0) < 0) {
		if (fd >= 0)
			close(fd);
		p->max = p->count;	/* out of memory: the rest by name */
	}
	return match;
}

int
pins_still(const struct pins *p, size_t i, int dirfd,
    const struct journal_entry *e)
{
	struct journal_identity now;
	struct stat st;

	if (p == NULL || i >= p->count || p->fd[i] < 0)
		return journal_identity_matches(dirfd, e->name, &e->id);
	if (share_fstat(p->fd[i], e->name, &st) == -1 ||
	    st.st_nlink != p->nlink[i])
		return 0;
	journal_identity_from_stat(&now, &st);
	return journal_identity_equal(&now, &e->id);
}

void
pins_free(struct pins *p)
{
	for (size_t i = 0; i < p->count; i++)
		if (p->fd[i] >= 0)
			close(p->fd[i]);
	free(p->fd);
	free(p->nlink);
	*p = (struct pins){ 0 };
}
