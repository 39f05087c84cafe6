/*
 * cli.c - shared command line basics (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "exitcode.h"
#include "jsonscan.h"
#include "units.h"
#include "version.h"

void
cli_usage(const char *usage)
{
	fputs(usage, stderr);
	exit(EXITCODE_USAGE);
}

void
cli_help(const char *usage, const char *options)
{
	fputs(usage, stdout);
	fputs(options, stdout);
	exit(diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE);
}

void
cli_version(void)
{
	printf("%s (leafpack) %s\n", diag_progname(), LEAFPACK_VERSION);
	exit(diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE);
}

int
cli_count(const char *name, const char *text, long long min, long long max,
    long long *out)
{
	const char *why;

	if (units_parse_count(text, min, max, out, &why) < 0) {
		diag_warnx("%s %s: %s", name, text, why);
		return -1;
	}
	return 0;
}

int
cli_timeout(const char *name, const char *text, long long *ms)
{
	const char *why;

	if (units_parse_duration(text, ms, &why) == 0) {
		if (*ms >= 1 && *ms <= CLI_TIMEOUT_MAX_MS)
			return 0;
		why = *ms < 1 ? "too small" : "too large";
	}
	diag_warnx("%s %s: %s", name, text, why);
	return -1;
}

int
cli_duration(const char *name, const char *text, long long *ms)
{
	const char *why;

	if (units_parse_duration(text, ms, &why) < 0) {
		diag_warnx("%s %s: %s", name, text, why);
		return -1;
	}
	return 0;
}

int
cli_memory(const char *name, const char *text, long long *bytes)
{
	const char *why;

	if (units_parse_size(text, bytes, &why) < 0) {
		diag_warnx("%s %s: %s", name, text, why);
		return -1;
	}
	if (*bytes < CLI_MEMORY_MIN) {
		diag_warnx("%s %s: too small (at least 1M)", name, text);
		return -1;
	}
	return 0;
}

int
cli_output(const char *text)
{
	if (*text == '\0' || strchr(text, '/') != NULL ||
	    strcmp(text, ".") == 0 || strcmp(text, "..") == 0) {
		diag_warnx("--output %s: not a plain file name (a name in the "
		    "leaf directory, without '/')", diag_quote(text));
		return -1;
	}
	return 0;
}

int
cli_staging(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		diag_warnx("--staging %s: %s", diag_quote(path),
		    strerror(errno));
	return fd;
}

int
cli_key(const char *text)
{
	struct jsonscan_keypath kp;

	if (jsonscan_keypath_parse(text, &kp) < 0) {
		diag_warnx("--key %s: not a dotted path of member names",
		    diag_quote(text));
		return -1;
	}
	jsonscan_keypath_free(&kp);
	return 0;
}

int
cli_stats(const char *optarg, enum cli_stats *out)
{
	if (optarg == NULL)
		*out = CLI_STATS_TEXT;
	else if (strcmp(optarg, "json") == 0)
		*out = CLI_STATS_JSON;
	else {
		diag_warnx("--stats=%s: expected json", optarg);
		return -1;
	}
	return 0;
}
