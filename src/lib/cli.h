/*
 * cli.h - the command line basics every leafpack program shares: usage,
 * --help and --version, the range-checked numeric options with the limits
 * of the programs that take them (so that the driver refuses what a child
 * would, before anything runs), --stats[=json] and --output NAME.
 *
 * Each parser prints its one-line reason ("prog: -j 500: too large") and
 * returns -1; the caller then calls cli_usage(), which exits 2.
 */
#ifndef LEAFPACK_CLI_H
#define LEAFPACK_CLI_H

/* The limits, shared by each program and the driver that passes them on. */
#define CLI_WORKERS_MAX 256			/* tree-scan -j */
#define CLI_TIMEOUT_DEFAULT_MS 30000LL		/* -t */
#define CLI_TIMEOUT_MAX_MS (24 * 3600 * 1000LL)
#define CLI_MEMORY_MIN (1024 * 1024LL)		/* json-merge --memory */
#define CLI_PARALLEL_MAX 1024			/* leafpack -P */
#define CLI_MAX_STALLS_MAX 1000000		/* --max-stalls */
#define CLI_MAX_RATE_MAX 1000000000LL		/* --max-rate */
#define CLI_OUTPUT_DEFAULT "consolidated.jsonl"	/* --output */

/* What --stats asks for. */
enum cli_stats {
	CLI_STATS_NONE,
	CLI_STATS_TEXT,		/* --stats: a line of text */
	CLI_STATS_JSON		/* --stats=json: one JSON object (stats.h) */
};

/* Prints usage (the synopsis, "usage: ...\n") on stderr; exits 2. */
void cli_usage(const char *usage) __attribute__((noreturn));

/* Prints usage and options on stdout for --help; exits 0, or 4 when
 * stdout cannot be written. */
void cli_help(const char *usage, const char *options)
	__attribute__((noreturn));

/* Prints "prog (leafpack) VERSION" for --version; exits 0 (or 4). */
void cli_version(void) __attribute__((noreturn));

/* A whole number in [min, max] (units_parse_count); name is the option as
 * the user spelled it, for the message. */
int cli_count(const char *name, const char *text, long long min,
    long long max, long long *out);

/* -t: a duration from 1 ms to CLI_TIMEOUT_MAX_MS, in milliseconds. */
int cli_timeout(const char *name, const char *text, long long *ms);

/* A duration of any length (--min-age), in milliseconds. */
int cli_duration(const char *name, const char *text, long long *ms);

/* --memory: a size of at least CLI_MEMORY_MIN bytes. */
int cli_memory(const char *name, const char *text, long long *bytes);

/* --output NAME: a plain file name (not empty, no '/', not . or ..). */
int cli_output(const char *text);

/* --staging DIR of json-merge and jsonl-write: DIR opened as a directory
 * (close-on-exec); the descriptor, or -1 (said). */
int cli_staging(const char *path);

/* --key PATH: a dotted path of member names (jsonscan_keypath_parse). */
int cli_key(const char *text);

/* --stats[=json]: optarg is NULL for --stats. */
int cli_stats(const char *optarg, enum cli_stats *out);

#endif
