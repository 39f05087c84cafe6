/*
 * mergeleaf.h - json-merge's own: its options, and one leaf as it goes
 * through the program (struct leaf), with what every part of it needs:
 * paths for messages and the messages of the common failures.
 *
 * The other parts of json-merge, each a module of src/merge/:
 * mergesources.h (which sources to read, and reading them), mergeoutput.h
 * (the existing output, and stdout), mergeclaim.h (the claim and a staged
 * commit).  json-merge.c holds the options' parsing, the counts, the steps
 * of one leaf in order and the leaf loops.
 *
 * A step that fails prints its message and returns -1 (runsort's
 * callbacks, which cannot print, leave the reason in leaf->failure for
 * their caller).
 */
#ifndef LEAFPACK_MERGELEAF_H
#define LEAFPACK_MERGELEAF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "alloc.h"
#include "claim.h"
#include "cli.h"
#include "journal.h"
#include "jsonlines.h"
#include "jsonscan.h"
#include "leafstream.h"
#include "runsort.h"
#include "sortkey.h"
#include "sourceload.h"
#include "sources.h"
#include "staging.h"
#include "stats.h"

/* --claim, --no-claim, or neither (claim when stdout is a pipe). */
enum opt_claim { OPT_CLAIM_AUTO, OPT_CLAIM_ALWAYS, OPT_CLAIM_NEVER };

/* json-merge's options: set by parse_options(), read only afterwards. */
struct merge_options {
	const char *key;
	const char **globs;
	size_t nglobs;
	long long min_age_ms;
	const char *output;
	long long memory;
	bool strict;
	bool skip_unchanged;	/* --skip-unchanged, or the leaf stream */
	bool keep_sources;	/* --keep-sources */
	bool list_young;	/* --list-young */
	const char *staging;	/* --staging DIR, or NULL */
	int stagefd;		/* it, open */
	enum opt_claim claim;
	enum cli_stats stats;
	int delim;		/* of the directories on stdin */
	bool streaming;		/* no DIR: the leaf stream */
	const char *dir;	/* DIR */
};

extern struct merge_options opt;

/* stdout, written in large blocks; counts and hashes what it writes. */
struct output {
	struct buf buf;			/* WRITE_SIZE bytes, never grown */
	struct journal_hash hash;
};

/* Why a step that cannot print failed (runsort's callbacks): its caller
 * prints the message, with errno. */
enum leaf_failure {
	LEAF_FAILED_SORTING,	/* the sorter (in $TMPDIR), the default */
	LEAF_FAILED_STDOUT,
	LEAF_FAILED_OUTPUT,	/* reading the existing output again */
	LEAF_FAILED_MEMORY
};

/*
 * One leaf, owned by the leaf loop (merge_stream(), or merge_one() for
 * DIR).  The first part is kept from leaf to leaf (the big buffers, the
 * scanner, the sorter and its arena); the rest is the leaf's own, given
 * back by leaf_reset() however the leaf ended.
 */
struct leaf {
	struct jsonscan_keypath keypath;	/* --key */
	struct sourceload load;		/* reader of the sources */
	struct output out;
	struct jsonlines lines;		/* reader of the existing output */
	struct runsort *sorter;
	bool sorting;			/* the sorter holds this leaf's runs */
	struct sortkey_buf prev_key;	/* of the previous output line */
	char *journal_name;		/* .NAME.journal, for messages */

	const char *dir;		/* as given */
	struct stats_clock clock;
	struct leafstream_merge stats;
	bool unchanged;			/* idle: left as it is */
	int dirfd;
	int outfd;			/* the existing output, or -1 */
	struct stat outst;
	bool out_sorted;		/* it is in key order */
	struct claim claim;
	struct sources_rules rules;
	bool listed;			/* names holds the listing */
	bool busy;			/* a live run holds the leaf */
	bool staged_mark;		/* the listing met .NAME.staged */
	bool temps_seen;		/* the listing met a temporary */
	bool claim_staged;		/* the claim is in --staging DIR */
	bool waiting;			/* its records wait in a staging
					 * directory: left */
	bool resumed;			/* a staged commit finished here */
	char entry[STAGING_ENTRY_MAX];	/* its name there */
	struct spill names;		/* named like sources, sorted */
	int srcfd;			/* the source being read */
	const char *srcname;		/* its name (in names) */
	char current[PATH_MAX * 2];	/* its path, for messages */
	struct spill consumed;		/* entries, for the claim */
	enum leaf_failure failure;
};

/* Makes what is kept from leaf to leaf; exits 4 when out of memory. */
void leaf_init(struct leaf *l);

/* Starts the leaf dir: no counts yet, its clock running. */
void leaf_start(struct leaf *l, const char *dir);

/* Gives back what one leaf held, succeeded or failed, keeping the
 * buffers and the sorter's arena for the next. */
void leaf_reset(struct leaf *l);

/* Frees everything (the process ends anyway; this keeps leak checkers
 * meaningful). */
void leaf_free(struct leaf *l);

/* "DIR/name" for messages, quoted (diag_quote's rotating buffers). */
const char *leaf_path(const struct leaf *l, const char *name);

/* "out of memory", said: -1. */
int out_of_memory(void);

/* A failure of the sorter (its temporary files, or memory; errno),
 * said: -1. */
int sorter_failed(void);

/* The message for what a runsort callback left in l->failure, said:
 * -1. */
int callback_failed(const struct leaf *l);

#endif
