#include "pathstream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
pathstream_init(struct pathstream *ps, FILE *file, int delim)
{
	ps->file = file;
	ps->delim = delim;
	ps->buf = NULL;
	ps->cap = 0;
	ps->count = 0;
}

ssize_t
pathstream_read(struct pathstream *ps, char **path)
{
	ssize_t len;

	for (;;) {
		errno = 0;
		len = getdelim(&ps->buf, &ps->cap, ps->delim, ps->file);
		if (len < 0)
			return ferror(ps->file) ? -1 : 0;
		if (len > 0 && ps->buf[len - 1] == ps->delim)
			ps->buf[--len] = '\0';
		if (len == 0)
			continue;
		ps->count++;
		*path = ps->buf;
		return len;
	}
}

void
pathstream_free(struct pathstream *ps)
{
	free(ps->buf);
	ps->buf = NULL;
	ps->cap = 0;
}

int
pathstream_write(FILE *file, const char *path, int delim)
{
	if (delim == '\n' && strchr(path, '\n') != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (fputs(path, file) == EOF || putc(delim, file) == EOF)
		return -1;
	return 0;
}
