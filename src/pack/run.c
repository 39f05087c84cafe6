/*
 * run.c - the rounds of a run (see run.h).
 */
#include "run.h"

#include <signal.h>
#include <stdlib.h>

#include "backlog.h"
#include "diag.h"
#include "exitcode.h"
#include "finder.h"
#include "loop.h"
#include "pipeline.h"
#include "progress.h"
#include "slot.h"
#include "summary.h"

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
};

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
		slot_clear(s);
		r->running--;
	}
}

static void
run_start_leaves(struct run *r)
{
	const char *path;

	for (size_t i = 0; !r->stopping && r->running < r->nslots &&
	    i < r->nslots; i++) {
		if (slot_busy(&r->slots[i]))
			continue;
		if ((path = backlog_pop(&r->backlog)) == NULL)
			break;
		r->running++;
		slot_start(&r->slots[i], path);
	}
}

/* True when no leaf is left, and every slot's processes are gone. */
static bool
run_all_done(struct run *r)
{
	bool alive = false;

	if (finder_alive(&r->finder) || r->running > 0 ||
	    (!backlog_empty(&r->backlog) && !r->stopping))
		return false;
	/* No more leaves: the slots' processes finish and exit. */
	for (size_t i = 0; i < r->nslots; i++) {
		slot_retire(&r->slots[i]);
		alive |= slot_alive(&r->slots[i]);
	}
	return !alive;
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
	/* Not ours any more (a pair given up): a stranger, dropped. */
	for (size_t i = 0; i < r->nslots; i++)
		if (slot_reaped(&r->slots[i], pid, status))
			return;
}

/* One round: true until the run is over. */
static bool
run_round(struct run *r)
{
	run_check_signals(r);
	run_finish_leaves(r);
	run_start_leaves(r);
	if (run_all_done(r))
		return false;
	run_wait(r);
	loop_reap(&r->loop, run_reaped, r);
	summary_found(&r->summary, finder_read(&r->finder, &r->backlog));
	for (size_t i = 0; i < r->nslots; i++)
		slot_read(&r->slots[i]);
	summary_progress(&r->summary, r->running,
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
	watched = FINDER_WATCH_MAX + r->nslots * SLOT_WATCH_MAX;
	if (loop_init(&r->loop, watched) < 0)
		diag_err(EXITCODE_FAILED, "pipe");
	progress_init(ctx->progress);
	if (finder_start(&r->finder, ctx) < 0)
		return -1;
	if ((r->slots = calloc(r->nslots, sizeof(*r->slots))) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	for (size_t i = 0; i < r->nslots; i++)
		slot_init(&r->slots[i], ctx);
	return 0;
}

/* Everything after the last round; returns the exit status. */
static int
run_finish(struct run *r)
{
	struct summary *s = &r->summary;
	int status;

	progress_end();
	finder_stalled(&r->finder, &s->stalled, &s->nstalled,
	    &s->stalled_cap);
	summary_add_filter(s, finder_filter_stats(&r->finder));
	summary_write_stalled(s, r->ctx);
	summary_print(s, r->ctx, progress_seconds());
	status = finder_status(&r->finder, r->status, r->stopping);
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
}

int
run(struct context *ctx)
{
	struct run r = { 0 };
	int status = EXITCODE_FAILED;

	if (run_start(&r, ctx) == 0) {
		while (run_round(&r))
			;
		status = run_finish(&r);
	}
	run_free(&r);
	return status;
}
