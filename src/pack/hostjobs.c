/*
 * hostjobs.c - the second phase of leafpack --hosts: parallel over the
 * hosts that passed, each job's report added up (see hostjobs.h).
 */
#include "hostjobs.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alloc.h"
#include "diag.h"
#include "exitcode.h"
#include "hostproc.h"
#include "progress.h"
#include "summary.h"
#include "xstd.h"

/* A job's last line on stderr: the status of its leafpack. */
#define STATUS_TAG "@leafpack-status "

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

/*
 * The command of a job, for the shell on its host; {} is its leaves.
 * --max-rate is the run's, over the share: each of the jobs that run at
 * once (the hosts' "N/") gets its part of it, at least 1.
 */
static char *
job_command(const struct hosts_run *r)
{
	const struct context *ctx = r->ctx;
	struct buf b = { 0 };
	long at_once = 0;
	long long share;
	char *s, rate[32];

	shell_quote(&b, ctx->self);
	shell_quote(&b, "--leaves");
	shell_quote(&b, "--stats=json");
	for (size_t i = 0; i < ctx->remote.n; i++)
		shell_quote(&b, ctx->remote.v[i]);
	if (ctx->max_rate > 0) {
		for (size_t i = 0; i < r->nhosts; i++)
			if (r->hosts[i].why == NULL)
				at_once += r->hosts[i].jobs;
		/* --max-rate is a whole number (cli_count). */
		share = (long long)ctx->max_rate / (at_once > 0 ? at_once : 1);
		snprintf(rate, sizeof(rate), "%lld", share > 0 ? share : 1);
		shell_quote(&b, "--max-rate");
		shell_quote(&b, rate);
	}
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
jobs_progress(void *arg)
{
	struct hosts_run *r = arg;
	const struct summary *s = &r->summary;

	drop_lost_hosts(r);
	summary_progress_jobs(s, r->jobs_reported, r->jobs_total);
}

long long
hostjobs_count_leaves(const char *path)
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
	/* judge_hosts() left at least one host, and each has a job. */
	if (slots < 1)
		slots = 1;
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

int
hostjobs_run(struct hosts_run *r, long long leaves)
{
	struct child_argv a = { 0 };
	struct proc jobs, *procs[1] = { &jobs };
	char *good = xasprintf("%s/sshlogins", r->dir);
	char *file = xasprintf("%s/leaves", r->dir);
	char *n = xasprintf("%ld", batch_size(r, leaves));
	char *retries, *command = job_command(r);
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
	(void)wait_procs(&r->loop, &r->stopping, procs, 1, 0, jobs_progress,
	    r);
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
