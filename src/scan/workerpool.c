/*
 * workerpool.c - the forked workers, seen from the parent: starting them,
 * their jobs, their deadlines, the breaker (workerpool.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
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
#include "leafoutput.h"
#include "probe.h"
#include "progress.h"
#include "scanstate.h"
#include "scanworker.h"
#include "spawn.h"
#include "workerpool.h"
#include "xstd.h"

/* A worker sends its replies once it has this many, or runs out of jobs:
 * the parent then refills its pipeline before it is empty. */
#define REPLY_BATCH (PIPELINE / 2)
/* How long the workers must be quiet before the leaves written so far are
 * flushed to stdout. */
#define FLUSH_DELAY_MS 5
/* How soon the parent looks again at a busy worker that is between jobs. */
#define RECHECK_MS 50


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

int
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
void
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
void
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

/* Gives the stalled directories another round, on whichever workers are
 * alive (replacements for the killed ones). */
void
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
int
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

/* Makes the slots and starts a worker in each. */
void
workers_start(struct scan *s)
{
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

void
workers_free(struct scan *s)
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
}
