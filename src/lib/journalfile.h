/*
 * journalfile.h - the names of the files a leaf holds for output name NAME
 * besides the output itself: the journal .NAME.journal, the temporaries
 * .NAME.tmp.PID.RAND (the next output) and .NAME.journal.tmp.PID.RAND (the
 * next journal), and the mark .NAME.staged (staging.h); and how a
 * directory entry is told apart from a source, so that json-merge never
 * reads one of them as input.  The PID in a temporary's name lets a later
 * run remove those of dead processes.
 *
 * Apart from journal.h because the naming is shared by everything that
 * looks in a leaf (sources, claims, staging), not only by the storage of
 * the journal.  Functions that can fail return -1 (or NULL) with errno
 * set; none prints anything.
 */
#ifndef LEAFPACK_JOURNALFILE_H
#define LEAFPACK_JOURNALFILE_H

#include <sys/types.h>

/*
 * The journal's name in the leaf directory for output name NAME:
 * ".NAME.journal", malloc()ed (caller frees), or NULL (ENOMEM).
 */
char *journal_name(const char *name);

/*
 * Creates a new temporary DIR/.NAME.SUFFIX.PID.RAND (suffix "tmp" for the
 * next output, "journal.tmp" for the next journal) with
 * O_CREAT|O_EXCL|O_WRONLY|O_CLOEXEC and mode, retrying on name clashes.
 * Returns the open fd and stores its malloc()ed name (relative to DIR) in
 * *created, or -1.
 */
int journal_temp_create(int dirfd, const char *name, const char *suffix,
    mode_t mode, char **created);

/* What a directory entry is with respect to output name NAME. */
enum journal_file {
	JOURNAL_FILE_OTHER,	/* anything else (a possible source) */
	JOURNAL_FILE_OUTPUT,	/* NAME itself */
	JOURNAL_FILE_JOURNAL,	/* .NAME.journal */
	JOURNAL_FILE_TEMP,	/* .NAME.tmp.PID.RAND or .NAME.journal.tmp.PID.RAND */
	JOURNAL_FILE_STAGED	/* .NAME.staged: the mark of a staged commit
				 * (staging.h) */
};

/*
 * Classifies directory entry entry for output name NAME; for a temporary
 * stores its PID in *pid (pid may be NULL).  json-merge never reads an
 * entry that is not JOURNAL_FILE_OTHER as a source.
 */
enum journal_file journal_classify(const char *entry, const char *name,
    long long *pid);

#endif
