/*
 * streampair.h - the slot backend without --jq and --dry-run: each slot
 * keeps one json-merge -0 | jsonl-write --stats=json pair that consolidates
 * leaves one after the other (the leaf stream, leafstream.h).  The slot
 * writes a leaf's path into json-merge and waits for jsonl-write's report
 * line (leafstream_report_parse) before it sends the next.
 *
 * Starting two programs for every leaf cost more than the leaf itself
 * (about 10 ms of CPU against 3 ms here): a pair is started for the first
 * leaf of its slot, and again only after it died.  A pair that dies takes
 * the leaf in hand with it, failed; the next leaf gets a new pair.
 *
 * Its state (the pair's processes and pipes, the partial report line,
 * whether the leaf in hand has its report) is private to streampair.c.
 */
#ifndef LEAFPACK_PACK_STREAMPAIR_H
#define LEAFPACK_PACK_STREAMPAIR_H

#include "slot.h"

/* The operations of slot.h, as this backend does them. */
extern const struct slot_ops streampair_ops;

#endif
