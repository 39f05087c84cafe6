#include "progress.h"

#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int enabled;
static int drawn;		/* the line is on the screen now */
static int width = 80;
static struct timespec started;
static double last_draw = -1.0;

static double
seconds_since(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) +
	    (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* Writes the whole buffer; a status line is best effort, so errors are
 * dropped (a broken stderr must not stop the job). */
static void
write_all(const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(STDERR_FILENO, buf, len);
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

int
progress_init(int force)
{
	struct winsize ws;

	clock_gettime(CLOCK_MONOTONIC, &started);
	enabled = force || isatty(STDERR_FILENO);
	if (!enabled)
		return 0;
	/* A line longer than the terminal wraps, and "\r" then redraws only
	 * its last row: keep it one column short of the width. */
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		width = ws.ws_col;
	fflush(stderr);
	diag_set_clear_hook(progress_clear);
	return 1;
}

int
progress_enabled(void)
{
	return enabled;
}

int
progress_due(void)
{
	double now;

	if (!enabled)
		return 0;
	now = seconds_since(&started);
	return last_draw < 0 ||
	    (now - last_draw) * 1000 >= PROGRESS_INTERVAL_MS;
}

void
progress_show(const char *fmt, ...)
{
	char line[512];
	char text[sizeof(line) - 8];
	va_list ap;
	int len, max;

	if (!enabled)
		return;
	va_start(ap, fmt);
	len = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	max = width - 1;
	if (max > (int)sizeof(text) - 1)
		max = sizeof(text) - 1;
	if (len > max)
		len = max;
	/* One write per drawing, so the terminal never shows half a line. */
	len = snprintf(line, sizeof(line), "\r%.*s\033[K", len, text);
	write_all(line, len);
	drawn = 1;
	last_draw = seconds_since(&started);
}

void
progress_clear(void)
{
	if (!drawn)
		return;
	write_all("\r\033[K", 4);
	drawn = 0;
}

void
progress_end(void)
{
	if (!enabled)
		return;
	progress_clear();
	diag_set_clear_hook(NULL);
	enabled = 0;
}

double
progress_seconds(void)
{
	return seconds_since(&started);
}
