/*
 * stallreport.h - the end of tree-scan's stalled directories: those still
 * stalled after the retries (or never tried, when the breaker stopped the
 * scan) are named on stderr, oldest first, and written to --stalled FILE
 * in the delimiter of stdout, so that a later run can be given them.
 *
 * A module of its own as it is the one reader of the stalled list to its
 * end and the one writer of --stalled FILE (opened in tree-scan.c's setup,
 * closed here); the worker pool only adds to the list and retries it.
 */
#ifndef LEAFPACK_STALLREPORT_H
#define LEAFPACK_STALLREPORT_H

#include "scanstate.h"

/* Names the directories that stayed stalled ("stalled (no answer in
 * 30s)"; those never tried were counted in the breaker's one line), writes
 * them to s->stalled_file and closes it, counts them in s->stalled_final
 * and releases them.  A write error ends the scan; a name with a newline
 * without -0 is said and left out of the file. */
void report_stalled(struct scan *s);

#endif
