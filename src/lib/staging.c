/*
 * staging.c - a share with no free inode (see staging.h).
 */
#include "staging.h"

#include <stdio.h>
#include <string.h>

#include "diag.h"

void
staging_format_count(char *buf, size_t size, unsigned long long n)
{
	char digits[32], out[48];
	size_t len, k = 0;

	snprintf(digits, sizeof(digits), "%llu", n);
	len = strlen(digits);
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[k++] = ',';
		out[k++] = digits[i];
	}
	out[k] = '\0';
	snprintf(buf, size, "%s", out);
}

void
staging_warn_no_inodes(const char *path, unsigned long long total)
{
	char count[48];
	int indent = (int)strlen(diag_progname()) + 2;

	staging_format_count(count, sizeof(count), total);
	diag_warnx("%s: no free inodes (0 of %s): nothing can be created "
	    "there;\n%*srun with --staging DIR, a directory on another file "
	    "system with room for one leaf", diag_quote(path), count, indent,
	    "");
}
