/*
 * mergeleaf.c - one leaf of json-merge's: made, reset, freed; its paths
 * and common messages (mergeleaf.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "mergeleaf.h"
#include "share.h"
#include "watch.h"

/* The stdout buffer, kept from leaf to leaf. */
#define WRITE_SIZE (256 * 1024)


/* Makes what is kept from leaf to leaf; exits 4 when out of memory. */
void
leaf_init(struct leaf *l)
{
	memset(l, 0, sizeof(*l));
	l->dirfd = l->outfd = l->srcfd = -1;
	if (jsonscan_keypath_parse(opt.key, &l->keypath) < 0 ||
	    sourceload_init(&l->load, &l->keypath) < 0 ||
	    buf_reserve(&l->out.buf, WRITE_SIZE) < 0 ||
	    (l->journal_name = journal_name(opt.output)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	/* In the leaf stream our claim goes to jsonl-write, which looks at
	 * every source again before it publishes anything. */
	l->load.trust_reader = opt.streaming && opt.claim != OPT_CLAIM_NEVER;
}

/* Starts the leaf dir: no counts yet, its clock running. */
void
leaf_start(struct leaf *l, const char *dir)
{
	l->dir = dir;
	memset(&l->stats, 0, sizeof(l->stats));
	stats_clock_start(&l->clock);
	l->unchanged = l->busy = false;
	l->waiting = l->resumed = l->claim_staged = false;
}

/* Gives back what one leaf held, succeeded or failed, keeping the
 * buffers and the sorter's arena for the next. */
void
leaf_reset(struct leaf *l)
{
	share_close_quietly(&l->srcfd, l->srcname);
	spill_free(&l->names);
	l->listed = false;
	spill_free(&l->consumed);
	claim_free(&l->claim);
	journal_redirect_clear();
	share_close_quietly(&l->outfd, opt.output);
	share_close_quietly(&l->dirfd, NULL);
	watch_set_dir(NULL);
	l->out_sorted = false;
	l->sorting = false;
	l->failure = LEAF_FAILED_SORTING;
}

/* Frees everything (the process ends anyway; this keeps leak checkers
 * meaningful). */
void
leaf_free(struct leaf *l)
{
	leaf_reset(l);
	runsort_free(l->sorter);
	jsonscan_keypath_free(&l->keypath);
	sourceload_free(&l->load);
	buf_free(&l->out.buf);
	jsonlines_free(&l->lines);
	sortkey_buf_free(&l->prev_key);
	free(l->journal_name);
}

/* "DIR/name" for messages, quoted (diag_quote's rotating buffers). */
const char *
leaf_path(const struct leaf *l, const char *name)
{
	char buf[PATH_MAX * 2];
	size_t n = strlen(l->dir);

	snprintf(buf, sizeof(buf), "%s%s%s", l->dir,
	    n > 0 && l->dir[n - 1] == '/' ? "" : "/", name);
	return diag_quote(buf);
}

int
out_of_memory(void)
{
	diag_warnx("out of memory");
	return -1;
}

/* A failure of the sorter (its temporary files, or memory): errno. */
int
sorter_failed(void)
{
	const char *tmp = getenv("TMPDIR");

	diag_warnx("sorting in %s: %s", diag_quote(tmp && *tmp ? tmp :
	    "/tmp"), strerror(errno));
	return -1;
}

/* The message for what a runsort callback left in l->failure. */
int
callback_failed(const struct leaf *l)
{
	const char *tmp = getenv("TMPDIR");
	int saved = errno;

	switch (l->failure) {
	case LEAF_FAILED_MEMORY:
		return out_of_memory();
	case LEAF_FAILED_STDOUT:
		diag_warnx("stdout: %s", strerror(saved));
		break;
	case LEAF_FAILED_OUTPUT:
		diag_warnx("%s: %s", leaf_path(l, opt.output), strerror(saved));
		break;
	case LEAF_FAILED_SORTING:
		diag_warnx("%s: %s", diag_quote(tmp && *tmp ? tmp : "/tmp"),
		    strerror(saved));
		break;
	}
	return -1;
}
