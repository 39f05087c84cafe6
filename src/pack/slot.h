/*
 * slot.h - one of the -P places where a leaf is consolidated, and the
 * interface its two backends share:
 *
 *   streampair.h  one json-merge -0 | jsonl-write --stats=json pair per
 *                 slot, kept for leaf after leaf (the leaf stream), used
 *                 without --jq and --dry-run;
 *   pipeline.h    json-merge [| jq] | jsonl-write, new for each leaf,
 *                 used with --jq and --dry-run;
 *   verifier.h    jsonl-verify, new for each leaf, with --verify.
 *
 * A slot holds one leaf at a time.  slot_start() hands it over; each round
 * the run lets the slot watch its pipes (slot_watch), read them
 * (slot_read) and learn of its children's exits (slot_reaped); once
 * slot_finished(), slot_result() says what became of the leaf and
 * slot_clear() makes the slot idle again.  What a backend keeps (its
 * processes, pipes and per-leaf state) is its own, behind the slot.
 *
 * Nothing in a slot blocks or waits: pipes are read non-blocking and
 * children are reaped by the loop (loop.h).  So a slot can give up its
 * processes at any moment: ops->release closes every pipe and forgets
 * every process without waiting for any (the loop reaps them later as
 * strangers), and the next leaf starts on fresh processes.
 *
 * That is what a stall does.  json-merge and jsonl-write announce every
 * call they make on the share in the slot's two watch records (watch.h:
 * SLOT_RECORDS per slot); slot_check() finds a call pending longer than
 * the time limit, kills the slot's processes (SIGKILL, which a process
 * stuck in the kernel on a frozen share only obeys once the share
 * answers), releases them, and finishes the leaf as stalled, naming the
 * call and the file.
 */
#ifndef LEAFPACK_PACK_SLOT_H
#define LEAFPACK_PACK_SLOT_H

#include <stdbool.h>
#include <sys/types.h>

#include "context.h"
#include "leafstream.h"
#include "loop.h"
#include "watch.h"

/* The most descriptors a slot watches in a round (a stream pair's:
 * jsonl-write's reports and both stderrs). */
#define SLOT_WATCH_MAX 3

/* The watch records of a slot: json-merge's, then jsonl-write's. */
#define SLOT_RECORDS 2
/* The most processes a slot runs at once (json-merge, jq, jsonl-write). */
#define SLOT_PIDS_MAX 3

/* What became of a leaf: the children's wait(2) statuses (a program that
 * did not start, or whose report says it failed, as if it exited 4; with
 * --verify, jsonl-verify's is merge_status) and the counts of their
 * --stats=json; or the call that stalled it. */
struct slot_result {
	const char *dir;	/* the leaf (the slot's) */
	const struct watch_pending *stall;	/* the call that hung, or
						 * NULL */
	int merge_status, jq_status, write_status;
	bool unchanged;		/* nothing new: the output was left as it is */
	struct leafstream_merge merge;
	struct leafstream_write write;
	struct {		/* --verify: jsonl-verify's counts */
		bool checked;	/* it read the leaf to the end */
		bool has_output;
		unsigned long long problems, lines, bytes;
	} verify;
};

struct slot;

/* A backend; every operation gets the slot, whose state is s->state. */
struct slot_ops {
	/* Makes s->state, with no process and no pipe. */
	void (*init)(struct slot *s);
	/* Starts on the leaf s->dir.  A leaf that cannot start is finished
	 * at once, failed, holding no descriptor. */
	void (*start)(struct slot *s);
	/* True once the leaf in hand is done with and s->result filled. */
	bool (*finished)(struct slot *s);
	/* Drops what the finished leaf held. */
	void (*clear)(struct slot *s);
	/* Watches the pipes it reads. */
	void (*watch)(struct slot *s, struct loop *l);
	/* Reads what its pipes hold now. */
	void (*read)(struct slot *s);
	/* True when pid was one of its processes (which then is not). */
	bool (*reaped)(struct slot *s, pid_t pid, int status);
	/* No leaf will come any more: processes kept for the next leaf end. */
	void (*retire)(struct slot *s);
	/* True while one of its processes or pipes remains. */
	bool (*alive)(const struct slot *s);
	/* Closes every pipe, forgets every process, waits for none. */
	void (*release)(struct slot *s);
	/* Stores the pids of its live processes; returns how many. */
	size_t (*pids)(const struct slot *s, pid_t out[SLOT_PIDS_MAX]);
	/* release, then frees s->state. */
	void (*free)(struct slot *s);
};

struct slot {
	const struct slot_ops *ops;
	struct context *ctx;	/* borrowed; its argv holes are filled at
				 * each start */
	void *state;		/* the backend's */
	char *dir;		/* the leaf in hand (owned), or NULL: idle */
	pid_t pgid;		/* the process group working on it, or 0 */
	struct watch_area *watch;	/* borrowed: the run's records */
	size_t record;		/* the first of its SLOT_RECORDS */
	bool stalled;		/* the leaf in hand was given up */
	struct watch_pending stall;	/* the call it was given up on */
	struct slot_result result;
};

/* An idle slot with the backend ctx calls for, whose children use the
 * records record, record + 1 of watch.  Exits 4 out of memory. */
void slot_init(struct slot *s, struct context *ctx, struct watch_area *watch,
    size_t record);

/* Hands the idle slot the leaf dir (copied). */
void slot_start(struct slot *s, const char *dir);

/* True while the slot holds a leaf, finished or not. */
bool slot_busy(const struct slot *s);

/* True when the leaf it holds is done with. */
bool slot_finished(struct slot *s);

/* What became of the finished leaf; valid until slot_clear(). */
const struct slot_result *slot_result(const struct slot *s);

/* Makes the slot of a finished leaf idle. */
void slot_clear(struct slot *s);

/* Sends sig to the processes working on the leaf in hand, if any. */
void slot_signal(struct slot *s, int sig);

/* The backend's operations (see struct slot_ops). */
void slot_watch(struct slot *s, struct loop *l);
void slot_read(struct slot *s);
bool slot_reaped(struct slot *s, pid_t pid, int status);
void slot_retire(struct slot *s);
bool slot_alive(const struct slot *s);

/*
 * Gives the leaf in hand up if a call of its processes on the share has
 * been pending for limit_ms or more (now_ms on watch_clock_ms()): its
 * processes are killed and released, their pids stored in killed (the
 * run watches whether they ever end), and the leaf is finished, stalled.
 * Returns the number of pids stored; *next_ms is lowered to when the
 * oldest call still pending would reach the limit.
 */
size_t slot_check(struct slot *s, long long now_ms, long long limit_ms,
    long long *next_ms, pid_t killed[SLOT_PIDS_MAX]);

/* Frees the slot (its processes are forgotten, not waited for). */
void slot_free(struct slot *s);

/* True when wait(2) status says the program exited 0, or 1 (some parts
 * skipped) with partial_ok. */
bool slot_status_ok(int status, bool partial_ok);

#endif
