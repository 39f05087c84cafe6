/*
 * context.c - the command line and the children's argument vectors (see
 * context.h).
 */
#include "context.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"

/* -n: a job's leaves are its command line, on the remote side too. */
#define BATCH_MAX 10000

static const char usage_text[] =
    "usage: leafpack [-0] [--leaves] [--dates LIST] [--name GLOB]... "
    "[--match GLOB]...\n"
    "                [--min-age DURATION] [--key PATH] [--output NAME] "
    "[--memory SIZE]\n"
    "                [-j N] [-t SECONDS] [-P N] [--max-stalls N] [--no-adapt]\n"
    "                [--max-rate N] [--jq FILTER] [--dry-run] [--verify]\n"
    "                [--keep-sources] [--strict] [--staging DIR] "
    "[--stalled FILE]\n"
    "                [--progress] [--stats[=json]]\n"
    "                [--hosts FILE [--joblog FILE] [-n N] "
    "[--host-timeout SECONDS]] [--root-id]\n"
    "                ROOT...\n";

static const char options_text[] =
    "  -0                  --dry-run prints NUL-terminated paths\n"
    "      --leaves        the arguments are leaf directories, not roots\n"
    "      --dates LIST    only leaves named by the comma-separated LIST\n"
    "      --name GLOB     only leaves whose own name matches GLOB "
    "(repeatable)\n"
    "      --match GLOB    sources are files matching GLOB (repeatable; "
    "default *.txt)\n"
    "      --min-age DURATION  leave sources younger than this (default "
    "2m)\n"
    "      --key PATH      sort records by PATH (default timestamp)\n"
    "      --output NAME   the consolidated file (default "
    "consolidated.jsonl)\n"
    "      --memory SIZE   memory per leaf before spilling (json-merge's "
    "default)\n"
    "  -j N                tree-scan workers (tree-scan's default)\n"
    "  -t SECONDS          time limit of every operation on the share "
    "(default 30)\n"
    "  -P N                leaves consolidated at once, at most (default "
    "32)\n"
    "      --max-stalls N  after N leaves in a row stalled, stop if the "
    "share does\n"
    "                      not answer at all (default: -P; 0: never)\n"
    "      --no-adapt      keep every slot busy, whatever the share's "
    "latency\n"
    "      --max-rate N    consume at most N source files per second\n"
    "      --jq FILTER     pass every record through jq -c FILTER\n"
    "      --dry-run       print the leaves that would be consolidated; "
    "change nothing\n"
    "      --verify        check the leaves' outputs and what is left "
    "beside them;\n"
    "                      change nothing (one line per problem on "
    "stdout)\n"
    "      --keep-sources  consolidate but remove no source\n"
    "      --strict        an invalid source fails its whole leaf\n"
    "      --staging DIR   where a leaf is built when the share has no "
    "free inode\n"
    "                      (another file system, with room for one leaf)\n"
    "      --stalled FILE  write the stalled directories to FILE\n"
    "      --progress      show the status line even when stderr is not a "
    "terminal\n"
    "      --stats[=json]  print the summary (or one JSON object) on stderr\n"
    "      --hosts FILE    spread the leaves' work over the hosts of FILE (GNU "
    "parallel's\n"
    "                      --sshloginfile format; ':' is this host)\n"
    "      --joblog FILE   parallel's job log, with --hosts (default: a "
    "temporary file)\n"
    "  -n N                leaves per job, with --hosts (default: sized from "
    "the leaves)\n"
    "      --host-timeout SECONDS  an ssh connection or session silent this "
    "long\n"
    "                      ends, and its job goes to another host (default "
    "15)\n"
    "      --root-id       print leafpack's version and an identity of each "
    "ROOT\n"
    "      --help          print this help and exit\n"
    "      --version       print the version and exit\n";

enum {
	OPT_LEAVES = 256, OPT_DATES, OPT_NAME, OPT_MATCH, OPT_MIN_AGE, OPT_KEY,
	OPT_OUTPUT, OPT_MEMORY, OPT_JQ, OPT_DRY_RUN, OPT_KEEP_SOURCES,
	OPT_STRICT, OPT_STALLED, OPT_PROGRESS, OPT_STATS, OPT_HELP,
	OPT_VERSION, OPT_MAX_STALLS, OPT_NO_ADAPT, OPT_MAX_RATE, OPT_VERIFY,
	OPT_STAGING, OPT_HOSTS, OPT_JOBLOG, OPT_HOST_TIMEOUT, OPT_ROOT_ID,
};

static const struct option long_options[] = {
	{ "leaves", no_argument, NULL, OPT_LEAVES },
	{ "dates", required_argument, NULL, OPT_DATES },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "match", required_argument, NULL, OPT_MATCH },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "jq", required_argument, NULL, OPT_JQ },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "keep-sources", no_argument, NULL, OPT_KEEP_SOURCES },
	{ "max-stalls", required_argument, NULL, OPT_MAX_STALLS },
	{ "max-rate", required_argument, NULL, OPT_MAX_RATE },
	{ "no-adapt", no_argument, NULL, OPT_NO_ADAPT },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "staging", required_argument, NULL, OPT_STAGING },
	{ "stalled", required_argument, NULL, OPT_STALLED },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "stats", optional_argument, NULL, OPT_STATS },
	{ "hosts", required_argument, NULL, OPT_HOSTS },
	{ "joblog", required_argument, NULL, OPT_JOBLOG },
	{ "host-timeout", required_argument, NULL, OPT_HOST_TIMEOUT },
	{ "root-id", no_argument, NULL, OPT_ROOT_ID },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The options each child is passed, in the order they were given: the
 * hosts' leafpack --leaves gets merge's and remote's. */
struct passed {
	struct child_argv scan, merge, verify, filter, remote;
};

static void
pass(struct child_argv *to, const char *name, const char *value)
{
	child_argv_add(to, name);
	if (value != NULL)
		child_argv_add(to, value);
}

static void
add_name(struct context *ctx, struct passed *p, const char *glob)
{
	if (leafname_add_glob(&ctx->names, glob) < 0)
		diag_err(EXITCODE_FAILED, "out of memory");
	pass(&p->filter, "--name", glob);
}

/* --dates LIST: a --name for each name of the list; a list without one
 * (a script's empty variable) would select every leaf: -1 (said). */
static int
add_dates(struct context *ctx, struct passed *p, const char *list)
{
	char *copy = strdup(list), *date, *save;
	size_t before = ctx->names.nglobs;

	if (copy == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	for (date = strtok_r(copy, ",", &save); date != NULL;
	    date = strtok_r(NULL, ",", &save))
		add_name(ctx, p, date);
	free(copy);
	if (ctx->names.nglobs > before)
		return 0;
	diag_warnx("--dates %s: no date in the list", diag_quote(list));
	return -1;
}

/* The options cli.h checks, with the limits of the children they are
 * passed to; -1 for a usage error (said). */
static int
parse_checked(struct context *ctx, struct passed *p, int c)
{
	long long n;

	switch (c) {
	case 'j':
		if (cli_count("-j", optarg, 1, CLI_WORKERS_MAX, &n) < 0)
			return -1;
		pass(&p->scan, "-j", optarg);
		return 0;
	case 't':
		if (cli_timeout("-t", optarg, &ctx->timeout_ms) < 0)
			return -1;
		pass(&p->scan, "-t", optarg);
		pass(&p->filter, "-t", optarg);
		pass(&p->remote, "-t", optarg);
		return 0;
	case 'P':
		if (cli_count("-P", optarg, 1, CLI_PARALLEL_MAX, &n) < 0)
			return -1;
		ctx->parallel = (long)n;
		pass(&p->remote, "-P", optarg);
		return 0;
	case 'n':
		if (cli_count("-n", optarg, 1, BATCH_MAX, &n) < 0)
			return -1;
		ctx->batch = (long)n;
		return 0;
	case OPT_HOST_TIMEOUT:
		return cli_timeout("--host-timeout", optarg,
		    &ctx->host_timeout_ms);
	case OPT_MAX_RATE:
		if (cli_count("--max-rate", optarg, 1, CLI_MAX_RATE_MAX,
		    &n) < 0)
			return -1;
		/* The hosts' jobs get their share of it (hostjobs.c). */
		ctx->max_rate = (double)n;
		return 0;
	case OPT_MAX_STALLS:
		if (cli_count("--max-stalls", optarg, 0, CLI_MAX_STALLS_MAX,
		    &n) < 0)
			return -1;
		ctx->max_stalls = (long)n;
		/* The same breaker for the directories of the scan. */
		pass(&p->scan, "--max-stalls", optarg);
		pass(&p->filter, "--max-stalls", optarg);
		pass(&p->remote, "--max-stalls", optarg);
		return 0;
	case OPT_MIN_AGE:
		if (cli_duration("--min-age", optarg, &n) < 0)
			return -1;
		pass(&p->merge, "--min-age", optarg);
		pass(&p->filter, "--min-age", optarg);
		return 0;
	case OPT_KEY:
		if (cli_key(optarg) < 0)
			return -1;
		pass(&p->merge, "--key", optarg);
		pass(&p->verify, "--key", optarg);
		return 0;
	case OPT_OUTPUT:
		if (cli_output(optarg) < 0)
			return -1;
		ctx->output = optarg;
		pass(&p->merge, "--output", optarg);
		pass(&p->filter, "--output", optarg);
		pass(&p->verify, "--output", optarg);
		return 0;
	case OPT_MEMORY:
		if (cli_memory("--memory", optarg, &n) < 0)
			return -1;
		pass(&p->merge, "--memory", optarg);
		return 0;
	case OPT_STATS:
		return cli_stats(optarg, &ctx->stats);
	}
	return -1;
}

/* One option; -1 for a usage error (said, but for an unknown option,
 * which getopt said). */
static int
parse_option(struct context *ctx, struct passed *p, int c)
{
	switch (c) {
	case '0':
		ctx->delim = '\0';
		return 0;
	case OPT_LEAVES:
		ctx->leaves_mode = true;
		return 0;
	case OPT_DATES:
		return add_dates(ctx, p, optarg);
	case OPT_NAME:
		add_name(ctx, p, optarg);
		return 0;
	case OPT_MATCH:
		pass(&p->merge, "--match", optarg);
		pass(&p->filter, "--match", optarg);
		return 0;
	case OPT_JQ:
		ctx->jq = optarg;
		pass(&p->remote, "--jq", optarg);
		return 0;
	case OPT_NO_ADAPT:
		ctx->adapt = false;
		pass(&p->remote, "--no-adapt", NULL);
		return 0;
	case OPT_HOSTS:
		ctx->hosts_file = optarg;
		return 0;
	case OPT_JOBLOG:
		ctx->joblog = optarg;
		return 0;
	case OPT_ROOT_ID:
		ctx->root_id = true;
		return 0;
	case OPT_DRY_RUN:
		ctx->dry_run = true;
		return 0;
	case OPT_VERIFY:
		ctx->verify = true;
		return 0;
	case OPT_KEEP_SOURCES:
		ctx->keep_sources = true;
		pass(&p->merge, "--keep-sources", NULL);
		pass(&p->filter, "--keep-sources", NULL);
		return 0;
	case OPT_STRICT:
		pass(&p->merge, "--strict", NULL);
		return 0;
	case OPT_STAGING:
		if (*optarg == '\0') {
			diag_warnx("--staging: an empty path");
			return -1;
		}
		ctx->staging = optarg;
		pass(&p->merge, "--staging", optarg);
		return 0;
	case OPT_STALLED:
		ctx->stalled_path = optarg;
		return 0;
	case OPT_PROGRESS:
		ctx->progress = true;
		return 0;
	case OPT_HELP:
		cli_help(usage_text, options_text);
	case OPT_VERSION:
		cli_version();
	}
	return parse_checked(ctx, p, c);
}

/* Our own executable, or NULL. */
static char *
find_self(void)
{
	char self[PATH_MAX], *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	if ((path = strdup(self)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	return path;
}

/* Where our sibling programs are: the directory of our own executable,
 * or NULL. */
static char *
find_progdir(const char *self)
{
	const char *slash;
	char *dir;

	if (self == NULL || (slash = strrchr(self, '/')) == NULL)
		return NULL;
	if ((dir = strndup(self, (size_t)(slash - self))) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	return dir;
}

/* Starts a with the path of the sibling program name: next to our own
 * executable if it is there, else name, found in PATH. */
static void
add_program(struct child_argv *a, const char *progdir, const char *name)
{
	char *path;

	if (progdir != NULL) {
		if (asprintf(&path, "%s/%s", progdir, name) < 0)
			diag_err(EXITCODE_FAILED, "out of memory");
		if (access(path, X_OK) == 0) {
			child_argv_add(a, path);
			free(path);
			return;
		}
		free(path);
	}
	child_argv_add(a, name);
}

/* tree-scan, which finds the leaves. */
static void
build_scan(struct context *ctx, const struct passed *p, const char *progdir)
{
	if (ctx->leaves_mode)
		return;
	add_program(&ctx->scan, progdir, "tree-scan");
	child_argv_add(&ctx->scan, "-0");
	child_argv_add_all(&ctx->scan, &p->scan);
	child_argv_add(&ctx->scan, "--stalled");
	child_argv_add_hole(&ctx->scan);
	child_argv_add(&ctx->scan, "--");
	for (size_t i = 0; i < ctx->npaths; i++)
		child_argv_add(&ctx->scan, ctx->paths[i]);
}

/* json-merge [| jq] | jsonl-write for each leaf. */
static void
build_pipeline(struct context *ctx, const struct passed *p,
    const char *progdir)
{
	char *program;

	add_program(&ctx->merge_leaf, progdir, "json-merge");
	child_argv_add_all(&ctx->merge_leaf, &p->merge);
	/* A leaf with nothing new is left unread: every leaf found comes
	 * here, which is how their looks get -P at once. */
	child_argv_add(&ctx->merge_leaf, "--skip-unchanged");
	child_argv_add(&ctx->merge_leaf, "--list-young");
	if (ctx->dry_run)
		child_argv_add(&ctx->merge_leaf, "--no-claim");
	child_argv_add(&ctx->merge_leaf, "--stats=json");
	child_argv_add(&ctx->merge_leaf, "--");
	child_argv_add_hole(&ctx->merge_leaf);
	if (ctx->dry_run)
		return;
	if (ctx->jq != NULL) {
		/* jq 1.6 exits 0 when an error hit any record but the last:
		 * inputs inside one program stops at the first.  The newline
		 * ends a comment at the end of FILTER. */
		if (asprintf(&program, "inputs | (%s\n)", ctx->jq) < 0)
			diag_err(EXITCODE_FAILED, "out of memory");
		child_argv_add(&ctx->jq_leaf, "jq");
		child_argv_add(&ctx->jq_leaf, "-c");
		child_argv_add(&ctx->jq_leaf, "-n");
		child_argv_add(&ctx->jq_leaf, program);
		free(program);
	}
	add_program(&ctx->write_leaf, progdir, "jsonl-write");
	if (!ctx->keep_sources)
		child_argv_add(&ctx->write_leaf, "--remove-sources");
	if (ctx->jq != NULL)
		child_argv_add(&ctx->write_leaf, "--filtered");
	/* A leaf where json-merge found nothing new is left as it is, not
	 * rewritten through the filter: jsonl-write withdraws the claim. */
	child_argv_add(&ctx->write_leaf, "--skip-unchanged");
	if (ctx->staging != NULL)
		pass(&ctx->write_leaf, "--staging", ctx->staging);
	child_argv_add(&ctx->write_leaf, "--stats=json");
	child_argv_add(&ctx->write_leaf, "--");
	child_argv_add_hole(&ctx->write_leaf);
}

/* leaf-filter, and the options of the hosts' leafpack --leaves. */
static void
build_hosts(struct context *ctx, const struct passed *p, const char *progdir)
{
	add_program(&ctx->filter, progdir, "leaf-filter");
	child_argv_add(&ctx->filter, "-0");
	child_argv_add_all(&ctx->filter, &p->filter);
	child_argv_add(&ctx->filter, "--stalled");
	child_argv_add_hole(&ctx->filter);
	child_argv_add_all(&ctx->remote, &p->merge);
	child_argv_add_all(&ctx->remote, &p->remote);
}

/* With --hosts, the paths as every host sees them: a relative path would
 * be taken from the home directory of a remote session. */
static void
absolute_paths(struct context *ctx)
{
	char cwd[PATH_MAX];

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		diag_err(EXITCODE_FAILED, "getcwd");
	if ((ctx->owned_paths = calloc(ctx->npaths, sizeof(char *))) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	for (size_t i = 0; i < ctx->npaths; i++) {
		if (ctx->paths[i][0] == '/')
			ctx->owned_paths[i] = strdup(ctx->paths[i]);
		else if (asprintf(&ctx->owned_paths[i], "%s/%s", cwd,
		    ctx->paths[i]) < 0)
			ctx->owned_paths[i] = NULL;
		if (ctx->owned_paths[i] == NULL)
			diag_err(EXITCODE_FAILED, "out of memory");
	}
	ctx->paths = ctx->owned_paths;
}

/* --hosts, --root-id and what may go with them; -1 for a usage error
 * (said). */
static int
check_modes(const struct context *ctx)
{
	if (ctx->hosts_file == NULL && (ctx->joblog != NULL ||
	    ctx->batch != 0 || ctx->host_timeout_ms != 0)) {
		diag_warnx("--joblog, -n and --host-timeout go with --hosts");
		return -1;
	}
	if (ctx->hosts_file != NULL && (ctx->dry_run || ctx->root_id ||
	    ctx->verify)) {
		diag_warnx("--hosts: %s runs here only", ctx->dry_run ?
		    "--dry-run" : ctx->root_id ? "--root-id" : "--verify");
		return -1;
	}
	if (ctx->root_id && ctx->leaves_mode) {
		diag_warnx("--root-id takes roots, not --leaves");
		return -1;
	}
	return 0;
}

/* jsonl-verify for each leaf, with --verify. */
static void
build_verify(struct context *ctx, const struct passed *p,
    const char *progdir)
{
	add_program(&ctx->verify_leaf, progdir, "jsonl-verify");
	child_argv_add_all(&ctx->verify_leaf, &p->verify);
	child_argv_add(&ctx->verify_leaf, "--stats=json");
	child_argv_add(&ctx->verify_leaf, "--");
	child_argv_add_hole(&ctx->verify_leaf);
}

/* The json-merge -0 | jsonl-write pair that a slot keeps. */
static void
build_stream(struct context *ctx, const struct passed *p,
    const char *progdir)
{
	add_program(&ctx->merge_stream, progdir, "json-merge");
	child_argv_add(&ctx->merge_stream, "-0");
	child_argv_add(&ctx->merge_stream, "--list-young");
	child_argv_add_all(&ctx->merge_stream, &p->merge);
	add_program(&ctx->write_stream, progdir, "jsonl-write");
	if (!ctx->keep_sources)
		child_argv_add(&ctx->write_stream, "--remove-sources");
	if (ctx->staging != NULL)
		pass(&ctx->write_stream, "--staging", ctx->staging);
	child_argv_add(&ctx->write_stream, "--stats=json");
}

/*
 * The slots are sized for a network share, not for the processors: a slot
 * spends its time waiting for the share's answers (a round trip each, and
 * fsync), so the slots are the requests in flight, and a loaded NetApp
 * serves tens at once (the seed story's 4 threads kept it a tenth busy).
 * The adaptive pace (pace.h) gives back what a struggling share cannot
 * take, so the default can be generous.
 */
#define DEFAULT_PARALLEL 32

/* An ssh session to a host that stopped answering ends after this: long
 * enough for a loaded host, short against a run of hours. */
#define HOST_TIMEOUT_DEFAULT_MS 15000

/*
 * The driver's descriptors: a slot keeps at most SLOT_FDS open (its pair's
 * two pipes and the relays of their stderr; a --jq leaf fewer), the rest
 * of the run fewer than RUN_FDS (the standard three, the loop's wake pipe,
 * the watch memory, tree-scan's pipe and relay, the probe's pipe, and the
 * pipes of a pair being started, with the child's copies of them before
 * it execs).  Measured: -P 8 needs 50, -P 16 82, -P 32 146, so 4 a slot
 * and 18 besides.
 */
#define SLOT_FDS 4
#define RUN_FDS 24

/* The soft RLIMIT_NOFILE raised to the hard one (or as near as the
 * kernel's nr_open allows); returns the soft limit now in force, or -1
 * when there is none. */
static long long
raise_descriptor_limit(void)
{
	struct rlimit rl, want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return -1;
	want = rl;
	for (rlim_t cap = rl.rlim_max; cap > rl.rlim_cur; cap /= 2) {
		/* Above fs.nr_open (1048576 by default) it is EPERM. */
		want.rlim_cur = cap;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0) {
			rl.rlim_cur = cap;
			break;
		}
	}
	return rl.rlim_cur == RLIM_INFINITY ? -1 : (long long)rl.rlim_cur;
}

/* -P cut to the slots the descriptor limit fits, said once: a slot that
 * cannot open its pipes fails its leaf ("Too many open files"). */
static void
fit_descriptors(struct context *ctx)
{
	long long limit = raise_descriptor_limit(), fit;

	if (limit < 0)
		return;
	fit = (limit - RUN_FDS) / SLOT_FDS;
	if (fit < 1)
		fit = 1;
	if (fit >= ctx->parallel)
		return;
	diag_warnx("-P %ld: the descriptor limit (%lld) fits %lld slot%s: "
	    "running %lld", ctx->parallel, limit, fit, fit == 1 ? "" : "s",
	    fit);
	ctx->parallel = (long)fit;
}

void
context_parse(struct context *ctx, int argc, char *argv[])
{
	struct passed p = { 0 };
	char *progdir;
	int c;

	memset(ctx, 0, sizeof(*ctx));
	ctx->output = CLI_OUTPUT_DEFAULT;
	ctx->delim = '\n';
	ctx->parallel = DEFAULT_PARALLEL;
	ctx->timeout_ms = CLI_TIMEOUT_DEFAULT_MS;
	ctx->max_stalls = -1;
	ctx->adapt = true;
	while ((c = getopt_long(argc, argv, "0j:n:t:P:", long_options, NULL))
	    != -1)
		if (parse_option(ctx, &p, c) < 0)
			cli_usage(usage_text);
	if (optind == argc || check_modes(ctx) < 0)
		cli_usage(usage_text);
	if (ctx->host_timeout_ms == 0)
		ctx->host_timeout_ms = HOST_TIMEOUT_DEFAULT_MS;
	ctx->paths = argv + optind;
	ctx->npaths = (size_t)(argc - optind);
	/* Staging frees the share's inodes by removing what was consumed. */
	if (ctx->staging != NULL && ctx->keep_sources) {
		diag_warnx("--staging: not with --keep-sources (a staged "
		    "commit makes room by removing the sources)");
		cli_usage(usage_text);
	}
	/* A check changes nothing: with what would change, it makes no
	 * sense, and a dry run is another way of looking. */
	if (ctx->verify && (ctx->jq != NULL || ctx->dry_run)) {
		diag_warnx("--verify changes nothing: not with %s",
		    ctx->jq != NULL ? "--jq" : "--dry-run");
		cli_usage(usage_text);
	}
	ctx->stream = ctx->jq == NULL && !ctx->dry_run && !ctx->verify;
	fit_descriptors(ctx);
	/* A share that stops answering stalls every slot at once. */
	if (ctx->max_stalls < 0)
		ctx->max_stalls = ctx->parallel;
	if (ctx->hosts_file != NULL)
		absolute_paths(ctx);
	ctx->self = find_self();
	progdir = find_progdir(ctx->self);
	build_scan(ctx, &p, progdir);
	if (ctx->hosts_file != NULL) {
		if (ctx->self == NULL)
			diag_errx(EXITCODE_FAILED, "--hosts: cannot tell "
			    "where this leafpack is (/proc/self/exe)");
		build_hosts(ctx, &p, progdir);
	}
	if (ctx->verify)
		build_verify(ctx, &p, progdir);
	else if (ctx->stream)
		build_stream(ctx, &p, progdir);
	else
		build_pipeline(ctx, &p, progdir);
	free(progdir);
	child_argv_free(&p.scan);
	child_argv_free(&p.merge);
	child_argv_free(&p.verify);
	child_argv_free(&p.filter);
	child_argv_free(&p.remote);
}

void
context_usage(void)
{
	cli_usage(usage_text);
}

void
context_free(struct context *ctx)
{
	child_argv_free(&ctx->scan);
	leafname_free(&ctx->names);
	child_argv_free(&ctx->merge_leaf);
	child_argv_free(&ctx->jq_leaf);
	child_argv_free(&ctx->write_leaf);
	child_argv_free(&ctx->merge_stream);
	child_argv_free(&ctx->write_stream);
	child_argv_free(&ctx->verify_leaf);
	child_argv_free(&ctx->filter);
	child_argv_free(&ctx->remote);
	free(ctx->self);
	for (size_t i = 0; ctx->owned_paths != NULL && i < ctx->npaths; i++)
		free(ctx->owned_paths[i]);
	free(ctx->owned_paths);
}
