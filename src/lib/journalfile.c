/*
 * journalfile.c - the names of a leaf's own files for an output name, and
 * how a directory entry is told apart from a source (see journalfile.h).
 */
#include "journalfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "share.h"
static char *
concat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

char *
journal_name(const char *name)
{
	return concat3(".", name, ".journal");
}


int
journal_temp_create(int dirfd, const char *name, const char *suffix,
    mode_t mode, char **created)
{
	char tail[64];
	uint32_t rnd;
	int fd;

	for (int tries = 0; tries < 100; tries++) {
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
			rnd = (uint32_t)time(NULL) ^ ((uint32_t)tries << 16) ^
			    (uint32_t)clock();
		snprintf(tail, sizeof(tail), ".%s.%ld.%08x", suffix,
		    (long)getpid(), (unsigned)rnd);
		*created = concat3(".", name, tail);
		if (*created == NULL)
			return -1;
		fd = share_openat(dirfd, *created,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd >= 0)
			return fd;
		free(*created);
		*created = NULL;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* Matches "<prefix><digits>.<something>", storing the digits in *pid. */
static int
match_temp(const char *entry, const char *prefix, long long *pid)
{
	size_t len = strlen(prefix);
	const char *p;
	long long n = 0;

	if (strncmp(entry, prefix, len) != 0)
		return 0;
	p = entry + len;
	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (LLONG_MAX - 9) / 10)
			return 0;
		n = n * 10 + (*p - '0');
	}
	if (p[0] != '.' || p[1] == '\0')
		return 0;
	if (pid != NULL)
		*pid = n;
	return 1;
}

enum journal_file
journal_classify(const char *entry, const char *name, long long *pid)
{
	size_t len = strlen(name);
	const char *rest;

	if (strcmp(entry, name) == 0)
		return JOURNAL_FILE_OUTPUT;
	if (entry[0] != '.' || strncmp(entry + 1, name, len) != 0)
		return JOURNAL_FILE_OTHER;
	rest = entry + 1 + len;
	if (strcmp(rest, ".journal") == 0)
		return JOURNAL_FILE_JOURNAL;
	if (strcmp(rest, ".staged") == 0)
		return JOURNAL_FILE_STAGED;
	if (match_temp(rest, ".tmp.", pid) ||
	    match_temp(rest, ".journal.tmp.", pid))
		return JOURNAL_FILE_TEMP;
	return JOURNAL_FILE_OTHER;
}
