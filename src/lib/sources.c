#include "sources.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "journal.h"
#include "share.h"
#include "watch.h"

void
sources_rules_init(struct sources_rules *rules, const char *const *globs,
    size_t nglobs, const char *output, long long min_age_ms)
{
	rules->globs = globs;
	rules->nglobs = nglobs;
	rules->output = output;
	rules->min_age_ms = min_age_ms;
	rules->staged = NULL;
	rules->temps = NULL;
	clock_gettime(CLOCK_REALTIME, &rules->now);
}

int
sources_is_protocol_name(const char *name, const char *output)
{
	return journal_classify(name, output, NULL) != JOURNAL_FILE_OTHER;
}

int
sources_name_matches(const struct sources_rules *rules, const char *name)
{
	int match = 0;

	if (rules->nglobs == 0)
		match = fnmatch(SOURCES_DEFAULT_MATCH, name, 0) == 0;
	for (size_t i = 0; i < rules->nglobs && !match; i++)
		match = fnmatch(rules->globs[i], name, 0) == 0;
	return match && !sources_is_protocol_name(name, rules->output);
}

bool
sources_held_open(int fd, const char *name)
{
	int r, err;

	/* Announced: on a network file system a lease is the server's. */
	watch_begin(WATCH_STAT, name);
	if ((r = fcntl(fd, F_SETLEASE, F_WRLCK)) == 0)
		fcntl(fd, F_SETLEASE, F_UNLCK);
	err = errno;
	watch_end();
	return r == -1 && (err == EAGAIN || err == EBUSY);
}

enum sources_verdict
sources_classify(const struct sources_rules *rules, const char *name,
    const struct stat *st)
{
	long long age_ms;

	if (!sources_name_matches(rules, name))
		return SOURCES_IGNORED;
	if (S_ISLNK(st->st_mode))
		return SOURCES_SYMLINK;
	if (!S_ISREG(st->st_mode))
		return SOURCES_NOT_REGULAR;
	if (rules->min_age_ms > 0) {
		age_ms = (long long)(rules->now.tv_sec - st->st_mtim.tv_sec) *
		    1000 + (rules->now.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
		if (age_ms < rules->min_age_ms)
			return SOURCES_TOO_YOUNG;
	}
	return SOURCES_ELIGIBLE;
}

/* The key of a name's record: the name, without its NUL. */
static void
name_key(const char *rec, size_t len, const char **key, size_t *keylen)
{
	*key = rec;
	*keylen = len > 0 ? len - 1 : 0;
}

int
sources_list(int dirfd, const struct sources_rules *rules,
    struct spill *names)
{
	static struct share_dir dir;	/* 32 KiB: not on the stack */
	const char *name;
	int saved;

	if (share_dir_start(&dir, dirfd, NULL) < 0)
		return -1;
	memset(names, 0, sizeof(*names));
	if (rules->staged != NULL)
		*rules->staged = false;
	if (rules->temps != NULL)
		*rules->temps = false;
	for (;;) {
		if ((name = share_dir_next(&dir)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (name[0] == '.' && (rules->staged != NULL ||
		    rules->temps != NULL)) {
			switch (journal_classify(name, rules->output, NULL)) {
			case JOURNAL_FILE_STAGED:
				if (rules->staged != NULL)
					*rules->staged = true;
				break;
			case JOURNAL_FILE_TEMP:
				if (rules->temps != NULL)
					*rules->temps = true;
				break;
			default:
				break;
			}
		}
		if (!sources_name_matches(rules, name))
			continue;
		if (spill_add(names, name, strlen(name) + 1) < 0)
			goto fail;
	}
	if (spill_sort(names, name_key) < 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	spill_free(names);
	errno = saved;
	return -1;
}

int
sources_next(struct spill_cursor *c, const char **name)
{
	size_t len;
	int r = spill_next(c, name, &len);

	if (r == 1 && (len == 0 || (*name)[len - 1] != '\0')) {
		errno = EIO;
		return -1;
	}
	return r;
}
