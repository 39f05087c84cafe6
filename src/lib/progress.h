/*
 * progress.h - one status line on stderr, redrawn in place.
 *
 * A long-running program shows how far it got on a single line that it
 * rewrites ("\r" + text + erase to end of line), at most a few times a
 * second so that drawing never costs measurable time.  The line is shown
 * when stderr is a terminal or when the user forces it (--progress), and it
 * is erased before any diagnostic (through diag_set_clear_hook) and at the
 * end, so messages and the status line never share a line.
 *
 * There is one status line per process; the functions keep its state.
 */
#ifndef LEAFPACK_PROGRESS_H
#define LEAFPACK_PROGRESS_H

#include <stddef.h>

/*
 * Turns the status line on when force is non-zero or stderr is a terminal,
 * and registers the erase hook with diag.  Also starts the clock that
 * progress_seconds() reads (even when the line stays off).  Returns 1 when
 * the line is on, 0 when it is off.
 */
int progress_init(int force);

/* 1 when the status line is on. */
int progress_enabled(void);

/*
 * 1 when the line is on and the last drawing is old enough (200 ms) for a
 * new one.  Cheap (reads the monotonic clock): call it as often as you like
 * and build the text only when it says so.
 */
int progress_due(void);

/*
 * Draws the line from a printf format, truncated to progress_width(), now
 * (whether due or not).  Does nothing when the line is off.
 */
void progress_show(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The longest line progress_show() draws. */
#define PROGRESS_LINE_MAX 503

/* The columns a drawing may use now: one short of the terminal's width,
 * or PROGRESS_LINE_MAX when stderr is not a terminal (--progress). */
int progress_width(void);

#define PROGRESS_RANK_LAST 7
#define PROGRESS_FIELDS_MAX 16
#define PROGRESS_FIELD_MAX 64

/*
 * A status line being built of fields ("240 files/s"), each with how much
 * it matters: rank 0 is shown whenever it fits at all, rank
 * PROGRESS_RANK_LAST first goes when the terminal is narrow.
 */
struct progress_line {
	struct {
		char text[PROGRESS_FIELD_MAX];
		int rank;
	} field[PROGRESS_FIELDS_MAX];
	size_t n;
};

/* Adds a field (printf format; cut at PROGRESS_FIELD_MAX - 1 bytes, and
 * left out past PROGRESS_FIELDS_MAX fields). */
void progress_add(struct progress_line *line, int rank, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Draws the fields, in their order, joined by ", ": all of them when the
 * width allows, else those of the lowest ranks that fit (a field that does
 * not fit is left out whole, never cut).  Does nothing when the line is off.
 */
void progress_show_line(const struct progress_line *line);

/* progress_show() only when progress_due() says so. */
#define progress_update(...) \
	do { if (progress_due()) progress_show(__VA_ARGS__); } while (0)

/* Erases the line if it is drawn; the next progress_show() draws it again. */
void progress_clear(void);

/* Erases the line and unregisters the hook; the line is off afterwards. */
void progress_end(void);

/* Seconds since progress_init() (monotonic clock). */
double progress_seconds(void);

/* The minimum time between two drawings, in milliseconds; callers that
 * sleep in poll(2) use it as their longest timeout while the line is on. */
#define PROGRESS_INTERVAL_MS 200

#endif
