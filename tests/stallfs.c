/*
 * stallfs: a FUSE filesystem for tests that mirrors a directory and makes
 * chosen directories' listings hang or slow down, the way a stalled network
 * share does.
 *
 *   stallfs [-o FUSE_OPTIONS] --source DIR [--hang RELPATH]...
 *           [--hang-mode interruptible|nokill|unkillable] [--slow RELPATH:MS]...
 *           [--delay-ms N] [--no-dtype] MOUNTPOINT
 *
 * It runs in the foreground until MOUNTPOINT is unmounted (a lazy unmount,
 * `fusermount3 -u -z` or `umount -l`, is enough) or it gets SIGTERM, SIGINT
 * or SIGHUP; then it answers every request it held back with EIO, closes the
 * connection (which ends every request still in the kernel) and exits 0.  So
 * every reader it blocked is released, whatever its state.  tests/lib/stallfs.sh
 * mounts and unmounts it for the tests.
 *
 * The mirror is a read-write passthrough of DIR: lookup, getattr, setattr,
 * readlink, mkdir, symlink, link, unlink, rmdir, rename, open, create, read,
 * write, flush, fsync, opendir, readdir, fsyncdir, statfs.  Attributes and
 * names are never cached by the kernel (timeouts 0), so the mount shows
 * changes made in DIR at once.  Files created by another user are chowned to
 * that user.  It mounts with default_permissions (and allow_other as root),
 * so permission checks apply to unprivileged readers.  The mount's source in
 * /proc/self/mountinfo is "stallfs:PID", which is how the helpers find it.
 *
 * --hang RELPATH: every listing (readdir) of that directory, relative to
 *     DIR, is held back until unmount: opening it and stat-ing it work, the
 *     getdents() hangs.  May be repeated; "." is the root.
 * --hang-mode MODE: what a held listing does with signals:
 *     interruptible  the reader's first signal (e.g. SIGALRM) makes the
 *                    kernel send FUSE_INTERRUPT; the listing then fails
 *                    with EINTR (the default).
 *     nokill         interrupts are ignored: the reader stays blocked through
 *                    every signal but SIGKILL, like a hard NFS mount.  A
 *                    reader with SIGKILL pending is answered EINTR so that it
 *                    dies.
 *     unkillable     nothing frees the reader: its request was read by the
 *                    filesystem, so after SIGKILL the kernel waits for the
 *                    answer in uninterruptible sleep (state D).  This mode
 *                    also leaves FUSE_PARALLEL_DIROPS off, so a second reader
 *                    of the directory blocks in D state on the kernel's
 *                    per-directory mutex before even sending its request.
 * --slow RELPATH:MS: listings of that directory are answered after MS
 *     milliseconds (held like a hang meanwhile, signals as --hang-mode says).
 * --delay-ms N: every request waits N milliseconds before it is served.
 * --no-dtype: directory entries carry DT_UNKNOWN, as on filesystems that do
 *     not fill d_type, so readers must stat.
 *
 * Held requests are kept in a list, not parked on a thread: libfuse 3.14's
 * multithreaded loop never runs more than 10 threads, and each hung listing
 * would use one up.  A keeper thread answers them when due, interrupted or
 * killed, and watches the mount table for the unmount.  Normal modes ask the
 * kernel for FUSE_PARALLEL_DIROPS (libfuse before 3.17 does not: see
 * io_writev), so a second reader of a hung directory is held like the first
 * and freed by the same signals, and a hung directory blocks nothing else.
 *
 * Exit status: 0 after unmount or a signal, 1 when it could not mount, 2 on
 * a usage error.
 */
#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>

#include <linux/fuse.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum hang_mode { MODE_INTERRUPTIBLE, MODE_NOKILL, MODE_UNKILLABLE };

/* A directory of the source marked by --hang or --slow. */
struct mark {
	dev_t dev;
	ino_t ino;
	long slow_ms;		/* -1: hang until unmount */
};

/* A source inode the kernel knows; its fuse_ino_t is its address. */
struct node {
	struct node *next;	/* hash chain */
	dev_t dev;
	ino_t ino;
	int fd;			/* O_PATH descriptor in the source */
	uint64_t nlookup;	/* lookups the kernel has not forgotten */
	const struct mark *mark;
};

/* An open directory. */
struct dir_handle {
	DIR *dp;
	off_t offset;
	struct dirent *entry;	/* read but not yet sent */
};

/* A listing held back: answered when due, on a signal, or at unmount. */
struct held {
	struct held *next;
	fuse_req_t req;
	struct dir_handle *dir;
	size_t size;
	off_t offset;
	struct timespec due;	/* tv_sec 0: never */
	pid_t tid;		/* the reader's thread */
	int verdict;		/* set by held_answer: -1 list it, or an errno */
};

#define NODE_BUCKETS 4096
#define KEEPER_TICK_MS 20
#define MOUNT_CHECK_TICKS 5

static struct {
	enum hang_mode mode;
	long delay_ms;
	bool no_dtype;
	struct mark *marks;
	size_t nmarks;
	struct fuse_session *session;
	pthread_t main_thread;
	char fsname[64];	/* "stallfs:PID" */

	pthread_mutex_t nodes_lock;
	struct node root;
	struct node *buckets[NODE_BUCKETS];

	pthread_mutex_t held_lock;
	struct held *held;
	bool stopping;		/* no more holding: answer at once */
	bool parallel_dirops;	/* add FUSE_PARALLEL_DIROPS to the INIT reply */
	bool unmounted;		/* the mount went away under us */
} fs = {
	.nodes_lock = PTHREAD_MUTEX_INITIALIZER,
	.held_lock = PTHREAD_MUTEX_INITIALIZER,
};

static void
die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("stallfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void
usage(FILE *out, int status)
{
	fputs("usage: stallfs [-o FUSE_OPTIONS] --source DIR [--hang RELPATH]...\n"
	    "               [--hang-mode interruptible|nokill|unkillable]"
	    " [--slow RELPATH:MS]...\n"
	    "               [--delay-ms N] [--no-dtype] MOUNTPOINT\n", out);
	if (out == stdout)
		fputs("  -o OPTIONS           FUSE mount options\n"
		    "  --source DIR         the directory to mirror\n"
		    "  --hang RELPATH       hold that directory's listings until unmount\n"
		    "  --hang-mode MODE     interruptible (EINTR on a signal), nokill (only\n"
		    "                       SIGKILL frees the reader), unkillable (nothing does)\n"
		    "  --slow RELPATH:MS    answer that directory's listings after MS ms\n"
		    "  --delay-ms N         delay every request by N ms\n"
		    "  --no-dtype           report every entry's type as DT_UNKNOWN\n"
		    "  -h, --help           this help\n", out);
	exit(status);
}

static void
timespec_after_ms(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool
timespec_passed(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec ||
	    (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* --delay-ms: every operation starts with this. */
static void
op_delay(void)
{
	if (fs.delay_ms > 0)
		sleep_ms(fs.delay_ms);
}

static const struct mark *
mark_find(dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < fs.nmarks; i++)
		if (fs.marks[i].dev == dev && fs.marks[i].ino == ino)
			return &fs.marks[i];
	return NULL;
}

/* ---- inodes ---- */

static struct node *
node_of(fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &fs.root : (struct node *)(uintptr_t)ino;
}

static int
fd_of(fuse_ino_t ino)
{
	return node_of(ino)->fd;
}

static size_t
node_bucket(dev_t dev, ino_t ino)
{
	return (size_t)((ino * 31 + dev) % NODE_BUCKETS);
}

/*
 * Takes ownership of fd (an O_PATH descriptor of the file st describes) and
 * returns its node with one more lookup counted, or NULL with errno set.
 */
static struct node *
node_get(int fd, const struct stat *st)
{
	struct node *n;
	size_t b = node_bucket(st->st_dev, st->st_ino);

	if (st->st_dev == fs.root.dev && st->st_ino == fs.root.ino) {
		close(fd);
		pthread_mutex_lock(&fs.nodes_lock);
		fs.root.nlookup++;
		pthread_mutex_unlock(&fs.nodes_lock);
		return &fs.root;
	}
	pthread_mutex_lock(&fs.nodes_lock);
	for (n = fs.buckets[b]; n; n = n->next)
		if (n->dev == st->st_dev && n->ino == st->st_ino)
			break;
	if (n) {
		n->nlookup++;
		pthread_mutex_unlock(&fs.nodes_lock);
		close(fd);
		return n;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&fs.nodes_lock);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->fd = fd;
	n->nlookup = 1;
	n->mark = mark_find(st->st_dev, st->st_ino);
	n->next = fs.buckets[b];
	fs.buckets[b] = n;
	pthread_mutex_unlock(&fs.nodes_lock);
	return n;
}

static void
node_forget(fuse_ino_t ino, uint64_t nlookup)
{
	struct node *n = node_of(ino), **pp;

	pthread_mutex_lock(&fs.nodes_lock);
	n->nlookup -= nlookup < n->nlookup ? nlookup : n->nlookup;
	if (n->nlookup > 0 || n == &fs.root) {
		pthread_mutex_unlock(&fs.nodes_lock);
		return;
	}
	for (pp = &fs.buckets[node_bucket(n->dev, n->ino)]; *pp != n;
	    pp = &(*pp)->next)
		;
	*pp = n->next;
	pthread_mutex_unlock(&fs.nodes_lock);
	close(n->fd);
	free(n);
}

/* /proc/self/fd/N: the path that reopens an O_PATH descriptor. */
static void
proc_path(char buf[64], int fd)
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

/* ---- replies ---- */

/* Answers req with the errno of a failed call (res == -1) or success. */
static void
reply_status(fuse_req_t req, int res)
{
	fuse_reply_err(req, res == -1 ? errno : 0);
}

static int
lookup_entry(fuse_ino_t parent, const char *name, struct fuse_entry_param *e)
{
	struct node *n;
	int fd;

	memset(e, 0, sizeof(*e));
	fd = openat(fd_of(parent), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno;
	if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1) {
		int err = errno;

		close(fd);
		return err;
	}
	n = node_get(fd, &e->attr);
	if (!n)
		return errno;
	e->ino = n == &fs.root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
	return 0;
}

/* Replies to a request that made parent/name with its entry. */
static void
reply_new_entry(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int err = lookup_entry(parent, name, &e);

	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

/*
 * The daemon runs as root, so what it creates for another user would be
 * root's: hand it to the caller, as a local filesystem would.
 */
static void
give_to_caller(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	if (ctx->uid != geteuid() || ctx->gid != getegid())
		(void)fchownat(fd_of(parent), name, ctx->uid, ctx->gid,
		    AT_SYMLINK_NOFOLLOW);
}

/* ---- held listings ---- */

static void dir_reply(fuse_req_t req, struct dir_handle *d, size_t size,
    off_t offset);

/* Holds a listing back; the keeper thread answers it. */
static void
hold_listing(fuse_req_t req, struct dir_handle *d, size_t size, off_t offset,
    const struct mark *mark)
{
	struct held *h = calloc(1, sizeof(*h));

	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	h->req = req;
	h->dir = d;
	h->size = size;
	h->offset = offset;
	h->tid = fuse_req_ctx(req)->pid;
	if (mark->slow_ms >= 0)
		timespec_after_ms(&h->due, mark->slow_ms);
	pthread_mutex_lock(&fs.held_lock);
	if (fs.stopping) {
		pthread_mutex_unlock(&fs.held_lock);
		free(h);
		fuse_reply_err(req, EIO);
		return;
	}
	h->next = fs.held;
	fs.held = h;
	pthread_mutex_unlock(&fs.held_lock);
}

/* True when thread tid is gone or has SIGKILL pending. */
static bool
reader_killed(pid_t tid)
{
	char path[64], line[256];
	unsigned long long mask;
	bool killed = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT || errno == ESRCH;
	while (fgets(line, sizeof(line), f))
		if ((sscanf(line, "SigPnd: %llx", &mask) == 1 ||
		    sscanf(line, "ShdPnd: %llx", &mask) == 1) &&
		    (mask & (1ULL << (SIGKILL - 1))))
			killed = true;
	fclose(f);
	return killed;
}

/* What to answer a held listing now: 0 wait, -1 list it, or an errno. */
static int
held_verdict(const struct held *h)
{
	if (fs.stopping)
		return EIO;
	if (fs.mode == MODE_INTERRUPTIBLE && fuse_req_interrupted(h->req))
		return EINTR;
	if (fs.mode == MODE_NOKILL && reader_killed(h->tid))
		return EINTR;
	if (h->due.tv_sec != 0 && timespec_passed(&h->due))
		return -1;
	return 0;
}

/* Answers the held listings whose time has come (all of them when stopping). */
static void
held_answer(void)
{
	struct held *h, **pp, *ready = NULL;
	int verdict;

	pthread_mutex_lock(&fs.held_lock);
	for (pp = &fs.held; (h = *pp);) {
		verdict = held_verdict(h);
		if (verdict == 0) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		h->next = ready;
		h->verdict = verdict;
		ready = h;
	}
	pthread_mutex_unlock(&fs.held_lock);
	/* Reply outside the lock: a reply is a write to /dev/fuse. */
	while ((h = ready)) {
		ready = h->next;
		if (h->verdict == -1)
			dir_reply(h->req, h->dir, h->size, h->offset);
		else
			fuse_reply_err(h->req, h->verdict);
		free(h);
	}
}

/* True while our mount is in the mount table. */
static bool
mount_present(void)
{
	char needle[80], *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return true;
	snprintf(needle, sizeof(needle), " %s ", fs.fsname);
	while (!found && getline(&line, &cap, f) != -1)
		found = strstr(line, needle) != NULL;
	free(line);
	fclose(f);
	return found;
}

static void *
keeper(void *arg)
{
	bool gone;

	(void)arg;
	for (unsigned tick = 1;; tick++) {
		sleep_ms(KEEPER_TICK_MS);
		held_answer();
		gone = tick % MOUNT_CHECK_TICKS == 0 && !mount_present();
		pthread_mutex_lock(&fs.held_lock);
		/*
		 * A lazy unmount leaves the connection open while readers
		 * hold files in it: end the session ourselves, which closes
		 * the connection and frees them all.  Not once main has left
		 * the loop: its signal handlers may be gone by then.
		 */
		if (gone && !fs.stopping) {
			fs.unmounted = true;
			fuse_session_exit(fs.session);
			pthread_kill(fs.main_thread, SIGTERM);
		}
		if (gone || fs.stopping) {
			pthread_mutex_unlock(&fs.held_lock);
			return NULL;
		}
		pthread_mutex_unlock(&fs.held_lock);
	}
}

/*
 * libfuse 3.14 never passes FUSE_PARALLEL_DIROPS to the kernel, whatever
 * conn->want says, and without it the kernel serialises readdir and lookup
 * per directory with a mutex that no signal breaks.  So stallfs talks to
 * /dev/fuse through these custom I/O hooks and sets the flag in the INIT
 * reply itself, which is the first reply after op_init.
 */
static ssize_t
io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	if (fs.parallel_dirops && count >= 2 &&
	    iov[0].iov_len == sizeof(struct fuse_out_header) &&
	    ((struct fuse_out_header *)iov[0].iov_base)->error == 0 &&
	    iov[1].iov_len >= offsetof(struct fuse_init_out, flags) +
	    sizeof(uint32_t)) {
		((struct fuse_init_out *)iov[1].iov_base)->flags |=
		    FUSE_PARALLEL_DIROPS;
		fs.parallel_dirops = false;
	}
	return writev(fd, iov, count);
}

static ssize_t
io_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)userdata;
	return read(fd, buf, len);
}

static void
op_init(void *data, struct fuse_conn_info *conn)
{
	(void)data;
	/* The unkillable mode wants the kernel's lock: see the top. */
	fs.parallel_dirops = fs.mode != MODE_UNKILLABLE &&
	    (conn->capable & FUSE_CAP_PARALLEL_DIROPS);
	/* Plain readdir only: a held listing is always a readdir. */
	conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int err;

	op_delay();
	err = lookup_entry(parent, name, &e);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(ino, nlookup);
	fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		node_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	op_delay();
	if (fstatat(fd_of(ino), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		fuse_reply_err(req, errno);
	else
		fuse_reply_attr(req, &st, 0);
}

static int
set_times(int fd, const char *path, const struct stat *attr, int valid)
{
	struct timespec tv[2] = {
		{ .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };

	if (valid & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (valid & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;
	return fd >= 0 ? futimens(fd, tv) : utimensat(AT_FDCWD, path, tv, 0);
}

static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
    struct fuse_file_info *fi)
{
	int ofd = fi ? (int)fi->fh : -1, fd = fd_of(ino), res = 0;
	char path[64];

	op_delay();
	proc_path(path, fd);
	if (valid & FUSE_SET_ATTR_MODE)
		res = ofd >= 0 ? fchmod(ofd, attr->st_mode) :
		    chmod(path, attr->st_mode);
	if (res == 0 && (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		res = fchownat(fd, "",
		    valid & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1,
		    valid & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1,
		    AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	if (res == 0 && (valid & FUSE_SET_ATTR_SIZE))
		res = ofd >= 0 ? ftruncate(ofd, attr->st_size) :
		    truncate(path, attr->st_size);
	if (res == 0 && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)))
		res = set_times(ofd, path, attr, valid);
	if (res == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	op_getattr(req, ino, fi);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[PATH_MAX + 1];
	ssize_t len;

	op_delay();
	len = readlinkat(fd_of(ino), "", buf, sizeof(buf));
	if (len == -1)
		fuse_reply_err(req, errno);
	else if ((size_t)len == sizeof(buf))
		fuse_reply_err(req, ENAMETOOLONG);
	else {
		buf[len] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	op_delay();
	if (mkdirat(fd_of(parent), name, mode) == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	give_to_caller(req, parent, name);
	reply_new_entry(req, parent, name);
}

static void
op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
    const char *name)
{
	op_delay();
	if (symlinkat(target, fd_of(parent), name) == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	give_to_caller(req, parent, name);
	reply_new_entry(req, parent, name);
}

static void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	op_delay();
	if (linkat(fd_of(ino), "", fd_of(parent), name, AT_EMPTY_PATH) == -1)
		fuse_reply_err(req, errno);
	else
		reply_new_entry(req, parent, name);
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	op_delay();
	reply_status(req, unlinkat(fd_of(parent), name, 0));
}

static void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	op_delay();
	reply_status(req, unlinkat(fd_of(parent), name, AT_REMOVEDIR));
}

static void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	op_delay();
	reply_status(req, renameat2(fd_of(parent), name, fd_of(newparent),
	    newname, flags));
}

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	char path[64];
	int fd;

	op_delay();
	proc_path(path, fd_of(ino));
	fd = open(path, (fi->flags & ~O_NOFOLLOW) | O_CLOEXEC);
	if (fd == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	fi->fh = (uint64_t)fd;
	fuse_reply_open(req, fi);
}

static void
op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	int fd, err;

	op_delay();
	fd = openat(fd_of(parent), name,
	    (fi->flags & ~O_NOFOLLOW) | O_CREAT | O_CLOEXEC, mode);
	if (fd == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	give_to_caller(req, parent, name);
	err = lookup_entry(parent, name, &e);
	if (err) {
		close(fd);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)fd;
	fuse_reply_create(req, &e, fi);
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	(void)ino;
	op_delay();
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = (int)fi->fh;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void
op_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	ssize_t n;

	(void)ino;
	op_delay();
	n = pwrite((int)fi->fh, data, size, off);
	if (n == -1)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)n);
}

static void
op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	op_delay();
	/* close() of a duplicate reports what close() of the file would. */
	reply_status(req, close(dup((int)fi->fh)));
}

static void
op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	close((int)fi->fh);
	fuse_reply_err(req, 0);
}

static void
op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	int fd = (int)fi->fh;

	(void)ino;
	op_delay();
	reply_status(req, datasync ? fdatasync(fd) : fsync(fd));
}

static void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *d = calloc(1, sizeof(*d));
	int fd;

	op_delay();
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fd = openat(fd_of(ino), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || !(d->dp = fdopendir(fd))) {
		int err = errno;

		if (fd != -1)
			close(fd);
		free(d);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	fuse_reply_open(req, fi);
}

/* Lists up to size bytes of entries from offset and replies. */
static void
dir_reply(fuse_req_t req, struct dir_handle *d, size_t size, off_t offset)
{
	char *buf = malloc(size), *p = buf;
	size_t left = size;
	int err = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (offset != d->offset) {
		seekdir(d->dp, offset);
		d->entry = NULL;
		d->offset = offset;
	}
	for (;;) {
		struct stat st = { 0 };
		size_t len;

		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->dp);
			if (!d->entry) {
				err = errno;
				break;
			}
		}
		st.st_ino = d->entry->d_ino;
		if (!fs.no_dtype)
			st.st_mode = (mode_t)d->entry->d_type << 12;
		len = fuse_add_direntry(req, p, left, d->entry->d_name, &st,
		    d->entry->d_off);
		if (len > left)
			break;
		p += len;
		left -= len;
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}
	/* An error after some entries is reported on the next call. */
	if (err && left == size)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - left);
	free(buf);
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
    struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	const struct mark *mark = node_of(ino)->mark;

	op_delay();
	if (mark)
		hold_listing(req, d, size, offset, mark);
	else
		dir_reply(req, d, size, offset);
}

static void
op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;

	(void)ino;
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

static void
op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	int fd = dirfd(d->dp);

	(void)ino;
	op_delay();
	reply_status(req, datasync ? fdatasync(fd) : fsync(fd));
}

static void
op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	op_delay();
	if (fstatvfs(fd_of(ino), &sv) == -1)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.link = op_link,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
};

/* ---- setup ---- */

static long
parse_ms(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 86400000L)
		die(2, "%s: bad milliseconds: %s", what, s);
	return v;
}

/* Records rel (relative to the source root) as marked. */
static void
add_mark(const char *rel, long slow_ms)
{
	struct stat st;
	struct mark *m;

	if (fstatat(fs.root.fd, rel, &st, AT_SYMLINK_NOFOLLOW) == -1)
		die(2, "%s: %s", rel, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		die(2, "%s: not a directory", rel);
	m = realloc(fs.marks, (fs.nmarks + 1) * sizeof(*m));
	if (!m)
		die(1, "out of memory");
	fs.marks = m;
	fs.marks[fs.nmarks++] = (struct mark){ st.st_dev, st.st_ino, slow_ms };
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "delay-ms", required_argument, NULL, 'D' },
		{ "hang", required_argument, NULL, 'H' },
		{ "hang-mode", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "no-dtype", no_argument, NULL, 'T' },
		{ "slow", required_argument, NULL, 'S' },
		{ "source", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	/* Marks need the source open; collect them first. */
	const char *source = NULL, **hangs = NULL, **slows = NULL;
	char *mountopts = NULL;
	size_t nhangs = 0, nslows = 0;
	static const struct fuse_custom_io io = {
		.writev = io_writev,
		.read = io_read,
	};
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *config;
	struct stat st;
	pthread_t keeper_thread;
	int c, ret;

	/* Each option takes at least one argument: argc slots are enough. */
	hangs = calloc((size_t)argc, sizeof(*hangs));
	slows = calloc((size_t)argc, sizeof(*slows));
	if (!hangs || !slows)
		die(1, "out of memory");
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			fs.delay_ms = parse_ms(optarg, "--delay-ms");
			break;
		case 'H':
			hangs[nhangs++] = optarg;
			break;
		case 'M':
			if (strcmp(optarg, "interruptible") == 0)
				fs.mode = MODE_INTERRUPTIBLE;
			else if (strcmp(optarg, "nokill") == 0)
				fs.mode = MODE_NOKILL;
			else if (strcmp(optarg, "unkillable") == 0)
				fs.mode = MODE_UNKILLABLE;
			else
				usage(stderr, 2);
			break;
		case 'S':
			slows[nslows++] = optarg;
			break;
		case 'T':
			fs.no_dtype = true;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'o':
			if (mountopts) {
				char *joined;

				if (asprintf(&joined, "%s,%s", mountopts, optarg) == -1)
					die(1, "out of memory");
				free(mountopts);
				mountopts = joined;
			} else if (!(mountopts = strdup(optarg)))
				die(1, "out of memory");
			break;
		case 's':
			source = optarg;
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (!source || optind != argc - 1)
		usage(stderr, 2);

	fs.root.fd = open(source, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs.root.fd == -1 || fstat(fs.root.fd, &st) == -1)
		die(2, "%s: %s", source, strerror(errno));
	fs.root.dev = st.st_dev;
	fs.root.ino = st.st_ino;
	fs.root.nlookup = 1;
	for (size_t i = 0; i < nhangs; i++)
		add_mark(hangs[i], -1);
	for (size_t i = 0; i < nslows; i++) {
		char *colon = strrchr(slows[i], ':');

		if (!colon)
			die(2, "--slow %s: expected RELPATH:MS", slows[i]);
		*colon = '\0';
		add_mark(slows[i], parse_ms(colon + 1, "--slow"));
	}
	fs.root.mark = mark_find(fs.root.dev, fs.root.ino);

	snprintf(fs.fsname, sizeof(fs.fsname), "stallfs:%d", (int)getpid());
	if (fuse_opt_add_arg(&args, argv[0]) == -1 ||
	    fuse_opt_add_arg(&args, "-o") == -1)
		die(1, "out of memory");
	{
		char *opts;

		if (asprintf(&opts, "fsname=%s,subtype=stallfs,"
		    "default_permissions%s%s%s", fs.fsname,
		    geteuid() == 0 ? ",allow_other" : "",
		    mountopts ? "," : "", mountopts ? mountopts : "") == -1 ||
		    fuse_opt_add_arg(&args, opts) == -1)
			die(1, "out of memory");
		free(opts);
	}

	fs.session = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!fs.session)
		return 1;
	if (fuse_set_signal_handlers(fs.session) == -1 ||
	    fuse_session_mount(fs.session, argv[optind]) == -1 ||
	    fuse_session_custom_io(fs.session, &io, fuse_session_fd(fs.session)))
		return 1;
	fs.main_thread = pthread_self();
	if ((errno = pthread_create(&keeper_thread, NULL, keeper, NULL)))
		die(1, "pthread_create: %s", strerror(errno));

	config = fuse_loop_cfg_create();
	/* Hung listings hold no thread, so libfuse's cap of 10 is plenty. */
	fuse_loop_cfg_set_max_threads(config, 10);
	ret = fuse_session_loop_mt(fs.session, config);
	fuse_loop_cfg_destroy(config);

	pthread_mutex_lock(&fs.held_lock);
	fs.stopping = true;
	pthread_mutex_unlock(&fs.held_lock);
	pthread_join(keeper_thread, NULL);
	held_answer();
	if (!fs.unmounted && mount_present())
		fuse_session_unmount(fs.session);
	fuse_remove_signal_handlers(fs.session);
	/* Closing the connection ends whatever requests are left. */
	fuse_session_destroy(fs.session);
	fuse_opt_free_args(&args);
	free(mountopts);
	free(hangs);
	free(slows);
	return ret < 0 ? 1 : 0;
}
