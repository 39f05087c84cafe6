/*
 * leafstream.h - the leaf stream: how json-merge (without DIR) hands many
 * leaves to one jsonl-write, and how jsonl-write reports each leaf to
 * whoever reads its stdout (the leafpack driver).  This header is the
 * specification; both sides and the driver speak it through this module.
 *
 * The stream is a sequence of frames.  A frame is a header line
 * "TYPE LENGTH\n" (TYPE one of "leaf", "data", "end"; LENGTH decimal)
 * followed by exactly LENGTH bytes.  Each leaf is:
 *
 *   leaf  "DIR/NAME\n": the output file the leaf's records are for
 *   data  zero or more frames: the leaf's records, compact JSON lines,
 *         in order (a frame never splits a record across leaves, but may
 *         split one across frames)
 *   end   the end record: one JSON object and "\n", json-merge's counts
 *         for the leaf (the members of struct leafstream_merge, with
 *         "unchanged", true when there was nothing new and the leaf is to
 *         be left as it is, "busy", true when another run holds it, and
 *         "no_inodes", true when nothing could be created in the leaf
 *         because its file system has no free inode, "inodes" then its
 *         count of inodes, "staged", true when a staged commit of the
 *         leaf cut short was finished, "waiting", true when its records
 *         wait in another staging directory) plus "status" (json-merge's
 *         exit status for the leaf)
 *
 * Nothing else is allowed between or inside leaves.  A stream that ends
 * inside a leaf was cut off (json-merge died): that leaf is not committed.
 *
 * jsonl-write's report of a leaf (--stats=json in the stream: one line on
 * its stdout per leaf, flushed at once) is one JSON object with the
 * members of struct leafstream_write, "output" (DIR/NAME), "status" (the
 * leaf's status, the worse of the two programs'), "unchanged", and
 * "merge": the end record json-merge sent.  The same counts, without the
 * members of the stream, are each program's --stats=json for one leaf.
 *
 * Functions return 0 (or what they document) and -1 with errno set on
 * failure; none prints anything.
 */
#ifndef LEAFPACK_LEAFSTREAM_H
#define LEAFPACK_LEAFSTREAM_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* The kinds of frames, and what leafstream_next() can find instead. */
enum leafstream_type {
	LEAFSTREAM_EOF,		/* the stream ended between frames */
	LEAFSTREAM_LEAF,
	LEAFSTREAM_DATA,
	LEAFSTREAM_END,
	LEAFSTREAM_BAD,		/* not a frame header: not a leaf stream */
	LEAFSTREAM_ERROR	/* reading failed: errno */
};

/* The members of the records (see above). */
#define LEAFSTREAM_KEY_STATUS "status"
#define LEAFSTREAM_KEY_UNCHANGED "unchanged"
#define LEAFSTREAM_KEY_BUSY "busy"
#define LEAFSTREAM_KEY_OUTPUT "output"
#define LEAFSTREAM_KEY_MERGE "merge"
#define LEAFSTREAM_KEY_NO_INODES "no_inodes"
#define LEAFSTREAM_KEY_INODES "inodes"
#define LEAFSTREAM_KEY_STAGED "staged"
#define LEAFSTREAM_KEY_WAITING "waiting"

/* Why json-merge did not consume a source. */
enum leafstream_skip {
	LEAFSTREAM_SKIP_INVALID,	/* not a JSON array */
	LEAFSTREAM_SKIP_UNREADABLE,	/* open or read failed */
	LEAFSTREAM_SKIP_SYMLINK,
	LEAFSTREAM_SKIP_NOT_REGULAR,
	LEAFSTREAM_SKIP_CHANGED,	/* changed while it was read */
	LEAFSTREAM_SKIP_TOO_YOUNG,	/* modified within --min-age */
	LEAFSTREAM_SKIP_REASONS
};

/* Their names in "sources_skipped": "invalid", "unreadable", ... */
extern const char *const leafstream_skip_names[LEAFSTREAM_SKIP_REASONS];

/* json-merge's counts for one leaf. */
struct leafstream_merge {
	unsigned long long sources;	/* consumed */
	unsigned long long skipped[LEAFSTREAM_SKIP_REASONS];
	unsigned long long records;	/* written */
	unsigned long long bytes_in;	/* of the consumed sources */
	unsigned long long bytes_out;	/* written */
	unsigned long long runs;	/* spilled to $TMPDIR */
	bool unchanged;			/* nothing new: left as it is */
	bool busy;			/* a live run holds the leaf */
	bool no_inodes;			/* nothing could be created in the
					 * leaf: its file system has no free
					 * inode (and blocks free) */
	unsigned long long inodes;	/* then: its inodes (f_files) */
	bool staged;			/* a staged commit of the leaf, cut
					 * short, was finished (staging.h) */
	bool waiting;			/* its records wait in a staging
					 * directory: left as it is */
	double elapsed;
};

/* jsonl-write's counts for one leaf. */
struct leafstream_write {
	unsigned long long records;	/* committed */
	unsigned long long bytes;
	unsigned long long sources_removed;
	unsigned long long sources_kept;	/* changed, or not removable */
	bool no_inodes;			/* as in leafstream_merge */
	unsigned long long inodes;
	bool staged;			/* committed through --staging DIR */
	double elapsed;
};

/* The end record of a leaf. */
struct leafstream_end {
	int status;
	struct leafstream_merge merge;	/* with its unchanged and busy */
};

/* jsonl-write's report of a leaf.  output is owned by whoever filled it:
 * leafstream_report_parse() makes a copy, freed by leafstream_report_free(). */
struct leafstream_report {
	char *output;
	int status;
	bool unchanged;
	bool busy;		/* another run holds the leaf: not committed */
	struct leafstream_write write;
	bool has_merge;		/* json-merge's end record came */
	struct leafstream_end end;
};

/* ---- writing ---- */

/*
 * Writes one frame of type (LEAF, DATA or END) whose payload is the alen
 * bytes of a followed by the blen bytes of b.  Returns 0, or -1 when fd
 * cannot be written (the reader is gone: EPIPE; no leaf can be handed
 * over any more).
 */
int leafstream_write_frame(int fd, enum leafstream_type type, const void *a,
    size_t alen, const void *b, size_t blen);

/* The counts as a JSON object (json-merge's --stats=json for one leaf);
 * exits 4 when out of memory, as stats.h does. */
json_object *leafstream_merge_json(const struct leafstream_merge *m);

/* The end record: the counts (with "unchanged" and "busy") and
 * "status". */
json_object *leafstream_end_json(const struct leafstream_end *e);

/* jsonl-write's counts (its --stats=json for one leaf). */
json_object *leafstream_write_json(const struct leafstream_write *w);

/* The report of a leaf.  merge_end is the end record as json-merge sent it
 * (a parsed object, kept as it is; NULL when none came): it is added as
 * "merge" with a new reference. */
json_object *leafstream_report_json(const struct leafstream_report *r,
    json_object *merge_end);

/* ---- reading ---- */

struct leafstream_reader {
	int fd;
	char *buf;
	size_t start, end, cap;
	size_t left;			/* bytes of the current frame unread */
	unsigned long long offset;	/* of buf[start] in the stream */
	bool eof;
	bool cut;			/* the stream ended inside a frame */
};

/* Starts reading the stream on fd (not owned).  Returns -1 (ENOMEM). */
int leafstream_reader_init(struct leafstream_reader *r, int fd);
void leafstream_reader_free(struct leafstream_reader *r);

/*
 * Skips what is left of the current frame, then reads the next header:
 * its type, and its payload's length in *len.  LEAFSTREAM_BAD names no
 * frame (r->offset says where the garbage starts); LEAFSTREAM_ERROR is a
 * read error; a stream cut inside the previous frame's payload gives
 * LEAFSTREAM_EOF with r->cut set.
 */
enum leafstream_type leafstream_next(struct leafstream_reader *r,
    size_t *len);

/*
 * The next bytes of the current frame's payload, straight from the read
 * buffer: stores a pointer in *p and returns how many (at most what is
 * left of the frame), 0 at the frame's end, or -1 when the stream ends
 * inside it (r->cut, errno EPIPE) or cannot be read.  Consume them with
 * leafstream_skip().
 */
ssize_t leafstream_chunk(struct leafstream_reader *r, const char **p);
void leafstream_skip(struct leafstream_reader *r, size_t n);

/*
 * The whole payload of the current frame as a new NUL-terminated string
 * (*text, malloc()ed) of *len bytes.  Returns 0, or -1 (ENOMEM, EPIPE
 * when the stream is cut inside it, or a read error).
 */
int leafstream_payload(struct leafstream_reader *r, char **text, size_t *len);

/* Fills m from a parsed object of json-merge's counts (missing members
 * count 0). */
void leafstream_merge_from_json(json_object *o, struct leafstream_merge *m);

/* Fills e from the end record's text.  Returns 0, or -1 (EBADMSG) when it
 * is not an end record: e->status is then 4. */
int leafstream_end_parse(const char *text, struct leafstream_end *e);

/* Fills w from a parsed object of jsonl-write's counts. */
void leafstream_write_from_json(json_object *o, struct leafstream_write *w);

/* Fills r from one report line (without its newline).  Returns 0, or -1
 * (EBADMSG: not a report; ENOMEM) with r->status 4. */
int leafstream_report_parse(const char *line, struct leafstream_report *r);
void leafstream_report_free(struct leafstream_report *r);

#endif
