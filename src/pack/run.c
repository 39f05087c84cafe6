/*
 * run.c - the rounds of a run (see run.h).
 */
#include "run.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "backlog.h"
#include "diag.h"
#include "exitcode.h"
#include "finder.h"
#include "loop.h"
#include "pipeline.h"
#include "pace.h"
#include "precheck.h"
#include "probe.h"
#include "progress.h"
#include "slot.h"
#include "staging.h"
#include "summary.h"
#include "watch.h"

struct run {
	struct context *ctx;
	struct loop loop;
	struct finder finder;
	struct backlog backlog;
	struct slot *slots;	/* ctx->parallel of them */
	size_t nslots, running;	/* slots holding a leaf */
	struct summary summary;
	int status;		/* the worst leaf's */
	bool stopping;		/* a signal came: no new leaf */
	bool forwarded;		/* a second one: the leaves roll back */

	/* Deadlines: every call a slot's processes make on the share is in
	 * their watch records, and may last limit_ms (-t and a grace). */
	struct watch_area watch;
	long long limit_ms;
	long long next_deadline;	/* the earliest a pending call reaches
					 * the limit; LLONG_MAX: none */
	/* The breaker: after max_stalls leaves in a row stalled, the root is
	 * asked; no answer, and the run gives up. */
	long stalls_in_row;
	struct probe probe;	/* while probe.pid != 0 */
	const char *probed;	/* the root asked */
	bool gave_up;		/* the share does not answer: no new leaf */
	bool no_inodes;		/* a leaf met no free inode (no --staging):
				 * no new leaf */
	struct pace pace;	/* the slots in use, --max-rate */
	int rate_wake;		/* ms until --max-rate lets a leaf start */
	/* Processes killed on a stall, until they are seen to end. */
	pid_t *stuck;
	size_t nstuck, stuck_cap;
	long long retire_by;	/* processes still there then are given up */
};

static void
run_add_stuck(struct run *r, const pid_t *pids, size_t n)
{
	if (RESERVE(r->stuck, r->stuck_cap, r->nstuck + n) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	memcpy(r->stuck + r->nstuck, pids, n * sizeof(*pids));
	r->nstuck += n;
}

/* A process given up on has ended (reaped as a stranger). */
static void
run_drop_stuck(struct run *r, pid_t pid)
{
	for (size_t i = 0; i < r->nstuck; i++)
		if (r->stuck[i] == pid) {
			r->stuck[i] = r->stuck[--r->nstuck];
			return;
		}
}

/* Gives up the leaves whose calls on the share hang. */
static void
run_check_deadlines(struct run *r)
{
	long long now = watch_clock_ms();
	pid_t killed[SLOT_PIDS_MAX];
	size_t n;

	r->next_deadline = LLONG_MAX;
	for (size_t i = 0; i < r->nslots; i++)
		if ((n = slot_check(&r->slots[i], now, r->limit_ms,
		    &r->next_deadline, killed)) > 0)
			run_add_stuck(r, killed, n);
}

/* The root (of the command line) that dir is in: the one to probe. */
static const char *
run_root_of(const struct run *r, const char *dir)
{
	const struct context *ctx = r->ctx;

	for (size_t i = 0; !ctx->leaves_mode && i < ctx->npaths; i++) {
		size_t len = strlen(ctx->paths[i]);

		if (strncmp(dir, ctx->paths[i], len) == 0 &&
		    (dir[len] == '/' || dir[len] == '\0' ||
		    (len > 0 && ctx->paths[i][len - 1] == '/')))
			return ctx->paths[i];
	}
	return dir;
}

/* The share does not answer: no leaf goes to it any more, the scan stops,
 * and the leaves in flight end by their own deadlines. */
static void
run_give_up(struct run *r)
{
	r->gave_up = true;
	diag_warnx("%s: the share is not answering: %ld leaves stalled in a "
	    "row; stopping (run again once it answers)",
	    diag_quote(r->probed), r->stalls_in_row);
	finder_stop(&r->finder);
}

/* Counts a stalled leaf towards the breaker; at max_stalls in a row, asks
 * the share whether it answers at all. */
static void
run_count_stall(struct run *r, const struct slot_result *res)
{
	if (res->stall == NULL) {
		r->stalls_in_row = 0;
		return;
	}
	r->stalls_in_row++;
	if (r->ctx->max_stalls == 0 || r->stalls_in_row < r->ctx->max_stalls ||
	    r->probe.pid != 0 || r->gave_up)
		return;
	r->probed = run_root_of(r, res->dir);
	/* No child for the question: as good as no answer. */
	if (probe_start(&r->probe, r->probed, r->ctx->timeout_ms) < 0)
		run_give_up(r);
}

/* The share answered (a hung subtree: go on) or not (stop). */
static void
run_check_probe(struct run *r)
{
	enum probe_result answer;

	if (r->probe.pid == 0)
		return;
	if ((answer = probe_check(&r->probe)) == PROBE_PENDING)
		return;
	r->probe.pid = 0;
	if (answer == PROBE_ANSWERED)
		r->stalls_in_row = 0;
	else
		run_give_up(r);
}

/* A first signal stops the scan and starts no new leaf; a second asks
 * the leaves in flight to roll back. */
static void
run_check_signals(struct run *r)
{
	if (loop_stop_signal() != 0 && !r->stopping) {
		r->stopping = true;
		finder_stop(&r->finder);
		if (r->running > 0)
			diag_warnx("stopping: waiting for %zu leaves in flight "
			    "to finish (again to roll them back)", r->running);
	}
	if (loop_stop_count() >= 2 && !r->forwarded) {
		r->forwarded = true;
		for (size_t i = 0; i < r->nslots; i++)
			slot_signal(&r->slots[i], SIGTERM);
	}
}

static void
run_finish_leaves(struct run *r)
{
	for (size_t i = 0; i < r->nslots; i++) {
		struct slot *s = &r->slots[i];
		int st;

		if (!slot_finished(s))
			continue;
		st = summary_add_leaf(&r->summary, r->ctx, slot_result(s));
		if (st > r->status)
			r->status = st;
		run_count_stall(r, slot_result(s));
		slot_clear(s);
		r->running--;
	}
	/* Nothing can be created on the share: no leaf could be done
	 * there; those done stay done, the rest wait for --staging. */
	if (r->summary.leaves_no_inodes > 0 && !r->no_inodes) {
		r->no_inodes = true;
		finder_stop(&r->finder);
	}
}

static void
run_start_leaves(struct run *r)
{
	const char *path;

	r->rate_wake = -1;
	/* While the share is asked whether it answers, no leaf goes to it. */
	if (r->gave_up || r->no_inodes || r->probe.pid != 0)
		return;
	for (size_t i = 0; !r->stopping && r->running < r->nslots &&
	    i < r->nslots; i++) {
		if (slot_busy(&r->slots[i]))
			continue;
		if (backlog_empty(&r->backlog) || !pace_may_start(&r->pace,
		    r->running, r->summary.files_consumed,
		    r->summary.leaves_done, &r->rate_wake))
			break;
		if ((path = backlog_pop(&r->backlog)) == NULL)
			break;
		r->running++;
		slot_start(&r->slots[i], path);
	}
}

/* True when no leaf is left, and every slot's processes are gone (or,
 * past the limit, given up: nothing at the end waits on the share). */
static bool
run_all_done(struct run *r)
{
	pid_t pids[SLOT_PIDS_MAX];
	bool alive = false;
	size_t n;

	if (finder_alive(&r->finder) || r->running > 0 ||
	    r->probe.pid != 0 || (!backlog_empty(&r->backlog) &&
	    !r->stopping && !r->gave_up && !r->no_inodes))
		return false;
	if (r->retire_by == 0)
		r->retire_by = watch_clock_ms() + r->limit_ms;
	/* No more leaves: the slots' processes finish and exit. */
	for (size_t i = 0; i < r->nslots; i++) {
		slot_retire(&r->slots[i]);
		alive |= slot_alive(&r->slots[i]);
	}
	if (!alive || watch_clock_ms() < r->retire_by)
		return !alive;
	for (size_t i = 0; i < r->nslots; i++) {
		n = r->slots[i].ops->pids(&r->slots[i], pids);
		for (size_t k = 0; k < n; k++)
			kill(pids[k], SIGKILL);
		run_add_stuck(r, pids, n);
		r->slots[i].ops->release(&r->slots[i]);
	}
	return true;
}

/* Milliseconds from now to when (on watch_clock_ms()), at least 0. */
static int
deadline_in(long long when)
{
	long long ms = when - watch_clock_ms();

	return ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Sleeps until something happens. */
static void
run_wait(struct run *r)
{
	bool children = finder_alive(&r->finder) || r->running > 0;

	loop_begin(&r->loop);
	finder_watch(&r->finder, &r->loop, &r->backlog);
	for (size_t i = 0; i < r->nslots; i++) {
		slot_watch(&r->slots[i], &r->loop);
		children |= slot_alive(&r->slots[i]);
		/* A leaf that failed to start is finished already. */
		if (slot_finished(&r->slots[i]))
			loop_wake_within(&r->loop, 0);
	}
	if (progress_enabled())
		loop_wake_within(&r->loop, PROGRESS_INTERVAL_MS);
	if (r->next_deadline != LLONG_MAX)
		loop_wake_within(&r->loop, deadline_in(r->next_deadline));
	if (r->probe.pid != 0) {
		loop_watch(&r->loop, r->probe.fd);
		loop_wake_within(&r->loop, deadline_in(r->probe.deadline_ms));
	}
	if (r->retire_by != 0)
		loop_wake_within(&r->loop, deadline_in(r->retire_by));
	if (r->rate_wake >= 0)
		loop_wake_within(&r->loop, r->rate_wake);
	/* The latency is looked at once a window while leaves run. */
	if (r->running > 0)
		loop_wake_within(&r->loop, pace_wake_in(&r->pace));
	/* While a child lives, SIGCHLD is the news of its exit once its
	 * pipes are closed; the wait is bounded all the same, so that news
	 * lost would cost a second, never the run. */
	if (children)
		loop_wake_within(&r->loop, 1000);
	if (loop_wait(&r->loop) < 0)
		diag_err(EXITCODE_FAILED, "poll");
}

static void
run_reaped(void *ctx, pid_t pid, int status)
{
	struct run *r = ctx;

	if (finder_reaped(&r->finder, pid, status))
		return;
	for (size_t i = 0; i < r->nslots; i++)
		if (slot_reaped(&r->slots[i], pid, status))
			return;
	/* Not ours any more (a pair given up, or one that stalled, which
	 * has ended at last): a stranger, dropped. */
	run_drop_stuck(r, pid);
}

/* One round: true until the run is over. */
static bool
run_round(struct run *r)
{
	run_check_signals(r);
	pace_tick(&r->pace, r->running);
	run_check_deadlines(r);
	run_check_probe(r);
	run_finish_leaves(r);
	run_start_leaves(r);
	if (run_all_done(r))
		return false;
	run_wait(r);
	loop_reap(&r->loop, run_reaped, r);
	summary_found(&r->summary, finder_read(&r->finder, &r->backlog));
	for (size_t i = 0; i < r->nslots; i++)
		slot_read(&r->slots[i]);
	summary_progress(&r->summary, &r->pace, r->running,
	    finder_scanning(&r->finder));
	return true;
}

/* Everything before the first round; -1 when the stages could not start
 * (said). */
static int
run_start(struct run *r, struct context *ctx)
{
	size_t watched;

	r->ctx = ctx;
	r->nslots = (size_t)ctx->parallel;
	if (ctx->jq != NULL && !ctx->dry_run)
		pipeline_check_jq();
	summary_init(&r->summary);
	r->summary.timeout_ms = ctx->timeout_ms;
	r->limit_ms = ctx->timeout_ms + watch_grace_ms(ctx->timeout_ms);
	r->next_deadline = LLONG_MAX;
	r->probe.fd = -1;
	if (watch_area_create(&r->watch, r->nslots * SLOT_RECORDS) < 0)
		diag_err(EXITCODE_FAILED, "memfd_create");
	/* The probe's answer is one more descriptor. */
	watched = FINDER_WATCH_MAX + r->nslots * SLOT_WATCH_MAX + 1;
	if (loop_init(&r->loop, watched) < 0)
		diag_err(EXITCODE_FAILED, "pipe");
	progress_init(ctx->progress);
	r->backlog.names = &ctx->names;
	if (finder_start(&r->finder, ctx) < 0)
		return -1;
	if ((r->slots = calloc(r->nslots, sizeof(*r->slots))) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	for (size_t i = 0; i < r->nslots; i++)
		slot_init(&r->slots[i], ctx, &r->watch, i * SLOT_RECORDS);
	pace_init(&r->pace, (long)r->nslots, ctx->adapt, ctx->max_rate,
	    &r->watch);
	return 0;
}

/* Everything after the last round; returns the exit status. */
static int
run_finish(struct run *r)
{
	struct summary *s = &r->summary;
	int status;

	progress_end();
	/* The last news of processes given up on. */
	loop_reap(&r->loop, run_reaped, r);
	s->stuck = r->stuck;
	s->nstuck = r->nstuck;
	finder_stalled(&r->finder, &s->stalled, &s->nstalled,
	    &s->stalled_cap);
	summary_write_stalled(s, r->ctx);
	summary_print(s, r->ctx, &r->pace, progress_seconds());
	if (r->no_inodes)
		staging_warn_no_inodes(run_root_of(r, s->no_inodes_dir),
		    s->inodes);
	/* The stages the run stopped itself did not fail. */
	status = finder_status(&r->finder, r->status,
	    r->stopping || r->gave_up || r->no_inodes);
	if (r->no_inodes)
		status = EXITCODE_FAILED;
	/* A leaf left to another run, or stalled, is a part not done. */
	if ((s->nstalled > 0 || s->leaves_busy > 0) &&
	    status < EXITCODE_PARTIAL)
		status = EXITCODE_PARTIAL;
	if (r->ctx->dry_run && diag_close_stdout() < 0)
		status = EXITCODE_FAILED;
	if (r->stopping)
		return 128 + loop_stop_signal();
	return status;
}

static void
run_free(struct run *r)
{
	for (size_t i = 0; r->slots != NULL && i < r->nslots; i++)
		slot_free(&r->slots[i]);
	free(r->slots);
	backlog_free(&r->backlog);
	finder_free(&r->finder);
	summary_free(&r->summary);
	loop_free(&r->loop);
	pace_free(&r->pace);
	watch_area_free(&r->watch);
	free(r->stuck);
}

int
run(struct context *ctx)
{
	struct run r = { .watch = { .fd = -1 }, .probe = { .fd = -1 } };
	int status = EXITCODE_FAILED;

	/* Before the first leaf: room on the share, a --staging that can
	 * serve. */
	if ((status = precheck(ctx)) != 0)
		return status;
	status = EXITCODE_FAILED;
	if (run_start(&r, ctx) == 0) {
		while (run_round(&r))
			;
		status = run_finish(&r);
	}
	run_free(&r);
	return status;
}
