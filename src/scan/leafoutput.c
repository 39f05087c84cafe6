/*
 * leafoutput.c - the leaves on stdout, as found or sorted
 * (leafoutput.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "diag.h"
#include "dirtree.h"
#include "exitcode.h"
#include "leafoutput.h"
#include "scanstate.h"

static void
output_check(void)
{
	if (ferror(stdout)) {
		errno = errno ? errno : EIO;
		diag_err(EXITCODE_FAILED, "stdout");
	}
}

void
output_flush(struct scan *s)
{
	if (!s->out_dirty)
		return;
	if (fflush(stdout) != 0)
		diag_err(EXITCODE_FAILED, "stdout");
	s->out_dirty = 0;
}

void
emit_leaf(struct scan *s, struct dirnode *n)
{
	const char *path = dirtree_path(&s->tree, n);

	if (n->newline && s->delim == '\n') {
		diag_warnx("%s: name contains a newline, not printed "
		    "(use -0)", diag_quote(path));
		s->errors++;
		return;
	}
	s->leaves++;
	if (s->sort) {
		if (RESERVE(s->offsets, s->offcap, s->noffsets + 1) < 0)
			out_of_memory();
		s->offsets[s->noffsets++] = s->sorted.len;
		scan_append(&s->sorted, path, s->tree.path.len + 1);
		return;
	}
	s->tree.path.data[s->tree.path.len] = s->delim;
	if (fwrite_unlocked(path, 1, s->tree.path.len + 1, stdout) !=
	    s->tree.path.len + 1)
		output_check();
	s->out_dirty = 1;
}

static int
compare_paths(const void *a, const void *b, void *arg)
{
	const char *base = arg;

	return strcmp(base + *(const size_t *)a, base + *(const size_t *)b);
}

void
emit_sorted(struct scan *s)
{
	qsort_r(s->offsets, s->noffsets, sizeof(*s->offsets), compare_paths,
	    s->sorted.data);
	for (size_t i = 0; i < s->noffsets; i++) {
		const char *p = s->sorted.data + s->offsets[i];

		if (fputs_unlocked(p, stdout) == EOF ||
		    putc_unlocked(s->delim, stdout) == EOF)
			output_check();
	}
	s->out_dirty = 1;
}
