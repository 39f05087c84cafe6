/*
 * relay.h - a child's stderr, relayed: its lines pass through to the
 * driver's stderr as they come (the status line erased first), except the
 * child's last line when it is a JSON object: that is the child's
 * --stats=json, which the relay keeps for the driver to read instead.
 *
 * A line that starts with '{' is held until the next line shows it was not
 * the last.  The child's end of the pipe blocks (a child must never lose a
 * message to EAGAIN); the driver's end does not, so reading never waits.
 *
 * Also the line reader under it, relay_read_lines(), which the stream pair
 * uses for jsonl-write's reports.
 */
#ifndef LEAFPACK_PACK_RELAY_H
#define LEAFPACK_PACK_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "alloc.h"

struct relay {
	int fd;			/* our end; -1 once closed (or never open) */
	struct buf partial;	/* the incomplete last line */
	char *held;		/* a held "{..." line, or NULL */
	json_object *stats;	/* the last line parsed, once closed; owned */
};

/* A closed, empty relay (what an idle slot holds). */
void relay_init(struct relay *r);

/*
 * Opens the pipe.  Returns the child's end (close-on-exec; the caller
 * passes it to the child and closes it), or -1 with errno set, r closed.
 */
int relay_open(struct relay *r);

/*
 * Relays what the pipe holds now.  At end of file, or with drain when
 * the pipe is empty (the child was reaped: all it wrote is there, and a
 * descendant that still holds the pipe must not keep us waiting), closes
 * it as relay_close() does.  Never blocks.
 */
void relay_read(struct relay *r, bool drain);

/* Closes the pipe: the partial line passes through, and the held line
 * becomes the stats if it parses as a JSON object (else it passes too). */
void relay_close(struct relay *r);

/* Closes the pipe if open, frees the lines and the stats; r is as after
 * relay_init(). */
void relay_free(struct relay *r);

/* The child's parsed --stats=json line (owned by r), or NULL when the
 * pipe is still open or the last line was none. */
json_object *relay_stats(const struct relay *r);

/*
 * Reads what the non-blocking pipe fd holds now, appending to partial and
 * calling fn for each line completed, without its newline and with a NUL
 * in its place (the line is fn's to read, not to keep).  Returns 0 when
 * the pipe is empty for now, 1 at end of file or on a read error (and,
 * with drain, when it is empty).  Exits 4 when out of memory.
 */
int relay_read_lines(int fd, struct buf *partial, bool drain,
    void (*fn)(void *ctx, char *line, size_t len), void *ctx);

#endif
