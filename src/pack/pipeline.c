/*
 * pipeline.c - the processes of each leaf (see pipeline.h).
 */
#include "pipeline.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "diag.h"
#include "exitcode.h"
#include "relay.h"
#include "xstd.h"

struct pipeline {
	struct child merge, jq, write;	/* jq's stderr is not relayed */
	int hold;		/* our copy of the pipe into jsonl-write */
	bool counted;		/* s->result is filled */
};

static void
pipeline_reset(struct pipeline *p)
{
	child_init(&p->merge);
	child_init(&p->jq);
	child_init(&p->write);
	p->hold = -1;
	p->counted = false;
}

static void
pipeline_init(struct slot *s)
{
	/* An idle slot has no pipes: zeroed, it would name our stdin, which
	 * the loop would then poll, read and close as a child's stderr. */
	if ((s->state = malloc(sizeof(struct pipeline))) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	pipeline_reset(s->state);
}

/* Starts jq (with --jq) and jsonl-write after json-merge, whose stdout is
 * merge_out, jq's jq_out; the pipes' ends are taken over (closed here or
 * held). */
static void
start_writer(struct slot *s, int merge_out[2], int jq_out[2], int err_write)
{
	struct pipeline *p = s->state;
	char *outpath;

	/* Our copy of the write end of the pipe into jsonl-write is hold
	 * (see the head comment); close-on-exec, so no child holds it. */
	if (s->ctx->jq != NULL) {
		close_quietly(&merge_out[1]);
		p->jq.pid = child_spawn(s->ctx->jq_leaf.v, merge_out[0],
		    jq_out[1], -1, s->pgid);
		close_quietly(&merge_out[0]);
		merge_out[0] = jq_out[0];
		p->hold = jq_out[1];
		if (p->jq.pid < 0) {
			p->jq.pid = 0;
			p->jq.status = EXITCODE_FAILED << 8;
		}
	} else
		p->hold = merge_out[1];
	if (asprintf(&outpath, "%s/%s", s->dir, s->ctx->output) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	p->write.pid = child_spawn_watched(child_argv_fill(
	    &s->ctx->write_leaf, outpath), merge_out[0], -1, err_write,
	    s->pgid, s->watch, s->record + 1);
	free(outpath);
	close_quietly(&merge_out[0]);
	if (p->write.pid < 0) {
		p->write.pid = 0;
		p->write.status = EXITCODE_FAILED << 8;
	}
}

/* Opens the leaf's pipes (but for a dry run's, which writes nothing).
 * Returns 0, or -1 (said). */
static int
open_pipes(struct slot *s, int *err_merge, int *err_write, int merge_out[2],
    int jq_out[2])
{
	struct pipeline *p = s->state;

	if ((*err_merge = relay_open(&p->merge.err)) >= 0 &&
	    (s->ctx->dry_run ||
	    ((*err_write = relay_open(&p->write.err)) >= 0 &&
	    pipe_cloexec(merge_out, 0) == 0 &&
	    (s->ctx->jq == NULL || pipe_cloexec(jq_out, 0) == 0))))
		return 0;
	diag_warn("pipe");
	return -1;
}

/* Starts the leaf's processes; one that cannot start is finished at once,
 * failed. */
static void
pipeline_start(struct slot *s)
{
	struct pipeline *p = s->state;
	int merge_out[2] = { -1, -1 }, jq_out[2] = { -1, -1 },
	    err_merge = -1, err_write = -1;

	pipeline_reset(p);
	if (open_pipes(s, &err_merge, &err_write, merge_out, jq_out) < 0)
		goto fail;
	p->merge.pid = child_spawn_watched(child_argv_fill(
	    &s->ctx->merge_leaf, s->dir), -1, merge_out[1], err_merge, 0,
	    s->watch, s->record);
	close_quietly(&err_merge);
	if (p->merge.pid < 0)
		goto fail;
	s->pgid = p->merge.pid;
	if (!s->ctx->dry_run)
		start_writer(s, merge_out, jq_out, err_write);
	close_quietly(&err_write);
	return;

fail:
	/* A leaf that does not start holds no descriptor: a pipe end left
	 * open here is one whose end of file the loop would wait for, with
	 * no child left to give it. */
	child_forget(&p->merge);
	child_forget(&p->write);
	p->merge.status = EXITCODE_FAILED << 8;
	child_close_all((int[]){ err_merge, err_write, merge_out[0],
	    merge_out[1], jq_out[0], jq_out[1] }, 6);
}

/*
 * Writes a line that no JSON parser accepts into the pipe to jsonl-write,
 * so it fails the leaf instead of committing what it read.  An empty line
 * is invalid after a complete line, "]" after a partial one.  When the pipe
 * is full or jsonl-write is gone, SIGTERM (its handler removes its
 * temporary file) does the same: it cannot have committed, since we hold
 * the pipe open.
 */
static void
poison(struct pipeline *p)
{
	set_nonblock(p->hold, 1);
	if (xwrite_nosigpipe(p->hold, "\n]\n", 3) < 0 && p->write.pid > 0)
		kill(p->write.pid, SIGTERM);
}

/* True when json-merge's stats say the leaf had nothing new, or that
 * another run holds it. */
static bool
merge_left_it(struct pipeline *p)
{
	struct leafstream_merge m;

	leafstream_merge_from_json(relay_stats(&p->merge.err), &m);
	return m.unchanged || m.busy;
}

/*
 * Releases jsonl-write once upstream is done: reaped, and json-merge's
 * stderr read to its end, so that its stats are in (decided before them,
 * a busy json-merge's empty output went to jsonl-write, which then met the
 * other run's claim, and failed the leaf).
 */
static void
release_writer(struct slot *s)
{
	struct pipeline *p = s->state;

	if (p->hold < 0 || p->merge.pid != 0 || p->jq.pid != 0 ||
	    p->merge.err.fd >= 0)
		return;
	if (merge_left_it(p)) {
		/* Nothing new, or not ours (json-merge exits 4 on a busy
		 * leaf), nothing printed: jsonl-write, which cannot have
		 * committed (we hold its input), goes (its handler removes
		 * its temporary). */
		if (p->write.pid > 0)
			kill(p->write.pid, SIGTERM);
	} else if (!slot_status_ok(p->merge.status, true) ||
	    (s->ctx->jq != NULL && !slot_status_ok(p->jq.status, false)))
		poison(p);
	close_quietly(&p->hold);
}

/* Reaps one child of the leaf. */
static bool
pipeline_reaped(struct slot *s, pid_t pid, int status)
{
	struct pipeline *p = s->state;

	if (!child_reaped(&p->merge, pid, status) &&
	    !child_reaped(&p->jq, pid, status) &&
	    !child_reaped(&p->write, pid, status))
		return false;
	release_writer(s);
	return true;
}

/* The children's statuses and stats, into s->result. */
static void
count(struct slot *s)
{
	struct pipeline *p = s->state;
	json_object *ws = relay_stats(&p->write.err), *v;

	s->result.merge_status = p->merge.status;
	s->result.jq_status = p->jq.status;
	s->result.write_status = p->write.status;
	leafstream_merge_from_json(relay_stats(&p->merge.err),
	    &s->result.merge);
	s->result.unchanged = s->result.merge.unchanged || (ws != NULL &&
	    json_object_object_get_ex(ws, LEAFSTREAM_KEY_UNCHANGED, &v) &&
	    json_object_get_boolean(v));
	/* An unchanged leaf counts nothing written, as when the driver
	 * withdrew its claim and jsonl-write's stats were not read. */
	if (!s->result.unchanged)
		leafstream_write_from_json(ws, &s->result.write);
	/* jsonl-write found the leaf taken over by another run. */
	if (ws != NULL && json_object_object_get_ex(ws, LEAFSTREAM_KEY_BUSY,
	    &v) && json_object_get_boolean(v))
		s->result.merge.busy = true;
	p->counted = true;
}

static bool
pipeline_finished(struct slot *s)
{
	struct pipeline *p = s->state;

	if (p->merge.pid != 0 || p->jq.pid != 0 || p->write.pid != 0 ||
	    p->merge.err.fd >= 0 || p->write.err.fd >= 0)
		return false;
	if (!p->counted)
		count(s);
	return true;
}

static void
pipeline_release(struct slot *s)
{
	struct pipeline *p = s->state;

	close_quietly(&p->hold);
	child_forget(&p->merge);
	child_forget(&p->jq);
	child_forget(&p->write);
}

static void
pipeline_watch(struct slot *s, struct loop *l)
{
	struct pipeline *p = s->state;

	loop_watch(l, p->merge.err.fd);
	loop_watch(l, p->write.err.fd);
}

static void
pipeline_read(struct slot *s)
{
	struct pipeline *p = s->state;

	relay_read(&p->merge.err, false);
	relay_read(&p->write.err, false);
	release_writer(s);
}

static void
pipeline_retire(struct slot *s)
{
	(void)s;	/* nothing outlives its leaf */
}

static bool
pipeline_alive(const struct slot *s)
{
	const struct pipeline *p = s->state;

	return p->merge.pid > 0 || p->jq.pid > 0 || p->write.pid > 0 ||
	    p->hold >= 0 || p->merge.err.fd >= 0 || p->write.err.fd >= 0;
}

static size_t
pipeline_pids(const struct slot *s, pid_t out[SLOT_PIDS_MAX])
{
	const struct pipeline *p = s->state;
	size_t n = 0;

	if (p->merge.pid > 0)
		out[n++] = p->merge.pid;
	if (p->jq.pid > 0)
		out[n++] = p->jq.pid;
	if (p->write.pid > 0)
		out[n++] = p->write.pid;
	return n;
}

static void
pipeline_free(struct slot *s)
{
	pipeline_release(s);
	free(s->state);
	s->state = NULL;
}

const struct slot_ops pipeline_ops = {
	.init = pipeline_init,
	.start = pipeline_start,
	.finished = pipeline_finished,
	.clear = pipeline_release,
	.watch = pipeline_watch,
	.read = pipeline_read,
	.reaped = pipeline_reaped,
	.retire = pipeline_retire,
	.alive = pipeline_alive,
	.release = pipeline_release,
	.pids = pipeline_pids,
	.free = pipeline_free,
};

void
pipeline_check_jq(void)
{
	static const char big[] = "12345678901234567890123";
	char *argv[] = { "jq", "-c", ".", NULL }, out[128];
	int in[2], res[2], status;
	ssize_t got;
	pid_t pid;

	if (pipe_cloexec(in, 0) < 0 || pipe_cloexec(res, 0) < 0)
		diag_err(EXITCODE_FAILED, "pipe");
	if ((pid = child_spawn(argv, in[0], res[1], -1, 0)) < 0)
		exit(EXITCODE_FAILED);
	close(in[0]);
	close(res[1]);
	(void)xwrite_nosigpipe(in[1], big, sizeof(big) - 1);
	close(in[1]);
	got = xread(res[0], out, sizeof(out) - 1);
	close(res[0]);
	out[got > 0 ? got : 0] = '\0';
	waitpid(pid, &status, 0);
	if (!slot_status_ok(status, false))
		diag_errx(EXITCODE_FAILED, "jq does not run; --jq needs it");
	if (strncmp(out, big, sizeof(big) - 1) != 0)
		diag_warnx("warning: this jq rounds big integers (%s becomes "
		    "%.*s): --jq changes such numbers in every record",
		    big, (int)strcspn(out, "\n"), out);
}
