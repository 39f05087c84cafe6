/*
 * stallreport.c - the stalled directories named and written to --stalled
 * FILE (stallreport.h).
 */
#include <errno.h>
#include <stdio.h>

#include "diag.h"
#include "dirtree.h"
#include "exitcode.h"
#include "pathstream.h"
#include "scanstate.h"
#include "stallreport.h"

static void
format_timeout(char *out, size_t size, long long ms)
{
	if (ms % 1000 == 0)
		snprintf(out, size, "%llds", ms / 1000);
	else
		snprintf(out, size, "%gs", ms / 1000.0);
}

/* Names the directories that stayed stalled; writes --stalled FILE. */
void
report_stalled(struct scan *s)
{
	struct dirnode *list = NULL, *n;
	char timeout[32];

	format_timeout(timeout, sizeof(timeout), s->timeout_ms);
	/* Oldest first: the order they stalled in. */
	while ((n = s->stalled) != NULL) {
		s->stalled = n->next;
		n->next = list;
		list = n;
	}
	while ((n = list) != NULL) {
		const char *path = dirtree_path(&s->tree, n);

		list = n->next;
		s->stalled_final++;
		/* Those never tried were counted in one line. */
		if (!n->untried)
			diag_warnx("%s: stalled (no answer in %s)",
			    diag_quote(path), timeout);
		if (s->stalled_file != NULL &&
		    pathstream_write(s->stalled_file, path, s->delim) != 0) {
			if (errno == EINVAL)
				diag_warnx("%s: name contains a newline, not "
				    "written to %s (use -0)", diag_quote(path),
				    diag_quote(s->stalled_path));
			else
				diag_err(EXITCODE_FAILED, "%s",
				    diag_quote(s->stalled_path));
		}
		dirtree_release(&s->tree, n);
	}
	s->nstalled = 0;
	if (s->stalled_file != NULL && fclose(s->stalled_file) != 0)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(s->stalled_path));
	s->stalled_file = NULL;
}
