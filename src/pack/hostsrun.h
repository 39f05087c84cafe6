/*
 * hostsrun.h - internal to leafpack --hosts (hosts.c, hostjobs.c): the
 * state of one run and the few helpers both phases use.  Not for the rest
 * of the driver, whose one entry is hosts_run() (hosts.h).
 */
#ifndef LEAFPACK_PACK_HOSTSRUN_H
#define LEAFPACK_PACK_HOSTSRUN_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "alloc.h"
#include "context.h"
#include "loop.h"
#include "summary.h"

/* A host of --hosts FILE, and what its check said. */
struct host {
	char *line;		/* the sshlogin line parallel is given */
	char *login;		/* line without its "N/": parallel's name */
	char *name;		/* for messages: the host, "local" for ':' */
	long jobs;		/* its "N/": jobs at once there */
	char *why;		/* why it was left out (owned), or NULL */
	bool lost;		/* a try failed there: no new job goes to it */
	struct buf check_out, check_err;	/* its check's lines */
};

/* A job of parallel, by its number. */
struct job {
	json_object *report;	/* its --stats=json, or NULL */
	int status;		/* its leafpack's, or -1: none said */
};

/* The run: what both phases read and add to. */
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

/* asprintf() that exits 4 when out of memory. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes the sshlogin file of the hosts that are neither left out nor
 * lost (all: every host but this one, ':', for the check), through a
 * temporary renamed over it (parallel reads it again when it changes).
 * -1 (said). */
int write_sshlogins(struct hosts_run *r, const char *path, bool all);

/* An on_line of struct proc (hostproc.h): the line passed through to our
 * stderr, clearing the progress line first.  arg is unused. */
void pass_line(void *arg, char *line, size_t len);

/* The host whose login parallel printed (a tag, or the joblog's Host):
 * the login's len bytes, not a string; NULL when none. */
struct host *host_named(struct hosts_run *r, const char *login, size_t len);

#endif
