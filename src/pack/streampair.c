/*
 * streampair.c - a slot's long-lived json-merge | jsonl-write pair (see
 * streampair.h).
 */
#include "streampair.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "exitcode.h"
#include "relay.h"
#include "xstd.h"

struct pair {
	struct child merge, write;
	pid_t pgid;		/* json-merge's pid */
	int paths;		/* into json-merge; -1 when none */
	int reports;		/* from jsonl-write; -1 once closed */
	struct buf report;	/* a partial report line */
	bool reported;		/* the leaf in hand has its report (or the
				 * pair died under it) */
};

static void
pair_reset(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	p->paths = p->reports = -1;
	child_init(&p->merge);
	child_init(&p->write);
}

static void
pair_init(struct slot *s)
{
	if ((s->state = malloc(sizeof(struct pair))) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	pair_reset(s->state);
}

/* No more leaves for the pair: it finishes the one in hand and exits. */
static void
pair_retire(struct slot *s)
{
	struct pair *p = s->state;

	close_quietly(&p->paths);
}

static void
pair_release(struct slot *s)
{
	struct pair *p = s->state;

	pair_retire(s);
	close_quietly(&p->reports);
	child_forget(&p->merge);
	child_forget(&p->write);
	buf_free(&p->report);
	p->pgid = 0;
}

/* Starts the pair; returns 0, or -1 (said) when it could not. */
static int
pair_spawn(struct slot *s)
{
	struct pair *p = s->state;
	int paths[2] = { -1, -1 }, mid[2] = { -1, -1 },
	    reports[2] = { -1, -1 }, err_merge, err_write;

	/* What is left of a pair that died goes (its processes are reaped
	 * as strangers). */
	pair_release(s);
	pair_reset(p);
	err_merge = relay_open(&p->merge.err);
	err_write = relay_open(&p->write.err);
	if (err_merge < 0 || err_write < 0 || pipe_cloexec(paths, 0) < 0 ||
	    pipe_cloexec(mid, 0) < 0 || pipe_cloexec(reports, 0) < 0) {
		diag_warn("pipe");
		goto fail;
	}
	p->merge.pid = child_spawn_watched(s->ctx->merge_stream.v, paths[0],
	    mid[1], err_merge, 0, s->watch, s->record);
	if (p->merge.pid < 0) {
		p->merge.pid = 0;
		goto fail;
	}
	p->pgid = p->merge.pid;
	p->write.pid = child_spawn_watched(s->ctx->write_stream.v, mid[0],
	    reports[1], err_write, p->pgid, s->watch, s->record + 1);
	if (p->write.pid < 0) {
		p->write.pid = 0;
		kill(-p->pgid, SIGKILL);
		goto fail;
	}
	child_close_all((int[]){ paths[0], mid[0], mid[1], reports[1],
	    err_merge, err_write }, 6);
	p->paths = paths[1];
	p->reports = reports[0];
	set_nonblock(p->reports, 1);
	return 0;

fail:
	child_close_all((int[]){ paths[0], paths[1], mid[0], mid[1],
	    reports[0], reports[1], err_merge, err_write }, 8);
	relay_close(&p->merge.err);
	relay_close(&p->write.err);
	return -1;
}

/* Hands the leaf to the pair (started first if need be). */
static void
pair_start(struct slot *s)
{
	struct pair *p = s->state;

	p->reported = false;
	/* A pair that died after its last report is found here, by EPIPE:
	 * the leaf goes to a new pair. */
	for (int tries = 0;; tries++) {
		if ((p->paths >= 0 || pair_spawn(s) == 0) &&
		    xwrite_nosigpipe(p->paths, s->dir, strlen(s->dir) + 1)
		    == 0)
			break;
		pair_retire(s);
		if (tries == 1 || p->merge.pid == 0) {
			/* It cannot start: the leaf fails, untouched. */
			p->reported = true;
			s->result.merge_status = EXITCODE_FAILED << 8;
			return;
		}
	}
	s->pgid = p->pgid;
}

static bool
pair_finished(struct slot *s)
{
	struct pair *p = s->state;

	return p->reported;
}

static void
pair_clear(struct slot *s)
{
	(void)s;	/* the pair stays for the next leaf */
}

static void
pair_watch(struct slot *s, struct loop *l)
{
	struct pair *p = s->state;

	loop_watch(l, p->reports);
	loop_watch(l, p->merge.err.fd);
	loop_watch(l, p->write.err.fd);
}

/* A report line: what became of the leaf in hand. */
static void
pair_report(void *ctx, char *line, size_t len)
{
	struct slot *s = ctx;
	struct pair *p = s->state;
	struct leafstream_report r;

	(void)len;
	if (s->dir == NULL || p->reported)
		return;
	p->reported = true;
	/* A line that is no report leaves r failed (status 4). */
	(void)leafstream_report_parse(line, &r);
	s->result.merge_status = ((r.has_merge ? r.end.status :
	    EXITCODE_FAILED) & 0xff) << 8;
	s->result.write_status = (r.status & 0xff) << 8;
	s->result.unchanged = r.unchanged;
	if (r.has_merge)
		s->result.merge = r.end.merge;
	/* jsonl-write found the leaf taken over by another run. */
	if (r.busy)
		s->result.merge.busy = true;
	s->result.write = r.write;
	leafstream_report_free(&r);
}

/* Reads the pair's reports and stderr; at the reports' end the leaf in
 * hand failed. */
static void
pair_read(struct slot *s)
{
	struct pair *p = s->state;

	relay_read(&p->merge.err, false);
	relay_read(&p->write.err, false);
	if (p->reports < 0 || relay_read_lines(p->reports, &p->report, false,
	    pair_report, s) == 0)
		return;
	close_quietly(&p->reports);
	pair_retire(s);
	if (s->dir != NULL && !p->reported) {
		p->reported = true;
		s->result.merge_status = EXITCODE_FAILED << 8;
	}
}

static bool
pair_reaped(struct slot *s, pid_t pid, int status)
{
	struct pair *p = s->state;

	/* The reports, not the statuses, say how each leaf went. */
	return child_reaped(&p->merge, pid, status) ||
	    child_reaped(&p->write, pid, status);
}

static bool
pair_alive(const struct slot *s)
{
	const struct pair *p = s->state;

	return p->merge.pid > 0 || p->write.pid > 0 || p->reports >= 0 ||
	    p->merge.err.fd >= 0 || p->write.err.fd >= 0;
}

static size_t
pair_pids(const struct slot *s, pid_t out[SLOT_PIDS_MAX])
{
	const struct pair *p = s->state;
	size_t n = 0;

	if (p->merge.pid > 0)
		out[n++] = p->merge.pid;
	if (p->write.pid > 0)
		out[n++] = p->write.pid;
	return n;
}

static void
pair_free(struct slot *s)
{
	pair_release(s);
	free(s->state);
	s->state = NULL;
}

const struct slot_ops streampair_ops = {
	.init = pair_init,
	.start = pair_start,
	.finished = pair_finished,
	.clear = pair_clear,
	.watch = pair_watch,
	.read = pair_read,
	.reaped = pair_reaped,
	.retire = pair_retire,
	.alive = pair_alive,
	.release = pair_release,
	.pids = pair_pids,
	.free = pair_free,
};
