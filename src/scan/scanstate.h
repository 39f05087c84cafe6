/*
 * scanstate.h - tree-scan's own: the state of one scan (struct scan: the
 * options, the worker slots, the directories known, the stalled ones, the
 * sorted leaves, the counts) and of one worker slot (struct worker), and
 * the end of the scan when memory runs out.
 *
 * One struct for the whole program, as the parts are the steps of one
 * loop in one process (the parent; the workers' side is lib/scanworker):
 * each part reads the options and adds to the counts.  The parts, each a
 * module of src/scan/: workerpool.h (the forked workers: starting and
 * killing them, their jobs and deadlines, their shared words, the
 * breaker), leafoutput.h (the leaves on stdout, newline- or
 * NUL-terminated, or sorted at the end), stallreport.h (the directories
 * that stayed stalled, named and written to --stalled FILE).  tree-scan.c
 * holds the options' parsing, the setup, the top-level loop and the end.
 */
#ifndef LEAFPACK_SCANSTATE_H
#define LEAFPACK_SCANSTATE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "alloc.h"
#include "cli.h"
#include "dirtree.h"

/* Jobs a worker holds at once: the one it reads and a few queued behind
 * it, so that it does not wait for the parent between two directories.
 * Only the first is being read; when the worker is killed the others go
 * back to the queue, so a hung directory still costs only itself. */
#define PIPELINE 32

struct worker {
	pid_t pid;
	int fd;			/* -1: no worker in this slot */
	uint32_t gen;		/* bumped by each new worker in the slot */
	struct dirnode *jobs[PIPELINE];	/* sent, in the order sent */
	unsigned first, njobs;
	uint32_t job_number[PIPELINE];	/* as the worker counts them */
	uint32_t next_number;
	uint64_t *state;	/* its shared word (scanworker.h) */
	struct dirnode *children;	/* names received for it so far */
	uint64_t nchildren;
	struct buf in;		/* received, not yet a whole message */
	struct buf out;		/* jobs not sent yet */
	unsigned nunsent;	/* how many, the last ones of jobs[] */
	struct dirqueue queue;	/* pending directories, children of its reads */
};

struct scan {
	/* options */
	int delim;
	int nworkers;
	long long timeout_ms;
	long long time_limit_ms;	/* the workers' timer: a bit longer */
	long long grace_ms;
	int retries;
	long max_stalls;	/* --max-stalls: in a row, then the probe */
	int xdev;
	int sort;
	int force_progress;	/* --progress */
	enum cli_stats stats;
	FILE *stalled_file;
	const char *stalled_path;

	struct worker *workers;
	struct pollfd *pfd;
	int *pfd_slot;
	unsigned inflight;
	uint64_t *states;	/* the workers' shared words, 64 bytes each */
	long long base_ms;	/* what their times count from */
	int out_dirty;

	/* the directories known: nodes, (st_dev, st_ino) set, paths */
	struct dirtree tree;

	struct dirnode *stalled;
	uint64_t nstalled;
	long stalls_in_row;	/* since the last directory read */
	int gave_up;		/* the share does not answer */
	uint64_t untried;	/* pending directories it cost */

	/* --sort: every leaf path, NUL-terminated, and their offsets */
	struct buf sorted;
	size_t *offsets;
	size_t noffsets, offcap;

	uint64_t dirs, leaves, errors, loops, killed, stalled_final;
};

/* Out of memory ends the scan ("out of memory", exit EXITCODE_FAILED):
 * there is nothing to save but the queue. */
void out_of_memory(void) __attribute__((noreturn));

/* Zeroed memory, or the end of the scan. */
void *scan_alloc(size_t size);

/* buf_reserve() and buf_append() of alloc.h, or the end of the scan. */
void scan_reserve(struct buf *b, size_t more);
void scan_append(struct buf *b, const void *data, size_t len);

#endif
