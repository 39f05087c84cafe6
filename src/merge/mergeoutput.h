/*
 * mergeoutput.h - json-merge's two outputs: the leaf's existing output
 * (opened, checked line by line, sorted when it is out of key order, read
 * again to merge) and stdout (the records, plain or in data frames of the
 * leaf stream, hashed for the claim).
 */
#ifndef LEAFPACK_MERGEOUTPUT_H
#define LEAFPACK_MERGEOUTPUT_H

#include <stddef.h>

#include "mergeleaf.h"

/* Opens the existing output, if any (l->outfd, l->outst), and checks
 * that it is a regular file: 0 (also when there is none), or -1 (said). */
int open_output(struct leaf *l);

/*
 * Checks every line of the existing output before anything is written:
 * one invalid line fails the leaf (-1, said).  Notes in l->out_sorted
 * whether it is in key order (it is, unless --key changed or someone else
 * wrote it).
 */
int check_output(struct leaf *l);

/* runsort_input (ctx: the leaf): the existing output's records, read a
 * second time; a failure is left in l->failure. */
int output_next(void *ctx, const char **key, size_t *keylen,
    const char **record, size_t *reclen);

/* An existing output out of key order goes through the sorter, first:
 * 0, or -1 (said). */
int sort_output(struct leaf *l);

/* Writes out what the stdout buffer holds: 0, or -1 (l->failure). */
int output_flush(struct leaf *l);

/* runsort_emit_fn (ctx: the leaf): one record and its newline into the
 * stdout buffer, counted. */
int output_record(void *ctx, const char *record, size_t reclen);

#endif
