#include "progress.h"

#include "diag.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int enabled;
static int drawn;		/* the line is on the screen now */
static int width;		/* the terminal's; 0: not a terminal, no limit */
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
	 * its last row: keep it one column short of the width.  Forced onto
	 * a file or a pipe (a log), the line has no width to keep to. */
	width = 0;
	if (isatty(STDERR_FILENO))
		width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 &&
		    ws.ws_col > 10 ? ws.ws_col : 80;
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
	max = progress_width();
	if (len > max)
		len = max;
	/* One write per drawing, so the terminal never shows half a line. */
	len = snprintf(line, sizeof(line), "\r%.*s\033[K", len, text);
	write_all(line, len);
	drawn = 1;
	last_draw = seconds_since(&started);
}

int
progress_width(void)
{
	/* What progress_show() can hold: 503 characters. */
	int most = PROGRESS_LINE_MAX;

	return width > 0 && width - 1 < most ? width - 1 : most;
}

void
progress_add(struct progress_line *line, int rank, const char *fmt, ...)
{
	va_list ap;

	if (line->n == PROGRESS_FIELDS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(line->field[line->n].text, PROGRESS_FIELD_MAX, fmt, ap);
	va_end(ap);
	line->field[line->n++].rank = rank;
}

void
progress_show_line(const struct progress_line *line)
{
	char text[PROGRESS_LINE_MAX + 1];
	bool shown[PROGRESS_FIELDS_MAX] = { false };
	size_t used = 0, count = 0, pos = 0, max = (size_t)progress_width();

	if (!enabled)
		return;
	/* The most important first, each where it still fits: a narrow
	 * terminal loses the least important fields, not the line's end. */
	for (int rank = 0; rank <= PROGRESS_RANK_LAST; rank++)
		for (size_t i = 0; i < line->n; i++) {
			size_t need = strlen(line->field[i].text) +
			    (count ? 2 : 0);

			if (line->field[i].rank != rank || used + need > max)
				continue;
			shown[i] = true;
			used += need;
			count++;
		}
	for (size_t i = 0; i < line->n; i++)
		if (shown[i])
			pos += (size_t)snprintf(text + pos, sizeof(text) - pos,
			    "%s%s", pos ? ", " : "", line->field[i].text);
	progress_show("%s", text);
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
