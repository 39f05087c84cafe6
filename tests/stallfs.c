/*
 * stallfs: a FUSE filesystem for tests and benchmarks that mirrors a
 * directory and makes it behave like a sick network share: chosen
 * directories' listings, or chosen operations on chosen files, hang or are
 * slow; every request can be delayed, more so the more are in flight; the
 * whole mount can freeze and thaw on a signal; and it counts what it serves.
 *
 *   stallfs [-o FUSE_OPTIONS] --source DIR [--hang RELPATH]...
 *           [--hang-mode interruptible|nokill|unkillable] [--slow RELPATH:MS]...
 *           [--rule ACTION:OPS:GLOB]... [--delay-ms MS] [--congest KNEE:MS]
 *           [--count FILE] [--no-dtype] [--renumber] MOUNTPOINT
 *
 * It runs in the foreground until MOUNTPOINT is unmounted (a lazy unmount,
 * `fusermount3 -u -z` or `umount -l`, is enough) or it gets SIGTERM, SIGINT
 * or SIGHUP (but see --count); then it answers every request it held back
 * with EIO, closes the connection (which ends every request still in the
 * kernel) and exits 0.  So every reader it blocked is released, whatever its
 * state.  tests/lib/stallfs.sh mounts and unmounts it for the tests.
 *
 * The mirror is a read-write passthrough of DIR: lookup, getattr, setattr,
 * readlink, mkdir, symlink, link, unlink, rmdir, rename, open, create, read,
 * write, flush, fsync, opendir, readdir, fsyncdir, statfs, getxattr,
 * setxattr, listxattr, removexattr.  Attributes and names are never cached
 * by the kernel (timeouts 0), so the mount shows changes made in DIR at
 * once.  Reads are synchronous (no FUSE_ASYNC_READ): each is its reader's
 * own request, so the hang modes below apply to it.  The getxattr of
 * security.capability that the kernel makes before every write is answered
 * at once and not counted: a network share sees no such request.  Files
 * created by another user are chowned to that user.  It mounts with
 * default_permissions (and allow_other as root), so permission checks apply
 * to unprivileged readers.
 * The mount's source in /proc/self/mountinfo is "stallfs:PID", which is how
 * the helpers find it.
 *
 * --hang RELPATH: every listing (readdir) of that directory, relative to
 *     DIR, is held back until unmount: opening it and stat-ing it work, the
 *     getdents() hangs.  May be repeated; "." is the root.
 * --hang-mode MODE: what a held request does with signals (a hang, a --slow
 *     listing, a delay= rule, or any request while the mount is frozen):
 *     interruptible  the reader's first signal (e.g. SIGALRM) makes the
 *                    kernel send FUSE_INTERRUPT; the request then fails
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
 * --rule ACTION:OPS:GLOB: the operations OPS on the files whose path matches
 *     GLOB hang (ACTION "hang") or are answered after MS more milliseconds
 *     (ACTION "delay=MS"; held like a hang meanwhile).  OPS is "all" or a
 *     comma list of lookup, getattr, setattr, readlink, mkdir, symlink, link,
 *     unlink, rmdir, rename, open, create, read, write, flush, fsync,
 *     opendir, readdir, fsyncdir, statfs, getxattr, setxattr, listxattr,
 *     removexattr.  GLOB is an fnmatch(3) pattern without flags ("*" matches
 *     "/" and leading dots) matched against a path relative to DIR ("." is
 *     DIR itself, else "a/b.txt"): for lookup, mkdir, symlink, unlink, rmdir
 *     and create the entry's path; for rename the old and the new path (either
 *     matches); for link the new path and the linked file's; for the other
 *     operations the path the file has now (an open file renamed since is
 *     matched by its new name; a file given a second name by link keeps the
 *     first, "NAME (deleted)" once that is removed).  Files made after the
 *     mount match too.  May be
 *     repeated: every matching rule applies, a hang wins, delays add up.
 * --delay-ms MS: every request waits MS milliseconds (a decimal, such as 0.5)
 *     before it is served.  Signals do not shorten it, as on a slow server.
 * --renumber: report every inode number shifted by an amount drawn at
 *     mount, as sshfs numbers files anew for each mount (and each time the
 *     kernel forgets one): the same file has another number after a
 *     remount.
 * --congest KNEE:MS: each request in flight beyond KNEE (held or being
 *     served, counting the new one) adds MS milliseconds (a decimal) to a new
 *     request's delay, so latency climbs steeply past the knee, as on a share
 *     near saturation.  Signals do not shorten it either.
 * --count FILE: at exit, and on SIGHUP (which then no longer ends stallfs),
 *     writes FILE (through FILE.tmp.PID and a rename) with one JSON object:
 *       {"requests":N,"ops":{"lookup":N,...every operation...},
 *        "max_in_flight":N,"in_flight":N,"hung":N,"interrupted":N,
 *        "first":UNIX_SECONDS,"last":UNIX_SECONDS,"elapsed":SECONDS}
 *     ops counts the requests of each operation (also forget, release and
 *     releasedir, which are never held), requests their sum; max_in_flight
 *     and in_flight the most and the present number of requests read from
 *     the kernel and not yet answered; hung those held by a hang or a
 *     freeze; interrupted those answered EINTR; first and last are the
 *     arrival times of the first and the last request (0 when none),
 *     elapsed their difference.
 * --no-dtype: directory entries carry DT_UNKNOWN, as on filesystems that do
 *     not fill d_type, so readers must stat.
 *
 * Control signals (each acknowledged on stderr with one line
 * "stallfs: PID: WHAT" once it has taken effect; tests/lib/stallfs.sh waits
 * for it):
 *   SIGUSR1  freeze ("frozen"): from now on every request is held, and so is
 *            every request already delayed, as a hang (signals as
 *            --hang-mode says) until thawed or unmounted.  Requests being
 *            performed at that moment finish.
 *   SIGUSR2  thaw ("thawed"): what the freeze held is performed and answered
 *            (once its own delay has passed), and new requests are served.
 *            Hangs by --hang and hang rules stay.
 *   SIGURG   release ("released"): --hang and hang rules hang nothing from
 *            now on, and what they held is performed and answered normally,
 *            as when a sick share recovers.  Delays stay.
 *   SIGHUP   with --count, writes FILE ("counted") and goes on.
 *
 * How it works.  Every request (but forget, release and releasedir) is a
 * struct request built by its op_* callback and given to request_submit.
 * One that has nothing to wait for is performed at once in libfuse's thread.
 * One that must wait is copied (names and write data do not outlive the
 * callback) and parked in the held heap, ordered by due time; libfuse 3.14's
 * multithreaded loop never runs more than 10 threads, so a request must
 * never sleep in one.  The keeper thread waits on a condition variable until
 * the earliest due time (or an interrupt, a signal, a control switch), hands
 * due requests to a small pool of executor threads that perform and answer
 * them, answers interrupted or killed readers per --hang-mode, and watches
 * the mount table for the unmount.  So 64 readers of a mount delayed by 5 ms
 * each see about 5 ms per request.  Normal modes ask the kernel for
 * FUSE_PARALLEL_DIROPS (libfuse before 3.17 does not: see io_writev), so a
 * second reader of a hung directory is held like the first and freed by the
 * same signals, and a hung directory blocks nothing else.
 *
 * The parts, in order: operations and options; nodes (source inodes) and
 * their paths; rules; counts; the held heap, keeper and executors; the
 * passthrough (do_*, one per operation, and perform); the libfuse callbacks
 * (op_*); control signals; setup and main.
 *
 * Exit status: 0 after unmount or a signal, 1 when it could not mount or
 * could not write the --count file, 2 on a usage error.
 */
#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>

#include <linux/fuse.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* ---- operations and options ---- */

enum hang_mode { MODE_INTERRUPTIBLE, MODE_NOKILL, MODE_UNKILLABLE };

/* Every request stallfs serves; the holdable ones come first. */
enum op {
	OP_LOOKUP, OP_GETATTR, OP_SETATTR, OP_READLINK, OP_MKDIR, OP_SYMLINK,
	OP_LINK, OP_UNLINK, OP_RMDIR, OP_RENAME, OP_OPEN, OP_CREATE, OP_READ,
	OP_WRITE, OP_FLUSH, OP_FSYNC, OP_OPENDIR, OP_READDIR, OP_FSYNCDIR,
	OP_STATFS, OP_GETXATTR, OP_SETXATTR, OP_LISTXATTR, OP_REMOVEXATTR,
	OP_HOLDABLE,		/* the ones below are never held */
	OP_FORGET = OP_HOLDABLE, OP_RELEASE, OP_RELEASEDIR,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"lookup", "getattr", "setattr", "readlink", "mkdir", "symlink",
	"link", "unlink", "rmdir", "rename", "open", "create", "read",
	"write", "flush", "fsync", "opendir", "readdir", "fsyncdir",
	"statfs", "getxattr", "setxattr", "listxattr", "removexattr",
	"forget", "release", "releasedir",
};

#define OP_BIT(op) (1u << (op))
#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL
#define NODE_BUCKETS 4096
#define EXECUTORS 16
#define MOUNT_CHECK_NS (100 * NS_PER_MS)
#define KILL_POLL_NS (20 * NS_PER_MS)
#define NEVER UINT64_MAX
#define HEAP_NONE SIZE_MAX
/* The kernel's mark of an interrupt's unique (fs/fuse/fuse_i.h). */
#define FUSE_INT_REQ_BIT 1ULL

/* A directory of the source marked by --hang or --slow. */
struct mark {
	dev_t dev;
	ino_t ino;
	uint64_t slow_ns;	/* NEVER: hang */
};

/* A --rule. */
struct rule {
	uint32_t ops;		/* OP_BIT()s */
	bool hang;
	uint64_t delay_ns;
	const char *glob;
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

/* An open directory, on the list of those open (fs.dirs). */
struct dir_handle {
	struct dir_handle *prev, *next;
	DIR *dp;
	off_t offset;
	struct dirent *entry;	/* read but not yet sent */
};

/*
 * One request and its arguments.  The callbacks fill one on the stack,
 * pointing at libfuse's buffers; held_new copies what it points to.
 */
struct request {
	fuse_req_t req;
	enum op op;
	fuse_ino_t ino;		/* the inode, or the directory of name */
	const char *name;	/* the entry, or the xattr's name */
	fuse_ino_t newparent;	/* rename, link: the directory of newname */
	const char *newname;
	const char *target;	/* symlink: what the link holds */
	const char *data;	/* write: the bytes; setxattr: the value */
	size_t size;		/* its length, or read's/readdir's/getxattr's */
	off_t offset;
	int flags;		/* rename, setxattr flags; fsync datasync */
	int valid;		/* setattr: FUSE_SET_ATTR_* */
	mode_t mode;
	struct stat attr;	/* setattr */
	struct fuse_file_info fi;
	bool has_fi;		/* setattr may come without a file */
};

/* What the rules, marks, delays and freeze say a new request must do. */
struct plan {
	bool hang;		/* a hang (released only by SIGURG) */
	bool sensitive;		/* signals act as --hang-mode says */
	uint64_t delay_ns;
};

/* A parked request, with copies of its strings and data after it. */
struct held {
	struct request r;
	uint64_t due;		/* CLOCK_MONOTONIC ns when its delay is over */
	uint64_t seq;		/* arrival order among equal due times */
	size_t slot;		/* its index in the heap, or HEAP_NONE */
	struct held *intr_next;	/* the interrupt list */
	struct held *ready_next; /* the executors' queue */
	pid_t tid;		/* the reader's thread */
	bool hung;		/* due never: a hang, until released */
	bool sensitive;		/* signals act as --hang-mode says */
	bool interrupted;	/* the kernel sent FUSE_INTERRUPT for it */
	bool intr_queued;	/* on the interrupt list */
	bool polled;		/* nokill: watched for SIGKILL */
	bool was_hung;		/* held by a hang or a freeze: counted so */
	char store[];
};

static struct {
	enum hang_mode mode;
	uint64_t delay_ns;
	long congest_knee;	/* -1: no --congest */
	uint64_t congest_ns;
	bool no_dtype;
	ino_t ino_shift;	/* --renumber: added to reported numbers */
	struct mark *marks;
	size_t nmarks;
	struct rule *rules;
	size_t nrules;
	uint32_t rule_ops;	/* the operations some rule names */
	const char *count_file;
	struct fuse_session *session;
	pthread_t main_thread;
	char fsname[64];	/* "stallfs:PID" */
	char root_path[PATH_MAX]; /* the source, as /proc names it */
	size_t root_len;

	pthread_mutex_t nodes_lock;
	struct node root;
	struct node *buckets[NODE_BUCKETS];
	/* Open directories: the kernel need not release them all. */
	pthread_mutex_t dirs_lock;
	struct dir_handle *dirs;

	/* The held heap and everything the keeper watches: held_lock. */
	pthread_mutex_t held_lock;
	pthread_cond_t keeper_cond;	/* kicked set */
	pthread_cond_t ready_cond;	/* the executors' queue */
	struct held **heap;
	size_t nheap, heap_cap;
	uint64_t seq;
	struct held *intr;		/* interrupted, for the keeper */
	struct held *ready, **ready_tail;
	size_t npolled;
	bool kicked;		/* something for the keeper to look at */
	atomic_bool frozen;	/* written under held_lock */
	atomic_bool released;	/* written under held_lock */
	bool stopping;		/* no more holding: answer at once */
	bool executors_stop;
	bool parallel_dirops;	/* add FUSE_PARALLEL_DIROPS to the INIT reply */
	bool unmounted;		/* the mount went away under us */
} fs = {
	.congest_knee = -1,
	.nodes_lock = PTHREAD_MUTEX_INITIALIZER,
	.dirs_lock = PTHREAD_MUTEX_INITIALIZER,
	.held_lock = PTHREAD_MUTEX_INITIALIZER,
	.ready_cond = PTHREAD_COND_INITIALIZER,
	.ready_tail = &fs.ready,
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
	    "               [--rule ACTION:OPS:GLOB]... [--delay-ms MS]"
	    " [--congest KNEE:MS]\n"
	    "               [--count FILE] [--no-dtype] [--renumber] MOUNTPOINT\n",
	    out);
	if (out == stdout)
		fputs("  -o OPTIONS           FUSE mount options\n"
		    "  --source DIR         the directory to mirror\n"
		    "  --hang RELPATH       hold that directory's listings until unmount\n"
		    "  --hang-mode MODE     interruptible (EINTR on a signal), nokill (only\n"
		    "                       SIGKILL frees the reader), unkillable (nothing does)\n"
		    "  --slow RELPATH:MS    answer that directory's listings after MS ms\n"
		    "  --rule ACTION:OPS:GLOB  hang (ACTION hang) or delay (delay=MS) the\n"
		    "                       operations OPS (all, or a comma list such as\n"
		    "                       read,write,rename) on paths matching GLOB\n"
		    "  --delay-ms MS        delay every request by MS ms (0.5 allowed)\n"
		    "  --congest KNEE:MS    add MS ms per request in flight beyond KNEE\n"
		    "  --count FILE         write request counts to FILE at exit and on SIGHUP\n"
		    "  --no-dtype           report every entry's type as DT_UNKNOWN\n"
		    "  --renumber           report inode numbers shifted by an amount drawn\n"
		    "                       at mount (another number after a remount)\n"
		    "  -h, --help           this help\n"
		    "signals: SIGUSR1 freezes the mount, SIGUSR2 thaws it, SIGURG releases\n"
		    "the hangs, SIGHUP writes --count's FILE; each is acknowledged on stderr\n"
		    "with \"stallfs: PID: frozen|thawed|released|counted\"\n", out);
	exit(status);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static struct timespec
timespec_of_ns(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S) };
}

/* ---- nodes ---- */

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

static const struct mark *
mark_find(dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < fs.nmarks; i++)
		if (fs.marks[i].dev == dev && fs.marks[i].ino == ino)
			return &fs.marks[i];
	return NULL;
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

/* Frees the nodes the kernel never forgot (it need not, at unmount). */
static void
nodes_free(void)
{
	for (size_t b = 0; b < NODE_BUCKETS; b++)
		while (fs.buckets[b]) {
			struct node *n = fs.buckets[b];

			fs.buckets[b] = n->next;
			close(n->fd);
			free(n);
		}
}

static void
dir_list_add(struct dir_handle *d)
{
	pthread_mutex_lock(&fs.dirs_lock);
	d->next = fs.dirs;
	if (fs.dirs)
		fs.dirs->prev = d;
	fs.dirs = d;
	pthread_mutex_unlock(&fs.dirs_lock);
}

/* Closes and frees d. */
static void
dir_close(struct dir_handle *d)
{
	pthread_mutex_lock(&fs.dirs_lock);
	if (d->prev)
		d->prev->next = d->next;
	else
		fs.dirs = d->next;
	if (d->next)
		d->next->prev = d->prev;
	pthread_mutex_unlock(&fs.dirs_lock);
	closedir(d->dp);
	free(d);
}

/* /proc/self/fd/N: the path that reopens an O_PATH descriptor. */
static void
proc_path(char buf[64], int fd)
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
}

/*
 * The path of ino relative to the source ("." for the source itself), as
 * the kernel names its descriptor now, into buf; "" when unknown.  A file
 * removed but still open loses /proc's " (deleted)".
 */
static void
node_path(fuse_ino_t ino, char *buf, size_t size)
{
	static const char deleted[] = " (deleted)";
	char link[64], abs[PATH_MAX];
	const char *rel = abs;
	int fd = fd_of(ino);
	ssize_t len;
	struct stat st;

	proc_path(link, fd);
	len = readlink(link, abs, sizeof(abs) - 1);
	if (len < 0) {
		buf[0] = '\0';
		return;
	}
	abs[len] = '\0';
	if ((size_t)len > sizeof(deleted) - 1 &&
	    strcmp(abs + len - (sizeof(deleted) - 1), deleted) == 0 &&
	    fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && st.st_nlink == 0)
		abs[len - (sizeof(deleted) - 1)] = '\0';
	if (strcmp(abs, fs.root_path) == 0)
		rel = ".";
	else if (fs.root_len == 1 && abs[0] == '/')
		rel = abs + 1;
	else if (strncmp(abs, fs.root_path, fs.root_len) == 0 &&
	    abs[fs.root_len] == '/')
		rel = abs + fs.root_len + 1;
	snprintf(buf, size, "%s", rel);
}

/* The path of parent's entry name relative to the source, into buf. */
static void
entry_path(fuse_ino_t parent, const char *name, char *buf, size_t size)
{
	char dir[PATH_MAX];

	node_path(parent, dir, sizeof(dir));
	/* A path too long for PATH_MAX is unknown, like an unreadable one. */
	if (snprintf(buf, size, "%s%s%s", strcmp(dir, ".") == 0 ? "" : dir,
	    strcmp(dir, ".") == 0 ? "" : "/", name) >= (int)size)
		buf[0] = '\0';
}

/* ---- rules ---- */

/* Applies to plan the rules that match path for operation op. */
static void
rules_match(enum op op, const char *path, struct plan *plan)
{
	for (size_t i = 0; i < fs.nrules; i++) {
		const struct rule *rule = &fs.rules[i];

		if (!(rule->ops & OP_BIT(op)) || fnmatch(rule->glob, path, 0) != 0)
			continue;
		plan->sensitive = true;
		if (rule->hang)
			plan->hang = true;
		else
			plan->delay_ns += rule->delay_ns;
	}
}

/* Applies to plan the rules for request r, on each path it names. */
static void
rules_apply(const struct request *r, struct plan *plan)
{
	char path[PATH_MAX];

	if (!(fs.rule_ops & OP_BIT(r->op)))
		return;
	switch (r->op) {
	case OP_LOOKUP: case OP_MKDIR: case OP_SYMLINK: case OP_UNLINK:
	case OP_RMDIR: case OP_CREATE: case OP_RENAME:
		entry_path(r->ino, r->name, path, sizeof(path));
		break;
	default:
		node_path(r->ino, path, sizeof(path));
	}
	rules_match(r->op, path, plan);
	if (r->op == OP_RENAME || r->op == OP_LINK) {
		entry_path(r->newparent, r->newname, path, sizeof(path));
		rules_match(r->op, path, plan);
	}
}

/* ---- counts ---- */

static struct {
	pthread_mutex_t lock;
	uint64_t ops[OP_COUNT];
	uint64_t requests, hung, interrupted;
	long in_flight, max_in_flight;
	struct timespec first, last;	/* CLOCK_REALTIME */
	pthread_mutex_t file_lock;	/* one writer of --count at a time */
} counts = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.file_lock = PTHREAD_MUTEX_INITIALIZER,
};

/*
 * Requests in flight are those read from /dev/fuse and not yet answered:
 * io_read adds 1 for each and io_writev takes 1 off before the answer is
 * written, so that a reader's next request never finds its last one still
 * counted.
 */
static void
count_in_flight(int change)
{
	pthread_mutex_lock(&counts.lock);
	counts.in_flight += change;
	if (counts.in_flight > counts.max_in_flight)
		counts.max_in_flight = counts.in_flight;
	pthread_mutex_unlock(&counts.lock);
}

/* Counts a new request of operation op; returns how many are in flight. */
static long
count_begin(enum op op)
{
	struct timespec now;
	long in_flight;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&counts.lock);
	counts.ops[op]++;
	if (counts.requests++ == 0)
		counts.first = now;
	counts.last = now;
	in_flight = counts.in_flight;
	pthread_mutex_unlock(&counts.lock);
	return in_flight;
}

/* A held request was answered; hung and interrupted say how. */
static void
count_held(bool hung, bool interrupted)
{
	pthread_mutex_lock(&counts.lock);
	counts.hung += hung;
	counts.interrupted += interrupted;
	pthread_mutex_unlock(&counts.lock);
}

static double
seconds_of(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static void
count_print(FILE *f)
{
	pthread_mutex_lock(&counts.lock);
	fprintf(f, "{\"requests\":%" PRIu64 ",\"ops\":{", counts.requests);
	for (int op = 0; op < OP_COUNT; op++)
		fprintf(f, "%s\"%s\":%" PRIu64, op ? "," : "", op_names[op],
		    counts.ops[op]);
	fprintf(f, "},\"max_in_flight\":%ld,\"in_flight\":%ld,"
	    "\"hung\":%" PRIu64 ",\"interrupted\":%" PRIu64 ","
	    "\"first\":%.6f,\"last\":%.6f,\"elapsed\":%.6f}\n",
	    counts.max_in_flight, counts.in_flight, counts.hung,
	    counts.interrupted, seconds_of(&counts.first),
	    seconds_of(&counts.last),
	    seconds_of(&counts.last) - seconds_of(&counts.first));
	pthread_mutex_unlock(&counts.lock);
}

/* Writes the --count file through a temporary; 0, or -1 with a message. */
static int
count_write(void)
{
	char *tmp;
	FILE *f;
	int ret = 0;

	if (!fs.count_file)
		return 0;
	if (asprintf(&tmp, "%s.tmp.%d", fs.count_file, (int)getpid()) == -1) {
		fprintf(stderr, "stallfs: out of memory\n");
		return -1;
	}
	pthread_mutex_lock(&counts.file_lock);
	f = fopen(tmp, "we");
	if (f)
		count_print(f);
	if (!f || fclose(f) != 0 || rename(tmp, fs.count_file) != 0) {
		fprintf(stderr, "stallfs: %s: %s\n", fs.count_file,
		    strerror(errno));
		unlink(tmp);
		ret = -1;
	}
	pthread_mutex_unlock(&counts.file_lock);
	free(tmp);
	return ret;
}

/* ---- the held heap ---- */

/* The time a held request is due; a hang never is. */
static uint64_t
held_key(const struct held *h)
{
	return h->hung ? NEVER : h->due;
}

static bool
held_before(const struct held *a, const struct held *b)
{
	uint64_t ka = held_key(a), kb = held_key(b);

	return ka < kb || (ka == kb && a->seq < b->seq);
}

static void
heap_set(size_t i, struct held *h)
{
	fs.heap[i] = h;
	h->slot = i;
}

static void
heap_sift_up(size_t i)
{
	struct held *h = fs.heap[i];

	while (i > 0 && held_before(h, fs.heap[(i - 1) / 2])) {
		heap_set(i, fs.heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(i, h);
}

static void
heap_sift_down(size_t i)
{
	struct held *h = fs.heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= fs.nheap)
			break;
		if (c + 1 < fs.nheap && held_before(fs.heap[c + 1], fs.heap[c]))
			c++;
		if (!held_before(fs.heap[c], h))
			break;
		heap_set(i, fs.heap[c]);
		i = c;
	}
	heap_set(i, h);
}

/* Adds h; 0, or -1 when out of memory.  held_lock held. */
static int
heap_push(struct held *h)
{
	if (fs.nheap == fs.heap_cap) {
		size_t cap = fs.heap_cap ? 2 * fs.heap_cap : 64;
		struct held **heap = realloc(fs.heap, cap * sizeof(*heap));

		if (!heap)
			return -1;
		fs.heap = heap;
		fs.heap_cap = cap;
	}
	heap_set(fs.nheap++, h);
	heap_sift_up(h->slot);
	return 0;
}

/* Takes h out of the heap and the interrupt list.  held_lock held. */
static void
heap_remove(struct held *h)
{
	size_t i = h->slot;
	struct held *last = fs.heap[--fs.nheap];

	h->slot = HEAP_NONE;
	if (h->polled) {
		h->polled = false;
		fs.npolled--;
	}
	if (h->intr_queued) {
		struct held **pp = &fs.intr;

		while (*pp != h)
			pp = &(*pp)->intr_next;
		*pp = h->intr_next;
		h->intr_queued = false;
	}
	if (last == h)
		return;
	heap_set(i, last);
	heap_sift_up(i);
	heap_sift_down(last->slot);
}

/* Puts the heap in order again after keys changed.  held_lock held. */
static void
heap_rebuild(void)
{
	for (size_t i = fs.nheap / 2; i-- > 0;)
		heap_sift_down(i);
}

/* ---- held requests ---- */

/* Wakes the keeper to look again.  held_lock held. */
static void
keeper_kick(void)
{
	fs.kicked = true;
	pthread_cond_signal(&fs.keeper_cond);
}

/* Puts h on the keeper's interrupt list.  held_lock held. */
static void
intr_queue(struct held *h)
{
	if (h->intr_queued || h->slot == HEAP_NONE)
		return;
	h->intr_queued = true;
	h->intr_next = fs.intr;
	fs.intr = h;
	keeper_kick();
}

/*
 * libfuse calls this when the kernel interrupts h's request, with the
 * request's own lock held: so no libfuse call on a request may be made
 * while holding held_lock.  h stays valid: held_unhook waits for us.
 */
static void
held_interrupted(fuse_req_t req, void *data)
{
	struct held *h = data;

	(void)req;
	pthread_mutex_lock(&fs.held_lock);
	h->interrupted = true;
	intr_queue(h);
	pthread_mutex_unlock(&fs.held_lock);
}

/* Copies len bytes of src to *store, which it advances; returns the copy. */
static const char *
store_copy(char **store, const char *src, size_t len)
{
	char *copy = *store;

	memcpy(copy, src, len);
	*store += len;
	return copy;
}

/* Copies r, with the strings and data it points to, into a new held. */
static struct held *
held_new(const struct request *r)
{
	size_t name = r->name ? strlen(r->name) + 1 : 0;
	size_t newname = r->newname ? strlen(r->newname) + 1 : 0;
	size_t target = r->target ? strlen(r->target) + 1 : 0;
	size_t data = r->data ? r->size : 0;
	struct held *h = calloc(1, sizeof(*h) + name + newname + target + data);
	char *p;

	if (!h)
		return NULL;
	h->r = *r;
	h->slot = HEAP_NONE;
	h->tid = fuse_req_ctx(r->req)->pid;
	p = h->store;
	if (r->name)
		h->r.name = store_copy(&p, r->name, name);
	if (r->newname)
		h->r.newname = store_copy(&p, r->newname, newname);
	if (r->target)
		h->r.target = store_copy(&p, r->target, target);
	if (r->data)
		h->r.data = store_copy(&p, r->data, data);
	return h;
}

/*
 * Detaches held_interrupted from h's request, waiting for a call of it in
 * progress, so that h can be answered and freed.  Not with held_lock held.
 */
static void
held_unhook(struct held *h)
{
	fuse_req_interrupt_func(h->r.req, NULL, NULL);
}

static void perform(const struct request *r);

/* Answers h with err, or performs it when err is 0, and frees it. */
static void
held_finish(struct held *h, int err)
{
	held_unhook(h);
	if (err)
		fuse_reply_err(h->r.req, err);
	else
		perform(&h->r);
	count_held(h->was_hung, err == EINTR);
	free(h);
}

/* Parks request r as plan says; the keeper answers it. */
static void
held_park(const struct request *r, const struct plan *plan)
{
	struct held *h = held_new(r);
	int err = ENOMEM;

	if (!h) {
		fuse_reply_err(r->req, ENOMEM);
		return;
	}
	h->due = now_ns() + plan->delay_ns;
	h->hung = plan->hang;
	h->sensitive = plan->sensitive;
	/* Before it is in the heap, where the keeper could answer it. */
	fuse_req_interrupt_func(r->req, held_interrupted, h);
	pthread_mutex_lock(&fs.held_lock);
	h->seq = fs.seq++;
	h->was_hung = h->hung || atomic_load(&fs.frozen);
	if (!fs.stopping && heap_push(h) == 0) {
		if (h->slot == 0)
			keeper_kick();
		if (h->interrupted)
			intr_queue(h);
		err = 0;
	} else if (fs.stopping)
		err = EIO;
	pthread_mutex_unlock(&fs.held_lock);
	if (err)
		held_finish(h, err);
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

/*
 * The keeper's answer to an interrupt of h, which it holds: EINTR, 0 to
 * keep holding it, or -1 to keep it and watch the reader for SIGKILL.
 */
static int
interrupt_verdict(const struct held *h)
{
	if (!h->sensitive && !atomic_load(&fs.frozen))
		return 0;	/* a plain delay: answered when due */
	switch (fs.mode) {
	case MODE_INTERRUPTIBLE:
		return EINTR;
	case MODE_NOKILL:
		return reader_killed(h->tid) ? EINTR : -1;
	default:
		return 0;
	}
}

/*
 * Takes h out of the heap and answers it with err (0: performs it).
 * held_lock held, dropped meanwhile.
 */
static void
keeper_finish(struct held *h, int err)
{
	heap_remove(h);
	pthread_mutex_unlock(&fs.held_lock);
	held_finish(h, err);
	pthread_mutex_lock(&fs.held_lock);
}

/*
 * Handles the interrupt list: interrupted readers are answered or watched.
 * Called and returns with held_lock held; drops it meanwhile.  Only the
 * keeper takes requests out of the heap, so the one it looks at stays there.
 */
static void
keeper_interrupts(void)
{
	struct held *h;

	while ((h = fs.intr)) {
		int verdict;

		fs.intr = h->intr_next;
		h->intr_queued = false;
		pthread_mutex_unlock(&fs.held_lock);
		verdict = interrupt_verdict(h);
		pthread_mutex_lock(&fs.held_lock);
		if (verdict == -1 && !h->polled) {
			h->polled = true;
			fs.npolled++;
		} else if (verdict > 0)
			keeper_finish(h, verdict);
	}
}

/*
 * nokill: answers EINTR to the watched readers that got SIGKILL since.
 * held_lock held, dropped meanwhile.
 */
static void
keeper_poll_killed(void)
{
	struct held **watched = malloc(fs.npolled * sizeof(*watched));
	size_t n = 0;

	if (!watched)
		return;
	for (size_t i = 0; i < fs.nheap; i++)
		if (fs.heap[i]->polled)
			watched[n++] = fs.heap[i];
	pthread_mutex_unlock(&fs.held_lock);
	for (size_t i = 0; i < n; i++)
		if (!reader_killed(watched[i]->tid))
			watched[i] = NULL;
	pthread_mutex_lock(&fs.held_lock);
	for (size_t i = 0; i < n; i++)
		if (watched[i])
			keeper_finish(watched[i], EINTR);
	free(watched);
}

/* True when the i-th held request of the heap is due now. */
static bool
heap_due(size_t i, uint64_t now)
{
	return i < fs.nheap && !atomic_load(&fs.frozen) &&
	    held_key(fs.heap[i]) <= now;
}

static void
ready_push(struct held *h)
{
	h->ready_next = NULL;
	*fs.ready_tail = h;
	fs.ready_tail = &h->ready_next;
	pthread_cond_signal(&fs.ready_cond);
}

/*
 * Performs the due requests.  The keeper performs the last one itself: on
 * a busy machine each thread woken costs a time slice, and a delayed
 * request already wakes three.  The others due with it, and fsyncs (which
 * wait for the disk), go to the executors; nothing else can block for
 * long (the kernel opens FIFOs and devices on a FUSE mount itself).
 * held_lock held, dropped meanwhile.
 */
static void
keeper_dispatch(uint64_t now)
{
	while (heap_due(0, now)) {
		struct held *h = fs.heap[0];

		/* The next one due is a child of the first. */
		if (heap_due(1, now) || heap_due(2, now) ||
		    h->r.op == OP_FSYNC || h->r.op == OP_FSYNCDIR) {
			heap_remove(h);
			ready_push(h);
		} else
			keeper_finish(h, 0);
	}
}

/* Answers every held request EIO: stallfs is stopping.  held_lock held. */
static void
keeper_fail_all(void)
{
	while (fs.nheap > 0)
		keeper_finish(fs.heap[0], EIO);
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

/*
 * A lazy unmount leaves the connection open while readers hold files in
 * it: end the session ourselves, which closes the connection and frees them
 * all.  Not once main has left the loop: its signal handlers may be gone.
 * held_lock held, dropped meanwhile.
 */
static void
keeper_check_mount(void)
{
	bool gone;

	pthread_mutex_unlock(&fs.held_lock);
	gone = !mount_present();
	pthread_mutex_lock(&fs.held_lock);
	if (gone && !fs.stopping) {
		fs.unmounted = true;
		fuse_session_exit(fs.session);
		pthread_kill(fs.main_thread, SIGTERM);
	}
}

/* When the keeper must look again at the latest.  held_lock held. */
static uint64_t
keeper_next_wake(uint64_t next_mount_check, uint64_t next_poll)
{
	uint64_t wake = fs.unmounted ? NEVER : next_mount_check;

	if (fs.nheap > 0 && !atomic_load(&fs.frozen) &&
	    held_key(fs.heap[0]) < wake)
		wake = held_key(fs.heap[0]);
	if (fs.npolled > 0 && next_poll < wake)
		wake = next_poll;
	return wake;
}

static void *
keeper(void *arg)
{
	uint64_t now = now_ns(), next_mount_check = now + MOUNT_CHECK_NS;
	uint64_t next_poll = now + KILL_POLL_NS, wake;

	(void)arg;
	/* A 1 ms delay should cost 1 ms, not the default 50 us more. */
	prctl(PR_SET_TIMERSLACK, 1000UL);
	pthread_mutex_lock(&fs.held_lock);
	while (!fs.stopping) {
		fs.kicked = false;
		if (fs.intr)
			keeper_interrupts();
		now = now_ns();
		if (fs.npolled > 0 && now >= next_poll) {
			keeper_poll_killed();
			next_poll = now + KILL_POLL_NS;
		}
		keeper_dispatch(now);
		if (!fs.unmounted && now >= next_mount_check) {
			keeper_check_mount();
			next_mount_check = now + MOUNT_CHECK_NS;
		}
		wake = keeper_next_wake(next_mount_check, next_poll);
		while (!fs.kicked && !fs.stopping && now_ns() < wake) {
			struct timespec ts = timespec_of_ns(wake);

			if (wake == NEVER)
				pthread_cond_wait(&fs.keeper_cond, &fs.held_lock);
			else
				pthread_cond_timedwait(&fs.keeper_cond,
				    &fs.held_lock, &ts);
		}
	}
	keeper_fail_all();
	pthread_mutex_unlock(&fs.held_lock);
	return NULL;
}

/* Performs and answers the due requests the keeper hands over. */
static void *
executor(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&fs.held_lock);
	for (;;) {
		struct held *h = fs.ready;

		if (!h) {
			if (fs.executors_stop)
				break;
			pthread_cond_wait(&fs.ready_cond, &fs.held_lock);
			continue;
		}
		fs.ready = h->ready_next;
		if (!fs.ready)
			fs.ready_tail = &fs.ready;
		pthread_mutex_unlock(&fs.held_lock);
		held_finish(h, 0);
		pthread_mutex_lock(&fs.held_lock);
	}
	pthread_mutex_unlock(&fs.held_lock);
	return NULL;
}

/*
 * Decides what request r must wait for, counting it, and performs it at
 * once or parks it.
 */
static void
request_submit(const struct request *r)
{
	long in_flight = count_begin(r->op);
	struct plan plan = { .delay_ns = fs.delay_ns };
	const struct mark *mark;

	if (fs.congest_knee >= 0 && in_flight > fs.congest_knee)
		plan.delay_ns += (uint64_t)(in_flight - fs.congest_knee) *
		    fs.congest_ns;
	if (r->op == OP_READDIR && (mark = node_of(r->ino)->mark)) {
		plan.sensitive = true;
		if (mark->slow_ns == NEVER)
			plan.hang = true;
		else
			plan.delay_ns += mark->slow_ns;
	}
	rules_apply(r, &plan);
	if (atomic_load(&fs.released))
		plan.hang = false;
	if (plan.hang || plan.delay_ns > 0 || atomic_load(&fs.frozen)) {
		held_park(r, &plan);
		return;
	}
	perform(r);
}

/* ---- the passthrough ---- */

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
	e->attr.st_ino += fs.ino_shift;
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

static void
reply_attr(fuse_req_t req, fuse_ino_t ino)
{
	struct stat st;

	if (fstatat(fd_of(ino), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		fuse_reply_err(req, errno);
	else {
		st.st_ino += fs.ino_shift;
		fuse_reply_attr(req, &st, 0);
	}
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

static void
do_lookup(const struct request *r)
{
	reply_new_entry(r->req, r->ino, r->name);
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
do_setattr(const struct request *r)
{
	int ofd = r->has_fi ? (int)r->fi.fh : -1, fd = fd_of(r->ino), res = 0;
	const struct stat *attr = &r->attr;
	int valid = r->valid;
	char path[64];

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
	if (res == -1)
		fuse_reply_err(r->req, errno);
	else
		reply_attr(r->req, r->ino);
}

static void
do_readlink(const struct request *r)
{
	char buf[PATH_MAX + 1];
	ssize_t len;

	len = readlinkat(fd_of(r->ino), "", buf, sizeof(buf));
	if (len == -1)
		fuse_reply_err(r->req, errno);
	else if ((size_t)len == sizeof(buf))
		fuse_reply_err(r->req, ENAMETOOLONG);
	else {
		buf[len] = '\0';
		fuse_reply_readlink(r->req, buf);
	}
}

/* Answers mkdir or symlink, which made r->name (res 0) or failed (-1). */
static void
reply_made(const struct request *r, int res)
{
	if (res == -1) {
		fuse_reply_err(r->req, errno);
		return;
	}
	give_to_caller(r->req, r->ino, r->name);
	reply_new_entry(r->req, r->ino, r->name);
}

static void
do_link(const struct request *r)
{
	if (linkat(fd_of(r->ino), "", fd_of(r->newparent), r->newname,
	    AT_EMPTY_PATH) == -1)
		fuse_reply_err(r->req, errno);
	else
		reply_new_entry(r->req, r->newparent, r->newname);
}

static void
do_rename(const struct request *r)
{
	reply_status(r->req, renameat2(fd_of(r->ino), r->name,
	    fd_of(r->newparent), r->newname, (unsigned)r->flags));
}

static void
do_open(const struct request *r)
{
	struct fuse_file_info fi = r->fi;
	char path[64];
	int fd;

	proc_path(path, fd_of(r->ino));
	fd = open(path, (fi.flags & ~O_NOFOLLOW) | O_CLOEXEC);
	if (fd == -1) {
		fuse_reply_err(r->req, errno);
		return;
	}
	fi.fh = (uint64_t)fd;
	fuse_reply_open(r->req, &fi);
}

static void
do_create(const struct request *r)
{
	struct fuse_file_info fi = r->fi;
	struct fuse_entry_param e;
	int fd, err;

	fd = openat(fd_of(r->ino), r->name,
	    (fi.flags & ~O_NOFOLLOW) | O_CREAT | O_CLOEXEC, r->mode);
	if (fd == -1) {
		fuse_reply_err(r->req, errno);
		return;
	}
	give_to_caller(r->req, r->ino, r->name);
	err = lookup_entry(r->ino, r->name, &e);
	if (err) {
		close(fd);
		fuse_reply_err(r->req, err);
		return;
	}
	fi.fh = (uint64_t)fd;
	fuse_reply_create(r->req, &e, &fi);
}

static void
do_read(const struct request *r)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(r->size);

	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = (int)r->fi.fh;
	buf.buf[0].pos = r->offset;
	fuse_reply_data(r->req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void
do_write(const struct request *r)
{
	ssize_t n = pwrite((int)r->fi.fh, r->data, r->size, r->offset);

	if (n == -1)
		fuse_reply_err(r->req, errno);
	else
		fuse_reply_write(r->req, (size_t)n);
}

static void
do_opendir(const struct request *r)
{
	struct fuse_file_info fi = r->fi;
	struct dir_handle *d = calloc(1, sizeof(*d));
	int fd;

	if (!d) {
		fuse_reply_err(r->req, ENOMEM);
		return;
	}
	fd = openat(fd_of(r->ino), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || !(d->dp = fdopendir(fd))) {
		int err = errno;

		if (fd != -1)
			close(fd);
		free(d);
		fuse_reply_err(r->req, err);
		return;
	}
	dir_list_add(d);
	fi.fh = (uint64_t)(uintptr_t)d;
	fuse_reply_open(r->req, &fi);
}

/* Lists up to size bytes of entries from offset and replies. */
static void
do_readdir(const struct request *r)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)r->fi.fh;
	char *buf = malloc(r->size), *p = buf;
	size_t left = r->size;
	int err = 0;

	if (!buf) {
		fuse_reply_err(r->req, ENOMEM);
		return;
	}
	if (r->offset != d->offset) {
		seekdir(d->dp, r->offset);
		d->entry = NULL;
		d->offset = r->offset;
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
		st.st_ino = d->entry->d_ino + fs.ino_shift;
		if (!fs.no_dtype)
			st.st_mode = (mode_t)d->entry->d_type << 12;
		len = fuse_add_direntry(r->req, p, left, d->entry->d_name, &st,
		    d->entry->d_off);
		if (len > left)
			break;
		p += len;
		left -= len;
		d->offset = d->entry->d_off;
		d->entry = NULL;
	}
	/* An error after some entries is reported on the next call. */
	if (err && left == r->size)
		fuse_reply_err(r->req, err);
	else
		fuse_reply_buf(r->req, buf, r->size - left);
	free(buf);
}

/* fsync and fsyncdir: r->fi.fh is a descriptor or a dir_handle. */
static void
do_fsync(const struct request *r)
{
	int fd = r->op == OP_FSYNCDIR ?
	    dirfd(((struct dir_handle *)(uintptr_t)r->fi.fh)->dp) : (int)r->fi.fh;

	reply_status(r->req, r->flags ? fdatasync(fd) : fsync(fd));
}

static void
do_statfs(const struct request *r)
{
	struct statvfs sv;

	if (fstatvfs(fd_of(r->ino), &sv) == -1)
		fuse_reply_err(r->req, errno);
	else
		fuse_reply_statfs(r->req, &sv);
}

/*
 * getxattr and listxattr: r->size 0 asks for the size, else for the value
 * (or the list of names) in at most r->size bytes.  An O_PATH descriptor
 * takes no xattr calls, so they go through its /proc path.
 */
static void
do_getxattr(const struct request *r)
{
	char path[64], *buf = NULL;
	ssize_t n;

	proc_path(path, fd_of(r->ino));
	if (r->size && !(buf = malloc(r->size))) {
		fuse_reply_err(r->req, ENOMEM);
		return;
	}
	n = r->op == OP_LISTXATTR ? listxattr(path, buf, r->size) :
	    getxattr(path, r->name, buf, r->size);
	if (n == -1)
		fuse_reply_err(r->req, errno);
	else if (r->size)
		fuse_reply_buf(r->req, buf, (size_t)n);
	else
		fuse_reply_xattr(r->req, (size_t)n);
	free(buf);
}

static void
do_setxattr(const struct request *r)
{
	char path[64];

	proc_path(path, fd_of(r->ino));
	if (r->op == OP_REMOVEXATTR)
		reply_status(r->req, removexattr(path, r->name));
	else
		reply_status(r->req, setxattr(path, r->name, r->data, r->size,
		    r->flags));
}

/* Performs request r on the source and answers it. */
static void
perform(const struct request *r)
{
	int fd;

	switch (r->op) {
	case OP_LOOKUP: do_lookup(r); break;
	case OP_GETATTR: reply_attr(r->req, r->ino); break;
	case OP_SETATTR: do_setattr(r); break;
	case OP_READLINK: do_readlink(r); break;
	case OP_MKDIR:
		reply_made(r, mkdirat(fd_of(r->ino), r->name, r->mode));
		break;
	case OP_SYMLINK:
		reply_made(r, symlinkat(r->target, fd_of(r->ino), r->name));
		break;
	case OP_LINK: do_link(r); break;
	case OP_UNLINK:
		reply_status(r->req, unlinkat(fd_of(r->ino), r->name, 0));
		break;
	case OP_RMDIR:
		reply_status(r->req, unlinkat(fd_of(r->ino), r->name,
		    AT_REMOVEDIR));
		break;
	case OP_RENAME: do_rename(r); break;
	case OP_OPEN: do_open(r); break;
	case OP_CREATE: do_create(r); break;
	case OP_READ: do_read(r); break;
	case OP_WRITE: do_write(r); break;
	case OP_FLUSH:
		/* close() of a duplicate reports what close() of the file would. */
		fd = dup((int)r->fi.fh);
		reply_status(r->req, fd == -1 ? -1 : close(fd));
		break;
	case OP_FSYNC: case OP_FSYNCDIR: do_fsync(r); break;
	case OP_OPENDIR: do_opendir(r); break;
	case OP_READDIR: do_readdir(r); break;
	case OP_STATFS: do_statfs(r); break;
	case OP_GETXATTR: case OP_LISTXATTR: do_getxattr(r); break;
	case OP_SETXATTR: case OP_REMOVEXATTR: do_setxattr(r); break;
	default: fuse_reply_err(r->req, ENOSYS);
	}
}

/* ---- libfuse callbacks ---- */

/*
 * libfuse 3.14 never passes FUSE_PARALLEL_DIROPS to the kernel, whatever
 * conn->want says, and without it the kernel serialises readdir and lookup
 * per directory with a mutex that no signal breaks.  So stallfs talks to
 * /dev/fuse through these custom I/O hooks and sets the flag in the INIT
 * reply itself, which is the first reply after op_init.  They also count
 * the requests in flight: every answer passes here (libfuse's replies to
 * stale interrupts, whose unique has FUSE_INT_REQ_BIT, answer nothing
 * counted; notifications have unique 0).
 */
static ssize_t
io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	const struct fuse_out_header *out = iov[0].iov_base;

	(void)userdata;
	if (fs.parallel_dirops && count >= 2 &&
	    iov[0].iov_len == sizeof(struct fuse_out_header) &&
	    out->error == 0 &&
	    iov[1].iov_len >= offsetof(struct fuse_init_out, flags) +
	    sizeof(uint32_t)) {
		((struct fuse_init_out *)iov[1].iov_base)->flags |=
		    FUSE_PARALLEL_DIROPS;
		fs.parallel_dirops = false;
	}
	/* Before the answer reaches the reader, who may ask again at once. */
	if (iov[0].iov_len >= sizeof(*out) && out->unique != 0 &&
	    !(out->unique & FUSE_INT_REQ_BIT))
		count_in_flight(-1);
	return writev(fd, iov, count);
}

static ssize_t
io_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);
	const struct fuse_in_header *in = buf;

	(void)userdata;
	/* Those three are never answered. */
	if (n >= (ssize_t)sizeof(*in) && in->opcode != FUSE_FORGET &&
	    in->opcode != FUSE_BATCH_FORGET && in->opcode != FUSE_INTERRUPT)
		count_in_flight(1);
	return n;
}

static void
op_init(void *data, struct fuse_conn_info *conn)
{
	(void)data;
	/* The unkillable mode wants the kernel's lock: see the top. */
	fs.parallel_dirops = fs.mode != MODE_UNKILLABLE &&
	    (conn->capable & FUSE_CAP_PARALLEL_DIROPS);
	/* Plain readdir only: a listing is always a readdir. */
	conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
	/*
	 * Asynchronous reads are the kernel's background requests: a reader
	 * waiting for one can be killed but never interrupted, whatever the
	 * hang mode, and at most max_background (12) are in flight.
	 */
	conn->want &= ~FUSE_CAP_ASYNC_READ;
}

static void
op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	request_submit(&(struct request){ .req = req, .op = OP_LOOKUP,
	    .ino = parent, .name = name });
}

static void
op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	count_begin(OP_FORGET);
	node_forget(ino, nlookup);
	fuse_reply_none(req);
}

static void
op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	count_begin(OP_FORGET);
	for (size_t i = 0; i < count; i++)
		node_forget(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void
op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	request_submit(&(struct request){ .req = req, .op = OP_GETATTR,
	    .ino = ino });
}

static void
op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
    struct fuse_file_info *fi)
{
	struct request r = { .req = req, .op = OP_SETATTR, .ino = ino,
	    .attr = *attr, .valid = valid, .has_fi = fi != NULL };

	if (fi)
		r.fi = *fi;
	request_submit(&r);
}

static void
op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	request_submit(&(struct request){ .req = req, .op = OP_READLINK,
	    .ino = ino });
}

static void
op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	request_submit(&(struct request){ .req = req, .op = OP_MKDIR,
	    .ino = parent, .name = name, .mode = mode });
}

static void
op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
    const char *name)
{
	request_submit(&(struct request){ .req = req, .op = OP_SYMLINK,
	    .ino = parent, .name = name, .target = target });
}

static void
op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	request_submit(&(struct request){ .req = req, .op = OP_LINK,
	    .ino = ino, .newparent = parent, .newname = name });
}

static void
op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	request_submit(&(struct request){ .req = req, .op = OP_UNLINK,
	    .ino = parent, .name = name });
}

static void
op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	request_submit(&(struct request){ .req = req, .op = OP_RMDIR,
	    .ino = parent, .name = name });
}

static void
op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	request_submit(&(struct request){ .req = req, .op = OP_RENAME,
	    .ino = parent, .name = name, .newparent = newparent,
	    .newname = newname, .flags = (int)flags });
}

static void
op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	request_submit(&(struct request){ .req = req, .op = OP_OPEN,
	    .ino = ino, .fi = *fi });
}

static void
op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	request_submit(&(struct request){ .req = req, .op = OP_CREATE,
	    .ino = parent, .name = name, .mode = mode, .fi = *fi });
}

static void
op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	request_submit(&(struct request){ .req = req, .op = OP_READ,
	    .ino = ino, .size = size, .offset = off, .fi = *fi });
}

static void
op_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	request_submit(&(struct request){ .req = req, .op = OP_WRITE,
	    .ino = ino, .data = data, .size = size, .offset = off, .fi = *fi });
}

static void
op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	request_submit(&(struct request){ .req = req, .op = OP_FLUSH,
	    .ino = ino, .fi = *fi });
}

static void
op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	count_begin(OP_RELEASE);
	close((int)fi->fh);
	fuse_reply_err(req, 0);
}

static void
op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	request_submit(&(struct request){ .req = req, .op = OP_FSYNC,
	    .ino = ino, .flags = datasync, .fi = *fi });
}

static void
op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	request_submit(&(struct request){ .req = req, .op = OP_OPENDIR,
	    .ino = ino, .fi = *fi });
}

static void
op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
    struct fuse_file_info *fi)
{
	request_submit(&(struct request){ .req = req, .op = OP_READDIR,
	    .ino = ino, .size = size, .offset = offset, .fi = *fi });
}

static void
op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;

	(void)ino;
	count_begin(OP_RELEASEDIR);
	dir_close(d);
	fuse_reply_err(req, 0);
}

static void
op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	request_submit(&(struct request){ .req = req, .op = OP_FSYNCDIR,
	    .ino = ino, .flags = datasync, .fi = *fi });
}

static void
op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	request_submit(&(struct request){ .req = req, .op = OP_STATFS,
	    .ino = ino });
}

static void
op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
    const char *value, size_t size, int flags)
{
	request_submit(&(struct request){ .req = req, .op = OP_SETXATTR,
	    .ino = ino, .name = name, .data = value, .size = size,
	    .flags = flags });
}

/*
 * The kernel asks for security.capability before every write, to drop
 * privileges (file_remove_privs): a network share makes no such round trip,
 * so it is answered at once and not counted.
 */
static void
op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct request r = { .req = req, .op = OP_GETXATTR, .ino = ino,
	    .name = name, .size = size };

	if (strcmp(name, "security.capability") == 0)
		perform(&r);
	else
		request_submit(&r);
}

static void
op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	request_submit(&(struct request){ .req = req, .op = OP_LISTXATTR,
	    .ino = ino, .size = size });
}

static void
op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	request_submit(&(struct request){ .req = req, .op = OP_REMOVEXATTR,
	    .ino = ino, .name = name });
}

static const struct fuse_lowlevel_ops stallfs_ops = {
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
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
};

/* ---- control signals ---- */

/* SIGUSR1 and SIGUSR2: freezes or thaws the mount. */
static void
control_freeze(bool frozen)
{
	pthread_mutex_lock(&fs.held_lock);
	atomic_store(&fs.frozen, frozen);
	for (size_t i = 0; frozen && i < fs.nheap; i++) {
		fs.heap[i]->was_hung = true;
		/* A reader whose signal a plain delay ignored is frozen now. */
		if (fs.heap[i]->interrupted)
			intr_queue(fs.heap[i]);
	}
	keeper_kick();
	pthread_mutex_unlock(&fs.held_lock);
}

/* SIGURG: hangs are over; what they held is performed when due. */
static void
control_release(void)
{
	pthread_mutex_lock(&fs.held_lock);
	atomic_store(&fs.released, true);
	for (size_t i = 0; i < fs.nheap; i++)
		fs.heap[i]->hung = false;
	heap_rebuild();
	keeper_kick();
	pthread_mutex_unlock(&fs.held_lock);
}

/* Takes the control signals in set, blocked in every thread, one by one. */
static void *
control(void *arg)
{
	const sigset_t *set = arg;

	for (;;) {
		const char *done = NULL;
		int sig = sigwaitinfo(set, NULL);

		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		if (sig == SIGUSR1 || sig == SIGUSR2) {
			control_freeze(sig == SIGUSR1);
			done = sig == SIGUSR1 ? "frozen" : "thawed";
		} else if (sig == SIGURG) {
			control_release();
			done = "released";
		} else if (sig == SIGHUP && count_write() == 0)
			done = "counted";
		if (done)
			fprintf(stderr, "stallfs: %d: %s\n", (int)getpid(), done);
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	}
	return NULL;
}

/* ---- setup ---- */

/* Milliseconds, a decimal with up to 6 places, as nanoseconds. */
static uint64_t
parse_ms(const char *s, const char *what)
{
	uint64_t ns = 0, scale = NS_PER_MS;
	const char *p = s;

	if (*p < '0' || *p > '9')
		die(2, "%s: bad milliseconds: %s", what, s);
	for (; *p >= '0' && *p <= '9'; p++) {
		ns = ns * 10 + (uint64_t)(*p - '0') * NS_PER_MS;
		if (ns > 86400000ULL * NS_PER_MS)
			die(2, "%s: bad milliseconds: %s", what, s);
	}
	if (*p == '.' && p[1])
		for (p++; *p >= '0' && *p <= '9' && scale >= 10; p++) {
			scale /= 10;
			ns += (uint64_t)(*p - '0') * scale;
		}
	if (*p)
		die(2, "%s: bad milliseconds: %s", what, s);
	return ns;
}

/* Records rel (relative to the source root) as marked. */
static void
add_mark(const char *rel, uint64_t slow_ns)
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
	fs.marks[fs.nmarks++] = (struct mark){ st.st_dev, st.st_ino, slow_ns };
}

/* The OP_BIT()s of a comma list of holdable operations, or "all". */
static uint32_t
parse_ops(char *list, const char *spec)
{
	uint32_t ops = 0;

	for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
		int op;

		if (strcmp(name, "all") == 0) {
			ops |= OP_BIT(OP_HOLDABLE) - 1;
			continue;
		}
		for (op = 0; op < OP_HOLDABLE; op++)
			if (strcmp(name, op_names[op]) == 0)
				break;
		if (op == OP_HOLDABLE)
			die(2, "--rule %s: unknown operation: %s", spec, name);
		ops |= OP_BIT(op);
	}
	if (!ops)
		die(2, "--rule %s: no operations", spec);
	return ops;
}

/* --rule ACTION:OPS:GLOB (spec is kept: the rule points into it). */
static void
add_rule(char *spec)
{
	char *ops = strchr(spec, ':'), *glob = ops ? strchr(ops + 1, ':') : NULL;
	char *copy = strdup(spec);
	struct rule rule = { 0 }, *rules;

	if (!copy)
		die(1, "out of memory");
	if (!glob || !glob[1])
		die(2, "--rule %s: expected ACTION:OPS:GLOB", spec);
	*ops++ = '\0';
	*glob++ = '\0';
	if (strcmp(spec, "hang") == 0)
		rule.hang = true;
	else if (strncmp(spec, "delay=", 6) == 0)
		rule.delay_ns = parse_ms(spec + 6, "--rule delay");
	else
		die(2, "--rule %s: unknown action: %s (hang or delay=MS)", copy,
		    spec);
	rule.ops = parse_ops(ops, copy);
	rule.glob = glob;
	free(copy);
	rules = realloc(fs.rules, (fs.nrules + 1) * sizeof(*rules));
	if (!rules)
		die(1, "out of memory");
	fs.rules = rules;
	fs.rules[fs.nrules++] = rule;
	fs.rule_ops |= rule.ops;
}

/* --congest KNEE:MS */
static void
set_congest(const char *spec)
{
	char *end;
	long knee;

	errno = 0;
	knee = strtol(spec, &end, 10);
	if (errno || end == spec || *end != ':' || knee < 0 || knee > 1000000)
		die(2, "--congest %s: expected KNEE:MS", spec);
	fs.congest_knee = knee;
	fs.congest_ns = parse_ms(end + 1, "--congest");
}

/* What main collects from the command line before the source is open. */
struct options {
	const char *source, *mountpoint;
	const char **hangs;
	char **slows;
	size_t nhangs, nslows;
	char *mountopts;
};

static void
add_mountopts(struct options *o, const char *arg)
{
	char *joined;

	if (asprintf(&joined, "%s%s%s", o->mountopts ? o->mountopts : "",
	    o->mountopts ? "," : "", arg) == -1)
		die(1, "out of memory");
	free(o->mountopts);
	o->mountopts = joined;
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "congest", required_argument, NULL, 'C' },
		{ "count", required_argument, NULL, 'c' },
		{ "delay-ms", required_argument, NULL, 'D' },
		{ "hang", required_argument, NULL, 'H' },
		{ "hang-mode", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "no-dtype", no_argument, NULL, 'T' },
		{ "renumber", no_argument, NULL, 'N' },
		{ "rule", required_argument, NULL, 'R' },
		{ "slow", required_argument, NULL, 'S' },
		{ "source", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* Each option takes at least one argument: argc slots are enough. */
	o->hangs = calloc((size_t)argc, sizeof(*o->hangs));
	o->slows = calloc((size_t)argc, sizeof(*o->slows));
	if (!o->hangs || !o->slows)
		die(1, "out of memory");
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'C': set_congest(optarg); break;
		case 'c': fs.count_file = optarg; break;
		case 'D': fs.delay_ns = parse_ms(optarg, "--delay-ms"); break;
		case 'H': o->hangs[o->nhangs++] = optarg; break;
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
		case 'R': add_rule(optarg); break;
		case 'S': o->slows[o->nslows++] = optarg; break;
		case 'T': fs.no_dtype = true; break;
		case 'N':
			/* Above any real number's low bits, never 0. */
			fs.ino_shift = ((ino_t)(getpid() ^ time(NULL)) & 0xffff)
			    << 32 | 1ULL << 48;
			break;
		case 'h': usage(stdout, 0); break;
		case 'o': add_mountopts(o, optarg); break;
		case 's': o->source = optarg; break;
		default: usage(stderr, 2);
		}
	}
	if (!o->source || optind != argc - 1)
		usage(stderr, 2);
	o->mountpoint = argv[optind];
}

/* Opens the source as the root node and marks its --hang and --slow dirs. */
static void
open_source(const struct options *o)
{
	char link[64];
	struct stat st;
	ssize_t len;

	fs.root.fd = open(o->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs.root.fd == -1 || fstat(fs.root.fd, &st) == -1)
		die(2, "%s: %s", o->source, strerror(errno));
	fs.root.dev = st.st_dev;
	fs.root.ino = st.st_ino;
	fs.root.nlookup = 1;
	proc_path(link, fs.root.fd);
	len = readlink(link, fs.root_path, sizeof(fs.root_path) - 1);
	if (len <= 0)
		die(1, "%s: %s", link, strerror(errno));
	fs.root_len = (size_t)len;
	for (size_t i = 0; i < o->nhangs; i++)
		add_mark(o->hangs[i], NEVER);
	for (size_t i = 0; i < o->nslows; i++) {
		char *colon = strrchr(o->slows[i], ':');

		if (!colon)
			die(2, "--slow %s: expected RELPATH:MS", o->slows[i]);
		*colon = '\0';
		add_mark(o->slows[i], parse_ms(colon + 1, "--slow"));
	}
	fs.root.mark = mark_find(fs.root.dev, fs.root.ino);
}

/* Makes the session, mounted, or exits 1. */
static void
mount_session(const struct options *o, const char *argv0,
    struct fuse_args *args)
{
	static const struct fuse_custom_io io = {
		.writev = io_writev,
		.read = io_read,
	};
	char *opts;

	snprintf(fs.fsname, sizeof(fs.fsname), "stallfs:%d", (int)getpid());
	if (asprintf(&opts, "fsname=%s,subtype=stallfs,default_permissions%s%s%s",
	    fs.fsname, geteuid() == 0 ? ",allow_other" : "",
	    o->mountopts ? "," : "", o->mountopts ? o->mountopts : "") == -1 ||
	    fuse_opt_add_arg(args, argv0) == -1 ||
	    fuse_opt_add_arg(args, "-o") == -1 ||
	    fuse_opt_add_arg(args, opts) == -1)
		die(1, "out of memory");
	free(opts);
	fs.session = fuse_session_new(args, &stallfs_ops, sizeof(stallfs_ops), NULL);
	if (!fs.session)
		exit(1);
	if (fuse_set_signal_handlers(fs.session) == -1 ||
	    fuse_session_mount(fs.session, o->mountpoint) == -1 ||
	    fuse_session_custom_io(fs.session, &io, fuse_session_fd(fs.session)))
		exit(1);
}

static void
start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	if ((errno = pthread_create(t, NULL, fn, arg)))
		die(1, "pthread_create: %s", strerror(errno));
}

/*
 * The keeper, its executors and the control thread; the control signals
 * are blocked in every thread (libfuse's inherit the mask) but control.
 */
static void
start_threads(pthread_t *keeper_thread, pthread_t executors[EXECUTORS],
    pthread_t *control_thread, sigset_t *controls)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&fs.keeper_cond, &attr);
	pthread_condattr_destroy(&attr);
	sigemptyset(controls);
	sigaddset(controls, SIGUSR1);
	sigaddset(controls, SIGUSR2);
	sigaddset(controls, SIGURG);
	if (fs.count_file)
		sigaddset(controls, SIGHUP);
	pthread_sigmask(SIG_BLOCK, controls, NULL);
	fs.main_thread = pthread_self();
	start_thread(keeper_thread, keeper, NULL);
	for (int i = 0; i < EXECUTORS; i++)
		start_thread(&executors[i], executor, NULL);
	start_thread(control_thread, control, controls);
}

/*
 * The loop has ended: every held request is answered EIO by the keeper,
 * the due ones are performed by the executors, and then they end.
 */
static void
stop_threads(pthread_t keeper_thread, pthread_t executors[EXECUTORS],
    pthread_t control_thread)
{
	pthread_cancel(control_thread);
	pthread_join(control_thread, NULL);
	pthread_mutex_lock(&fs.held_lock);
	fs.stopping = true;
	keeper_kick();
	pthread_mutex_unlock(&fs.held_lock);
	pthread_join(keeper_thread, NULL);
	pthread_mutex_lock(&fs.held_lock);
	fs.executors_stop = true;
	pthread_cond_broadcast(&fs.ready_cond);
	pthread_mutex_unlock(&fs.held_lock);
	for (int i = 0; i < EXECUTORS; i++)
		pthread_join(executors[i], NULL);
}

/*
 * For LeakSanitizer, when stallfs is built with it: libfuse frees its copy
 * of the mount point only in fuse_session_unmount, which stallfs must not
 * call once the mount is gone (it would unmount whatever is there now).
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:fuse_session_mount\n";
}

int
main(int argc, char **argv)
{
	struct options o = { 0 };
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *config;
	pthread_t keeper_thread, executors[EXECUTORS], control_thread;
	sigset_t controls;
	int ret;

	parse_options(argc, argv, &o);
	open_source(&o);
	mount_session(&o, argv[0], &args);
	start_threads(&keeper_thread, executors, &control_thread, &controls);

	config = fuse_loop_cfg_create();
	/* Held requests hold no thread, so libfuse's cap of 10 is plenty. */
	fuse_loop_cfg_set_max_threads(config, 10);
	ret = fuse_session_loop_mt(fs.session, config);
	fuse_loop_cfg_destroy(config);

	stop_threads(keeper_thread, executors, control_thread);
	if (!fs.unmounted && mount_present())
		fuse_session_unmount(fs.session);
	fuse_remove_signal_handlers(fs.session);
	/* Closing the connection ends whatever requests are left. */
	fuse_session_destroy(fs.session);
	if (count_write() == -1)
		ret = -1;
	fuse_opt_free_args(&args);
	nodes_free();
	while (fs.dirs)
		dir_close(fs.dirs);
	close(fs.root.fd);
	free(fs.heap);
	free(fs.marks);
	free(fs.rules);
	free(o.mountopts);
	free(o.hangs);
	free(o.slows);
	return ret < 0 ? 1 : 0;
}
