/*
 * diag.h - diagnostics: every message a leafpack program prints on stderr.
 *
 * Messages have the form "prog: what: why", where "what" names the file
 * (with line:column for JSON input).  Only a program's main decides the exit
 * status; library modules return errors and let main report them here.
 * When a progress line is active (progress.h), diag clears it first so
 * messages and the status line never share a line.
 */
#ifndef LEAFPACK_DIAG_H
#define LEAFPACK_DIAG_H

#include <stdarg.h>

/* Sets the program name used as the message prefix (basename of argv0). */
void diag_init(const char *argv0);

/* The program name set by diag_init(). */
const char *diag_progname(void);

/* Prints "prog: <formatted>\n" on stderr. */
void diag_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "prog: <formatted>: strerror(errno)\n" on stderr; errno is kept. */
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like diag_warnx() / diag_warn(), then exit(status). */
void diag_errx(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void diag_err(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/*
 * Registers a function that erases the progress line before a message is
 * printed (NULL to unregister).  Used by progress.c.
 */
void diag_set_clear_hook(void (*clear)(void));

/*
 * Formats a path for a message: bytes that would garble a terminal line
 * (control characters, newlines) are shown as \n, \t or \ooo.  Returns a
 * pointer to a static buffer that the next call reuses (two rotating
 * buffers, so two paths fit in one message).
 */
const char *diag_quote(const char *path);

/*
 * Checks that stdout was written completely (fflush + ferror + fclose) and
 * reports "prog: stdout: reason" if not.  Returns 0 on success, -1 on error.
 * Call before exiting from a program that writes data on stdout.
 */
int diag_close_stdout(void);

#endif
