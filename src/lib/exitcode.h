/*
 * exitcode.h - the exit statuses every leafpack program shares.
 *
 * They are part of each program's interface (listed in every man page's
 * EXIT STATUS section) and must never change meaning.  None of them is 255:
 * xargs(1) stops a whole batch when a command exits 255.  A program killed
 * by a signal, or stopping because of one, exits 128 + the signal number.
 */
#ifndef LEAFPACK_EXITCODE_H
#define LEAFPACK_EXITCODE_H

/* Everything asked for was done. */
#define EXITCODE_DONE 0
/* Done, but some items were skipped: unreadable directories, invalid or
 * too-young sources, sources kept because they changed. */
#define EXITCODE_PARTIAL 1
/* Bad command line; nothing was done. */
#define EXITCODE_USAGE 2
/* Done, but some directories stalled (timed out) and were left out.
 * Takes precedence over EXITCODE_PARTIAL. */
#define EXITCODE_STALLED 3
/* The job failed; what it would have replaced or removed is untouched.
 * (Not libc's EXIT_FAILURE, which is 1: here 1 means "partial".) */
#define EXITCODE_FAILED 4

#endif
