/*
 * fixture.c - reading and replaying the fuzz fixtures (see check.h and
 * README.md for the format; fixture.py is the same in Python).
 */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes one line of a fixture (no newline) onto out. */
static int
fixture_line(const char *s, size_t n, struct buf *out)
{
	size_t i;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '\\' && i + 1 < n && s[i + 1] == '\\') {
			i++;
		} else if (c == '\\') {
			if (i + 3 >= n || s[i + 1] != 'x' ||
			    (hi = hex_digit(s[i + 2])) < 0 ||
			    (lo = hex_digit(s[i + 3])) < 0) {
				errno = EINVAL;
				return -1;
			}
			c = (char)(hi << 4 | lo);
			i += 3;
		}
		if (buf_append(out, &c, 1) < 0)
			return -1;
	}
	return 0;
}

int
fuzzcheck_fixture_read(const char *path, struct buf *out)
{
	struct buf text = { 0 };
	char chunk[4096];
	const char *p, *nl, *end;
	size_t n;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	out->len = 0;
	if (f == NULL)
		return -1;
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_append(&text, chunk, n);
	if (ferror(f))
		rc = -1;
	fclose(f);
	p = text.data;
	end = p + text.len;
	for (; rc == 0 && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (*p != '#')
			rc = fixture_line(p, (size_t)(nl - p), out);
	}
	buf_free(&text);
	return rc;
}

int
fuzzcheck_replay(const char *prefix,
    const char *(*check)(const uint8_t *, size_t))
{
	const char *tests = getenv("LEAFPACK_TESTS"), *why;
	char dir[4096], path[4096 + 512];
	struct buf input = { 0 };
	struct dirent *e;
	int bad = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/fuzz/fixtures",
	    tests != NULL ? tests : "tests");
	if ((d = opendir(dir)) == NULL) {
		printf("FAIL: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (fuzzcheck_fixture_read(path, &input) < 0) {
			printf("FAIL: %s: cannot read: %s\n", path,
			    strerror(errno));
			bad++;
		} else if ((why = check((const uint8_t *)input.data,
		    input.len)) != NULL) {
			printf("FAIL: %s: %s\n", path, why);
			bad++;
		}
	}
	closedir(d);
	buf_free(&input);
	return bad;
}
