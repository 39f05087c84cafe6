/*
 * claim.h - the claim protocol: how json-merge claims a leaf and hands it
 * to jsonl-write, how jsonl-write checks the claim and records its commit,
 * and how a later run (or leaf-filter) reads what a leaf's output already
 * holds.  The storage (the journal file, the commit record on the output,
 * identities, the hash) is journal.h; what the states mean and the order
 * of the steps is here, and in jsonl-write(1), which users read.
 *
 * In short, for a leaf DIR and output NAME:
 *   1. json-merge, claim_begin(): a live holder of DIR/.NAME.journal makes
 *      the leaf busy; otherwise it learns which sources NAME already holds
 *      (claim_absorbed()), removes dead runs' temporaries and writes its
 *      claim, state "merging", carrying the kept sources.
 *   2. json-merge, claim_finish(): state "merged", with the sources it
 *      consumed and the records, bytes and hash it wrote.
 *   3. jsonl-write, claim_check(): the claim is complete and matches what
 *      arrived and the output json-merge read; then the commit record
 *      (claim_record_init()) goes on the new output, or into the journal
 *      file where it cannot (durably), before the rename that commits.
 *   4. jsonl-write, after the rename: claim_remove_sources() removes each
 *      source still the file that was read; claim_release() removes the
 *      claim file and, once nothing is held back, the record.
 * A run killed anywhere leaves a state that the next claim_begin() reads
 * back exactly (see jsonl-write(1), "Recovery after a crash").
 *
 * All functions return 0 (or what they document) and -1 with errno set on
 * failure; none prints anything.  Messages are the programs' business:
 * where a step can fail for several reasons, the reason is returned.
 */
#ifndef LEAFPACK_CLAIM_H
#define LEAFPACK_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "claimholder.h"
#include "journal.h"
#include "pins.h"


/*
 * Removes the temporaries of NAME in DIR whose PID is not a live process
 * of this host (and is not ours): what runs that died left.  Returns the
 * number removed, or -1 if DIR cannot be read.
 */
int claim_remove_dead_temps(int dirfd, const char *name);

/*
 * The sources whose records are already in the current output DIR/NAME,
 * given the leaf's journal file j (NULL when there is none, or it could not
 * be parsed).  The output's own record comes first: when
 * journal_attr_load() finds one, its kept + sources.  Otherwise, with
 * O = fstatat(DIR, NAME, AT_SYMLINK_NOFOLLOW):
 *   j committed and O.ino == output_ino  -> kept + sources;
 *   else O exists and j has a base with O.ino == base.ino  -> kept;
 *   else -> none.
 * Only entries that still exist with the same identity are returned,
 * sorted by name, in *out (initialized by this call; free it with
 * spill_free(): a list of bounded memory, journal.h).  -1 with errno
 * EBADMSG when the output's attribute is not a well-formed journal.
 */
int claim_absorbed(int dirfd, const char *name, const struct journal *j,
    struct spill *out);

/*
 * A walk of a list of entries sorted by name, asked about names in
 * increasing order (the order of a leaf's listing): one pass over the list
 * for a whole listing, in a buffer, however many entries it has.  A name
 * not after the last one asked starts the walk again.  Zero it before the
 * first claim_entries_hold(); free it with claim_walk_free().
 */
struct claim_walk {
	struct spill_cursor c;
	struct journal_entry e;	/* the entry the walk is at (state 1) */
	int state;		/* 0: not begun, 1: at e, 2: past the end */
	struct buf last;	/* the last name asked, NUL-terminated */
};

/* 1 when name with lstat st is in the sorted list (same name and
 * identity): its records are in the output already; 0 when it is not; -1
 * when the list cannot be read (errno: EIO, ENOMEM), and nothing may be
 * concluded. */
int claim_entries_hold(const struct spill *list, struct claim_walk *w,
    const char *name, const struct stat *st);
void claim_walk_free(struct claim_walk *w);

/* ---- json-merge: claiming a leaf ---- */

enum claim_mode {
	CLAIM_LOOK,		/* read only: no claim, nothing removed */
	CLAIM_PREPARE,		/* no claim, but dead runs' temporaries go */
	CLAIM_TAKE		/* claim the leaf */
};

/* What claim_begin() came to. */
enum claim_begin {
	CLAIM_BEGUN,		/* as asked (claimed with CLAIM_TAKE) */
	CLAIM_READ_ONLY,	/* CLAIM_TAKE, but the leaf cannot be written
				 * (EACCES, EROFS, EPERM): not claimed */
	CLAIM_BUSY,		/* a live holder has it: busy_host, busy_pid */
	CLAIM_BAD_JOURNAL,	/* the journal file cannot be read (errno;
				 * EBADMSG: not a journal) */
	CLAIM_BAD_RECORD,	/* the output's record is not a journal */
	CLAIM_BAD_DIR,		/* reading the leaf failed (errno) */
	CLAIM_CANNOT_WRITE,	/* writing the claim failed (errno) */
	CLAIM_NO_MEMORY		/* out of memory before the claim was
				 * written (CLAIM_TAKE) */
};

/* One leaf's claim, as json-merge holds it.  Zero it (or claim_free())
 * before the first claim_begin(). */
struct claim {
	int dirfd;			/* the leaf (not owned) */
	const char *output;		/* NAME (not owned) */
	bool has_output;		/* the leaf has an output: */
	struct stat outst;		/* its fstat, the claim's base */
	bool had_journal;		/* a journal file was there */
	bool leftover;			/* a commit record (attribute or
					 * journal file) naming only sources
					 * that are gone */
	struct journal previous;	/* it, when had_journal */
	bool claimed;			/* ours is in place */
	struct journal mine;		/* its kept entries are absorbed,
					 * borrowed: never free it alone */
	struct spill absorbed;		/* already in the output, sorted */
	struct claim_walk walk;		/* claim_holds() in it */
	char busy_host[256];		/* with CLAIM_BUSY ("" if unknown) */
	long long busy_pid;		/* with CLAIM_BUSY (0 if unknown) */
	bool temps_unseen;		/* set by the caller: its listing of the
					 * leaf met no temporary, so claim_take()
					 * need not list it again for dead ones
					 * (one listing less per leaf: round
					 * trips on a share) */
};

/*
 * Step 1 for the leaf dirfd and output NAME: claim_look(), then
 * claim_take().  outfd is the output json-merge opened, and outst its
 * fstat (outfd -1: there is none): its record says what it holds, and a
 * claim names it as its base.  On CLAIM_BEGUN and CLAIM_READ_ONLY
 * c->absorbed is filled.
 */
enum claim_begin claim_begin(struct claim *c, int dirfd, const char *output,
    int outfd, const struct stat *outst, enum claim_mode mode);

/* The first half, which changes nothing: busy, or what the output holds
 * (CLAIM_BEGUN, CLAIM_BUSY or an error). */
enum claim_begin claim_look(struct claim *c, int dirfd, const char *output,
    int outfd, const struct stat *outst);

/* The second half, after claim_look() said CLAIM_BEGUN: as mode says,
 * the dead runs' temporaries go and the claim is written. */
enum claim_begin claim_take(struct claim *c, enum claim_mode mode);

/* True when claim_look() found what a run must finish: a dead run's
 * claim, or a commit record left behind by one. */
bool claim_unfinished(const struct claim *c);

/* claim_entries_hold() of the absorbed sources: 1 when the source name
 * with lstat st is in the output already, 0 when not, -1. */
int claim_holds(struct claim *c, const char *name, const struct stat *st);

/*
 * Step 2: the claim becomes "merged", with the consumed sources (moved
 * into the claim: the caller's list is left empty, even on failure) and
 * what was written.  A no-op returning 0 when nothing is claimed.  -1
 * with EBUSY when the journal is no longer ours (another run, which found
 * the same dead claim, took the leaf over at the same time: busy_host and
 * busy_pid name it); the claim is then not held.
 */
int claim_finish(struct claim *c, struct spill *consumed,
    const struct journal_hash *written);

/*
 * After a failure: the claim stays, in state "merging", so that a
 * jsonl-write downstream sees the upstream did not finish and refuses to
 * commit; it carries the base and the kept sources, so nothing the
 * previous journal knew is lost, and the next run takes it over.  In the
 * leaf stream (remove_if_new), a claim that carried nothing from before
 * is removed instead: the end frame tells jsonl-write, and a claim of a
 * process that lives on would keep other runs off the leaf.
 */
void claim_abort(struct claim *c, bool remove_if_new);

/* True when there is nothing to hand over: no source consumed, none
 * recorded as kept. */
bool claim_idle(const struct claim *c, size_t nconsumed);

/*
 * For an idle leaf in the leaf stream: left as it is, the claim (ours, or
 * a dead run's that held nothing) removed, and a commit record on the
 * output (outfd, -1 if none) whose sources are all gone dropped: it holds
 * nothing back, and a rewrite would have dropped it.  When the claim
 * cannot be removed (-1), it is still held, so that claim_abort() tries
 * again.
 */
int claim_withdraw_idle(struct claim *c, int outfd);

/* Frees what c holds (not dirfd) and zeroes it. */
void claim_free(struct claim *c);

/* ---- jsonl-write: checking a claim and committing ---- */

/* Flags of claim_check(). */
#define CLAIM_CHECK_STREAM 1	/* the leaf stream: input must be exact */
#define CLAIM_CHECK_REMOVE 2	/* --remove-sources: a claim is required */
#define CLAIM_CHECK_FILTERED 4	/* --filtered: an empty input may be */

/* What claim_check() found. */
enum claim_check {
	CLAIM_READY,		/* a merged claim, to commit */
	CLAIM_NONE,		/* no journal: a plain write */
	CLAIM_CHECK_ERROR,	/* the journal cannot be read (errno;
				 * EBADMSG: not a journal) */
	CLAIM_RECORD_ERROR,	/* the output's record cannot be read (errno;
				 * EBADMSG: not a journal) */
	CLAIM_MISSING,		/* no claim, but one is required */
	CLAIM_RECORD_HOLDS,	/* no claim, and the output's record names
				 * sources still there: no plain write */
	CLAIM_MERGING,		/* json-merge did not finish */
	CLAIM_COMMITTED,	/* a committed journal: no plain write */
	CLAIM_STREAM_DIFFERS,	/* in the stream, not json-merge's bytes */
	CLAIM_EMPTY_INPUT,	/* nothing came for a claim with records */
	CLAIM_OUTPUT_CHANGED,	/* the output is not the one json-merge read */
	CLAIM_OUTPUT_ERROR,	/* the output cannot be looked at (errno) */
	CLAIM_HELD		/* the claim is another run's (another process
				 * group), which is alive: the leaf is busy,
				 * our json-merge lost it (*claim names the
				 * holder) */
};

/*
 * Step 3, first half: checks the leaf's claim against written (what
 * arrived on stdin) as flags say.  A claim is taken to be our json-merge's
 * when it names our process group (a pipeline's processes share one),
 * none (an older journal) or another host (json-merge over ssh); another
 * group of this host is CLAIM_HELD while its holder lives, else
 * CLAIM_MISSING (ours did not claim).  *claim holds the journal that was found
 * (empty with CLAIM_NONE, CLAIM_MISSING and the errors): free it with
 * journal_free() whatever the verdict.
 */
enum claim_check claim_check(int dirfd, const char *output,
    const struct journal_hash *written, int flags, struct journal *claim);

/* True when a ready claim carries nothing: no consumed source and none
 * kept, so committing it would only rewrite the output. */
bool claim_check_idle(const struct journal *claim);

/* For a ready idle claim that is not to be committed: removes the claim
 * file (still that claim). */
int claim_withdraw(int dirfd, const char *output, const struct journal *claim);

/*
 * The commit record of the claim for the new output of inode ino holding
 * written: state committed, the claim's base, kept and sources.  *record
 * borrows the claim's entries: free it with claim_record_free() before
 * journal_free(claim).  Returns -1 (ENOMEM).
 */
int claim_record_init(struct journal *record, const struct journal *claim,
    unsigned long long ino, const struct journal_hash *written);
void claim_record_free(struct journal *record);

/*
 * Step 3, last, once the new output is durable and before it is renamed
 * into place: the first source of the claim (kept or consumed) that is
 * still there but no longer the file that was read (rewritten since, even
 * with its mtime set back: the identity has the ctime): 1, its name in
 * *name (NUL-terminated); 0 when none is; -1 when the claim's entries
 * cannot be read (errno), which must be taken as a change.  Its old
 * records are in the new output: publishing it would have a later run
 * read them again.  With pins (pins.h; NULL: none), each source found as
 * it was read is held open for claim_remove_sources().
 */
int claim_changed_source(int dirfd, const struct journal *claim,
    struct pins *pins, struct buf *name);

/*
 * When claim_changed_source() found one: the claim goes back to state
 * "merging" with no live holder (pid 0), carrying its base and kept
 * sources, so that the next run takes the leaf over and reads it again,
 * as after a crash; nothing of it was published.
 */
int claim_give_back(int dirfd, const char *output, struct journal *claim);

/* What became of one source in claim_remove_sources(). */
enum claim_removal {
	CLAIM_REMOVED,
	CLAIM_GONE,		/* not there any more: nothing to do */
	CLAIM_KEPT_CHANGED,	/* there, but not the file that was read */
	CLAIM_KEPT_ERROR	/* unlink failed (errno in err) */
};

/*
 * Step 4, after the rename: removes every source of the claim (kept and
 * consumed) whose identity still matches, calling report (may be NULL)
 * for each with what became of it.  Returns the number not removed
 * (changed or failed); *record_needed is set when one failed to go (the
 * record must stay: it still says that source is in the output).  When
 * the entries cannot be read on (their list's file in $TMPDIR), report
 * is called once with e NULL and CLAIM_KEPT_ERROR, and the record stays.
 * pins: claim_changed_source()'s, or NULL (every look by name).
 */
size_t claim_remove_sources(int dirfd, const struct journal *claim,
    const struct pins *pins, void (*report)(void *ctx,
    const struct journal_entry *e, enum claim_removal what, int err),
    void *ctx, bool *record_needed);

/*
 * Step 4, last: removes the claim file where the record went on the
 * output (in_attr), or the journal file holding the record once it is not
 * needed; and the output's attribute (outfd) once not needed.  Neither is
 * synced (see jsonl-write(1)).  Returns -1 when the file could not be
 * removed (errno).
 */
int claim_release(int dirfd, const char *output, int outfd, bool in_attr,
    bool record_needed);

/* ---- leaf-filter: what a leaf's journal asks of a run ---- */

struct claim_view {
	bool busy;		/* a live run holds the leaf */
	bool unfinished;	/* a dead run's claim, or a journal or record
				 * that json-merge must look at */
	bool committed;		/* a commit whose sources or journal remain */
	struct spill absorbed;	/* what the output holds, sorted */
	struct claim_walk walk;	/* claim_view_holds() in it */
};

/* Reads the leaf's journal and record.  Returns -1 when they cannot be
 * read (a malformed one is not an error: it makes the leaf unfinished). */
int claim_inspect(int dirfd, const char *output, struct claim_view *v);

/* 1 when the output holds the source name with lstat st already, 0 when
 * not, -1 (claim_entries_hold()). */
int claim_view_holds(struct claim_view *v, const char *name,
    const struct stat *st);

void claim_view_free(struct claim_view *v);

#endif
