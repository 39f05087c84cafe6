/*
 * sources.h - which entries of a leaf directory are sources: the one set
 * of rules json-merge consumes by and leaf-filter counts by.
 *
 * A source is a regular file (not a symlink, never followed) whose name
 * matches one of the --match globs (fnmatch(3) without flags, as
 * find -name: "*.txt" also matches ".x.txt"), is not one of the names the
 * commit protocol owns for the output NAME (NAME itself, .NAME.journal and
 * the temporaries .NAME.tmp.* and .NAME.journal.tmp.*, as journal.h
 * classifies them, and the mark .NAME.staged of a staged commit), and was last modified at least min-age ago (a writer
 * may still be busy with a younger file).
 */
#ifndef LEAFPACK_SOURCES_H
#define LEAFPACK_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "spill.h"

/* The default --match glob and --min-age. */
#define SOURCES_DEFAULT_MATCH "*.txt"
#define SOURCES_DEFAULT_MIN_AGE_MS (2 * 60 * 1000LL)

struct sources_rules {
	const char *const *globs;	/* --match globs; none: the default */
	size_t nglobs;
	const char *output;	/* the output NAME (not a path) */
	long long min_age_ms;	/* 0: any age */
	struct timespec now;	/* the time min-age counts back from */
	bool *staged;		/* when not NULL, sources_list() sets it when
				 * the leaf holds the mark of a staged commit,
				 * .NAME.staged (staging.h), else clears it */
	bool *temps;		/* when not NULL, sources_list() sets it when
				 * the leaf holds a temporary of the output or
				 * its journal (journalfile.h), else clears it */
};

/* What an entry is, for the rules. */
enum sources_verdict {
	SOURCES_ELIGIBLE,	/* a source to consume */
	SOURCES_IGNORED,	/* not named like a source: not mentioned */
	SOURCES_SYMLINK,	/* named like one, but a symlink */
	SOURCES_NOT_REGULAR,	/* named like one, but a dir, fifo, ... */
	SOURCES_TOO_YOUNG,	/* a source, but modified within min-age */
};

/*
 * Fills rules with the globs (globs may be NULL when nglobs is 0), the
 * output name, min_age_ms and the current time.  The arrays are not copied.
 */
void sources_rules_init(struct sources_rules *rules, const char *const *globs,
    size_t nglobs, const char *output, long long min_age_ms);

/*
 * True when name is the output, its journal or one of their temporaries
 * (whatever the globs say, these are never sources).
 */
int sources_is_protocol_name(const char *name, const char *output);

/* True when name matches a glob and is not a protocol name. */
int sources_name_matches(const struct sources_rules *rules, const char *name);

/*
 * The verdict for the entry name whose lstat (fstatat with
 * AT_SYMLINK_NOFOLLOW, or fstat of an O_NOFOLLOW descriptor) is st.
 */
enum sources_verdict sources_classify(const struct sources_rules *rules,
    const char *name, const struct stat *st);

/*
 * True when another process holds the source name open, fd being ours
 * (open for reading): the call is announced (watch.h). on a local file system a write lease (fcntl
 * F_SETLEASE F_WRLCK) is refused (EAGAIN) while any other descriptor of the
 * file is open, so a writer still at work is seen whatever the mtime says;
 * the lease, when granted, is given back at once.  False where leases
 * cannot tell (a network file system: EINVAL; a file of another owner
 * without CAP_LEASE: EACCES): there only --min-age protects such a file.
 */
bool sources_held_open(int fd, const char *name);

/*
 * Lists the names in directory dirfd (not closed; its offset is rewound)
 * that match the rules' globs and are not protocol names, sorted by the
 * bytes of the names (strcmp), into *names (initialized by this call):
 * a list of bounded memory (spill.h; a leaf of a million sources costs a
 * buffer, the rest goes to $TMPDIR), each record a name and its NUL.  Free
 * it with spill_free().  Returns 0, or -1 with errno set (the directory
 * could not be read, or the list not written).
 */
int sources_list(int dirfd, const struct sources_rules *rules,
    struct spill *names);

/* The next name of a list sources_list() made, valid until the following
 * call: 1, 0 at the end, or -1 (errno). */
int sources_next(struct spill_cursor *c, const char **name);

#endif
