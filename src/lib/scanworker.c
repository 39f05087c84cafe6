/*
 * scanworker.c - tree-scan's directory-reading worker (see scanworker.h).
 */
#include "scanworker.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "xstd.h"

/* Descriptors a worker keeps open; far below RLIMIT_NOFILE. */
#define CACHE_SIZE 64
/* getdents64() buffer: a directory of tens of entries is one call (plus
 * the one that returns 0). */
#define DENTS_SIZE (64 * 1024)
/* Replies held before sending: a NAMES chunk and many small replies. */
#define OUT_SIZE (2 * SCANWORKER_CHUNK_SIZE)
#define NO_NAMES ((size_t)-1)

/* The shared word: job number (32 bits), reading (1 bit), since (31 bits
 * of milliseconds from base: 24 days). */
#define STATE_READING (1ULL << 31)
#define STATE_SINCE_MASK 0x7fffffffULL

/* One component of a job: the parent's node id and the name. */
struct component {
	uint64_t id;
	const char *name;	/* in the job's bytes */
};

struct worker {
	int sock;
	long long timeout_ms;
	long long armed_at;	/* when the timer was last set, ms */
	uint64_t cache_id[CACHE_SIZE];
	int cache_fd[CACHE_SIZE];
	uint64_t cache_used[CACHE_SIZE];
	uint64_t clock;
	/* jobs received, [in_start, in_end) not yet served */
	char *in;
	size_t in_start, in_end, in_cap;
	struct component *comp;	/* the current job's */
	size_t comp_cap;
	/* replies not sent yet; names_at: the current job's NAMES message */
	char *out;
	size_t out_len, names_at;
	unsigned held, batch;	/* jobs answered in out; when to send */
	uint64_t *word;
	long long base_ms;
	uint32_t job;
	char *dents;
};

static volatile sig_atomic_t alarm_fired;

static void
on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

long long
scanworker_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
timer_set(long long ms)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, NULL);
}

static long long
timer_slack(long long timeout_ms)
{
	return timeout_ms / 16;
}

long long
scanworker_time_limit(long long timeout_ms)
{
	return timeout_ms + timer_slack(timeout_ms);
}

/*
 * Gives the next job its time: the timer runs for timeout + slack and is
 * set again only once more than the slack has passed, so each job has at
 * least the timeout and a fast tree costs no setitimer() per directory.
 */
static void
timer_start_job(struct worker *w)
{
	long long now = scanworker_clock_ms();

	if (alarm_fired || now - w->armed_at > timer_slack(w->timeout_ms)) {
		/* Set first, then the flag cleared: a signal of the old
		 * timer is delivered on return from setitimer(), before. */
		timer_set(scanworker_time_limit(w->timeout_ms));
		w->armed_at = now;
	}
	alarm_fired = 0;
}

int
scanworker_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static void
send_or_exit(struct worker *w, const void *buf, size_t len)
{
	if (scanworker_send(w->sock, buf, len) != 0)
		_exit(1);	/* the parent is gone */
}

static int
cache_find(struct worker *w, uint64_t id)
{
	for (int i = 0; i < CACHE_SIZE; i++) {
		if (w->cache_fd[i] >= 0 && w->cache_id[i] == id) {
			w->cache_used[i] = ++w->clock;
			return w->cache_fd[i];
		}
	}
	return -1;
}

/* Keeps fd open under id, closing the least recently used one. */
static void
cache_put(struct worker *w, uint64_t id, int fd)
{
	int victim = 0;

	for (int i = 0; i < CACHE_SIZE; i++) {
		if (w->cache_fd[i] < 0) {
			victim = i;
			break;
		}
		if (w->cache_used[i] < w->cache_used[victim])
			victim = i;
	}
	close_quietly(&w->cache_fd[victim]);
	w->cache_id[victim] = id;
	w->cache_fd[victim] = fd;
	w->cache_used[victim] = ++w->clock;
}

/* Publishes what the worker does: reading job w->job since now, or not
 * (between jobs, or waiting for the parent, which is no stall). */
static void
state_set(struct worker *w, int reading)
{
	uint64_t v = (uint64_t)w->job << 32;

	if (reading)
		v |= STATE_READING | ((uint64_t)(scanworker_clock_ms() -
		    w->base_ms) & STATE_SINCE_MASK);
	__atomic_store_n(w->word, v, __ATOMIC_RELEASE);
}

void
scanworker_state_get(const uint64_t *word, long long base_ms,
    long long now_ms, struct scanworker_state *st)
{
	uint64_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	uint64_t now_rel = (uint64_t)(now_ms - base_ms);

	st->job = v >> 32;
	st->reading = (v & STATE_READING) != 0;
	/* The latest time not after now with those low 31 bits: exact, as a
	 * job is never read for 24 days. */
	st->since_ms = base_ms + (long long)(now_rel -
	    ((now_rel - (v & STATE_SINCE_MASK)) & STATE_SINCE_MASK));
}

/* Closes the current job's NAMES message, if it has one. */
static void
names_end(struct worker *w)
{
	struct scanworker_msg_head head = { SCANWORKER_MSG_NAMES, 0 };

	if (w->names_at == NO_NAMES)
		return;
	head.len = w->out_len - w->names_at - sizeof(head);
	memcpy(w->out + w->names_at, &head, sizeof(head));
	w->names_at = NO_NAMES;
}

/* Sends the replies held. */
static void
out_send(struct worker *w)
{
	names_end(w);
	if (w->out_len > 0)
		send_or_exit(w, w->out, w->out_len);
	w->out_len = 0;
	w->held = 0;
}

/* Sends what is held in the middle of a directory (its names fill a
 * chunk).  Meanwhile the timer is off and the worker is not reading: a
 * parent busy writing stdout does not make the directory stalled.  The
 * directory then gets its time afresh. */
static void
out_send_reading(struct worker *w)
{
	timer_set(0);
	state_set(w, 0);
	out_send(w);
	timer_set(scanworker_time_limit(w->timeout_ms));
	w->armed_at = scanworker_clock_ms();
	state_set(w, 1);
}

static void
add_name(struct worker *w, const char *name, size_t len)
{
	const size_t head = sizeof(struct scanworker_msg_head);

	if ((w->names_at != NO_NAMES &&
	    w->out_len - w->names_at - head + len > SCANWORKER_CHUNK_SIZE) ||
	    w->out_len + head + len > OUT_SIZE)
		out_send_reading(w);
	if (w->names_at == NO_NAMES) {
		w->names_at = w->out_len;
		w->out_len += head;
	}
	memcpy(w->out + w->out_len, name, len);
	w->out_len += len;
}

/* Ends the job's reply: a message of type and len bytes of payload. */
static void
reply(struct worker *w, uint32_t type, const void *payload, uint32_t len)
{
	struct scanworker_msg_head head = { type, len };

	state_set(w, 0);
	names_end(w);
	if (w->out_len + sizeof(head) + len > OUT_SIZE)
		out_send(w);
	memcpy(w->out + w->out_len, &head, sizeof(head));
	if (len > 0)
		memcpy(w->out + w->out_len + sizeof(head), payload, len);
	w->out_len += sizeof(head) + len;
	if (++w->held >= w->batch)
		out_send(w);
}

/*
 * Makes the next whole job available at w->in + w->in_start, reading as
 * much as the socket holds (several queued jobs in one call).  Returns 1,
 * or 0 at end-of-file.  The read is a plain read loop: EINTR (a timer that
 * fired after its job) is retried here.
 */
static int
read_job(struct worker *w, struct scanworker_job_head *h)
{
	size_t have;
	ssize_t n;

	for (;;) {
		have = w->in_end - w->in_start;
		if (have >= sizeof(*h)) {
			memcpy(h, w->in + w->in_start, sizeof(*h));
			if (have - sizeof(*h) >= h->len)
				return 1;
		}
		if (w->in_start > 0) {
			memmove(w->in, w->in + w->in_start, have);
			w->in_start = 0;
			w->in_end = have;
		}
		if (have >= sizeof(*h) &&
		    RESERVE(w->in, w->in_cap, sizeof(*h) + h->len) < 0)
			_exit(1);
		out_send(w);	/* about to wait: the parent gets all */
		n = read(w->sock, w->in + w->in_end, w->in_cap - w->in_end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && have == 0)
			return 0;
		if (n <= 0)
			_exit(1);
		w->in_end += n;
	}
}

/* Splits the job's components.  Returns their number or -1. */
static long
parse_job(struct worker *w, const struct scanworker_job_head *h, const char *p)
{
	const char *end = p + h->len;
	uint32_t namelen;

	if (h->ncomp == 0)
		return -1;
	if (RESERVE(w->comp, w->comp_cap, h->ncomp) < 0)
		_exit(1);
	for (uint32_t i = 0; i < h->ncomp; i++) {
		if (end - p < 12)
			return -1;
		memcpy(&w->comp[i].id, p, 8);
		memcpy(&namelen, p + 8, 4);
		p += 12;
		if (namelen == 0 || (size_t)(end - p) < namelen ||
		    p[namelen - 1] != '\0')
			return -1;
		w->comp[i].name = p;
		p += namelen;
	}
	return h->ncomp;
}

/*
 * Opens the last of n components, walking down from the deepest one held
 * open and keeping those it passes.  Returns the descriptor, -1 with errno
 * set, or -2 when no component is held and the job does not start at a
 * root.
 */
static int
open_job_dir(struct worker *w, const struct scanworker_job_head *h, long n)
{
	int dirfd = -1, fd;
	long k;

	for (k = n - 2; k >= 0; k--) {
		dirfd = cache_find(w, w->comp[k].id);
		if (dirfd >= 0)
			break;
	}
	if (k < 0 && !(h->flags & SCANWORKER_JOB_FROM_ROOT))
		return -2;
	for (k++; k < n; k++) {
		if (alarm_fired) {
			errno = EINTR;
			return -1;
		}
		if (k == 0)
			fd = open(w->comp[0].name,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		else
			fd = openat(dirfd, w->comp[k].name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || k == n - 1)
			return fd;
		cache_put(w, w->comp[k].id, fd);
		dirfd = fd;
	}
	return -1;
}

/* Gathers the names of fd's subdirectories in w->out, sending full
 * chunks.  Returns 0 or -1 with errno set. */
static int
read_dir(struct worker *w, int fd)
{
	struct stat st;
	ssize_t n;

	for (;;) {
		if (alarm_fired) {
			errno = EINTR;
			return -1;
		}
		n = getdents64(fd, w->dents, DENTS_SIZE);
		if (n <= 0)
			return (int)n;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d =
			    (struct dirent64 *)(w->dents + off);
			const char *name = d->d_name;
			unsigned char type = d->d_type;

			off += d->d_reclen;
			if (name[0] == '.' && (name[1] == '\0' ||
			    (name[1] == '.' && name[2] == '\0')))
				continue;
			if (type == DT_UNKNOWN) {
				if (fstatat(fd, name, &st,
				    AT_SYMLINK_NOFOLLOW) != 0) {
					if (errno == EINTR)
						return -1;
					continue;	/* vanished meanwhile */
				}
				if (S_ISDIR(st.st_mode))
					type = DT_DIR;
			}
			if (type != DT_DIR)
				continue;
			add_name(w, name, strlen(name) + 1);
		}
	}
}

static void
reply_done(struct worker *w, int status, int error, const struct stat *st)
{
	struct scanworker_msg_done done = { status, error, 0, 0 };

	if (st != NULL) {
		done.dev = st->st_dev;
		done.ino = st->st_ino;
	}
	reply(w, SCANWORKER_MSG_DONE, &done, sizeof(done));
}

static void
serve_job(struct worker *w, const struct scanworker_job_head *h, const char *p)
{
	struct stat st;
	long n;
	int fd;

	n = parse_job(w, h, p);
	if (n < 0)
		_exit(1);	/* the parent never sends this */
	w->job++;
	timer_start_job(w);
	state_set(w, 1);
	fd = open_job_dir(w, h, n);
	if (fd == -2) {
		reply(w, SCANWORKER_MSG_MISS, NULL, 0);
		return;
	}
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) != 0)
		goto fail_close;
	if ((h->flags & SCANWORKER_JOB_XDEV) &&
	    (uint64_t)st.st_dev != h->xdev_dev) {
		close_quietly(&fd);
		reply_done(w, SCANWORKER_DIR_XDEV, 0, &st);
		return;
	}
	if (read_dir(w, fd) != 0)
		goto fail_close;
	/* Only a directory with subdirectories is an anchor for later jobs.
	 * The timer is left running: an idle worker retries the read it
	 * interrupts. */
	if (w->names_at != NO_NAMES)
		cache_put(w, w->comp[n - 1].id, fd);
	else
		close_quietly(&fd);
	reply_done(w, SCANWORKER_DIR_READ, 0, &st);
	return;

fail_close:
	close_quietly(&fd);	/* errno says why the directory failed */
fail:
	/* A call the timer interrupted, or one that returned just as it
	 * fired, leaves the directory unread for the same reason. */
	if (errno == EINTR || alarm_fired)
		reply_done(w, SCANWORKER_DIR_STALLED, 0, NULL);
	else
		reply_done(w, SCANWORKER_DIR_ERROR, errno, NULL);
}

void
scanworker_main(int sock, long long timeout_ms, uint64_t *word,
    long long base_ms, unsigned batch)
{
	static struct worker w;
	struct scanworker_job_head h;
	struct sigaction sa;

	/* No SA_RESTART: the timer must interrupt a hanging open or read. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	w.sock = sock;
	w.timeout_ms = timeout_ms;
	w.armed_at = -timeout_ms;
	for (int i = 0; i < CACHE_SIZE; i++)
		w.cache_fd[i] = -1;
	w.in_cap = 64 * 1024;
	w.in = malloc(w.in_cap);
	w.word = word;
	w.base_ms = base_ms;
	w.batch = batch ? batch : 1;
	w.names_at = NO_NAMES;
	w.out = malloc(OUT_SIZE);
	w.dents = malloc(DENTS_SIZE);
	if (w.in == NULL || w.out == NULL || w.dents == NULL)
		_exit(1);
	while (read_job(&w, &h)) {
		serve_job(&w, &h, w.in + w.in_start + sizeof(h));
		w.in_start += sizeof(h) + h.len;
	}
	_exit(0);
}
