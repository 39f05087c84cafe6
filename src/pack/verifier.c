/*
 * verifier.c - jsonl-verify for each leaf (see verifier.h).
 */
#include "verifier.h"

#include <stdlib.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "stats.h"
#include "xstd.h"

struct verifier {
	struct child check;	/* jsonl-verify of the leaf in hand */
	bool counted;		/* s->result is filled */
};

static void
verifier_reset(struct verifier *v)
{
	child_init(&v->check);
	v->counted = false;
}

static void
verifier_init(struct slot *s)
{
	if ((s->state = malloc(sizeof(struct verifier))) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	verifier_reset(s->state);
}

static void
verifier_start(struct slot *s)
{
	struct verifier *v = s->state;
	int err;

	verifier_reset(v);
	if ((err = relay_open(&v->check.err)) < 0) {
		diag_warn("pipe");
		v->check.status = EXITCODE_FAILED << 8;
		return;
	}
	v->check.pid = child_spawn_watched(child_argv_fill(&s->ctx->verify_leaf,
	    s->dir), -1, STDOUT_FILENO, err, 0, s->watch, s->record);
	close_quietly(&err);
	if (v->check.pid < 0) {
		child_forget(&v->check);
		v->check.status = EXITCODE_FAILED << 8;
		return;
	}
	s->pgid = v->check.pid;
}

static bool
verifier_finished(struct slot *s)
{
	struct verifier *v = s->state;
	json_object *o;

	if (v->check.pid != 0 || v->check.err.fd >= 0)
		return false;
	if (!v->counted) {
		o = relay_stats(&v->check.err);
		s->result.merge_status = v->check.status;
		s->result.verify.checked = o != NULL &&
		    stats_get_count(o, "leaves_checked") > 0;
		s->result.verify.problems = stats_get_count(o, "problems");
		s->result.verify.lines = stats_get_count(o, "lines");
		s->result.verify.bytes = stats_get_count(o, "bytes");
		s->result.verify.has_output =
		    stats_get_count(o, "leaves_with_output") > 0;
		v->counted = true;
	}
	return true;
}

static void
verifier_release(struct slot *s)
{
	struct verifier *v = s->state;

	child_forget(&v->check);
}

static void
verifier_watch(struct slot *s, struct loop *l)
{
	struct verifier *v = s->state;

	loop_watch(l, v->check.err.fd);
}

static void
verifier_read(struct slot *s)
{
	struct verifier *v = s->state;

	relay_read(&v->check.err, false);
}

static bool
verifier_reaped(struct slot *s, pid_t pid, int status)
{
	struct verifier *v = s->state;

	return child_reaped(&v->check, pid, status);
}

static void
verifier_retire(struct slot *s)
{
	(void)s;	/* nothing outlives its leaf */
}

static bool
verifier_alive(const struct slot *s)
{
	const struct verifier *v = s->state;

	return v->check.pid > 0 || v->check.err.fd >= 0;
}

static size_t
verifier_pids(const struct slot *s, pid_t out[SLOT_PIDS_MAX])
{
	const struct verifier *v = s->state;
	size_t n = 0;

	if (v->check.pid > 0)
		out[n++] = v->check.pid;
	return n;
}

static void
verifier_free(struct slot *s)
{
	verifier_release(s);
	free(s->state);
	s->state = NULL;
}

const struct slot_ops verifier_ops = {
	.init = verifier_init,
	.start = verifier_start,
	.finished = verifier_finished,
	.clear = verifier_release,
	.watch = verifier_watch,
	.read = verifier_read,
	.reaped = verifier_reaped,
	.retire = verifier_retire,
	.alive = verifier_alive,
	.release = verifier_release,
	.pids = verifier_pids,
	.free = verifier_free,
};
