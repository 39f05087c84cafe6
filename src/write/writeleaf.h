/*
 * writeleaf.h - jsonl-write's own: its options, the temporary the signal
 * handler removes, and one output as it goes through the program (struct
 * leaf), with what every part of it needs: paths for messages, the
 * common failure, the temporary's creation and writes.
 *
 * The other parts of jsonl-write, each a module of src/write/:
 * writecommit.h (steps 2 to 5: the claim, the commit record, the rename,
 * the removal of the sources) and writestaged.h (a leaf whose file system
 * has no free inode: the commit through --staging DIR).  jsonl-write.c
 * holds the options' parsing, the copy of standard input, the counts and
 * the loops over one file and over the leaf stream.
 *
 * A step that fails says why, removes the temporary and returns
 * EXITCODE_FAILED (fail()); the loop that owns the leaf closes it,
 * whatever happened, with leaf_close().
 */
#ifndef LEAFPACK_WRITELEAF_H
#define LEAFPACK_WRITELEAF_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "alloc.h"
#include "cli.h"
#include "journal.h"
#include "leafstream.h"
#include "pins.h"
#include "staging.h"
#include "stats.h"

/* jsonl-write's options: set by parse_options(), read only afterwards. */
struct write_options {
	bool filtered;
	bool remove_sources;
	bool skip_unchanged;
	const char *staging;	/* --staging DIR, or NULL */
	int stagefd;		/* it, open */
	enum cli_stats stats;
};
extern struct write_options opt;

/* What the signal handler removes: a copy of the temporary's name and of
 * its directory's fd, valid while live is set. */
struct temp_handler {
	char temp[NAME_MAX + 1];
	int dirfd;
	volatile sig_atomic_t live;
};
extern struct temp_handler handler;

/* Removes the temporary on SIGINT, SIGTERM, SIGHUP and SIGPIPE, and exits
 * 128 + the signal. */
void catch_signals(void);

/* Removes the temporary (if still there); the previous output is intact. */
void remove_temp(void);

/* One output being written, from its temporary to the release of its
 * claim.  leaf_init() makes it, leaf_close() frees it. */
struct leaf {
	char *path;		/* DIR/NAME as given (not owned) */
	char *dir;		/* DIR ("." when the path has no '/') */
	const char *name;	/* NAME: points into path */
	char *jname;		/* .NAME.journal, for messages */
	bool in_stream;		/* a leaf of the leaf stream */
	int dirfd;
	int fd;			/* the temporary */
	char *temp;		/* its name in DIR */
	struct buf wbuf;	/* one file: lines not yet written */
	struct journal_hash hash;	/* of all that went into the temp */
	struct journal claim;	/* json-merge's, when have_claim */
	bool have_claim;
	struct buf first_name;	/* first_source()'s */
	struct journal record;	/* the commit record (borrows the claim's
				 * entries) */
	bool in_attr;		/* it is on the temporary's attribute */
	struct pins pins;	/* the sources to remove, from the look
				 * before publishing to their unlink */
	struct leafstream_write counts;	/* for --stats */
	bool withdrawn;		/* --skip-unchanged left the output alone */
	bool staged;		/* the temporary is in --staging DIR */
	char entry[STAGING_ENTRY_MAX];	/* the leaf's name there */
	bool committed;		/* renamed into place */
	bool busy;		/* another run holds the leaf */
	struct stats_clock clock;
	/* the leaf stream: json-merge's end frame, as sent and as read */
	json_object *merge_end;
	struct leafstream_end end;
};

/* NAME of DIR/NAME (the whole path when it has no '/'). */
const char *output_name(const char *path);

/*
 * Starts the leaf for DIR/NAME (path, not owned; not yet checked): nothing
 * is open.  Returns -1 when out of memory; leaf_close() is safe anyway.
 */
int leaf_init(struct leaf *leaf, char *path);

/* DIR/name for messages, quoted; two calls fit in one message. */
const char *leaf_path(const struct leaf *leaf, const char *name);

/*
 * Fails the leaf before its commit: nothing was replaced or removed.  The
 * temporary goes first, so that whoever reads the message finds it gone.
 * Returns EXITCODE_FAILED.
 */
int __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...);

/* A write (or fstat, fsync, close) of the temporary failed: errno. */
int temp_failed(const struct leaf *leaf);

/* Opens DIR and creates the temporary there. */
int leaf_open_temp(struct leaf *leaf);

/* Writes bytes to the temporary, hashing them as they go out. */
int temp_write(struct leaf *leaf, const char *p, size_t len);

/* Frees what the leaf holds; the temporary, if still there, is removed. */
void leaf_close(struct leaf *leaf);

#endif
