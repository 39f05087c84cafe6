/*
 * verifier.h - the slot backend of leafpack --verify: for each leaf a
 * process of its own, in a process group of its own,
 *
 *	jsonl-verify --stats=json [--key PATH] [--output NAME] -- DIR
 *
 * watched like json-merge (its calls on the share are announced in the
 * slot's first watch record, so a call that hangs costs the leaf), with
 * the driver's own stdout as its stdout: the problems it finds are lines
 * there, each written whole, and its stderr is relayed.  It changes
 * nothing, so a leaf given up leaves nothing to clean.
 */
#ifndef LEAFPACK_PACK_VERIFIER_H
#define LEAFPACK_PACK_VERIFIER_H

#include "slot.h"

/* The operations of slot.h, as this backend does them. */
extern const struct slot_ops verifier_ops;

#endif
