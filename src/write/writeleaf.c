/*
 * writeleaf.c - one output of jsonl-write, from its temporary to its
 * close (writeleaf.h).
 */
#include "writeleaf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "claim.h"
#include "diag.h"
#include "exitcode.h"
#include "share.h"
#include "watch.h"
#include "writestaged.h"
#include "xstd.h"

static const int caught_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

struct temp_handler handler;

static void
on_signal(int sig)
{
	/* unlinkat() and _exit() are async-signal-safe. */
	if (handler.live)
		unlinkat(handler.dirfd, handler.temp, 0);
	_exit(128 + sig);
}

void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < countof(caught_signals); i++)
		sigaction(caught_signals[i], &sa, NULL);
}

/* Removes the temporary (if still there); the previous output is intact. */
void
remove_temp(void)
{
	if (handler.live) {
		handler.live = 0;
		share_unlinkat(handler.dirfd, handler.temp, 0);
	}
}

/* NAME of DIR/NAME (the whole path when it has no '/'). */
const char *
output_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * Starts the leaf for DIR/NAME (path, not owned; not yet checked): nothing
 * is open.  Returns -1 when out of memory; leaf_close() is safe anyway.
 */
int
leaf_init(struct leaf *leaf, char *path)
{
	const char *slash = strrchr(path, '/');

	memset(leaf, 0, sizeof(*leaf));
	leaf->fd = leaf->dirfd = -1;
	leaf->path = path;
	leaf->name = output_name(path);
	journal_hash_init(&leaf->hash);
	stats_clock_start(&leaf->clock);
	if (slash == NULL)
		leaf->dir = strdup(".");
	else if (slash == path)
		leaf->dir = strdup("/");
	else
		leaf->dir = strndup(path, (size_t)(slash - path));
	leaf->jname = journal_name(leaf->name);
	return leaf->dir == NULL || leaf->jname == NULL ? -1 : 0;
}

/* DIR/name for messages, quoted; two calls fit in one message. */
const char *
leaf_path(const struct leaf *leaf, const char *name)
{
	static char buf[2][PATH_MAX * 2];
	static int which;

	which = !which;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", leaf->dir, name);
	return diag_quote(buf[which]);
}

/*
 * Fails the leaf before its commit: nothing was replaced or removed.  The
 * temporary goes first, so that whoever reads the message finds it gone.
 * Returns EXITCODE_FAILED.
 */
int __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	char msg[PATH_MAX * 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	remove_temp();
	diag_warnx("%s", msg);
	return EXITCODE_FAILED;
}

/* A write (or fstat, fsync, close) of the temporary failed: errno. */
int
temp_failed(const struct leaf *leaf)
{
	return fail("%s: %s", leaf_path(leaf, leaf->temp), strerror(errno));
}

/* Opens DIR and creates the temporary there. */
int
leaf_open_temp(struct leaf *leaf)
{
	sigset_t held, saved_mask;

	watch_set_dir(leaf->dir);
	leaf->dirfd = share_open(leaf->dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (leaf->dirfd == -1)
		return fail("%s: %s", diag_quote(leaf->dir), strerror(errno));
	/* A signal between the creation and handler.live would leave the
	 * temporary behind: hold them until the handler knows its name. */
	sigemptyset(&held);
	for (size_t i = 0; i < countof(caught_signals); i++)
		sigaddset(&held, caught_signals[i]);
	sigprocmask(SIG_BLOCK, &held, &saved_mask);
	/* Created 0600: nobody reads it before its mode is decided. */
	leaf->fd = journal_temp_create(leaf->dirfd, leaf->name, "tmp", 0600,
	    &leaf->temp);
	if (leaf->fd == -1 && errno == ENOSPC) {
		int staged = stage_temp(leaf, false);

		if (staged < 0) {
			sigprocmask(SIG_SETMASK, &saved_mask, NULL);
			if (staged == -2 || no_inodes(leaf))
				return EXITCODE_FAILED;
			errno = ENOSPC;
		}
	}
	if (leaf->fd == -1) {
		sigprocmask(SIG_SETMASK, &saved_mask, NULL);
		return fail("%s: cannot create a temporary file: %s",
		    diag_quote(leaf->dir), strerror(errno));
	}
	snprintf(handler.temp, sizeof(handler.temp), "%s", leaf->temp);
	handler.dirfd = leaf->staged ? opt.stagefd : leaf->dirfd;
	handler.live = 1;
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	return EXITCODE_DONE;
}

/* Writes bytes to the temporary, hashing them as they go out. */
int
temp_write(struct leaf *leaf, const char *p, size_t len)
{
	journal_hash_update(&leaf->hash, p, len);
	if (share_write_all(leaf->fd, leaf->temp, p, len) < 0)
		return temp_failed(leaf);
	return EXITCODE_DONE;
}

/* Frees what the leaf holds; the temporary, if still there, is removed. */
void
leaf_close(struct leaf *leaf)
{
	claim_record_free(&leaf->record);
	pins_free(&leaf->pins);
	journal_free(&leaf->claim);
	buf_free(&leaf->first_name);
	journal_redirect_clear();
	remove_temp();
	share_close_quietly(&leaf->fd, leaf->temp);
	share_close_quietly(&leaf->dirfd, NULL);
	watch_set_dir(NULL);
	free(leaf->temp);
	free(leaf->dir);
	free(leaf->jname);
	buf_free(&leaf->wbuf);
	json_object_put(leaf->merge_end);
}
