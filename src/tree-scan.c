/*
 * tree-scan - print every leaf directory (a directory with no
 * subdirectories) under the roots, reading directories in forked worker
 * processes so that a hung directory costs one directory, never the scan.
 *
 * The parent owns the queue of pending directories: one deque per worker
 * slot, so that the children of a directory go to the worker that read it
 * and still holds it open.  A worker reads one directory at a time; the
 * parent sends it jobs over a socket pair (a few ahead, which go back to
 * the queue if the worker is lost), receives the names of subdirectories
 * and polls every busy worker with a deadline.  A worker that misses it is
 * killed, never waited for, and replaced.  Only the parent writes stdout
 * and the --stalled file.  The worker side is in scanworker.c, the
 * directories known (nodes, queues, the (dev, ino) set) in dirtree.c.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "cli.h"
#include "diag.h"
#include "dirtree.h"
#include "exitcode.h"
#include "pathstream.h"
#include "probe.h"
#include "watch.h"
#include "progress.h"
#include "scanworker.h"
#include "spawn.h"
#include "stats.h"
#include "xstd.h"

/* Workers are requests in flight on a network share, not processors. */
#define DEFAULT_WORKERS 8
#define DEFAULT_RETRIES 1
#define MAX_RETRIES 100

/* ------------------------------------------------------------------ */
/* Parent: state (the directories themselves are in dirtree.h) */

/* Jobs a worker holds at once: the one it reads and a few queued behind
 * it, so that it does not wait for the parent between two directories.
 * Only the first is being read; when the worker is killed the others go
 * back to the queue, so a hung directory still costs only itself. */
#define PIPELINE 32
/* A worker sends its replies once it has this many, or runs out of jobs:
 * the parent then refills its pipeline before it is empty. */
#define REPLY_BATCH (PIPELINE / 2)
/* How long the workers must be quiet before the leaves written so far are
 * flushed to stdout. */
#define FLUSH_DELAY_MS 5
/* How soon the parent looks again at a busy worker that is between jobs. */
#define RECHECK_MS 50

struct worker {
	pid_t pid;
	int fd;			/* -1: no worker in this slot */
	uint32_t gen;		/* bumped by each new worker in the slot */
	struct dirnode *jobs[PIPELINE];	/* sent, in the order sent */
	unsigned first, njobs;
	uint32_t job_number[PIPELINE];	/* as the worker counts them */
	uint32_t next_number;
	uint64_t *state;	/* its shared word (scanworker.h) */
	struct dirnode *children;	/* names received for it so far */
	uint64_t nchildren;
	struct buf in;		/* received, not yet a whole message */
	struct buf out;		/* jobs not sent yet */
	unsigned nunsent;	/* how many, the last ones of jobs[] */
	struct dirqueue queue;	/* pending directories, children of its reads */
};

struct scan {
	/* options */
	int delim;
	int nworkers;
	long long timeout_ms;
	long long time_limit_ms;	/* the workers' timer: a bit longer */
	long long grace_ms;
	int retries;
	long max_stalls;	/* --max-stalls: in a row, then the probe */
	int xdev;
	int sort;
	int force_progress;	/* --progress */
	enum cli_stats stats;
	FILE *stalled_file;
	const char *stalled_path;

	struct worker *workers;
	struct pollfd *pfd;
	int *pfd_slot;
	unsigned inflight;
	uint64_t *states;	/* the workers' shared words, 64 bytes each */
	long long base_ms;	/* what their times count from */
	int out_dirty;

	/* the directories known: nodes, (st_dev, st_ino) set, paths */
	struct dirtree tree;

	struct dirnode *stalled;
	uint64_t nstalled;
	long stalls_in_row;	/* since the last directory read */
	int gave_up;		/* the share does not answer */
	uint64_t untried;	/* pending directories it cost */

	/* --sort: every leaf path, NUL-terminated, and their offsets */
	struct buf sorted;
	size_t *offsets;
	size_t noffsets, offcap;

	uint64_t dirs, leaves, errors, loops, killed, stalled_final;
};

/* Out of memory ends the scan: there is nothing to save but the queue. */
static void __attribute__((noreturn))
out_of_memory(void)
{
	errno = ENOMEM;
	diag_err(EXITCODE_FAILED, "out of memory");
}

/* Zeroed memory, or the end of the scan. */
static void *
scan_alloc(size_t size)
{
	void *p = calloc(1, size);

	if (p == NULL)
		out_of_memory();
	return p;
}

static void
scan_reserve(struct buf *b, size_t more)
{
	if (buf_reserve(b, more) < 0)
		out_of_memory();
}

static void
scan_append(struct buf *b, const void *data, size_t len)
{
	if (buf_append(b, data, len) < 0)
		out_of_memory();
}

/* ------------------------------------------------------------------ */
/* Parent: output */

static void
output_check(void)
{
	if (ferror(stdout)) {
		errno = errno ? errno : EIO;
		diag_err(EXITCODE_FAILED, "stdout");
	}
}

static void
output_flush(struct scan *s)
{
	if (!s->out_dirty)
		return;
	if (fflush(stdout) != 0)
		diag_err(EXITCODE_FAILED, "stdout");
	s->out_dirty = 0;
}

static void
emit_leaf(struct scan *s, struct dirnode *n)
{
	const char *path = dirtree_path(&s->tree, n);

	if (n->newline && s->delim == '\n') {
		diag_warnx("%s: name contains a newline, not printed "
		    "(use -0)", diag_quote(path));
		s->errors++;
		return;
	}
	s->leaves++;
	if (s->sort) {
		if (RESERVE(s->offsets, s->offcap, s->noffsets + 1) < 0)
			out_of_memory();
		s->offsets[s->noffsets++] = s->sorted.len;
		scan_append(&s->sorted, path, s->tree.path.len + 1);
		return;
	}
	s->tree.path.data[s->tree.path.len] = s->delim;
	if (fwrite_unlocked(path, 1, s->tree.path.len + 1, stdout) !=
	    s->tree.path.len + 1)
		output_check();
	s->out_dirty = 1;
}

static int
compare_paths(const void *a, const void *b, void *arg)
{
	const char *base = arg;

	return strcmp(base + *(const size_t *)a, base + *(const size_t *)b);
}

static void
emit_sorted(struct scan *s)
{
	qsort_r(s->offsets, s->noffsets, sizeof(*s->offsets), compare_paths,
	    s->sorted.data);
	for (size_t i = 0; i < s->noffsets; i++) {
		const char *p = s->sorted.data + s->offsets[i];

		if (fputs_unlocked(p, stdout) == EOF ||
		    putc_unlocked(s->delim, stdout) == EOF)
			output_check();
	}
	s->out_dirty = 1;
}

/* ------------------------------------------------------------------ */
/* Parent: workers */

/*
 * Starts a worker in slot.  It dies with the parent (a worker must not
 * outlive the scan) and holds nothing a downstream reader waits on: its
 * socket becomes fd 3, stdin and stdout /dev/null, every other descriptor
 * is closed (the parent's stdout, --stalled file, other workers).  stderr
 * is kept for the sanitizers' reports (workers print nothing else), unless
 * it is a pipe or a socket: `tree-scan 2>&1 | less` must end too.
 */
static int
worker_spawn(struct scan *s, int slot)
{
	struct worker *w = &s->workers[slot];
	struct spawn_options o;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	spawn_options_init(&o);
	o.stdfd[0] = o.stdfd[1] = SPAWN_NULL;
	o.stdfd[2] = SPAWN_NULL_IF_PIPE;
	o.keep_fd = sv[1];
	o.close_others = true;
	o.die_with_parent = true;
	__atomic_store_n(w->state, 0, __ATOMIC_RELEASE);
	w->next_number = 1;
	w->pid = spawn_fork(&o);
	if (w->pid < 0) {
		close_quietly(&sv[0]);
		close_quietly(&sv[1]);
		return -1;
	}
	if (w->pid == 0)
		scanworker_main(3, s->timeout_ms, w->state, s->base_ms,
		    REPLY_BATCH);
	close_quietly(&sv[1]);
	w->fd = sv[0];
	w->gen++;
	w->in.len = 0;
	return 0;
}

static void
reap_workers(void)
{
	/* WNOHANG only: a worker stuck in the kernel is never waited for. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		continue;
}

/*
 * At the end: an idle worker reads end-of-file and exits at once; reap
 * those (WNOHANG, for at most a second) so that no zombie is left to an
 * init that does not reap.  A worker stuck in the kernel, or killed, is
 * left behind, never waited for.
 */
static void
reap_idle_workers(struct scan *s)
{
	long long give_up = scanworker_clock_ms() + 1000;
	struct timespec pause = { 0, 1000000 };
	int left;

	do {
		left = 0;
		for (int i = 0; i < s->nworkers; i++) {
			struct worker *w = &s->workers[i];

			if (w->fd < 0 || w->njobs > 0 || w->pid <= 0)
				continue;
			if (waitpid(w->pid, NULL, WNOHANG) == 0)
				left++;
			else
				w->pid = 0;
		}
	} while (left > 0 && scanworker_clock_ms() < give_up &&
	    nanosleep(&pause, NULL) == 0);
	reap_workers();
}

/* The job the worker is reading now, or NULL. */
static struct dirnode *
job_current(const struct worker *w)
{
	return w->njobs ? w->jobs[w->first] : NULL;
}

/* Takes the current job off the worker's list; the next one (already
 * sent) starts its clock. */
static struct dirnode *
job_finish(struct scan *s, struct worker *w)
{
	struct dirnode *n = w->jobs[w->first];

	w->first = (w->first + 1) % PIPELINE;
	w->njobs--;
	s->inflight--;
	dirtree_free_list(w->children);
	w->children = NULL;
	w->nchildren = 0;
	return n;
}

static void
stalled_add(struct scan *s, struct dirnode *n)
{
	n->next = s->stalled;
	s->stalled = n;
	s->nstalled++;
	s->stalls_in_row++;
}

/*
 * The worker in slot is gone (killed first when kill_it): the directory it
 * was reading is stalled, those queued behind it were never started and go
 * back to the queue, and a new worker takes the slot.
 */
static void
worker_lost(struct scan *s, int slot, int kill_it)
{
	struct worker *w = &s->workers[slot];
	struct scanworker_state st;

	if (kill_it) {
		kill(w->pid, SIGKILL);
		s->killed++;
	}
	close_quietly(&w->fd);
	/* Its word says which job it was reading: that one is stalled.  The
	 * others were answered (in replies lost with it), or never started:
	 * they go back to the queue. */
	scanworker_state_get(w->state, s->base_ms, scanworker_clock_ms(),
	    &st);
	while (w->njobs > 0) {
		int hung = st.reading && st.job == w->job_number[w->first];
		struct dirnode *n = job_finish(s, w);

		if (hung)
			stalled_add(s, n);
		else
			dirqueue_push(&w->queue, n);
	}
	w->out.len = 0;
	w->nunsent = 0;
	reap_workers();
	/* On failure the slot stays empty; dispatch tries again. */
	worker_spawn(s, slot);
}

/* Appends the job for n to the worker's outgoing messages: the short form
 * when the worker read n's parent and holds it open, else the chain of
 * components from the root. */
static void
job_add(struct scan *s, int slot, struct dirnode *n)
{
	struct worker *w = &s->workers[slot];
	struct dirnode *p = n->parent;
	struct scanworker_job_head h;
	size_t depth = 0, start;

	memset(&h, 0, sizeof(h));
	if (s->xdev && p != NULL) {
		h.flags |= SCANWORKER_JOB_XDEV;
		h.xdev_dev = n->root_dev;
	}
	if (p != NULL && p->reader == slot && p->reader_gen == w->gen) {
		if (RESERVE(s->tree.chain, s->tree.chaincap, 2) < 0)
			out_of_memory();
		s->tree.chain[0] = n;
		s->tree.chain[1] = p;
		depth = 2;
	} else {
		depth = dirtree_chain(&s->tree, n);
		h.flags |= SCANWORKER_JOB_FROM_ROOT;
	}
	h.ncomp = depth;
	start = w->out.len;
	scan_append(&w->out, &h, sizeof(h));
	while (depth-- > 0) {
		struct dirnode *a = s->tree.chain[depth];
		uint32_t len = a->namelen + 1;

		scan_append(&w->out, &a->id, 8);
		scan_append(&w->out, &len, 4);
		scan_append(&w->out, a->name, len);
	}
	h.len = w->out.len - start - sizeof(h);
	memcpy(w->out.data + start, &h, sizeof(h));
	w->job_number[(w->first + w->njobs) % PIPELINE] = w->next_number++;
	w->jobs[(w->first + w->njobs++) % PIPELINE] = n;
	w->nunsent++;
	s->inflight++;
}

/* Sends the jobs added for the worker.  Returns 0, or -1 when the worker
 * is gone (and replaced). */
static int
jobs_send(struct scan *s, int slot)
{
	struct worker *w = &s->workers[slot];

	if (w->out.len == 0)
		return 0;
	if (scanworker_send(w->fd, w->out.data, w->out.len) != 0) {
		worker_lost(s, slot, 0);	/* it died */
		return -1;
	}
	w->out.len = 0;
	w->nunsent = 0;
	return 0;
}

static struct dirnode *
queue_take(struct scan *s, int slot)
{
	struct dirqueue *best = &s->workers[slot].queue;

	if (best->len > 0)
		return dirqueue_pop_newest(best);
	for (int i = 0; i < s->nworkers; i++)
		if (s->workers[i].queue.len > best->len)
			best = &s->workers[i].queue;
	return dirqueue_pop_oldest(best);
}

static int
queues_empty(const struct scan *s)
{
	for (int i = 0; i < s->nworkers; i++)
		if (s->workers[i].queue.len > 0)
			return 0;
	return 1;
}

/*
 * Gives pending directories to the workers: first one to each idle
 * worker, then more to each, up to PIPELINE.  A worker with more than half
 * its pipeline still queued gets none, so jobs go out in batches.  Jobs
 * queued behind a directory that hangs wait for the worker to be killed,
 * so workers get more than one only while there is plenty left for the
 * others.
 */
static void
dispatch(struct scan *s)
{
	unsigned room[CLI_WORKERS_MAX] = { 0 };
	size_t pending = 0;
	struct dirnode *n;

	for (int i = 0; i < s->nworkers; i++) {
		room[i] = s->workers[i].njobs <= PIPELINE / 2 ? PIPELINE : 0;
		pending += s->workers[i].queue.len;
	}
	for (unsigned level = 1; level <= PIPELINE; level++) {
		for (int i = 0; i < s->nworkers; i++) {
			struct worker *w = &s->workers[i];

			if (w->njobs >= level || level > room[i])
				continue;
			if (level > 1 && pending < (size_t)s->nworkers)
				goto send;
			if (w->fd < 0 && worker_spawn(s, i) != 0)
				continue;
			n = queue_take(s, i);
			if (n == NULL)
				goto send;
			pending--;
			job_add(s, i, n);
		}
	}
send:
	for (int i = 0; i < s->nworkers; i++)
		jobs_send(s, i);
}

static void
job_done(struct scan *s, int slot, const struct scanworker_msg_done *done)
{
	struct worker *w = &s->workers[slot];
	struct dirnode *n = job_current(w), *ancestor, *c;

	if (done->status == SCANWORKER_DIR_STALLED) {
		stalled_add(s, job_finish(s, w));
		return;
	}
	if (done->status == SCANWORKER_DIR_READ) {
		s->dirs++;
		s->stalls_in_row = 0;
		n->dev = done->dev;
		n->ino = done->ino;
		if (n->parent == NULL)
			n->root_dev = n->dev;
		ancestor = dirtree_loop(&s->tree, n);
		if (ancestor != NULL) {
			/* diag_quote() keeps two results, dirtree_path() one. */
			const char *path = diag_quote(dirtree_path(&s->tree, n));

			diag_warnx("%s: filesystem loop (same directory as %s)",
			    path, diag_quote(dirtree_path(&s->tree, ancestor)));
			s->errors++;
			s->loops++;
		} else {
			dirtree_insert(&s->tree, n);
			n->reader = slot;
			n->reader_gen = w->gen;
			if (w->nchildren == 0)
				emit_leaf(s, n);
			while ((c = w->children) != NULL) {
				w->children = c->next;
				c->root_dev = n->root_dev;
				dirqueue_push(&w->queue, c);
				n->refs++;
			}
			w->nchildren = 0;
		}
	} else if (done->status == SCANWORKER_DIR_ERROR) {
		const char *path = diag_quote(dirtree_path(&s->tree, n));

		errno = done->error;
		diag_warn("%s", path);
		s->errors++;
	}
	/* After an error, a loop or another file system (--xdev) nothing
	 * below is read: job_finish() drops the names received. */
	dirtree_release(&s->tree, job_finish(s, w));
}

static void
job_names(struct scan *s, struct worker *w, const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end) {
		size_t n = strnlen(p, end - p);
		struct dirnode *c = dirtree_node(&s->tree, job_current(w), p, n);

		c->next = w->children;
		w->children = c;
		w->nchildren++;
		p += n + 1;
	}
}

/* Reads what the worker in slot sent and acts on every whole message. */
static void
worker_input(struct scan *s, int slot)
{
	struct worker *w = &s->workers[slot];
	struct scanworker_msg_head h;
	struct scanworker_msg_done done;
	size_t off = 0;
	ssize_t n;

	scan_reserve(&w->in, SCANWORKER_CHUNK_SIZE + sizeof(h));
	n = read(w->fd, w->in.data + w->in.len, w->in.cap - w->in.len);
	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		worker_lost(s, slot, 0);	/* it died */
		return;
	}
	w->in.len += n;
	while (w->in.len - off >= sizeof(h)) {
		memcpy(&h, w->in.data + off, sizeof(h));
		if (w->in.len - off - sizeof(h) < h.len)
			break;
		off += sizeof(h);
		if (w->njobs == 0) {
			worker_lost(s, slot, 1);	/* out of step */
			return;
		}
		if (h.type == SCANWORKER_MSG_NAMES) {
			job_names(s, w, w->in.data + off, h.len);
		} else if (h.type == SCANWORKER_MSG_MISS) {
			struct dirnode *job = job_finish(s, w);

			/* The anchor was evicted from the worker's cache:
			 * send the chain from the root, after the jobs queued
			 * there, so replies stay in the order of the jobs. */
			job->parent->reader = -1;
			job_add(s, slot, job);
			if (jobs_send(s, slot) != 0)
				return;
		} else if (h.type == SCANWORKER_MSG_DONE &&
		    h.len == sizeof(done)) {
			memcpy(&done, w->in.data + off, sizeof(done));
			job_done(s, slot, &done);
		} else {
			worker_lost(s, slot, 1);
			return;
		}
		off += h.len;
	}
	buf_consume(&w->in, off);
}

/*
 * When the worker in slot must be killed: the deadline of the job its word
 * says it reads, or, between jobs, a check soon (its next job's clock
 * starts in its word, unseen until then; a late look is a late kill).
 */
static long long
worker_deadline(struct scan *s, int slot, long long now)
{
	struct worker *w = &s->workers[slot];
	struct scanworker_state st;
	uint32_t first = w->job_number[w->first];

	scanworker_state_get(w->state, s->base_ms, now, &st);
	/* Job numbers wrap around at 2^32: compare by difference. */
	if (st.reading && (uint32_t)(st.job - first) < w->njobs)
		return st.since_ms + s->time_limit_ms +
		    s->grace_ms;
	return now + RECHECK_MS;
}

/* Waits for the workers, up to the nearest deadline, and kills those
 * that missed theirs. */
static void
wait_workers(struct scan *s)
{
	long long now, next = -1;
	int np = 0, timeout, ready;

	now = scanworker_clock_ms();
	for (int i = 0; i < s->nworkers; i++) {
		long long deadline;

		if (s->workers[i].njobs == 0)
			continue;
		s->pfd[np].fd = s->workers[i].fd;
		s->pfd[np].events = POLLIN;
		s->pfd_slot[np++] = i;
		deadline = worker_deadline(s, i, now);
		if (next < 0 || deadline < next)
			next = deadline;
	}
	timeout = next < now ? 0 : (int)(next - now);
	if (progress_enabled() && timeout > PROGRESS_INTERVAL_MS)
		timeout = PROGRESS_INTERVAL_MS;
	/* Leaves are passed on when the workers fall quiet for a moment:
	 * at once for a pipeline that waits, in large blocks under load. */
	if (s->out_dirty && timeout > FLUSH_DELAY_MS)
		timeout = FLUSH_DELAY_MS;
	ready = poll(s->pfd, np, timeout);
	if (ready == 0)
		output_flush(s);
	if (ready < 0) {
		if (errno == EINTR)
			return;
		diag_err(EXITCODE_FAILED, "poll");
	}
	for (int k = 0; k < np; k++)
		if (s->pfd[k].revents != 0)
			worker_input(s, s->pfd_slot[k]);
	/* Only a worker that is reading a directory is killed: one that
	 * waits for the parent (a slow stdout) is not stalled, and its
	 * deadline is always a recheck in the future. */
	now = scanworker_clock_ms();
	for (int i = 0; i < s->nworkers; i++)
		if (s->workers[i].njobs > 0 &&
		    worker_deadline(s, i, now) <= now)
			worker_lost(s, i, 1);
}

static void
show_progress(struct scan *s)
{
	double secs = progress_seconds();

	progress_update("tree-scan: %llu dirs read, %llu leaves, %u in flight, "
	    "%llu stalled, %.0f dirs/s", (unsigned long long)s->dirs,
	    (unsigned long long)s->leaves, s->inflight,
	    (unsigned long long)s->nstalled,
	    secs > 0 ? (double)s->dirs / secs : 0.0);
}

/* Gives the stalled directories another round, on whichever workers are
 * alive (replacements for the killed ones). */
static void
retry_stalled(struct scan *s)
{
	struct dirnode *n;
	int slot = 0;

	while ((n = s->stalled) != NULL) {
		s->stalled = n->next;
		s->nstalled--;
		dirqueue_push(&s->workers[slot].queue, n);
		slot = (slot + 1) % s->nworkers;
	}
}

/* The root the directory n is under, as given. */
static const char *
root_of(const struct dirnode *n)
{
	while (n->parent != NULL)
		n = n->parent;
	return n->name;
}

/* Every directory not read yet becomes stalled, untried, and every
 * worker is killed, waited for by none. */
static void
abandon_all(struct scan *s)
{
	struct dirnode *n;

	for (int i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];

		if (w->fd >= 0) {
			kill(w->pid, SIGKILL);
			s->killed++;
			close_quietly(&w->fd);
		}
		/* The one being read has not had its time yet either. */
		while (w->njobs > 0) {
			n = job_finish(s, w);
			stalled_add(s, n);
			n->untried = 1;
			s->untried++;
		}
		while ((n = dirqueue_pop_oldest(&w->queue)) != NULL) {
			stalled_add(s, n);
			n->untried = 1;
			s->untried++;
		}
	}
	reap_workers();
}

/*
 * max_stalls directories in a row stalled: is it a hung subtree, or a
 * share that answers nothing any more?  The root is asked (a statvfs with
 * the time limit, in a child); without an answer the scan stops, and
 * every directory not read is stalled.  Returns 1 when it stops.
 */
static int
breaker(struct scan *s)
{
	const char *root = root_of(s->stalled);

	if (probe_wait(root, s->timeout_ms) == PROBE_ANSWERED) {
		s->stalls_in_row = 0;
		return 0;
	}
	s->gave_up = 1;
	abandon_all(s);
	diag_warnx("%s: the share is not answering: %ld directories stalled "
	    "in a row; stopping (%llu directories not read; run again once "
	    "it answers)", diag_quote(root), s->stalls_in_row,
	    (unsigned long long)s->untried);
	return 1;
}

static void
scan_run(struct scan *s)
{
	int round = 0, idle = 0;

	for (;;) {
		dispatch(s);
		if (s->inflight == 0) {
			if (!queues_empty(s)) {
				/* Workers could not be started or died at
				 * once; give up after a few tries. */
				if (++idle > 3)
					diag_err(EXITCODE_FAILED,
					    "cannot start workers");
				continue;
			}
			if (s->stalled == NULL || round >= s->retries ||
			    s->gave_up)
				break;
			round++;
			retry_stalled(s);
			continue;
		}
		idle = 0;
		wait_workers(s);
		show_progress(s);
		if (s->max_stalls > 0 && s->stalls_in_row >= s->max_stalls &&
		    breaker(s))
			break;
	}
}

static void
format_timeout(char *out, size_t size, long long ms)
{
	if (ms % 1000 == 0)
		snprintf(out, size, "%llds", ms / 1000);
	else
		snprintf(out, size, "%gs", ms / 1000.0);
}

/* Names the directories that stayed stalled; writes --stalled FILE. */
static void
report_stalled(struct scan *s)
{
	struct dirnode *list = NULL, *n;
	char timeout[32];

	format_timeout(timeout, sizeof(timeout), s->timeout_ms);
	/* Oldest first: the order they stalled in. */
	while ((n = s->stalled) != NULL) {
		s->stalled = n->next;
		n->next = list;
		list = n;
	}
	while ((n = list) != NULL) {
		const char *path = dirtree_path(&s->tree, n);

		list = n->next;
		s->stalled_final++;
		/* Those never tried were counted in one line. */
		if (!n->untried)
			diag_warnx("%s: stalled (no answer in %s)",
			    diag_quote(path), timeout);
		if (s->stalled_file != NULL &&
		    pathstream_write(s->stalled_file, path, s->delim) != 0) {
			if (errno == EINVAL)
				diag_warnx("%s: name contains a newline, not "
				    "written to %s (use -0)", diag_quote(path),
				    diag_quote(s->stalled_path));
			else
				diag_err(EXITCODE_FAILED, "%s",
				    diag_quote(s->stalled_path));
		}
		dirtree_release(&s->tree, n);
	}
	s->nstalled = 0;
	if (s->stalled_file != NULL && fclose(s->stalled_file) != 0)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(s->stalled_path));
	s->stalled_file = NULL;
}

static void
print_stats(struct scan *s, double elapsed)
{
	json_object *o;

	if (s->stats == CLI_STATS_TEXT) {
		diag_warnx("%llu directories read, %llu leaves, %llu errors "
		    "(%llu loops), %llu stalled; %d workers, %llu killed; "
		    "%.3f s", (unsigned long long)s->dirs,
		    (unsigned long long)s->leaves,
		    (unsigned long long)s->errors,
		    (unsigned long long)s->loops,
		    (unsigned long long)s->stalled_final, s->nworkers,
		    (unsigned long long)s->killed, elapsed);
		return;
	}
	o = stats_new();
	stats_add_count(o, "dirs", s->dirs);
	stats_add_count(o, "leaves", s->leaves);
	stats_add_count(o, "errors", s->errors);
	stats_add_count(o, STATS_KEY_STALLED, s->stalled_final);
	stats_add_count(o, "loops", s->loops);
	stats_add_count(o, "workers", (unsigned long long)s->nworkers);
	stats_add_count(o, "workers_killed", s->killed);
	stats_add_seconds(o, STATS_KEY_ELAPSED, elapsed);
	/* The exit status says how the scan went, not whether its summary
	 * could be written. */
	(void)stats_print(o, stderr);
}

static void
scan_free(struct scan *s)
{
	for (int i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];

		/* The number stays: reap_idle_workers() waits for the slots
		 * that had a worker. */
		(void)xclose(w->fd);
		buf_free(&w->in);
		buf_free(&w->out);
		free(w->queue.v);
	}
	reap_idle_workers(s);
	free(s->workers);
	munmap(s->states, s->nworkers * 64);
	free(s->pfd);
	free(s->pfd_slot);
	dirtree_free(&s->tree);
	buf_free(&s->sorted);
	free(s->offsets);
}

/* ------------------------------------------------------------------ */
/* Command line */

enum {
	OPT_RETRIES = 256,
	OPT_MAX_STALLS,
	OPT_STALLED,
	OPT_XDEV,
	OPT_SORT,
	OPT_PROGRESS,
	OPT_STATS,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option longopts[] = {
	{ "null", no_argument, NULL, '0' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "max-stalls", required_argument, NULL, OPT_MAX_STALLS },
	{ "stalled", required_argument, NULL, OPT_STALLED },
	{ "xdev", no_argument, NULL, OPT_XDEV },
	{ "sort", no_argument, NULL, OPT_SORT },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "stats", optional_argument, NULL, OPT_STATS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const char synopsis[] =
    "usage: tree-scan [-0] [-j N] [-t SECONDS] [--retries N] "
    "[--max-stalls N]\n"
    "                 [--stalled FILE] [--xdev] [--sort] [--progress] "
    "[--stats[=json]]\n"
    "                 ROOT...\n";

static const char options_text[] =
    "Print every leaf directory (one with no subdirectories) "
    "under the roots.\n"
    "  -0, --null          write paths NUL-terminated, not "
    "newline-terminated\n"
    "  -j, --jobs N        read directories with N worker processes "
    "(default 8)\n"
    "  -t, --timeout SECONDS\n"
    "                      a directory not read within SECONDS is "
    "stalled (default 30)\n"
    "      --retries N     retry stalled directories N times at the "
    "end (default 1)\n"
    "      --max-stalls N  after N directories in a row stalled, stop if "
    "the share\n"
    "                      does not answer at all (default 2 x -j; 0: "
    "never)\n"
    "      --stalled FILE  write the stalled directories to FILE\n"
    "      --xdev          do not descend into other file systems\n"
    "      --sort          print the leaves byte-sorted, at the end\n"
    "      --progress      show a status line on stderr even when it "
    "is not a terminal\n"
    "      --stats[=json]  print a summary (or one JSON object) on "
    "stderr at the end\n"
    "      --help          print this help and exit\n"
    "      --version       print the version and exit\n";

/* One option into s; a bad one ends in usage (exit 2). */
static void
parse_option(struct scan *s, int ch, const char *arg)
{
	long long n;

	switch (ch) {
	case '0':
		s->delim = '\0';
		break;
	case 'j':
		if (cli_count("-j", arg, 1, CLI_WORKERS_MAX, &n) < 0)
			cli_usage(synopsis);
		s->nworkers = (int)n;
		break;
	case 't':
		if (cli_timeout("-t", arg, &s->timeout_ms) < 0)
			cli_usage(synopsis);
		break;
	case OPT_RETRIES:
		if (cli_count("--retries", arg, 0, MAX_RETRIES, &n) < 0)
			cli_usage(synopsis);
		s->retries = (int)n;
		break;
	case OPT_MAX_STALLS:
		if (cli_count("--max-stalls", arg, 0, CLI_MAX_STALLS_MAX,
		    &n) < 0)
			cli_usage(synopsis);
		s->max_stalls = (long)n;
		break;
	case OPT_STALLED:
		s->stalled_path = arg;
		break;
	case OPT_XDEV:
		s->xdev = 1;
		break;
	case OPT_SORT:
		s->sort = 1;
		break;
	case OPT_PROGRESS:
		s->force_progress = 1;
		break;
	case OPT_STATS:
		if (cli_stats(arg, &s->stats) < 0)
			cli_usage(synopsis);
		break;
	case OPT_HELP:
		cli_help(synopsis, options_text);
	case OPT_VERSION:
		cli_version();
	default:
		cli_usage(synopsis);
	}
}

/* Parses the command line into s.  Returns the index of the first ROOT
 * in argv (getopt_long moves the operands to the end). */
static int
parse_args(struct scan *s, int argc, char *argv[])
{
	int ch;

	s->delim = '\n';
	s->nworkers = DEFAULT_WORKERS;
	s->timeout_ms = CLI_TIMEOUT_DEFAULT_MS;
	s->retries = DEFAULT_RETRIES;
	s->max_stalls = -1;
	while ((ch = getopt_long(argc, argv, "0j:t:", longopts, NULL)) != -1)
		parse_option(s, ch, optarg);
	/* A share that stops answering stalls every worker at once: two
	 * rounds of them, about twice the time limit, and the scan asks. */
	if (s->max_stalls < 0)
		s->max_stalls = 2L * s->nworkers;
	if (optind == argc)
		cli_usage(synopsis);
	return optind;
}

/* ------------------------------------------------------------------ */
/* Setup and the end */

/* Everything the scan needs before the first job: its limits, the
 * --stalled file, stdout's buffer, the workers and their shared words. */
static void
scan_setup(struct scan *s)
{
	/* A late answer is not a stall: the worker's own timer fires first,
	 * the parent kills only a worker that cannot answer at all. */
	s->time_limit_ms = scanworker_time_limit(s->timeout_ms);
	s->grace_ms = watch_grace_ms(s->timeout_ms);
	if (s->stalled_path != NULL) {
		s->stalled_file = fopen(s->stalled_path, "we");
		if (s->stalled_file == NULL)
			diag_err(EXITCODE_FAILED, "%s",
			    diag_quote(s->stalled_path));
	}
	/* Leaves are written in large blocks, flushed whenever the parent
	 * waits for its workers. */
	setvbuf(stdout, NULL, _IOFBF, 64 * 1024);
	progress_init(s->force_progress);

	s->workers = scan_alloc(s->nworkers * sizeof(*s->workers));
	s->pfd = scan_alloc(s->nworkers * sizeof(*s->pfd));
	s->pfd_slot = scan_alloc(s->nworkers * sizeof(*s->pfd_slot));
	/* The workers' words: shared memory, one cache line each. */
	s->states = mmap(NULL, s->nworkers * 64, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->states == MAP_FAILED)
		diag_err(EXITCODE_FAILED, "mmap");
	s->base_ms = scanworker_clock_ms();
	for (int i = 0; i < s->nworkers; i++)
		s->workers[i].state = s->states + i * 8;
	for (int i = 0; i < s->nworkers; i++) {
		s->workers[i].fd = -1;
		if (worker_spawn(s, i) != 0)
			diag_err(EXITCODE_FAILED, "cannot start a worker");
	}
}

/* Queues the roots, in the order given: the first is taken first. */
static void
scan_add_roots(struct scan *s, char *const roots[], int n)
{
	for (int i = n - 1; i >= 0; i--)
		dirqueue_push(&s->workers[0].queue,
		    dirtree_node(&s->tree, NULL, roots[i], strlen(roots[i])));
}

/* What is left after the walk: the stalled directories named, the sorted
 * leaves printed, stdout closed and the summary.  Returns the exit status. */
static int
scan_finish(struct scan *s)
{
	double elapsed;
	int status;

	report_stalled(s);
	if (s->sort)
		emit_sorted(s);
	elapsed = progress_seconds();
	progress_end();
	status = s->stalled_final ? EXITCODE_STALLED :
	    s->errors ? EXITCODE_PARTIAL : EXITCODE_DONE;
	if (diag_close_stdout() != 0)
		status = EXITCODE_FAILED;
	if (s->stats != CLI_STATS_NONE)
		print_stats(s, elapsed);
	return status;
}

int
main(int argc, char *argv[])
{
	static struct scan scan;
	int first_root, status;

	diag_init(argv[0]);
	/* No socket or file of ours may land on 0-2 (a worker's socket must
	 * not be its stdout). */
	if (open_std_fds() < 0)
		exit(EXITCODE_FAILED);
	first_root = parse_args(&scan, argc, argv);
	scan_setup(&scan);
	scan_add_roots(&scan, argv + first_root, argc - first_root);
	scan_run(&scan);
	status = scan_finish(&scan);
	scan_free(&scan);
	return status;
}
