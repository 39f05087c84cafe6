/*
 * pipeline.h - the slot backend with --jq and with --dry-run: for each
 * leaf, processes of its own, in a process group of their own,
 *
 *	json-merge --stats=json -- DIR [| jq -c -n PROGRAM]
 *	    | jsonl-write [--remove-sources] --filtered --skip-unchanged
 *	      --stats=json -- DIR/NAME
 *
 * or, in a dry run, json-merge --no-claim into /dev/null alone.
 *
 * The driver holds a copy of the write end of the pipe into jsonl-write,
 * so jsonl-write cannot see the end of its input (and so cannot commit)
 * before the driver has seen every upstream stage exit well; otherwise
 * the driver writes a line no JSON parser accepts ("poisons" it), and
 * jsonl-write fails the leaf with the old output untouched.  A leaf where
 * json-merge found nothing new is left as it is by jsonl-write itself
 * (--skip-unchanged): its stats say "unchanged".
 *
 * Its state (the three processes, the held pipe, both stderr relays) is
 * private to pipeline.c.
 */
#ifndef LEAFPACK_PACK_PIPELINE_H
#define LEAFPACK_PACK_PIPELINE_H

#include "context.h"
#include "slot.h"

/* The operations of slot.h, as this backend does them. */
extern const struct slot_ops pipeline_ops;

/*
 * Runs the jq of PATH once on a big integer, before any leaf: exits 4
 * ("jq does not run; --jq needs it") when it does not run, and warns when
 * it rounds integers beyond 2^53 (jq 1.6 does): records would then change
 * where the filter did not mean to touch them.  It waits for that jq: the
 * one wait outside the loop, on a local program, before the run.
 */
void pipeline_check_jq(void);

#endif
