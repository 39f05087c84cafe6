/*
 * hosts.c - leafpack --hosts (see hosts.h).
 *
 * - the sshlogin file read, each line given our ssh bounds and a wrapper
 *   that counts its lost tries (read_hosts, host_line)
 * - the first phase, at once: the check on every host, the same look here,
 *   and the scan into the leaves file (check_and_scan, judge_hosts)
 * - the run: the two phases in turn, then the summary (hosts_run); the
 *   processes are hostproc.c's, the second phase, the jobs, hostjobs.c's
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
#include "hostjobs.h"
#include "hostproc.h"
#include "hostsrun.h"
#include "loop.h"
#include "pace.h"
#include "pathstream.h"
#include "progress.h"
#include "summary.h"
#include "version.h"
#include "watch.h"
#include "xstd.h"

/* ---- the hosts ---- */

char *
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
int
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


/* A line passed through to our stderr. */
void
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
struct host *
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
	(void)wait_procs(&r->loop, &r->stopping, procs, n, deadline, NULL,
	    NULL);
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
		leaves = hostjobs_count_leaves(file);
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
		if (hostjobs_run(&r, leaves) < 0)
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
