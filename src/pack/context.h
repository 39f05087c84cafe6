/*
 * context.h - what one leafpack run is to do: the command line parsed and
 * checked against the limits of the children it is passed to (cli.h), so
 * that the driver refuses, with its own usage and status 2, whatever a
 * child would refuse, before anything runs; and the argument vector of
 * every kind of child, built once.
 */
#ifndef LEAFPACK_PACK_CONTEXT_H
#define LEAFPACK_PACK_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "child.h"
#include "cli.h"
#include "leafname.h"

struct context {
	char **paths;		/* the roots (or leaves, with --leaves): main's
				 * argv, borrowed */
	size_t npaths;
	bool leaves_mode;	/* --leaves */
	bool dry_run, keep_sources, progress;
	bool verify;		/* --verify: check the leaves, change nothing */
	bool stream;		/* each slot keeps a stream pair: neither --jq
				 * nor --dry-run */
	const char *jq;		/* --jq FILTER, or NULL */
	const char *output;	/* --output NAME */
	const char *stalled_path;	/* --stalled FILE, or NULL */
	const char *staging;	/* --staging DIR, or NULL */
	long parallel;		/* -P */
	long long timeout_ms;	/* -t: the longest any call on the share
				 * may take */
	long max_stalls;	/* --max-stalls: leaves stalled in a row
				 * before the share is probed (0: never) */
	bool adapt;		/* not --no-adapt: slots follow latency */
	double max_rate;	/* --max-rate: files per second; 0 none */
	int delim;		/* -0: '\0', else '\n' */
	enum cli_stats stats;

	/* The leaves wanted by name: --dates, --name. */
	struct leafname_filter names;
	/* tree-scan: the hole is its --stalled FILE. */
	struct child_argv scan;
	/* The per-leaf pipeline: holes DIR (json-merge) and DIR/NAME
	 * (jsonl-write, built only when it writes). */
	struct child_argv merge_leaf, jq_leaf, write_leaf;
	/* The stream pair of a slot (only with stream). */
	struct child_argv merge_stream, write_stream;
	/* --verify: jsonl-verify of a leaf, the hole its DIR. */
	struct child_argv verify_leaf;

	/* --hosts FILE: the leaves found and filtered here, their work done
	 * by `leafpack --leaves` on the hosts, through GNU parallel
	 * (hosts.h). */
	const char *hosts_file;
	const char *joblog;	/* --joblog FILE, or NULL: one of ours */
	long batch;		/* -n: leaves per job; 0: sized by the run */
	long long host_timeout_ms;	/* --host-timeout: an ssh session or
					 * connection silent this long ends */
	bool root_id;		/* --root-id: print the roots' identities */
	char *self;		/* our own executable (owned) */
	char **owned_paths;	/* with --hosts: the paths made absolute,
				 * which paths then points to */
	/* leaf-filter -0, its --stalled FILE the hole (with --hosts). */
	struct child_argv filter;
	/* The options the hosts' leafpack --leaves are given. */
	struct child_argv remote;
};

/*
 * Parses argv into ctx.  --help and --version print and exit; a usage
 * error prints its reason and leafpack's usage and exits 2.  Exits 4 when
 * out of memory.  Finds the sibling programs next to our own executable
 * (the bin/ of a build, or the installed directory), else in PATH.
 */
void context_parse(struct context *ctx, int argc, char *argv[]);

/* Prints leafpack's usage and exits 2: a usage error found after
 * parsing (its reason said first). */
void context_usage(void) __attribute__((noreturn));

/* Frees what ctx owns (not the paths). */
void context_free(struct context *ctx);

#endif
