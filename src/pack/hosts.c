/*
 * hosts.c - leafpack --hosts and --root-id (see hosts.h).
 *
 * - the sshlogin file read, each line given our ssh bounds and a wrapper
 *   that counts its lost tries (read_hosts, host_line)
 * - a process of ours with its output read line by line (struct proc),
 *   all waited for in the event loop (wait_procs)
 * - the first phase, at once: the check on every host, the same look here,
 *   and the scan into the leaves file (check_and_scan, judge_hosts)
 * - the second: parallel over the hosts that passed, each job's report
 *   added up (run_jobs, job_line, read_joblog)
 */
#include "hosts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alloc.h"
#include "diag.h"
#include "exitcode.h"
#include "loop.h"
#include "pace.h"
#include "pathstream.h"
#include "progress.h"
#include "summary.h"
#include "version.h"
#include "watch.h"
#include "xstd.h"

/* A job's last line on stderr: the status of its leafpack. */
#define STATUS_TAG "@leafpack-status "

/* ---- the hosts ---- */

struct host {
	char *line;		/* the sshlogin line parallel is given */
	char *login;		/* line without its "N/": parallel's name */
	char *name;		/* for messages: the host, "local" for ':' */
	long jobs;		/* its "N/": jobs at once there */
	char *why;		/* why it was left out (owned), or NULL */
	bool lost;		/* a try failed there: no new job goes to it */
	struct buf check_out, check_err;	/* its check's lines */
};

/* A process of ours whose stdout and stderr are read line by line. */
struct proc {
	const char *what;
	pid_t pid;		/* 0 once reaped (or never started) */
	int status;		/* its wait status, once reaped */
	bool started, reaped;
	bool bounded;		/* killed at wait_procs()'s deadline */
	int fd[2];		/* our ends of its stdout, stderr; -1 none */
	struct buf partial[2];
	void (*on_line[2])(void *arg, char *line, size_t len);
	void *arg;
};

struct job {
	json_object *report;	/* its --stats=json, or NULL */
	int status;		/* its leafpack's, or -1: none said */
};

struct hosts_run {
	struct context *ctx;
	struct loop loop;
	char *dir;		/* our temporary directory */
	struct host *hosts;
	size_t nhosts, hosts_cap;
	struct summary summary;
	struct summary_host *per;	/* nhosts */
	struct buf local_id;	/* --root-id here */
	struct job *jobs;	/* by job number (from 1) */
	size_t jobs_cap;
	unsigned long long jobs_reported, jobs_total;
	char *joblog;		/* parallel's (owned) */
	int status;
	bool stopping, forwarded;
};

static char *
xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	return s;
}

/* The last blank-separated word of s (the host of an ssh command). */
static char *
last_word(const char *s)
{
	const char *w = strrchr(s, ' ');

	w = w == NULL ? s : w + 1;
	return xasprintf("%s", w);
}

/*
 * One sshlogin: "[N/]LOGIN", LOGIN ':', "[user@]host", or an ssh command
 * and the host.  Ours gets, before the command, our wrapper (which counts
 * the tries that end with ssh's 255 in DIR/lost.K) and, after an ssh
 * command, our bounds; a bare host becomes such a command ($PARALLEL_SSH,
 * or ssh).  -1 for a line that is no sshlogin (said).
 */
static int
host_line(struct hosts_run *r, struct host *h, size_t k, const char *text)
{
	long long secs = (r->ctx->host_timeout_ms + 999) / 1000;
	const char *ssh = getenv("PARALLEL_SSH");
	char *end, *bounds, *command, *first;
	const char *login = text;
	long jobs = 1;

	if (text[0] >= '0' && text[0] <= '9') {
		jobs = strtol(text, &end, 10);
		if (*end == '/' && jobs > 0 && jobs <= CLI_PARALLEL_MAX)
			login = end + 1;
		else
			jobs = 1;
	}
	if (*login == '\0')
		return -1;
	h->jobs = jobs;
	if (strcmp(login, ":") == 0) {
		h->login = xasprintf(":");
		h->name = xasprintf("local");
		h->line = xasprintf("%ld/:", jobs);
		return 0;
	}
	bounds = xasprintf("-o ConnectTimeout=%lld -o ServerAliveInterval=%lld "
	    "-o ServerAliveCountMax=3", secs, secs >= 3 ? secs / 3 : 1);
	h->name = last_word(login);
	if (strchr(login, ' ') == NULL)
		command = xasprintf("%s %s %s", ssh != NULL && *ssh != '\0' ?
		    ssh : "ssh", bounds, login);
	else {
		first = strndup(login, strcspn(login, " "));
		if (first == NULL)
			diag_err(EXITCODE_FAILED, "out of memory");
		/* Another program than ssh may not take its options. */
		if (strstr(strrchr(first, '/') ? strrchr(first, '/') : first,
		    "ssh") != NULL)
			command = xasprintf("%s %s%s", first, bounds,
			    login + strlen(first));
		else
			command = xasprintf("%s", login);
		free(first);
	}
	free(bounds);
	h->login = xasprintf("%s/try.%zu %s", r->dir, k, command);
	h->line = xasprintf("%ld/%s", jobs, h->login);
	free(command);
	return 0;
}

/* Writes DIR/try.K, the wrapper of host k's ssh; -1 (said). */
static int
write_wrapper(struct hosts_run *r, size_t k)
{
	char *path = xasprintf("%s/try.%zu", r->dir, k);
	FILE *f = fopen(path, "we");
	int status = 0;

	if (f == NULL || fprintf(f, "#!/bin/sh\n\"$@\"\ns=$?\n"
	    "[ $s -ne 255 ] || echo lost >>'%s/lost.%zu'\nexit $s\n",
	    r->dir, k) < 0 || fclose(f) == EOF || chmod(path, 0700) < 0) {
		diag_warn("%s", diag_quote(path));
		status = -1;
	}
	free(path);
	return status;
}

/* Reads --hosts FILE into r->hosts (a login given twice counts once);
 * -1 (said). */
static int
read_hosts(struct hosts_run *r)
{
	const char *file = r->ctx->hosts_file;
	FILE *in = fopen(file, "re");
	char *line = NULL, *text;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int status = 0;

	if (in == NULL) {
		diag_warn("%s", diag_quote(file));
		return -1;
	}
	while (status == 0 && (len = getline(&line, &cap, in)) >= 0) {
		struct host h = { 0 };
		bool twice = false;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == ' ' || line[len - 1] == '\t'))
			line[--len] = '\0';
		for (text = line; *text == ' ' || *text == '\t'; text++)
			;
		if (*text == '\0' || *text == '#')
			continue;
		if (host_line(r, &h, r->nhosts, text) < 0) {
			diag_warnx("%s:%zu: not an sshlogin", diag_quote(file),
			    lineno);
			status = -1;
			break;
		}
		for (size_t i = 0; i < r->nhosts; i++)
			twice |= strcmp(r->hosts[i].name, h.name) == 0 &&
			    strcmp(strchr(r->hosts[i].login, ' ') ?
			    strchr(r->hosts[i].login, ' ') : "",
			    strchr(h.login, ' ') ? strchr(h.login, ' ') : "")
			    == 0;
		if (twice) {
			free(h.line);
			free(h.login);
			free(h.name);
			continue;
		}
		if (RESERVE(r->hosts, r->hosts_cap, r->nhosts + 1) < 0)
			diag_err(EXITCODE_FAILED, "out of memory");
		r->hosts[r->nhosts] = h;
		if (strcmp(h.login, ":") != 0 &&
		    write_wrapper(r, r->nhosts) < 0)
			status = -1;
		r->nhosts++;
	}
	if (ferror(in)) {
		diag_warn("%s", diag_quote(file));
		status = -1;
	}
	free(line);
	fclose(in);
	if (status == 0 && r->nhosts == 0) {
		diag_warnx("%s: no host in it", diag_quote(file));
		status = -1;
	}
	return status;
}

/* Writes the sshlogin file of the hosts that are neither left out nor
 * lost (all: every host but this one, ':', for the check), through a temporary renamed over it (parallel
 * reads it again when it changes).  -1 (said). */
static int
write_sshlogins(struct hosts_run *r, const char *path, bool all)
{
	char *temp = xasprintf("%s.new", path);
	FILE *f = fopen(temp, "we");
	int status = 0;

	if (f == NULL) {
		diag_warn("%s", diag_quote(temp));
		free(temp);
		return -1;
	}
	for (size_t i = 0; i < r->nhosts; i++)
		if (all ? strcmp(r->hosts[i].login, ":") != 0 :
		    r->hosts[i].why == NULL && !r->hosts[i].lost)
			fprintf(f, "%s\n", r->hosts[i].line);
	if (fclose(f) == EOF || rename(temp, path) < 0) {
		diag_warn("%s", diag_quote(path));
		status = -1;
	}
	free(temp);
	return status;
}

/* ---- processes ---- */

static void
proc_init(struct proc *p, const char *what, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->what = what;
	p->fd[0] = p->fd[1] = -1;
	p->arg = arg;
}

/*
 * Starts argv with stdin on in (-1: /dev/null); stdout goes to out when it
 * is >= 0, else, like stderr, to a pipe of ours read by on_line (NULL:
 * /dev/null for stdout, ours for stderr).  -1 (said).
 */
static int
proc_start(struct proc *p, char *const argv[], int in, int out)
{
	int pipes[2][2] = { { -1, -1 }, { -1, -1 } }, ends[2] = { out, -1 };

	for (int i = 0; i < 2; i++) {
		if (p->on_line[i] == NULL || (i == 0 && out >= 0))
			continue;
		if (pipe_cloexec(pipes[i], 0) < 0) {
			diag_warn("pipe");
			child_close_all(&pipes[0][0], 4);
			return -1;
		}
		ends[i] = pipes[i][1];
	}
	p->pid = child_spawn(argv, in, ends[0], ends[1], 0);
	for (int i = 0; i < 2; i++) {
		close_quietly(&pipes[i][1]);
		p->fd[i] = pipes[i][0];
		if (p->fd[i] >= 0)
			set_nonblock(p->fd[i], 1);
	}
	if (p->pid < 0) {
		p->pid = 0;
		close_quietly(&p->fd[0]);
		close_quietly(&p->fd[1]);
		return -1;
	}
	p->started = true;
	return 0;
}

static void
proc_read(struct proc *p, bool drain)
{
	for (int i = 0; i < 2; i++)
		if (p->fd[i] >= 0 && relay_read_lines(p->fd[i],
		    &p->partial[i], drain, p->on_line[i], p->arg) != 0) {
			/* What is left without a newline is a line too. */
			if (p->partial[i].len > 0) {
				if (buf_append(&p->partial[i], "", 1) < 0)
					diag_err(EXITCODE_FAILED,
					    "out of memory");
				p->on_line[i](p->arg, p->partial[i].data,
				    p->partial[i].len - 1);
				p->partial[i].len = 0;
			}
			close_quietly(&p->fd[i]);
		}
}

static bool
proc_alive(const struct proc *p)
{
	return p->pid > 0 || p->fd[0] >= 0 || p->fd[1] >= 0;
}

static void
proc_kill(struct proc *p, int sig)
{
	if (p->pid > 0)
		kill(-p->pid, sig);
}

static void
proc_free(struct proc *p)
{
	close_quietly(&p->fd[0]);
	close_quietly(&p->fd[1]);
	buf_free(&p->partial[0]);
	buf_free(&p->partial[1]);
}

/* True when it exited with status. */
static bool
proc_exited(const struct proc *p, int status)
{
	return p->reaped && WIFEXITED(p->status) &&
	    WEXITSTATUS(p->status) == status;
}

struct reap {
	struct proc **procs;
	size_t n;
};

static void
reaped(void *arg, pid_t pid, int status)
{
	struct reap *w = arg;

	for (size_t i = 0; i < w->n; i++)
		if (w->procs[i]->pid == pid) {
			w->procs[i]->pid = 0;
			w->procs[i]->status = status;
			w->procs[i]->reaped = true;
			proc_read(w->procs[i], true);
			return;
		}
}

/*
 * Waits until every process of procs has ended, reading their lines,
 * calling tick (if not NULL) each round.  Each stop signal sends each of
 * them SIGTERM (parallel: the first stops new jobs, the second kills those
 * in flight) and sets r->stopping; past deadline_ms (on watch_clock_ms();
 * 0: none) those that are bounded are killed (SIGKILL, to their groups)
 * and -1 is returned.  Returns 0.
 */
static int
wait_procs(struct hosts_run *r, struct proc **procs, size_t n,
    long long deadline_ms, void (*tick)(struct hosts_run *r))
{
	struct reap w = { procs, n };
	bool alive = true;
	int timed_out = 0, stops = 0;

	while (alive) {
		loop_begin(&r->loop);
		for (size_t i = 0; i < n; i++) {
			loop_watch(&r->loop, procs[i]->fd[0]);
			loop_watch(&r->loop, procs[i]->fd[1]);
		}
		loop_wake_within(&r->loop, progress_enabled() ?
		    PROGRESS_INTERVAL_MS : 1000);
		if (loop_wait(&r->loop) < 0)
			diag_err(EXITCODE_FAILED, "poll");
		loop_reap(&r->loop, reaped, &w);
		for (size_t i = 0; i < n; i++)
			proc_read(procs[i], false);
		if (loop_stop_count() > stops) {
			r->stopping = true;
			stops = loop_stop_count();
			for (size_t i = 0; i < n; i++)
				if (procs[i]->pid > 0)
					kill(procs[i]->pid, SIGTERM);
		}
		if (deadline_ms != 0 && watch_clock_ms() > deadline_ms &&
		    !timed_out) {
			timed_out = 1;
			for (size_t i = 0; i < n; i++)
				if (procs[i]->bounded)
					proc_kill(procs[i], SIGKILL);
		}
		if (tick != NULL)
			tick(r);
		alive = false;
		for (size_t i = 0; i < n; i++)
			alive |= proc_alive(procs[i]);
	}
	return timed_out ? -1 : 0;
}

/* A line passed through to our stderr. */
static void
pass_line(void *arg, char *line, size_t len)
{
	(void)arg;
	(void)len;
	progress_clear();
	fprintf(stderr, "%s\n", line);
}

/* Appends the line and its newline to b, whose text stays a string (a NUL
 * after len). */
static void
keep_line(struct buf *b, const char *line, size_t len)
{
	if (buf_append(b, line, len) < 0 || buf_append(b, "\n", 1) < 0 ||
	    buf_reserve(b, 1) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	b->data[b->len] = '\0';
}

static void
local_id_line(void *arg, char *line, size_t len)
{
	struct hosts_run *r = arg;

	keep_line(&r->local_id, line, len);
}

/* The host whose login parallel printed (a tag, or the joblog's Host);
 * NULL when none. */
static struct host *
host_named(struct hosts_run *r, const char *login, size_t len)
{
	for (size_t i = 0; i < r->nhosts; i++)
		if (strlen(r->hosts[i].login) == len &&
		    memcmp(r->hosts[i].login, login, len) == 0)
			return &r->hosts[i];
	return NULL;
}

/* A line of the check: "LOGIN\tLINE". */
static void
check_line(struct hosts_run *r, char *line, size_t len, bool out)
{
	char *tab = memchr(line, '\t', len);
	struct host *h = tab == NULL ? NULL : host_named(r, line,
	    (size_t)(tab - line));

	if (h == NULL) {
		pass_line(r, line, len);
		return;
	}
	tab++;
	keep_line(out ? &h->check_out : &h->check_err, tab,
	    len - (size_t)(tab - line));
}

static void
check_out_line(void *arg, char *line, size_t len)
{
	check_line(arg, line, len, true);
}

static void
check_err_line(void *arg, char *line, size_t len)
{
	check_line(arg, line, len, false);
}

/* ---- the first phase: the checks and the scan ---- */

/* "-t SECONDS" as given (or the default), for our --root-id. */
static char *
timeout_arg(const struct context *ctx)
{
	return xasprintf("%.3f", (double)ctx->timeout_ms / 1000);
}

/* Our --root-id over the roots, after prefix. */
static void
root_id_argv(struct child_argv *a, const struct context *ctx,
    const char *timeout)
{
	child_argv_add(a, ctx->self);
	child_argv_add(a, "--root-id");
	child_argv_add(a, "-t");
	child_argv_add(a, timeout);
	child_argv_add(a, "--");
	for (size_t i = 0; i < ctx->npaths; i++)
		child_argv_add(a, ctx->paths[i]);
}

/* Why h is left out, from its check: NULL when it passed. */
static char *
judge_host(struct hosts_run *r, struct host *h)
{
	const char *here = r->local_id.data, *there = h->check_out.data;
	size_t here_len = r->local_id.len, there_len = h->check_out.len;
	const char *err = h->check_err.data;
	size_t nl;

	/* This host is this host. */
	if (strcmp(h->login, ":") == 0 ||
	    (there_len == here_len && memcmp(here, there, here_len) == 0))
		return NULL;
	if (there_len == 0) {
		if (err != NULL && (strstr(err, "No such file") ||
		    strstr(err, "not found")))
			return xasprintf("no %s there", r->ctx->self);
		if (err == NULL)
			return xasprintf("no answer");
		nl = strcspn(err, "\r\n");
		return xasprintf("%.*s", (int)nl, err);
	}
	nl = strcspn(there, "\n");
	if (nl != strcspn(here, "\n") || memcmp(here, there, nl) != 0)
		return xasprintf("%.*s there, %.*s here", (int)nl, there,
		    (int)strcspn(here, "\n"), here);
	/* The first root whose identity differs. */
	for (here += nl + 1, there += nl + 1; *here != '\0';) {
		size_t a = strcspn(here, "\n"), b = strcspn(there, "\n");

		if (a != b || memcmp(here, there, a) != 0) {
			const char *root = memchr(here, ' ', a);

			root = root == NULL ? here : root + 1;
			return xasprintf("a different tree under %.*s",
			    (int)(a - (size_t)(root - here)), root);
		}
		here += a + (here[a] != '\0');
		there += b + (there[b] != '\0');
	}
	return xasprintf("a different answer to leafpack --root-id");
}

/* Leaves out the hosts that did not pass, naming each.  -1 when none
 * passed (said). */
static int
judge_hosts(struct hosts_run *r)
{
	size_t passed = 0;

	for (size_t i = 0; i < r->nhosts; i++) {
		struct host *h = &r->hosts[i];

		if ((h->why = judge_host(r, h)) == NULL) {
			passed++;
			continue;
		}
		diag_warnx("host %s: left out: %s", h->name, h->why);
	}
	if (passed == 0) {
		diag_warnx("no host to work on: every host of %s was left out",
		    diag_quote(r->ctx->hosts_file));
		return -1;
	}
	return 0;
}

/* The status a stage of the scan adds: 1 for skipped or stalled parts, 4
 * (said) when it failed. */
static int
stage_status(const struct proc *p)
{
	if (proc_exited(p, EXITCODE_DONE))
		return EXITCODE_DONE;
	if (proc_exited(p, EXITCODE_PARTIAL) || proc_exited(p,
	    EXITCODE_STALLED))
		return EXITCODE_PARTIAL;
	diag_warnx("%s failed", p->what);
	return EXITCODE_FAILED;
}

/* Appends the NUL-separated paths of a --stalled file to the summary. */
static void
read_stalled(struct summary *s, const char *file)
{
	FILE *in = fopen(file, "re");
	struct pathstream ps;
	char *path;

	if (in == NULL)
		return;
	pathstream_init(&ps, in, '\0');
	while (pathstream_read(&ps, &path) > 0) {
		if (RESERVE(s->stalled, s->stalled_cap, s->nstalled + 1) < 0 ||
		    (s->stalled[s->nstalled] = strdup(path)) == NULL)
			diag_err(EXITCODE_FAILED, "out of memory");
		s->nstalled++;
	}
	pathstream_free(&ps);
	fclose(in);
}

/* The leaves given as arguments, into fd. */
static int
write_leaves(const struct context *ctx, int fd)
{
	for (size_t i = 0; i < ctx->npaths; i++)
		if (xwrite(fd, ctx->paths[i], strlen(ctx->paths[i]) + 1) < 0) {
			diag_warn("leaves file");
			return -1;
		}
	return 0;
}

/*
 * The check on every host, the look here that they must match, and the
 * scan into DIR/leaves, all at once.  Returns 0, or -1 (said) when the run
 * cannot go on.
 */
static int
check_and_scan(struct hosts_run *r)
{
	struct context *ctx = r->ctx;
	struct child_argv local = { 0 }, check = { 0 };
	struct proc here, remote, scan, filter, *procs[4];
	char *all = xasprintf("%s/sshlogins.all", r->dir);
	char *leaves = xasprintf("%s/leaves", r->dir);
	char *scan_stalled = xasprintf("%s/scan.stalled", r->dir);
	char *filter_stalled = xasprintf("%s/filter.stalled", r->dir);
	char *timeout = timeout_arg(ctx), *check_timeout;
	int p[2] = { -1, -1 }, out, status = -1;
	bool remote_hosts = false;
	size_t n = 0;
	long long deadline;

	check_timeout = xasprintf("%lld", (ctx->timeout_ms +
	    ctx->host_timeout_ms) / 1000 + 5);
	proc_init(&here, "leafpack --root-id", r);
	proc_init(&remote, "the check of the hosts", r);
	proc_init(&scan, "tree-scan", r);
	proc_init(&filter, "leaf-filter", r);
	/* The scan has deadlines of its own, and may take hours. */
	here.bounded = remote.bounded = true;
	here.on_line[0] = local_id_line;
	here.on_line[1] = pass_line;
	remote.on_line[0] = check_out_line;
	remote.on_line[1] = check_err_line;
	scan.on_line[1] = filter.on_line[1] = pass_line;
	if (write_sshlogins(r, all, true) < 0)
		goto out;
	if ((out = open(leaves, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0) {
		diag_warn("%s", diag_quote(leaves));
		goto out;
	}
	root_id_argv(&local, ctx, timeout);
	child_argv_add(&check, "parallel");
	child_argv_add(&check, "--will-cite");
	child_argv_add(&check, "--nonall");
	child_argv_add(&check, "--tag");
	child_argv_add(&check, "-j");
	child_argv_add(&check, "0");
	child_argv_add(&check, "--sshloginfile");
	child_argv_add(&check, all);
	child_argv_add(&check, "--timeout");
	child_argv_add(&check, check_timeout);
	child_argv_add(&check, "-q");
	root_id_argv(&check, ctx, timeout);
	if (proc_start(&here, local.v, -1, -1) == 0)
		procs[n++] = &here;
	for (size_t i = 0; i < r->nhosts && !remote_hosts; i++)
		remote_hosts = strcmp(r->hosts[i].login, ":") != 0;
	if (remote_hosts && proc_start(&remote, check.v, -1, -1) == 0)
		procs[n++] = &remote;
	if (ctx->leaves_mode) {
		if (write_leaves(ctx, out) < 0)
			n = 0;
	} else if (pipe_cloexec(p, 0) < 0)
		diag_warn("pipe");
	else {
		if (proc_start(&scan, child_argv_fill(&ctx->scan,
		    scan_stalled), -1, p[1]) == 0)
			procs[n++] = &scan;
		close_quietly(&p[1]);
		if (proc_start(&filter, child_argv_fill(&ctx->filter,
		    filter_stalled), p[0], out) == 0)
			procs[n++] = &filter;
		close_quietly(&p[0]);
	}
	close(out);
	/* The checks are bounded by parallel's --timeout, the scan by its
	 * own deadlines; this is the last resort of the look here. */
	deadline = watch_clock_ms() + ctx->timeout_ms + ctx->host_timeout_ms +
	    10000;
	(void)wait_procs(r, procs, n, deadline, NULL);
	if (r->stopping)
		goto out;
	if (n != (ctx->leaves_mode ? 1u : 3u) + remote_hosts)
		goto out;
	if (!proc_exited(&here, EXITCODE_DONE)) {
		diag_warnx("the roots cannot be looked at here");
		goto out;
	}
	if (proc_exited(&remote, 127)) {
		diag_warnx("--hosts needs GNU parallel in PATH");
		goto out;
	}
	if (!ctx->leaves_mode) {
		r->status = stage_status(&scan);
		if (stage_status(&filter) > r->status)
			r->status = stage_status(&filter);
		read_stalled(&r->summary, scan_stalled);
		read_stalled(&r->summary, filter_stalled);
		if (r->status == EXITCODE_FAILED)
			goto out;
	}
	status = judge_hosts(r);
out:
	proc_free(&here);
	proc_free(&remote);
	proc_free(&scan);
	proc_free(&filter);
	child_argv_free(&local);
	child_argv_free(&check);
	free(all);
	free(leaves);
	free(scan_stalled);
	free(filter_stalled);
	free(timeout);
	free(check_timeout);
	return status;
}

/* ---- the second phase: the jobs ---- */

/* s quoted for a POSIX shell, appended to b. */
static void
shell_quote(struct buf *b, const char *s)
{
	int failed = buf_append(b, "'", 1);

	for (; *s != '\0'; s++)
		failed |= *s == '\'' ? buf_append(b, "'\\''", 4) :
		    buf_append(b, s, 1);
	failed |= buf_append(b, "' ", 2);
	if (failed)
		diag_err(EXITCODE_FAILED, "out of memory");
}

/* The command of a job, for the shell on its host; {} is its leaves. */
static char *
job_command(const struct context *ctx)
{
	struct buf b = { 0 };
	char *s;

	shell_quote(&b, ctx->self);
	shell_quote(&b, "--leaves");
	shell_quote(&b, "--stats=json");
	for (size_t i = 0; i < ctx->remote.n; i++)
		shell_quote(&b, ctx->remote.v[i]);
	if (buf_append(&b, "", 1) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	/* leafpack's own statuses are told, not retried: a leaf's failure
	 * is the same on every host, a host's (255, 127, a signal) is not. */
	s = xasprintf("%s-- {}; s=$?; case $s in [0-4]) "
	    "echo \"" STATUS_TAG "$s\" >&2; exit 0;; esac; exit $s",
	    b.data);
	buf_free(&b);
	return s;
}

static struct job *
job_numbered(struct hosts_run *r, unsigned long long seq)
{
	size_t old = r->jobs_cap;

	if (seq == 0 || seq > SIZE_MAX / 2)
		return NULL;
	if (RESERVE(r->jobs, r->jobs_cap, (size_t)seq + 1) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	for (size_t i = old; i < r->jobs_cap; i++)
		r->jobs[i] = (struct job){ NULL, -1 };
	return &r->jobs[seq];
}

/* A line of a job: "SEQ\tLINE" (parallel's --tagstring {#}). */
static void
job_line(void *arg, char *line, size_t len)
{
	struct hosts_run *r = arg;
	char *tab = memchr(line, '\t', len), *end;
	unsigned long long seq = strtoull(line, &end, 10);
	struct job *j;
	json_object *o;

	if (tab == NULL || end != tab || end == line ||
	    (j = job_numbered(r, seq)) == NULL) {
		pass_line(r, line, len);
		return;
	}
	line = tab + 1;
	if (strncmp(line, STATUS_TAG, strlen(STATUS_TAG)) == 0) {
		j->status = atoi(line + strlen(STATUS_TAG));
		return;
	}
	if (line[0] == '{' && (o = json_tokener_parse(line)) != NULL) {
		if (json_object_is_type(o, json_type_object) &&
		    json_object_object_get_ex(o, "leaves_found", NULL)) {
			json_object_put(j->report);
			j->report = o;
			summary_add_report(&r->summary, o);
			r->jobs_reported++;
			return;
		}
		json_object_put(o);
	}
	pass_line(r, line, strlen(line));
}

/*
 * A host where a try failed with ssh's 255 (its wrapper says so) gets no
 * new job: parallel would go on giving it jobs, each failing there (after
 * ConnectTimeout when its link is down) before it goes elsewhere.  The
 * file without it is read by parallel when a job ends, once its mtime has
 * moved on by more than a second.  The last host is kept.
 */
static void
drop_lost_hosts(struct hosts_run *r)
{
	size_t left = 0;
	bool dropped = false;
	char *path;

	for (size_t i = 0; i < r->nhosts; i++)
		left += r->hosts[i].why == NULL && !r->hosts[i].lost;
	for (size_t i = 0; i < r->nhosts && left > 1; i++) {
		struct host *h = &r->hosts[i];

		if (h->why != NULL || h->lost)
			continue;
		path = xasprintf("%s/lost.%zu", r->dir, i);
		if (access(path, F_OK) == 0) {
			h->lost = dropped = true;
			left--;
			progress_clear();
			diag_warnx("host %s: lost (ssh failed): no new job goes "
			    "to it, its jobs run again elsewhere", h->name);
		}
		free(path);
	}
	if (dropped) {
		path = xasprintf("%s/sshlogins", r->dir);
		(void)write_sshlogins(r, path, false);
		free(path);
	}
}

static void
jobs_progress(struct hosts_run *r)
{
	const struct summary *s = &r->summary;

	drop_lost_hosts(r);
	progress_update("leaves %llu/%llu, jobs %llu/%llu, files removed %llu, "
	    "records %llu, failed %llu, stalled %zu", s->leaves_done,
	    s->leaves_found, r->jobs_reported, r->jobs_total,
	    s->files_removed, s->records, s->leaves_failed, s->nstalled);
}

/* How many leaves the file holds (NUL-terminated); -1 (said). */
static long long
count_leaves(const char *path)
{
	char buf[65536];
	long long n = 0;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		diag_warn("%s", diag_quote(path));
		return -1;
	}
	while ((got = xread(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < got; i++)
			n += buf[i] == '\0';
	close(fd);
	return got < 0 ? -1 : n;
}

/*
 * -n: as given, or enough leaves that a job keeps its host's -P slots
 * busy for a while (a job's start costs an ssh connection), yet each of
 * the jobs at once gets about four, so that the hosts end together.
 */
static long
batch_size(const struct hosts_run *r, long long leaves)
{
	long long slots = 0, n;

	if (r->ctx->batch > 0)
		return r->ctx->batch;
	for (size_t i = 0; i < r->nhosts; i++)
		if (r->hosts[i].why == NULL)
			slots += r->hosts[i].jobs;
	n = (leaves + 4 * slots - 1) / (4 * slots);
	if (n > 8 * r->ctx->parallel)
		n = 8 * r->ctx->parallel;
	return n < 1 ? 1 : (long)n;
}

/* The joblog: each job's last try, its host and its exit.  Adds each
 * job's report to its host. */
static void
read_joblog(struct hosts_run *r)
{
	FILE *in = fopen(r->joblog, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (in == NULL) {
		diag_warn("%s", diag_quote(r->joblog));
		r->status = EXITCODE_FAILED;
		return;
	}
	while ((len = getline(&line, &cap, in)) >= 0) {
		char *field[9], *save = NULL, *p = line;
		unsigned long long seq;
		struct host *h;
		struct job *j;
		size_t nf = 0;
		bool ok;

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		for (; nf < 9 && (field[nf] = strtok_r(p, "\t", &save)) != NULL;
		    p = NULL)
			nf++;
		if (nf < 8 || (seq = strtoull(field[0], NULL, 10)) == 0 ||
		    (j = job_numbered(r, seq)) == NULL)
			continue;
		r->summary.jobs++;
		h = host_named(r, field[1], strlen(field[1]));
		ok = strcmp(field[6], "0") == 0 && strcmp(field[7], "0") == 0 &&
		    j->status >= 0;
		if (!ok) {
			r->summary.jobs_failed++;
			r->status = EXITCODE_FAILED;
			diag_warnx("job %llu failed on every host it was tried "
			    "on (last %s: exit %s, signal %s); its leaves are "
			    "finished by the next run", seq, h != NULL ? h->name :
			    field[1], field[6], field[7]);
		} else if (j->status == EXITCODE_USAGE) {
			r->status = EXITCODE_FAILED;
			r->summary.jobs_failed++;
		} else if (j->status > r->status)
			r->status = j->status;
		if (h == NULL)
			continue;
		struct summary_host *sh = &r->per[h - r->hosts];

		sh->jobs++;
		sh->jobs_failed += !ok;
		if (j->report != NULL)
			summary_add_report(&sh->s, j->report);
	}
	free(line);
	fclose(in);
}

/* The tries each host lost (its wrapper's count), named. */
static void
name_lost_hosts(struct hosts_run *r)
{
	for (size_t i = 0; i < r->nhosts; i++) {
		char *path = xasprintf("%s/lost.%zu", r->dir, i);
		FILE *in = r->hosts[i].why != NULL ? NULL : fopen(path, "re");
		int c, lost = 0;

		if (in != NULL) {
			while ((c = getc(in)) != EOF)
				lost += c == '\n';
			fclose(in);
			diag_warnx("host %s: lost: ssh failed on %d tr%s, "
			    "whose jobs ran again elsewhere", r->hosts[i].name,
			    lost, lost == 1 ? "y" : "ies");
		}
		free(path);
	}
}

/* The jobs over the hosts that passed; -1 (said) when parallel could not
 * run them. */
static int
run_jobs(struct hosts_run *r, long long leaves)
{
	struct context *ctx = r->ctx;
	struct child_argv a = { 0 };
	struct proc jobs, *procs[1] = { &jobs };
	char *good = xasprintf("%s/sshlogins", r->dir);
	char *file = xasprintf("%s/leaves", r->dir);
	char *n = xasprintf("%ld", batch_size(r, leaves));
	char *retries, *command = job_command(ctx);
	size_t passed = 0;
	int status = -1;

	for (size_t i = 0; i < r->nhosts; i++)
		passed += r->hosts[i].why == NULL;
	/* Once on every host, and once more for a host's passing trouble. */
	retries = xasprintf("%zu", passed + 1);
	r->jobs_total = (unsigned long long)((leaves + atol(n) - 1) / atol(n));
	proc_init(&jobs, "parallel", r);
	jobs.on_line[1] = job_line;
	if (write_sshlogins(r, good, false) < 0)
		goto out;
	child_argv_add(&a, "parallel");
	child_argv_add(&a, "--will-cite");
	child_argv_add(&a, "-0");
	child_argv_add(&a, "-a");
	child_argv_add(&a, file);
	child_argv_add(&a, "--sshloginfile");
	child_argv_add(&a, good);
	child_argv_add(&a, "-j");
	child_argv_add(&a, "100%");
	child_argv_add(&a, "-n");
	child_argv_add(&a, n);
	child_argv_add(&a, "--joblog");
	child_argv_add(&a, r->joblog);
	child_argv_add(&a, "--retries");
	child_argv_add(&a, retries);
	child_argv_add(&a, "--tagstring");
	child_argv_add(&a, "{#}");
	child_argv_add(&a, command);
	if (proc_start(&jobs, a.v, -1, -1) < 0)
		goto out;
	(void)wait_procs(r, procs, 1, 0, jobs_progress);
	progress_end();
	if (!jobs.reaped || WIFSIGNALED(jobs.status) ||
	    (WIFEXITED(jobs.status) && WEXITSTATUS(jobs.status) > 100 &&
	    !r->stopping)) {
		diag_warnx("parallel failed");
		r->status = EXITCODE_FAILED;
	}
	name_lost_hosts(r);
	read_joblog(r);
	status = 0;
out:
	proc_free(&jobs);
	child_argv_free(&a);
	free(good);
	free(file);
	free(n);
	free(retries);
	free(command);
	return status;
}

/* ---- the run ---- */

/* Our temporary directory, and the default joblog (kept: the summary
 * names it). */
static int
make_files(struct hosts_run *r)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	r->dir = xasprintf("%s/leafpack-hosts.XXXXXX", tmp);
	if (mkdtemp(r->dir) == NULL) {
		diag_warn("%s", diag_quote(r->dir));
		free(r->dir);
		r->dir = NULL;
		return -1;
	}
	if (r->ctx->joblog != NULL) {
		r->joblog = xasprintf("%s", r->ctx->joblog);
		return 0;
	}
	r->joblog = xasprintf("%s/leafpack-joblog.XXXXXX", tmp);
	if ((fd = mkostemp(r->joblog, O_CLOEXEC)) < 0) {
		diag_warn("%s", diag_quote(r->joblog));
		return -1;
	}
	close(fd);
	return 0;
}

static void
remove_files(struct hosts_run *r)
{
	DIR *d;
	struct dirent *e;

	if (r->dir == NULL || (d = opendir(r->dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(r->dir);
}

static void
free_run(struct hosts_run *r)
{
	remove_files(r);
	for (size_t i = 0; i < r->nhosts; i++) {
		struct host *h = &r->hosts[i];

		free(h->line);
		free(h->login);
		free(h->name);
		free(h->why);
		buf_free(&h->check_out);
		buf_free(&h->check_err);
		if (r->per != NULL)
			summary_free(&r->per[i].s);
	}
	for (size_t i = 0; i < r->jobs_cap; i++)
		json_object_put(r->jobs[i].report);
	free(r->jobs);
	free(r->hosts);
	free(r->per);
	free(r->dir);
	free(r->joblog);
	buf_free(&r->local_id);
	summary_free(&r->summary);
	loop_free(&r->loop);
}

int
hosts_run(struct context *ctx)
{
	struct hosts_run r = { .ctx = ctx };
	struct pace pace = { .max = ctx->parallel, .lowest = ctx->parallel };
	long long leaves = -1;
	char *file;
	int status;

	summary_init(&r.summary);
	r.summary.timeout_ms = ctx->timeout_ms;
	if (loop_init(&r.loop, 8) < 0)
		diag_err(EXITCODE_FAILED, "pipe");
	progress_init(ctx->progress);
	if (make_files(&r) == 0 && read_hosts(&r) == 0 &&
	    check_and_scan(&r) == 0) {
		file = xasprintf("%s/leaves", r.dir);
		leaves = count_leaves(file);
		free(file);
	}
	if (leaves < 0) {
		status = r.stopping ? 128 + loop_stop_signal() :
		    EXITCODE_FAILED;
		free_run(&r);
		return status;
	}
	r.summary.leaves_found = (unsigned long long)leaves;
	if ((r.per = calloc(r.nhosts, sizeof(*r.per))) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	for (size_t i = 0; i < r.nhosts; i++) {
		r.per[i].name = r.hosts[i].name;
		r.per[i].left_out = r.hosts[i].why;
		summary_init(&r.per[i].s);
	}
	if (leaves > 0) {
		if (run_jobs(&r, leaves) < 0)
			r.status = EXITCODE_FAILED;
		r.summary.hosts = r.per;
		r.summary.nhosts = r.nhosts;
		r.summary.joblog = r.joblog;
	}
	summary_write_stalled(&r.summary, ctx);
	summary_print(&r.summary, ctx, &pace, progress_seconds());
	status = r.status;
	if ((r.summary.nstalled > 0 || r.summary.leaves_busy > 0) &&
	    status < EXITCODE_PARTIAL)
		status = EXITCODE_PARTIAL;
	if (r.stopping)
		status = 128 + loop_stop_signal();
	free_run(&r);
	return status;
}
