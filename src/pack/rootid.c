/*
 * rootid.c - leafpack --root-id (see rootid.h).
 */
#include "rootid.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "diag.h"
#include "exitcode.h"
#include "version.h"
#include "xstd.h"

static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The identity of the tree at path (see rootid.h); -1 (said). */
static int
root_id(const char *path, uint64_t *id)
{
	char buf[65536], **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	ssize_t got;
	DIR *d;
	int fd, marker;

	*id = 0xcbf29ce484222325ULL;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		diag_warn("%s", diag_quote(path));
		return -1;
	}
	if ((marker = openat(fd, ".leafpack-root", O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) >= 0) {
		*id = fnv1a(*id, "marker", 7);
		while ((got = xread(marker, buf, sizeof(buf))) > 0)
			*id = fnv1a(*id, buf, (size_t)got);
		close(marker);
		close(fd);
		if (got < 0) {
			diag_warn("%s/.leafpack-root", diag_quote(path));
			return -1;
		}
		return 0;
	}
	if ((d = fdopendir(fd)) == NULL) {
		diag_warn("%s", diag_quote(path));
		close(fd);
		return -1;
	}
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (RESERVE(names, cap, n + 1) < 0 ||
		    (names[n] = strdup(e->d_name)) == NULL)
			diag_err(EXITCODE_FAILED, "out of memory");
		n++;
		errno = 0;
	}
	if (errno != 0)
		diag_warn("%s", diag_quote(path));
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), compare_names);
	*id = fnv1a(*id, "names", 6);
	for (size_t i = 0; i < n; i++) {
		*id = fnv1a(*id, names[i], strlen(names[i]) + 1);
		free(names[i]);
	}
	free(names);
	return errno != 0 ? -1 : 0;
}

int
rootid_print(const struct context *ctx)
{
	int status = EXITCODE_DONE;
	uint64_t id;

	/* A share that hangs ends the look, as any call on it would. */
	alarm((unsigned)((ctx->timeout_ms + 999) / 1000));
	printf("leafpack %s\n", LEAFPACK_VERSION);
	for (size_t i = 0; i < ctx->npaths; i++) {
		if (root_id(ctx->paths[i], &id) < 0) {
			printf("- %s\n", ctx->paths[i]);
			status = EXITCODE_FAILED;
		} else
			printf("%016llx %s\n", (unsigned long long)id,
			    ctx->paths[i]);
	}
	if (diag_close_stdout() < 0)
		status = EXITCODE_FAILED;
	return status;
}
