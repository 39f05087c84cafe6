/*
 * slot.c - a slot and the dispatch to its backend (see slot.h).
 */
#include "slot.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "diag.h"
#include "exitcode.h"
#include "pipeline.h"
#include "streampair.h"
#include "verifier.h"

void
slot_init(struct slot *s, struct context *ctx, struct watch_area *watch,
    size_t record)
{
	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->watch = watch;
	s->record = record;
	/* jq takes no leaf stream, and a dry run commits nothing. */
	s->ops = ctx->verify ? &verifier_ops : ctx->stream ?
	    &streampair_ops : &pipeline_ops;
	s->ops->init(s);
}

void
slot_start(struct slot *s, const char *dir)
{
	memset(&s->result, 0, sizeof(s->result));
	if ((s->dir = strdup(dir)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	s->result.dir = s->dir;
	s->pgid = 0;
	s->stalled = false;
	s->ops->start(s);
}

bool
slot_busy(const struct slot *s)
{
	return s->dir != NULL;
}

bool
slot_finished(struct slot *s)
{
	return s->dir != NULL && (s->stalled || s->ops->finished(s));
}

const struct slot_result *
slot_result(const struct slot *s)
{
	return &s->result;
}

void
slot_clear(struct slot *s)
{
	s->ops->clear(s);
	free(s->dir);
	s->dir = NULL;
	s->pgid = 0;
	s->stalled = false;
	memset(&s->result, 0, sizeof(s->result));
}

void
slot_signal(struct slot *s, int sig)
{
	/* pgid 0 would be our own group: a leaf that did not start has
	 * none. */
	if (s->dir != NULL && s->pgid > 0)
		kill(-s->pgid, sig);
}

void
slot_watch(struct slot *s, struct loop *l)
{
	s->ops->watch(s, l);
}

void
slot_read(struct slot *s)
{
	s->ops->read(s);
}

bool
slot_reaped(struct slot *s, pid_t pid, int status)
{
	return s->ops->reaped(s, pid, status);
}

void
slot_retire(struct slot *s)
{
	s->ops->retire(s);
}

bool
slot_alive(const struct slot *s)
{
	return s->ops->alive(s);
}

size_t
slot_check(struct slot *s, long long now_ms, long long limit_ms,
    long long *next_ms, pid_t killed[SLOT_PIDS_MAX])
{
	struct watch_pending p;
	size_t n;

	if (s->dir == NULL || s->stalled || s->watch == NULL)
		return 0;
	for (size_t i = 0; i < SLOT_RECORDS; i++) {
		if (!watch_area_pending(s->watch, s->record + i, &p))
			continue;
		if (now_ms - p.since_ms < limit_ms) {
			if (p.since_ms + limit_ms < *next_ms)
				*next_ms = p.since_ms + limit_ms;
			continue;
		}
		/* The whole group, and each one by name: a process that has
		 * not yet joined the group must not be missed. */
		n = s->ops->pids(s, killed);
		if (s->pgid > 0)
			kill(-s->pgid, SIGKILL);
		for (size_t k = 0; k < n; k++)
			kill(killed[k], SIGKILL);
		s->ops->release(s);
		s->stall = p;
		s->stalled = true;
		s->result.stall = &s->stall;
		return n;
	}
	return 0;
}

void
slot_free(struct slot *s)
{
	s->ops->free(s);
	free(s->dir);
	memset(s, 0, sizeof(*s));
}

bool
slot_status_ok(int status, bool partial_ok)
{
	return WIFEXITED(status) && (WEXITSTATUS(status) == EXITCODE_DONE ||
	    (partial_ok && WEXITSTATUS(status) == EXITCODE_PARTIAL));
}
