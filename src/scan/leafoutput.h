/*
 * leafoutput.h - tree-scan's stdout: the leaves found, one path each,
 * terminated by the -0 or newline delimiter, as they are read (in large
 * blocks, flushed when the workers fall quiet) or, with --sort, kept and
 * printed byte-sorted at the end.  A path with a newline is not printed
 * without -0 (an error, said).  Only the parent writes stdout.
 *
 * A module of its own as it is the one place that writes stdout and the
 * one that owns --sort's buffer: the worker pool hands it each leaf.
 */
#ifndef LEAFPACK_LEAFOUTPUT_H
#define LEAFPACK_LEAFOUTPUT_H

#include "dirtree.h"
#include "scanstate.h"

/* Flushes stdout if leaves were written since the last flush; an error
 * ends the scan. */
void output_flush(struct scan *s);

/* The leaf n (a directory read, with no subdirectory): printed, or with
 * --sort kept for emit_sorted(); counted in s->leaves, or in s->errors
 * when its name cannot be printed. */
void emit_leaf(struct scan *s, struct dirnode *n);

/* --sort, at the end: the leaves kept, byte-sorted, to stdout. */
void emit_sorted(struct scan *s);

#endif
