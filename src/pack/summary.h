/*
 * summary.h - what the run tells: the totals over the leaves, each leaf's
 * verdict (and, in a dry run, its path on stdout), the status line while
 * it runs, and at the end the --stalled file and the summary, as text or
 * as --stats=json (the keys are listed in leafpack(1), STATS).
 */
#ifndef LEAFPACK_PACK_SUMMARY_H
#define LEAFPACK_PACK_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "context.h"
#include "leafstream.h"
#include "pace.h"
#include "slot.h"

struct summary_host;

struct summary {
	unsigned long long leaves_found, leaves_done, leaves_consolidated,
	    leaves_partial, leaves_failed, leaves_unchanged, leaves_idle,
	    leaves_busy, leaves_stalled, files_consumed, files_removed, records, bytes_in,
	    bytes_out, errors;
	/* Leaves that met a share with no free inode and no --staging
	 * (counted, not said: the run says it once), the first one's dir
	 * (owned) and its file system's inodes; leaves committed through
	 * --staging; leaves whose records wait in a staging directory. */
	unsigned long long leaves_no_inodes, leaves_staged, leaves_waiting;
	char *no_inodes_dir;
	unsigned long long inodes;
	/* --verify: leaves read to the end, of which clean, and with an
	 * output; the problems found and the lines and bytes read. */
	unsigned long long leaves_checked, leaves_clean, leaves_with_output,
	    problems, lines_checked, bytes_checked;
	/* Sources skipped, by reason, and the reasons in the order they
	 * were first seen (the order they are told in). */
	unsigned long long skipped[LEAFSTREAM_SKIP_REASONS];
	int reasons[LEAFSTREAM_SKIP_REASONS];
	size_t nreasons;
	/* The stalled directories and leaves (owned): the leaves as they
	 * stall, the scan's directories at the end. */
	char **stalled;
	size_t nstalled, stalled_cap;
	/* Processes given up on a stall that never ended (not owned), known
	 * at the end. */
	const pid_t *stuck;
	size_t nstuck;
	long long timeout_ms;	/* -t, for the message of a stall */
	/* With --hosts (not owned): each host's share of the totals, the
	 * jobs, and parallel's job log. */
	const struct summary_host *hosts;
	size_t nhosts;
	unsigned long long jobs, jobs_failed;
	const char *joblog;
};

/* One host of a run with --hosts: what its jobs reported. */
struct summary_host {
	const char *name;	/* as messages name it */
	const char *left_out;	/* why no job went to it, or NULL */
	unsigned long long jobs, jobs_failed;	/* jobs that ended there */
	struct summary s;	/* its reports added up */
};

/* All counts 0, no stalled directory. */
void summary_init(struct summary *s);

/* n more leaves were found. */
void summary_found(struct summary *s, unsigned long long n);

/*
 * Counts a finished leaf and returns its status: 0, 1 (partial, or
 * stalled: said, "DIR: stalled: read of DIR/x blocked for 30 s", and the
 * leaf added to the stalled ones) or 4 (failed: said, "DIR: not
 * consolidated; its files are untouched"; a leaf that met no free inode
 * without --staging is only counted).  In a dry run its path goes to
 * stdout; exits 4 when stdout cannot be written.
 */
int summary_add_leaf(struct summary *s, const struct context *ctx,
    const struct slot_result *r);

/*
 * Adds a leafpack --stats=json report (a job of --hosts) to s: its leaves
 * count as done, and its stalled paths join s's (copied).  Exits 4 when
 * out of memory.
 */
void summary_add_report(struct summary *s, json_object *report);

/* Redraws the status line when it is due: leaves, slots in use, rates,
 * latency, and an estimate of the time left once the scan is done. */
void summary_progress(const struct summary *s, const struct pace *pace,
    size_t running, bool scanning);

/* The status line of a --hosts run (due or not, as summary_progress): the
 * leaves and jobs done, the rates, the removals and the ETA. */
void summary_progress_jobs(const struct summary *s,
    unsigned long long jobs_done, unsigned long long jobs_total);

/* Writes the stalled directories to ctx->stalled_path, if given; exits 4
 * when it cannot. */
void summary_write_stalled(const struct summary *s,
    const struct context *ctx);

/* Prints the summary on stderr: text, or one JSON object with
 * --stats=json; secs is the time the run took.  With hosts, a line (an
 * element of "hosts") per host, and the jobs. */
void summary_print(const struct summary *s, const struct context *ctx,
    const struct pace *pace, double secs);

/* Frees the stalled directories; s is as after summary_init(). */
void summary_free(struct summary *s);

#endif
