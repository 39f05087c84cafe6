#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *progname = "leafpack";
static void (*clear_hook)(void);

void
diag_init(const char *argv0)
{
	const char *slash;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	progname = slash ? slash + 1 : argv0;
}

const char *
diag_progname(void)
{
	return progname;
}

void
diag_set_clear_hook(void (*clear)(void))
{
	clear_hook = clear;
}

static void
vmessage(int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	char buf[8192];
	int len;

	if (clear_hook)
		clear_hook();
	/* One write per message, so that messages of concurrent processes
	 * sharing a stderr never interleave within a line. */
	len = snprintf(buf, sizeof(buf), "%s: ", progname);
	len += vsnprintf(buf + len, sizeof(buf) - len, fmt, ap);
	if (len >= (int)sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	if (with_errno) {
		len += snprintf(buf + len, sizeof(buf) - len, ": %s",
		    strerror(saved));
		if (len >= (int)sizeof(buf) - 2)
			len = sizeof(buf) - 2;
	}
	buf[len++] = '\n';
	fwrite(buf, 1, len, stderr);
	fflush(stderr);
	errno = saved;
}

void
diag_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(0, fmt, ap);
	va_end(ap);
}

void
diag_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(1, fmt, ap);
	va_end(ap);
}

void
diag_errx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(0, fmt, ap);
	va_end(ap);
	exit(status);
}

void
diag_err(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(1, fmt, ap);
	va_end(ap);
	exit(status);
}

const char *
diag_quote(const char *path)
{
	static char bufs[2][4096 * 4 + 1];
	static int which;
	char *out = bufs[which];
	size_t n = 0;
	const unsigned char *p;

	which ^= 1;
	for (p = (const unsigned char *)path; *p && n < sizeof(bufs[0]) - 5;
	    p++) {
		if (*p == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else if (*p == '\t') {
			out[n++] = '\\';
			out[n++] = 't';
		} else if (*p == '\\') {
			out[n++] = '\\';
			out[n++] = '\\';
		} else if (*p < 0x20 || *p == 0x7f) {
			n += snprintf(out + n, 5, "\\%03o", *p);
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return out;
}

int
diag_close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		diag_warn("stdout");
		return -1;
	}
	if (fclose(stdout) != 0) {
		diag_warn("stdout");
		return -1;
	}
	return 0;
}
