/*
 * journal.c - the hand-over journal of a leaf (see journal.h).
 */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fileid.h"
#include "journaljson.h"
#include "share.h"
#include "xstd.h"

/* Linux takes no attribute value bigger than this (linux/limits.h). */
#ifndef XATTR_SIZE_MAX
#define XATTR_SIZE_MAX 65536
#endif

const char *
journal_this_host(void)
{
	static char host[HOST_NAME_MAX + 1];

	if (host[0] == '\0' && gethostname(host, sizeof(host) - 1) == -1)
		strcpy(host, "localhost");
	return host;
}

int
journal_init(struct journal *j)
{
	memset(j, 0, sizeof(*j));
	j->version = JOURNAL_VERSION;
	j->state = JOURNAL_MERGING;
	j->pid = getpid();
	j->pgid = getpgrp();
	j->host = strdup(journal_this_host());
	return j->host == NULL ? -1 : 0;
}

void
journal_free(struct journal *j)
{
	free(j->host);
	spill_free(&j->kept);
	spill_free(&j->sources);
	memset(j, 0, sizeof(*j));
}

const char *
journal_state_name(enum journal_state state)
{
	switch (state) {
	case JOURNAL_MERGING:
		return "merging";
	case JOURNAL_MERGED:
		return "merged";
	case JOURNAL_COMMITTED:
		return "committed";
	}
	return "?";
}

/* An entry's record: the name and its NUL, then these, in this order. */
#define ENTRY_FIELDS (4 * 8 + 3 * 4)

int
journal_entries_add(struct spill *list, const struct journal_entry *e)
{
	char rec[NAME_MAX + 1 + ENTRY_FIELDS], *big = NULL, *p;
	size_t n = strlen(e->name) + 1, len = n + ENTRY_FIELDS;
	int r;

	/* A name of a directory fits on the stack; one from a journal may
	 * be anything. */
	if (len > sizeof(rec) && (big = malloc(len)) == NULL)
		return -1;
	p = big != NULL ? big : rec;
	memcpy(p, e->name, n);
	memcpy(p + n, &e->id.ino, 8);
	memcpy(p + n + 8, &e->id.size, 8);
	memcpy(p + n + 16, &e->id.mtime_ns, 8);
	memcpy(p + n + 24, &e->id.ctime_ns, 8);
	memcpy(p + n + 32, &e->mode, 4);
	memcpy(p + n + 36, &e->uid, 4);
	memcpy(p + n + 40, &e->gid, 4);
	r = spill_add(list, p, len);
	free(big);
	return r;
}

int
journal_entries_next(struct spill_cursor *c, struct journal_entry *e)
{
	const char *rec;
	size_t len, n;
	int r;

	if ((r = spill_next(c, &rec, &len)) <= 0)
		return r;
	if (len <= ENTRY_FIELDS || rec[len - ENTRY_FIELDS - 1] != '\0') {
		errno = EIO;
		return -1;
	}
	n = len - ENTRY_FIELDS;
	e->name = (char *)rec;
	memcpy(&e->id.ino, rec + n, 8);
	memcpy(&e->id.size, rec + n + 8, 8);
	memcpy(&e->id.mtime_ns, rec + n + 16, 8);
	memcpy(&e->id.ctime_ns, rec + n + 24, 8);
	memcpy(&e->mode, rec + n + 32, 4);
	memcpy(&e->uid, rec + n + 36, 4);
	memcpy(&e->gid, rec + n + 40, 4);
	return 1;
}

/* The key of an entry's record: its name. */
static void
entry_key(const char *rec, size_t len, const char **key, size_t *keylen)
{
	*key = rec;
	*keylen = len > ENTRY_FIELDS ? strnlen(rec, len - ENTRY_FIELDS) : 0;
}

int
journal_entries_sort(struct spill *list)
{
	return spill_sort(list, entry_key);
}

int
journal_entries_first(const struct spill *list, struct journal_entry *e,
    struct buf *name)
{
	struct spill_cursor c;
	struct journal_entry next;
	int r, found = 0;

	spill_cursor_init(&c, list);
	while ((r = journal_entries_next(&c, &next)) == 1) {
		if (found && strcmp(next.name, name->data) >= 0)
			continue;
		name->len = 0;
		if (buf_append(name, next.name, strlen(next.name) + 1) < 0) {
			r = -1;
			break;
		}
		*e = next;
		e->name = name->data;
		found = 1;
	}
	spill_cursor_free(&c);
	return r < 0 ? -1 : found;
}

void
journal_identity_from_stat(struct journal_identity *id, const struct stat *st)
{
	id->ino = fileid_ino(st);
	id->size = st->st_size;
	id->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL +
	    st->st_mtim.tv_nsec;
	id->ctime_ns = (long long)st->st_ctim.tv_sec * 1000000000LL +
	    st->st_ctim.tv_nsec;
}

void
journal_entry_from_stat(struct journal_entry *e, const char *name,
    const struct stat *st)
{
	e->name = (char *)name;
	journal_identity_from_stat(&e->id, st);
	e->mode = st->st_mode;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
}

int
journal_identity_equal(const struct journal_identity *a,
    const struct journal_identity *b)
{
	return fileid_ino_same(a->ino, b->ino) && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns && (a->ctime_ns == 0 ||
	    b->ctime_ns == 0 || a->ctime_ns == b->ctime_ns);
}

bool
journal_record_is_of(const struct journal *j, const struct stat *st)
{
	unsigned long long ino = fileid_ino(st);

	if (j->state != JOURNAL_COMMITTED)
		return false;
	if (ino != 0 && j->output_ino != 0)
		return ino == j->output_ino;
	/* jsonl-write wrote all of the output, and nothing else writes
	 * there. */
	return (unsigned long long)st->st_size == j->bytes;
}

bool
journal_base_is(const struct journal *j, const struct stat *st)
{
	unsigned long long ino = fileid_ino(st);

	if (!j->has_base)
		return false;
	if (ino != 0 && j->base.ino != 0)
		return ino == j->base.ino;
	return st->st_size == j->base.size &&
	    (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec
	    == j->base.mtime_ns;
}

int
journal_identity_matches(int dirfd, const char *name,
    const struct journal_identity *id)
{
	struct stat st;
	struct journal_identity now;

	if (share_fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	journal_identity_from_stat(&now, &st);
	return journal_identity_equal(&now, id);
}

/*
 * Parses the journal read from fd (a file) or, with fd -1, the len bytes
 * at text (an attribute's value) into *j and dates it with st's mtime.
 * -1 (EBADMSG) with j freed on malformation, or with the read's errno.
 */
static int
parse(int fd, const char *name, const char *text, size_t len,
    const struct stat *st, struct journal *j)
{
	int r;

	r = fd >= 0 ? journal_json_read_fd(fd, name, (size_t)st->st_size, j) :
	    journal_json_read_mem(text, len, j);
	if (r < 0) {
		int saved = errno;

		journal_free(j);
		errno = saved;
		return -1;
	}
	j->file_mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL +
	    st->st_mtim.tv_nsec;
	return 0;
}

static void
free_keeping_errno(void *p)
{
	int saved = errno;

	free(p);
	errno = saved;
}

/* Fails a load: closes fd (if >= 0; the file name), frees text and j,
 * keeps errno. */
static int
load_failed(int fd, const char *name, char *text, struct journal *j)
{
	int saved = errno;

	if (fd >= 0)
		share_close(fd, name);
	free(text);
	journal_free(j);
	errno = saved;
	return -1;
}

/* The journal of one leaf kept elsewhere (journal_redirect()). */
static struct {
	int from;		/* the leaf's dirfd, or -1 */
	int to;
	char name[NAME_MAX + 1];
} redirect = { .from = -1 };

void
journal_redirect(int dirfd, int to_dirfd, const char *to_name)
{
	redirect.from = dirfd;
	redirect.to = to_dirfd;
	snprintf(redirect.name, sizeof(redirect.name), "%s", to_name);
}

void
journal_redirect_clear(void)
{
	redirect.from = -1;
}

/* Where the journal of (dirfd, name) is. */
static void
place(int *dirfd, const char **name)
{
	if (redirect.from >= 0 && *dirfd == redirect.from) {
		*dirfd = redirect.to;
		*name = redirect.name;
	}
}

/* journal_load(), and with f (not NULL) the journal opened for writing and
 * kept open in f when loaded. */
static int
load(int dirfd, const char *name, struct journal *j, struct journal_held *f)
{
	struct stat st;
	char *jname, *text = NULL;
	int fd, r;

	place(&dirfd, &name);
	if (f != NULL) {
		f->fd = -1;
		f->jname = NULL;
	}
	if (journal_init(j) == -1)
		return -1;
	jname = journal_name(name);
	if (jname == NULL)
		return load_failed(-1, NULL, text, j);
	fd = share_openat(dirfd, jname, (f != NULL ? O_RDWR : O_RDONLY) |
	    O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd == -1) {
		r = errno == ENOENT ? 0 : load_failed(-1, NULL, text, j);
		free_keeping_errno(jname);
		return r;
	}
	if (share_fstat(fd, jname, &st) == -1)
		goto fail_fd;
	if (!S_ISREG(st.st_mode)) {
		errno = EBADMSG;
		goto fail_fd;
	}
	if (parse(fd, jname, NULL, 0, &st, j) < 0) {
		/* j is freed. */
		r = errno;
		share_close(fd, jname);
		free(jname);
		errno = r;
		return -1;
	}
	if (f != NULL) {
		f->fd = fd;
		f->jname = jname;
		f->end = st.st_size;
		return 1;
	}
	share_close(fd, jname);
	free(jname);
	return 1;
fail_fd:
	r = load_failed(fd, jname, text, j);
	free_keeping_errno(jname);
	return r;
}

int
journal_load(int dirfd, const char *name, struct journal *j)
{
	return load(dirfd, name, j, NULL);
}

int
journal_open(int dirfd, const char *name, struct journal *j,
    struct journal_held *f)
{
	return load(dirfd, name, j, f);
}

void
journal_held_close(struct journal_held *f)
{
	int saved = errno;

	if (f->fd >= 0)
		share_close(f->fd, f->jname);
	f->fd = -1;
	free(f->jname);
	f->jname = NULL;
	errno = saved;
}

int
journal_append(struct journal_held *f, const struct journal *j)
{
	int r = 0, saved = 0;

	/* After the bytes read, whatever the reader left of them. */
	if (lseek(f->fd, f->end, SEEK_SET) == -1 ||
	    journal_json_write(f->fd, f->jname, j) == -1) {
		r = -1;
		saved = errno;
	}
	/* The close sends what a network client holds, and says whether it
	 * could (jsonl-write reads the journal next). */
	if (share_close(f->fd, f->jname) == -1 && errno != EINTR && r == 0) {
		r = -1;
		saved = errno;
	}
	f->fd = -1;
	journal_held_close(f);
	errno = saved;
	return r;
}

/* ---- the record attached to the output ---- */

/*
 * The attribute's value, malloc()ed and NUL-terminated in *text (length
 * *len): first into a buffer that holds a leaf's usual record, so that
 * reading it is one call; sized first only when it is bigger.  Returns 1,
 * 0 when there is none (or no attribute support), -1 on error.
 */
static int
read_attr(int fd, const char *name, char **text, ssize_t *len)
{
	size_t cap = 4096;
	char *grown;

	for (;;) {
		if ((grown = realloc(*text, cap + 1)) == NULL)
			return -1;
		*text = grown;
		*len = share_fgetxattr(fd, name, JOURNAL_ATTR, *text, cap);
		if (*len >= 0) {
			(*text)[*len] = '\0';
			return 1;
		}
		if (errno == ENODATA || errno == ENOTSUP)
			return 0;
		if (errno != ERANGE)
			return -1;
		/* Bigger: its size, then again (it may grow meanwhile). */
		*len = share_fgetxattr(fd, name, JOURNAL_ATTR, NULL, 0);
		if (*len < 0)
			return errno == ENODATA || errno == ENOTSUP ? 0 : -1;
		cap = (size_t)*len + 1;
	}
}

int
journal_attr_load_fd(int fd, const char *name, const struct stat *st,
    struct journal *j)
{
	char *text = NULL;
	ssize_t len;
	int r;

	if (journal_init(j) == -1)
		return -1;
	if (!S_ISREG(st->st_mode) ||
	    (r = read_attr(fd, name, &text, &len)) == 0) {
		free(text);
		journal_free(j);
		return 0;
	}
	if (r < 0)
		return load_failed(-1, NULL, text, j);
	r = parse(-1, NULL, text, (size_t)len, st, j);
	free_keeping_errno(text);
	if (r == -1)
		return -1;
	if (journal_record_is_of(j, st))
		return 1;
	/* Another inode's record (a copy), or not a commit: nothing. */
	journal_free(j);
	return 0;
}

int
journal_attr_load(int dirfd, const char *name, struct journal *j)
{
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: an output that is a FIFO must not hang us. */
	fd = share_openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0);
	if (fd == -1) {
		if (journal_init(j) == -1)
			return -1;
		if (errno == ENOENT || errno == ELOOP || errno == EACCES) {
			journal_free(j);
			return 0;
		}
		return load_failed(-1, NULL, NULL, j);
	}
	if (share_fstat(fd, name, &st) == -1) {
		if (journal_init(j) == -1)
			return -1;
		return load_failed(fd, name, NULL, j);
	}
	r = journal_attr_load_fd(fd, name, &st, j);
	share_close_quietly(&fd, name);
	return r;
}

int
journal_attr_store(int fd, const char *name, const struct journal *j)
{
	const char *off = getenv("LEAFPACK_NO_XATTR");
	char *text;
	size_t len;
	int ret, saved;

	if (off != NULL && strcmp(off, "1") == 0) {
		errno = ENOTSUP;
		return -1;
	}
	/* No value bigger than the system takes is ever built: a record
	 * past that goes to the journal file (E2BIG, as fsetxattr says). */
	if (journal_json_text(j, XATTR_SIZE_MAX, &text, &len) < 0)
		return -1;
	ret = share_fsetxattr(fd, name, JOURNAL_ATTR, text, len,
	    XATTR_CREATE);
	saved = errno;
	free(text);
	errno = saved;
	return ret;
}

/* ---- writing ---- */

/*
 * Writes the journal into a new temporary, synced when durable, and closes
 * it: 0 (its name in *temp) or -1 with no temporary left behind.  Closed
 * before it is renamed or linked into place: on NFS the close sends what
 * the client still holds and reports a write that failed, before another
 * host can read the journal; on sshfs (libfuse) a temporary unlinked while
 * its release was still in flight was kept as a .fuse_hidden file, seen in
 * one claim in ten.
 */
static int
write_temp(int dirfd, const char *name, const struct journal *j, int durable,
    char **temp)
{
	int fd, saved;

	fd = journal_temp_create(dirfd, name, "journal.tmp", 0666, temp);
	if (fd == -1)
		return -1;
	if (journal_json_write(fd, *temp, j) == -1 ||
	    (durable && share_fsync(fd, *temp) == -1)) {
		saved = errno;
		share_close(fd, *temp);
		goto fail;
	}
	if (share_close(fd, *temp) == -1 && errno != EINTR) {
		saved = errno;
		goto fail;
	}
	return 0;
fail:
	share_unlinkat(dirfd, *temp, 0);
	free(*temp);
	*temp = NULL;
	errno = saved;
	return -1;
}

/* Ends a journal write: removes temp when failed, frees it. */
static int
finish_temp(int dirfd, char *temp, int failed)
{
	int saved = errno;

	if (failed)
		share_unlinkat(dirfd, temp, 0);
	free(temp);
	errno = saved;
	return failed ? -1 : 0;
}

int
journal_store(int dirfd, const char *name, const struct journal *j,
    int durable)
{
	char *temp, *jname;
	int failed;

	place(&dirfd, &name);
	jname = journal_name(name);
	if (jname == NULL)
		return -1;
	if (write_temp(dirfd, name, j, durable, &temp) == -1) {
		free(jname);
		return -1;
	}
	failed = share_renameat(dirfd, temp, jname) == -1;
	free(jname);
	if (finish_temp(dirfd, temp, failed) == -1)
		return -1;
	if (durable && share_fsync(dirfd, NULL) == -1)
		return -1;
	return 0;
}

/* The file system cannot make hard links: fall back to O_EXCL. */
static int
create_excl(int dirfd, const char *jname, const struct journal *j)
{
	int fd, saved;

	fd = share_openat(dirfd, jname, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd == -1)
		return -1;
	if (journal_json_write(fd, jname, j) == -1 ||
	    share_close(fd, jname) == -1) {
		saved = errno;
		share_unlinkat(dirfd, jname, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

int
journal_create(int dirfd, const char *name, const struct journal *j)
{
	char *temp, *jname;
	int failed, linkerr = 0;

	place(&dirfd, &name);
	jname = journal_name(name);
	if (jname == NULL)
		return -1;
	if (write_temp(dirfd, name, j, 0, &temp) == -1) {
		free(jname);
		return -1;
	}
	failed = share_linkat(dirfd, temp, jname) == -1;
	if (failed)
		linkerr = errno;
	/* The temporary goes either way: on success the journal is the link. */
	finish_temp(dirfd, temp, 1);
	if (failed && (linkerr == EPERM || linkerr == EOPNOTSUPP ||
	    linkerr == ENOSYS || linkerr == EMLINK)) {
		failed = create_excl(dirfd, jname, j) == -1;
		linkerr = errno;
	}
	free(jname);
	if (failed) {
		errno = linkerr;
		return -1;
	}
	return 0;
}

int
journal_remove(int dirfd, const char *name)
{
	char *jname;
	int ret, saved;

	place(&dirfd, &name);
	jname = journal_name(name);
	if (jname == NULL)
		return -1;
	ret = share_unlinkat(dirfd, jname, 0);
	saved = errno;
	free(jname);
	errno = saved;
	return ret;
}
