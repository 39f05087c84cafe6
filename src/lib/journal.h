/*
 * journal.h - the small per-leaf file through which json-merge hands its
 * claim to jsonl-write, and through which a later run learns what an
 * interrupted or --keep-sources run already put into the output.
 *
 * For a leaf DIR and output name NAME the journal is DIR/.NAME.journal.  It
 * is JSON (written and read as a stream, journaljson.h: a journal names
 * every source of its leaf, and costs a buffer, not a document):
 *
 *   {"version":1, "state":"merging"|"merged"|"committed",
 *    "holder":{"host":..,"pid":..,"pgid":..,"start":..},
 *    "base":{"ino":..,"size":..,"mtime_ns":..} or null,
 *    "output_ino":.., "kept":[entry..], "sources":[entry..],
 *    "records":.., "bytes":.., "hash":"<16 hex digits>"}
 *
 * ("pgid", the holder's process group, and "start", when it started in
 * clock ticks after boot (/proc/PID/stat), are optional: journals written
 * before they were added load with 0, unknown), with entry =
 * {"name":..,"ino":..,"size":..,"mtime_ns":..,"ctime_ns":..,"mode":..,
 * "uid":..,"gid":..} ("ctime_ns" optional as well: 0, unknown; a committed
 * journal or record leaves out "mode", "uid" and "gid", which only the
 * commit itself reads); a name that is not printable ASCII without quotes or
 * backslashes is stored as "name_hex" instead, so that any bytes survive
 * (plain names keep the record small enough for an extended attribute).
 * It is replaced whole (a temporary .NAME.journal.tmp.PID.RAND renamed over
 * it), or, when its holder marks it merged, added to: the whole journal
 * again on a line after the first (journal_append(); no new file, so no
 * inode taken and none freed, and no rename: the dearest calls on a share
 * and on ext4).  A reader takes the last whole line, so one cut short (its
 * writer died, or a share shows part of it yet) leaves the state before
 * it; a reader never sees half of one.
 *
 * Temporaries of NAME are .NAME.tmp.PID.RAND (the next output, made by
 * jsonl-write) and .NAME.journal.tmp.PID.RAND (the next journal); the PID
 * lets a later run remove those of dead processes.
 *
 * This module is the storage only: what a journal holds, reading and
 * writing it, the record on the output and identities; the hash of the
 * stream is journalhash.h, the names of a leaf's own files (the journal,
 * the temporaries) and telling them from sources journalfile.h, both
 * included here so that callers need only this header.  What the states
 * mean, who may hold a leaf and which sources an output holds is the
 * claim protocol, claim.h.
 *
 * All functions return 0 (or a documented count) on success and -1 with
 * errno set on failure; none prints anything.
 */
#ifndef LEAFPACK_JOURNAL_H
#define LEAFPACK_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "journalfile.h"
#include "journalhash.h"
#include "spill.h"

#define JOURNAL_VERSION 1

enum journal_state {
	JOURNAL_MERGING,	/* json-merge claimed the leaf, is writing */
	JOURNAL_MERGED,		/* json-merge wrote everything; jsonl-write's turn */
	JOURNAL_COMMITTED	/* jsonl-write made output_ino the output */
};

/* The identity that decides whether a file is still the one that was read. */
struct journal_identity {
	unsigned long long ino;
	long long size;
	long long mtime_ns;
	long long ctime_ns;	/* 0: unknown (a journal from before it was
				 * recorded, or a base: the output's own
				 * attribute changes it) */
};

/* A source file, as it was when it was read. */
struct journal_entry {
	char *name;		/* plain bytes, NUL-terminated; whose is said
				 * where an entry is made */
	struct journal_identity id;
	unsigned int mode;	/* st_mode (type and permission bits) */
	unsigned int uid;
	unsigned int gid;
};

struct journal {
	int version;
	enum journal_state state;
	char *host;			/* owned: holder's host name */
	long long pid;			/* holder's pid */
	long long pgid;			/* its process group; 0: unknown */
	long long start_ticks;		/* when it started (clock ticks after
					 * boot): a pid given again is not the
					 * holder; 0: unknown */
	int has_base;			/* base below is meaningful */
	struct journal_identity base;	/* the output json-merge read */
	unsigned long long output_ino;	/* committed: the new output */
	/* The entries, one a source, as lists of bounded memory (spill.h:
	 * a leaf of a million files holds its journal in a buffer, the rest
	 * in $TMPDIR): read with journal_entries_next(). */
	struct spill kept;		/* owned: already in the base output */
	struct spill sources;		/* owned: consumed by this run */
	unsigned long long records;	/* what json-merge wrote on stdout */
	unsigned long long bytes;
	uint64_t hash;
	long long file_mtime_ns;	/* set by journal_load(): the journal's mtime */
};

/*
 * Initializes an empty journal: version 1, state merging, holder = this
 * host, process and process group, no base, no entries.  Returns -1 only if the host name
 * cannot be stored (ENOMEM).  Free with journal_free().
 */
int journal_init(struct journal *j);

/* The host name a journal names its holder by (gethostname(), or
 * "localhost"); a static string. */
const char *journal_this_host(void);

/* Frees what j owns and zeroes it. */
void journal_free(struct journal *j);

/* "merging", "merged" or "committed". */
const char *journal_state_name(enum journal_state state);

/*
 * Reads DIR/.NAME.journal (dirfd = DIR) into *j (initialized by this call;
 * free with journal_free() when it returns 1).  Returns 1 when loaded, 0
 * when there is no journal (j is then initialized as by journal_init()),
 * -1 on error: errno EBADMSG when the file is not a well-formed version 1
 * journal (j is freed), other errno values from the system calls.
 */
int journal_load(int dirfd, const char *name, struct journal *j);

/*
 * A journal file held open by its holder, to be added to: journal_open()
 * loads it as journal_load() does (same results) and, when it returns 1,
 * keeps it open for reading and writing in *f; then journal_append()
 * writes *j on a line after what was read, which supersedes it for every
 * later reader, and closes f (not durable: like a claim, a merged mark lost
 * to a power cut leaves a claim that the next run takes over).  What is
 * checked is then the very file written to: a run that took the leaf over
 * meanwhile renamed its own journal over the name, and this one is not it.
 * journal_held_close() closes f without writing (f->fd -1: nothing).
 */
struct journal_held {
	int fd;
	char *jname;		/* .NAME.journal, for the watcher */
	off_t end;		/* the size read */
};
int journal_open(int dirfd, const char *name, struct journal *j,
    struct journal_held *f);
int journal_append(struct journal_held *f, const struct journal *j);
void journal_held_close(struct journal_held *f);

/*
 * Writes *j to a new temporary .NAME.journal.tmp.PID.RAND and rename()s it
 * over DIR/.NAME.journal.  With durable set, the temporary is fsync()ed
 * before the rename and the directory after it, so the journal survives a
 * power cut (dirfd must then be an open directory, not AT_FDCWD).  On
 * failure the temporary is removed and the previous journal (if any) is
 * untouched.
 */
int journal_store(int dirfd, const char *name, const struct journal *j,
    int durable);

/*
 * Creates DIR/.NAME.journal holding *j, only if no journal exists: errno
 * EEXIST if one does.  The content is written to a temporary first and put
 * in place with link(), which is as exclusive as O_EXCL and never leaves a
 * half-written journal for others to read.  Not durable (a claim lost to a
 * power cut only means the run did not happen).
 */
int journal_create(int dirfd, const char *name, const struct journal *j);

/*
 * The commit record can also live on the output itself, in the extended
 * attribute JOURNAL_ATTR: jsonl-write sets it on the temporary before the
 * one fsync() of the data, so that the rename() that publishes the output
 * publishes its record with it, and no journal file needs to be written,
 * synced or left behind.  The value is the committed journal, in the same
 * JSON form as the file.  It tells what the output holds only while its
 * output_ino is the inode it is attached to (a copy made with its
 * attributes is another inode, and holds nothing as far as we know).
 */
#define JOURNAL_ATTR "user.leafpack.journal"

/*
 * Sets JOURNAL_ATTR on the open file fd (named name in the leaf, for
 * the watcher) to *j (XATTR_CREATE: fd is a new temporary).  Fails with ENOTSUP without trying when the environment
 * variable LEAFPACK_NO_XATTR is 1 (tests use it to cover the journal file).
 * On any failure (ENOTSUP, E2BIG, ENOSPC, EACCES, ...) the caller keeps the
 * record in the journal file instead.
 */
int journal_attr_store(int fd, const char *name, const struct journal *j);

/*
 * Reads the commit record attached to the current output DIR/NAME into *j
 * (free with journal_free() when it returns 1; otherwise j owns nothing).
 * Returns 1 when the output is a regular file whose JOURNAL_ATTR holds a
 * committed journal with output_ino equal to its inode; 0 when there is no
 * output, no attribute, no attribute support, or the output cannot be
 * opened for reading (EACCES: it cannot be merged either); -1 on error,
 * with errno EBADMSG when the attribute is not a well-formed journal.
 */
int journal_attr_load(int dirfd, const char *name, struct journal *j);

/* journal_attr_load() of the output already open as fd (named name in the
 * leaf, for the watcher), whose fstat is st: the record of exactly the
 * file that is read. */
int journal_attr_load_fd(int fd, const char *name, const struct stat *st,
    struct journal *j);

/*
 * From now on, the journal of the leaf open as dirfd (journal_load(),
 * journal_store(), journal_create(), journal_remove() called with that
 * dirfd) is to_dirfd/.TO_NAME.journal instead, its temporaries there too:
 * a leaf whose claim is kept in the staging directory, because its share
 * has no free inode (staging.h).  One leaf at a time; until
 * journal_redirect_clear().
 */
void journal_redirect(int dirfd, int to_dirfd, const char *to_name);
void journal_redirect_clear(void);

/* Unlinks DIR/.NAME.journal (ENOENT is an error the caller may ignore). */
int journal_remove(int dirfd, const char *name);

/*
 * The entries of a list (spill.h), each one record: the name, its NUL and
 * the identity, mode and owner in host byte order.
 *
 * journal_entries_add() appends a copy of e.  journal_entries_next() stores
 * the next entry of the list c reads in *e, whose name points into the
 * reader (valid until the following call), and returns 1; 0 at the end;
 * -1 (EIO: not an entry).  journal_entries_sort() orders a list by name
 * (strcmp()), in bounded memory.
 */
int journal_entries_add(struct spill *list, const struct journal_entry *e);
int journal_entries_next(struct spill_cursor *c, struct journal_entry *e);
int journal_entries_sort(struct spill *list);

/* The entry of the list whose name comes first in byte order (strcmp()):
 * 1, with *e a copy whose name is held in *name; 0 when the list is
 * empty; -1 (errno). */
int journal_entries_first(const struct spill *list, struct journal_entry *e,
    struct buf *name);

/* Fills id from st (st_ino where it lasts, fileid.h; st_size, st_mtim,
 * st_ctim: the change time, which no user can set, so that a source
 * rewritten with its mtime set back, as rsync -t does, is still seen to
 * have changed). */
void journal_identity_from_stat(struct journal_identity *id,
    const struct stat *st);

/* Fills *e from name (borrowed: e->name is name) and st, the fstat() of
 * the open file. */
void journal_entry_from_stat(struct journal_entry *e, const char *name,
    const struct stat *st);

/* True when a and b have the same ino where both know it (fileid.h), the
 * same size and mtime_ns, and the same ctime_ns where both know it. */
int journal_identity_equal(const struct journal_identity *a,
    const struct journal_identity *b);

/* True when the committed record j is the record of the output st: its
 * inode, or where inode numbers are not known (fileid.h), its size. */
bool journal_record_is_of(const struct journal *j, const struct stat *st);

/* True when j's base (the output json-merge read) is still the output
 * st: its inode, or where inode numbers are not known, its size and
 * mtime. */
bool journal_base_is(const struct journal *j, const struct stat *st);

/*
 * True when DIR/name still exists (fstatat AT_SYMLINK_NOFOLLOW) with the
 * identity id.  False when it is gone, changed, or cannot be checked.
 */
int journal_identity_matches(int dirfd, const char *name,
    const struct journal_identity *id);

#endif
