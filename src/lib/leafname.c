/*
 * leafname.c - leaves wanted by name (see leafname.h).
 */
#include "leafname.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "pathstream.h"

static int
add(char ***list, size_t *n, size_t *cap, const char *s)
{
	if (RESERVE(*list, *cap, *n + 1) < 0 ||
	    ((*list)[*n] = strdup(s)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
leafname_add_glob(struct leafname_filter *f, const char *glob)
{
	return add(&f->globs, &f->nglobs, &f->globcap, glob);
}

int
leafname_load(struct leafname_filter *f, const char *file)
{
	FILE *in = fopen(file, "re");
	struct pathstream ps;
	ssize_t len;
	char *line;
	int ret = 0, saved;

	if (in == NULL)
		return -1;
	pathstream_init(&ps, in, '\n');
	while ((len = pathstream_read(&ps, &line)) > 0)
		if (add(&f->names, &f->nnames, &f->namecap, line) < 0) {
			ret = -1;
			break;
		}
	if (len < 0)
		ret = -1;
	saved = errno;
	pathstream_free(&ps);
	fclose(in);
	errno = saved;
	if (f->nnames > 1)
		qsort(f->names, f->nnames, sizeof(*f->names), compare_strings);
	f->names_given = true;
	return ret;
}

/* The last component of path, ignoring trailing slashes, into buf. */
static const char *
leaf_name(const char *path, char *buf, size_t size)
{
	size_t len = strlen(path);
	const char *start;

	while (len > 1 && path[len - 1] == '/')
		len--;
	start = path + len;
	while (start > path && start[-1] != '/')
		start--;
	len -= (size_t)(start - path);
	if (len >= size)
		len = size - 1;
	memcpy(buf, start, len);
	buf[len] = '\0';
	return buf;
}

bool
leafname_selective(const struct leafname_filter *f)
{
	return f->nglobs > 0 || f->names_given;
}

bool
leafname_wanted(const struct leafname_filter *f, const char *path)
{
	char buf[NAME_MAX + 1];
	const char *name;

	if (!leafname_selective(f))
		return true;
	name = leaf_name(path, buf, sizeof(buf));
	for (size_t i = 0; i < f->nglobs; i++)
		if (fnmatch(f->globs[i], name, 0) == 0)
			return true;
	return f->nnames > 0 && bsearch(&name, f->names, f->nnames,
	    sizeof(*f->names), compare_strings) != NULL;
}

static void
free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void
leafname_free(struct leafname_filter *f)
{
	free_list(f->globs, f->nglobs);
	free_list(f->names, f->nnames);
	memset(f, 0, sizeof(*f));
}
