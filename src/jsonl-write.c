/*
 * jsonl-write - commit JSONL from standard input to a file, durably and
 * atomically, finishing the hand-over that json-merge started.
 *
 * The protocol (journal states, recovery after a crash, the mode and owner
 * rule) is documented in jsonl-write(1); the journal is journal.h.  The
 * order of the steps below is what makes a SIGKILL between any two system
 * calls harmless:
 *   1. stdin -> temporary .NAME.tmp.PID.RAND in the same directory;
 *   2. at EOF: check the journal's claim; with one, attach the committed
 *      record to the temp (attribute JOURNAL_ATTR); set mode/owner; fsync;
 *   3. claim, where the attribute could not be set: journal file in state
 *      "committed" naming the temp's inode (durable);
 *   4. rename(temp, NAME), fsync(DIR): the commit;
 *   5. remove the sources whose identity still matches, fsync(DIR), then
 *      the claim or journal file, and the attribute.
 * Until 4 the previous output is untouched and a rerun starts over; after
 * it (after 3 with the journal file) the record tells a rerun which
 * sources the output holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "diag.h"
#include "exitcode.h"
#include "claim.h"
#include "journal.h"
#include "jsonscan.h"
#include "version.h"

static const char usage_text[] =
    "usage: jsonl-write [--filtered] [--remove-sources] [--skip-unchanged] "
    "[--stats[=json]]\n"
    "                   [DIR/NAME]\n";

static const char options_text[] =
    "  without DIR/NAME: read json-merge's leaf stream and commit every "
    "leaf\n"
    "  (see jsonl-write(1))\n"
    "      --filtered          a filter sits between json-merge and us: "
    "do not\n"
    "                          require its exact output\n"
    "      --remove-sources    after the commit, remove the sources "
    "json-merge consumed\n"
    "      --skip-unchanged    when json-merge found nothing new, withdraw its "
    "claim and\n"
    "                          leave the output as it is\n"
    "      --stats[=json]      print counts (or one JSON object) on stderr "
    "at the end\n"
    "      --help              print this help\n"
    "      --version           print the version\n";

#define BUF_SIZE (1024 * 1024)

static struct {
	int filtered;
	int remove_sources;
	int skip_unchanged;
	int stats;		/* 0, 1 text, 2 json */
} opt;

static struct {
	unsigned long long records, bytes, removed, kept;
	int unchanged;		/* --skip-unchanged left the output as it was */
	struct timespec start;
} stats;

/*
 * The leaf stream (no operand): json-merge's frames, a leaf after the
 * other.  A failed leaf returns to the loop through failed_leaf.
 */
static int streaming;
static jmp_buf failed_leaf;

/* The output being written: DIR/NAME, and the temporary in DIR. */
static struct {
	const char *path;	/* DIR/NAME as given */
	char *dir;		/* DIR ("." when the path has no '/') */
	const char *name;	/* NAME: points into path */
	int dirfd;
	int fd;			/* the temporary */
	char *temp;		/* its name in DIR */
	/* what the signal handler removes (a copy of temp, and DIR's fd) */
	char handler_temp[NAME_MAX + 1];
	volatile sig_atomic_t temp_live;
} out = { .dirfd = -1, .fd = -1 };

static void __attribute__((noreturn))
usage(void)
{
	fputs(usage_text, stderr);
	exit(EXITCODE_USAGE);
}

/* DIR/name for messages, quoted; two calls fit in one message. */
static const char *
leaf_path(const char *name)
{
	static char buf[2][PATH_MAX * 2];
	static int which;

	which = !which;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", out.dir, name);
	return diag_quote(buf[which]);
}

/* Removes the temporary (if still there); the previous output is intact. */
static void
remove_temp(void)
{
	if (out.temp_live) {
		out.temp_live = 0;
		unlinkat(out.dirfd, out.handler_temp, 0);
	}
}

/* Fails before the commit: nothing was replaced or removed. */
static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *fmt, ...)
{
	char msg[PATH_MAX * 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	remove_temp();
	diag_warnx("%s", msg);
	if (streaming)
		longjmp(failed_leaf, 1);
	exit(EXITCODE_FAILED);
}

static void
on_signal(int sig)
{
	/* unlinkat() and _exit() are async-signal-safe. */
	if (out.temp_live)
		unlinkat(out.dirfd, out.handler_temp, 0);
	_exit(128 + sig);
}

static void
catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static const struct option long_options[] = {
	{ "filtered", no_argument, NULL, 'f' },
	{ "skip-unchanged", no_argument, NULL, 'u' },
	{ "help", no_argument, NULL, 'h' },
	{ "remove-sources", no_argument, NULL, 'r' },
	{ "stats", optional_argument, NULL, 's' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int set_output(const char *path);

static void
parse_options(int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			opt.filtered = 1;
			break;
		case 'u':
			opt.skip_unchanged = 1;
			break;
		case 'h':
			printf("%s%s", usage_text, options_text);
			exit(diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE);
		case 'r':
			opt.remove_sources = 1;
			break;
		case 's':
			if (optarg == NULL)
				opt.stats = 1;
			else if (strcmp(optarg, "json") == 0)
				opt.stats = 2;
			else {
				diag_warnx("--stats=%s: expected json", optarg);
				usage();
			}
			break;
		case 'V':
			printf("jsonl-write (leafpack) %s\n", LEAFPACK_VERSION);
			exit(diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE);
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
	if (argc - optind == 0)
		return;
	if (set_output(argv[optind]) < 0)
		usage();
}

/* Sets out.path, out.dir and out.name from DIR/NAME; -1 (said) if it is
 * not one. */
static int
set_output(const char *path)
{
	const char *slash;

	out.path = path;
	slash = strrchr(out.path, '/');
	out.name = slash ? slash + 1 : out.path;
	if (slash == NULL)
		out.dir = strdup(".");
	else if (slash == out.path)
		out.dir = strdup("/");
	else
		out.dir = strndup(out.path, (size_t)(slash - out.path));
	if (out.dir == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	if (*out.name == '\0' || strcmp(out.name, ".") == 0 ||
	    strcmp(out.name, "..") == 0 || strlen(out.name) + 32 > NAME_MAX) {
		diag_warnx("%s: not a file path DIR/NAME", diag_quote(out.path));
		return -1;
	}
	return 0;
}

/* ---- copying stdin to the temporary ---- */

/* Buffered writes to the temporary, hashed as they go out. */
static struct {
	char *data;
	size_t len, cap;
	struct journal_hash hash;
} wbuf;

static void
write_failed(void)
{
	fail("%s: %s", leaf_path(out.temp), strerror(errno));
}

/* Writes bytes to the temporary, hashing them as they go out. */
static void
write_temp(const char *p, size_t left)
{
	ssize_t n;

	journal_hash_update(&wbuf.hash, p, left);
	while (left > 0) {
		n = write(out.fd, p, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			write_failed();
		p += n;
		left -= (size_t)n;
	}
}

static void
flush_wbuf(void)
{
	write_temp(wbuf.data, wbuf.len);
	wbuf.len = 0;
}

/* Makes room for need more bytes in wbuf. */
static void
reserve(size_t need)
{
	if (wbuf.cap - wbuf.len >= need)
		return;
	flush_wbuf();
	if (wbuf.cap < need) {
		free(wbuf.data);
		wbuf.cap = need;
		wbuf.data = malloc(wbuf.cap);
		if (wbuf.data == NULL)
			fail("out of memory");
	}
}

/* Validates every line of stdin and writes its compact form. */
static void
copy_stdin(void)
{
	struct jsonscan_error err;
	unsigned long long lineno = 0;
	char *line = NULL;
	size_t linecap = 0;
	ssize_t len, clen;

	/* Fewer, bigger reads from the pipe. */
	setvbuf(stdin, NULL, _IOFBF, BUF_SIZE);
	wbuf.cap = BUF_SIZE;
	wbuf.data = malloc(wbuf.cap);
	if (wbuf.data == NULL)
		fail("out of memory");
	journal_hash_init(&wbuf.hash);
	while ((len = getline(&line, &linecap, stdin)) != -1) {
		lineno++;
		if (line[len - 1] == '\n')
			len--;
		reserve((size_t)len + 1);
		clen = jsonscan_compact_value(line, (size_t)len,
		    wbuf.data + wbuf.len, &err);
		if (clen < 0)
			fail("stdin:%llu:%lu: %s", lineno, err.column,
			    err.reason);
		wbuf.len += (size_t)clen;
		wbuf.data[wbuf.len++] = '\n';
	}
	if (ferror(stdin))
		fail("stdin: %s", strerror(errno));
	free(line);
	flush_wbuf();
	free(wbuf.data);
	stats.records = wbuf.hash.records;
	stats.bytes = wbuf.hash.bytes;
}

/* ---- the claim ---- */

/*
 * The output's own commit record (journal.h) naming sources that are still
 * there forbids a plain write, as a committed journal file does.  One whose
 * sources are all gone only missed its removal: it holds nothing back.
 */
static void
refuse_if_holding(void)
{
	struct journal_entry *held;
	size_t nheld;

	if (claim_absorbed(out.dirfd, out.name, NULL, &held, &nheld) == -1)
		fail("%s: %s", leaf_path(out.name), errno == EBADMSG ?
		    "attribute " JOURNAL_ATTR " is not a valid journal: "
		    "nothing written" : strerror(errno));
	journal_entries_free(held, nheld);
	if (nheld > 0)
		fail("%s (attribute " JOURNAL_ATTR ") records sources already "
		    "in %s: only json-merge's output may replace it (nothing "
		    "written)", leaf_path(out.name), leaf_path(out.name));
}

/*
 * Checks the journal json-merge left and returns 1 with *claim loaded when
 * it is a claim to commit, 0 when there is no journal (a plain write).
 * Anything else fails: nothing has been replaced yet.
 */
static int
check_claim(struct journal *claim)
{
	const char *jpath;
	char *jname;
	struct stat st;
	struct journal_identity now;
	int r, have_output;

	jname = journal_name(out.name);
	if (jname == NULL)
		fail("out of memory");
	jpath = leaf_path(jname);
	free(jname);
	r = journal_load(out.dirfd, out.name, claim);
	if (r == -1)
		fail("%s: %s", jpath, errno == EBADMSG ?
		    "not a valid journal: nothing written" : strerror(errno));
	if (r == 0) {
		journal_free(claim);
		if (streaming)
			fail("no claim from json-merge in %s: nothing written",
			    diag_quote(out.dir));
		if (opt.remove_sources)
			fail("no claim from json-merge in %s: nothing removed",
			    diag_quote(out.dir));
		refuse_if_holding();
		return 0;
	}
	switch (claim->state) {
	case JOURNAL_MERGING:
		fail("json-merge did not finish (%s is still merging): "
		    "nothing written", jpath);
	case JOURNAL_COMMITTED:
		/* Replacing the output behind json-merge's back would make
		 * its kept sources count twice on the next run. */
		fail("%s records sources already in %s: only json-merge's "
		    "output may replace it (nothing written)", jpath,
		    leaf_path(out.name));
	case JOURNAL_MERGED:
		break;
	}
	/*
	 * Input that differs from what json-merge wrote has been through a
	 * filter (json-merge DIR | jq ... | jsonl-write), which is how the
	 * tools are meant to be combined, so it is accepted: the claim is
	 * complete, so json-merge finished, and a filter cut off mid-record
	 * leaves an invalid last line.  Only an empty input for a non-empty
	 * claim needs --filtered: it is also what a second, refused run on a
	 * busy leaf would send while the first run's claim is waiting here.
	 */
	if (streaming && (claim->records != wbuf.hash.records ||
	    claim->bytes != wbuf.hash.bytes ||
	    claim->hash != journal_hash_final(&wbuf.hash)))
		fail("the leaf stream for %s is not what json-merge wrote: "
		    "nothing written", diag_quote(out.dir));
	if (!opt.filtered && wbuf.hash.records == 0 && claim->records > 0)
		fail("no input, but json-merge wrote %llu records for %s "
		    "(use --filtered if a filter drops them all): nothing "
		    "written", (unsigned long long)claim->records,
		    diag_quote(out.dir));
	have_output = fstatat(out.dirfd, out.name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0;
	if (!have_output && errno != ENOENT)
		fail("%s: %s", leaf_path(out.name), strerror(errno));
	if (have_output)
		journal_identity_from_stat(&now, &st);
	if (have_output != claim->has_base ||
	    (have_output && !journal_identity_equal(&now, &claim->base)))
		fail("%s changed since json-merge read it", leaf_path(out.name));
	return 1;
}

/* ---- mode and owner ---- */

static int
compare_names(const void *a, const void *b)
{
	return strcmp(((const struct journal_entry *)a)->name,
	    ((const struct journal_entry *)b)->name);
}

/*
 * The rule of jsonl-write(1): the mode and ids of the first consumed
 * source in byte order of names; else those of the existing output; else
 * 0666 & ~umask and our own ids.
 */
static void
set_mode_owner(const struct journal *claim)
{
	const struct journal_entry *first = NULL;
	struct stat st;
	mode_t mode, mask;
	uid_t uid = geteuid();
	gid_t gid = getegid();

	for (size_t i = 0; claim != NULL && i < claim->nsources; i++)
		if (first == NULL ||
		    compare_names(&claim->sources[i], first) < 0)
			first = &claim->sources[i];
	mask = umask(0);
	umask(mask);
	mode = 0666 & ~mask;
	if (first != NULL) {
		mode = first->mode & 0777;
		uid = first->uid;
		gid = first->gid;
	} else if (fstatat(out.dirfd, out.name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode)) {
		mode = st.st_mode & 0777;
		uid = st.st_uid;
		gid = st.st_gid;
	}
	if ((uid != geteuid() || gid != getegid()) &&
	    fchown(out.fd, uid, gid) == -1 && geteuid() == 0)
		fail("%s: chown: %s", leaf_path(out.temp), strerror(errno));
	if (fchmod(out.fd, mode) == -1)
		fail("%s: chmod: %s", leaf_path(out.temp), strerror(errno));
}

/* ---- after the commit ---- */

/*
 * Removes the sources of the claim whose identity still matches.  Returns
 * 0, or 1 when some were kept (changed: named) or could not be removed
 * (then the journal must stay: it still says they are in the output).
 */
static int
remove_sources(const struct journal *claim, int *journal_needed)
{
	const struct journal_entry *lists[2] = { claim->kept, claim->sources };
	size_t counts[2] = { claim->nkept, claim->nsources };
	int partial = 0;

	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < counts[l]; i++) {
			const struct journal_entry *e = &lists[l][i];

			if (!journal_identity_matches(out.dirfd, e->name,
			    &e->id)) {
				if (faccessat(out.dirfd, e->name, F_OK,
				    AT_SYMLINK_NOFOLLOW) == 0) {
					diag_warnx("%s: changed since it was "
					    "read; kept", leaf_path(e->name));
					stats.kept++;
					partial = 1;
				}
				continue;
			}
			if (unlinkat(out.dirfd, e->name, 0) == -1 &&
			    errno != ENOENT) {
				diag_warn("%s", leaf_path(e->name));
				stats.kept++;
				partial = 1;
				*journal_needed = 1;
				continue;
			}
			stats.removed++;
		}
	}
	return partial;
}

static double
elapsed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - stats.start.tv_sec) +
	    (double)(now.tv_nsec - stats.start.tv_nsec) / 1e9;
}

/* The counts of --stats=json. */
static json_object *
stats_json(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "records",
	    json_object_new_uint64(stats.records));
	json_object_object_add(o, "bytes", json_object_new_uint64(stats.bytes));
	json_object_object_add(o, "sources_removed",
	    json_object_new_uint64(stats.removed));
	json_object_object_add(o, "sources_kept",
	    json_object_new_uint64(stats.kept));
	return o;
}

static void
print_stats(void)
{
	json_object *o;

	if (opt.stats == 1) {
		fprintf(stderr, "jsonl-write: %s: %llu records, %llu bytes, "
		    "%llu sources removed, %llu kept, %.3f s\n",
		    diag_quote(out.path), stats.records, stats.bytes,
		    stats.removed, stats.kept, elapsed());
		return;
	}
	o = stats_json();
	json_object_object_add(o, "unchanged",
	    json_object_new_boolean(stats.unchanged));
	json_object_object_add(o, "elapsed", json_object_new_double(elapsed()));
	fprintf(stderr, "%s\n",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* Failures after the commit leave the new output in place: status 1. */
static int
after_commit_warn(const char *what)
{
	diag_warn("%s", what);
	return 1;
}

/* Opens DIR and creates the temporary there. */
static void
open_temp(void)
{
	sigset_t held, saved_mask;

	out.dirfd = open(out.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (out.dirfd == -1)
		fail("%s: %s", diag_quote(out.dir), strerror(errno));
	/* A signal between the creation and temp_live would leave the
	 * temporary behind: hold them until the handler knows its name. */
	sigemptyset(&held);
	sigaddset(&held, SIGINT);
	sigaddset(&held, SIGTERM);
	sigaddset(&held, SIGHUP);
	sigaddset(&held, SIGPIPE);
	sigprocmask(SIG_BLOCK, &held, &saved_mask);
	/* Created 0600: nobody reads it before its mode is decided. */
	out.fd = journal_temp_create(out.dirfd, out.name, "tmp", 0600,
	    &out.temp);
	if (out.fd == -1) {
		sigprocmask(SIG_SETMASK, &saved_mask, NULL);
		fail("%s: cannot create a temporary file: %s",
		    diag_quote(out.dir), strerror(errno));
	}
	snprintf(out.handler_temp, sizeof(out.handler_temp), "%s", out.temp);
	out.temp_live = 1;
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

/*
 * Everything after the input is in the temporary: the claim, the commit,
 * the removal of the sources.  Returns EXITCODE_DONE or EXITCODE_PARTIAL (failures
 * before the commit go through fail()).
 */
/* The claim, the commit record and the journal's name of the leaf being
 * committed: file-scope, so that leaf_close() frees them after a failure
 * in the leaf stream. */
static struct journal claim, done;
static char *jname;

static int
commit(void)
{
	struct stat st;
	int have_claim, in_attr = 0, partial = 0, journal_needed;

	have_claim = check_claim(&claim);
	if (have_claim && opt.skip_unchanged && claim_check_idle(&claim)) {
		/* json-merge found nothing new: the output stays as it is. */
		remove_temp();
		if (claim_withdraw(out.dirfd, out.name, &claim) < 0)
			diag_warn("%s: withdrawing the claim",
			    diag_quote(out.dir));
		stats.unchanged = 1;
		return EXITCODE_DONE;
	}
	if (fstat(out.fd, &st) == -1)
		write_failed();
	if (have_claim) {
		/* The commit record: once the rename below is done, it says
		 * which sources the output holds, whatever happens next. */
		if (journal_init(&done) == -1)
			fail("out of memory");
		done.state = JOURNAL_COMMITTED;
		done.has_base = claim.has_base;
		done.base = claim.base;
		done.output_ino = st.st_ino;
		done.kept = claim.kept;
		done.nkept = claim.nkept;
		done.sources = claim.sources;
		done.nsources = claim.nsources;
		done.records = wbuf.hash.records;
		done.bytes = wbuf.hash.bytes;
		done.hash = journal_hash_final(&wbuf.hash);
		jname = journal_name(out.name);
		if (jname == NULL)
			fail("out of memory");
		/* On the temporary itself, while it is still ours (0600):
		 * the fsync below makes it durable with the data, the rename
		 * publishes both at once. */
		in_attr = journal_attr_store(out.fd, &done) == 0;
	}
	set_mode_owner(have_claim ? &claim : NULL);
	if (fsync(out.fd) == -1)
		write_failed();
	if (!in_attr) {
		if (close(out.fd) == -1)
			write_failed();
		out.fd = -1;
	}
	if (have_claim && !in_attr &&
	    journal_store(out.dirfd, out.name, &done, 1) == -1)
		fail("%s: %s", leaf_path(jname), strerror(errno));
	if (renameat(out.dirfd, out.temp, out.dirfd, out.name) == -1)
		fail("%s: rename: %s", leaf_path(out.name), strerror(errno));
	out.temp_live = 0;
	/* Committed: from here on the previous output is gone. */
	if (fsync(out.dirfd) == -1)
		partial = after_commit_warn(out.dir);
	if (have_claim) {
		journal_needed = partial;
		if (opt.remove_sources) {
			partial |= remove_sources(&claim, &journal_needed);
			if (fsync(out.dirfd) == -1) {
				partial = after_commit_warn(out.dir);
				journal_needed = 1;
			}
		} else if (claim.nkept + claim.nsources > 0)
			journal_needed = 1;	/* the kept sources */
		/*
		 * Neither is synced: a lost unlink brings back a claim of a
		 * dead process whose base is no longer the output, or a
		 * committed journal naming the output and sources that are all
		 * gone; a lost attribute removal leaves a record whose sources
		 * are all gone.  Each adds nothing, and the next run drops it.
		 */
		if (in_attr) {
			/* Our claim file was only the claim. */
			if (journal_remove(out.dirfd, out.name) == -1 &&
			    errno != ENOENT)
				partial = after_commit_warn(leaf_path(jname));
			if (!journal_needed)
				fremovexattr(out.fd, JOURNAL_ATTR);
		} else if (!journal_needed &&
		    journal_remove(out.dirfd, out.name) == -1)
			partial = after_commit_warn(leaf_path(jname));
	}
	return partial ? EXITCODE_PARTIAL : EXITCODE_DONE;
}

/* Closes what the leaf held; the temporary, if still there, is removed. */
static void
leaf_close(void)
{
	/* done borrowed claim's entries: only its host is its own. */
	free(done.host);
	memset(&done, 0, sizeof(done));
	journal_free(&claim);
	free(jname);
	jname = NULL;
	remove_temp();
	if (out.fd >= 0)
		close(out.fd);
	if (out.dirfd >= 0)
		close(out.dirfd);
	out.fd = out.dirfd = -1;
	free(out.temp);
	free(out.dir);
	out.temp = out.dir = NULL;
}

/* ---- the leaf stream ---- */

/* The input, read in large blocks; offset counts for messages. */
static struct {
	char *buf;
	size_t start, end;
	unsigned long long offset;	/* of buf[start] in the stream */
	int eof;
} in;

/* Makes at least want bytes available (fewer at the end of input). */
static size_t
in_fill(size_t want)
{
	ssize_t n;

	while (in.end - in.start < want && !in.eof) {
		if (in.start > 0) {
			memmove(in.buf, in.buf + in.start, in.end - in.start);
			in.end -= in.start;
			in.start = 0;
		}
		n = read(STDIN_FILENO, in.buf + in.end, BUF_SIZE - in.end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			remove_temp();
			diag_err(EXITCODE_FAILED, "stdin");
		}
		if (n == 0)
			in.eof = 1;
		in.end += (size_t)n;
	}
	return in.end - in.start;
}

static void
in_skip(size_t n)
{
	in.start += n;
	in.offset += n;
}

enum frame { FRAME_EOF, FRAME_LEAF, FRAME_DATA, FRAME_END };

/* Reads the header of the next frame; stops the run on what is not one. */
static enum frame
frame_next(size_t *len)
{
	static const char *const names[] = { "leaf ", "data ", "end " };
	char *nl, *p, *endp;
	unsigned long long n;
	size_t have = in_fill(48);

	if (have == 0)
		return FRAME_EOF;
	nl = memchr(in.buf + in.start, '\n', have);
	for (int i = 0; nl != NULL && i < 3; i++) {
		size_t k = strlen(names[i]);

		p = in.buf + in.start;
		if ((size_t)(nl - p) <= k || memcmp(p, names[i], k) != 0 ||
		    p[k] < '0' || p[k] > '9')
			continue;
		errno = 0;
		n = strtoull(p + k, &endp, 10);
		if (endp != nl || errno != 0 || n > SIZE_MAX / 2)
			break;
		*len = (size_t)n;
		in_skip((size_t)(nl - p) + 1);
		return (enum frame)(i + 1);
	}
	remove_temp();
	diag_errx(EXITCODE_FAILED, "stdin: byte %llu: not json-merge's leaf stream "
	    "(run json-merge without DIR, or give jsonl-write DIR/NAME)",
	    in.offset);
}

/* The payload of a frame (len bytes) into a new string. */
static char *
frame_text(size_t len)
{
	char *text = malloc(len + 1);

	if (text == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	for (size_t got = 0; got < len;) {
		size_t n = in_fill(len - got < BUF_SIZE ? len - got : BUF_SIZE);

		if (n == 0) {
			remove_temp();
			diag_errx(EXITCODE_FAILED, "stdin: byte %llu: the stream "
			    "ends inside a frame", in.offset);
		}
		if (n > len - got)
			n = len - got;
		memcpy(text + got, in.buf + in.start, n);
		in_skip(n);
		got += n;
	}
	text[len] = '\0';
	return text;
}

/* A data frame's len bytes into the temporary (discarded when tofile is
 * 0).  Returns 0, or -1 when the stream ends inside it. */
static int
frame_copy(size_t len, int tofile)
{
	while (len > 0) {
		size_t n = in_fill(1);

		if (n == 0)
			return -1;
		if (n > len)
			n = len;
		/* Straight from the input buffer: the lines were validated
		 * by json-merge, and the claim's hash checks they came whole. */
		if (tofile)
			write_temp(in.buf + in.start, n);
		in_skip(n);
		len -= n;
	}
	return 0;
}

/* What one leaf came to, on stdout (--stats=json) or stderr (--stats). */
static void
report_leaf(int status, int unchanged, json_object *merge)
{
	json_object *o;

	if (opt.stats == 1) {
		print_stats();
		return;
	}
	if (opt.stats != 2)
		return;
	o = stats_json();
	json_object_object_add(o, "output", json_object_new_string(out.path));
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "unchanged",
	    json_object_new_boolean(unchanged));
	json_object_object_add(o, "merge", merge ? json_object_get(merge) :
	    NULL);
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	/* The driver waits for this line to start the next leaf. */
	if (fflush(stdout) == EOF)
		diag_err(EXITCODE_FAILED, "stdout");
	json_object_put(o);
}

/* json-merge's status for the leaf, from its end frame (4 if unreadable). */
static int
merge_status(json_object *end, int *unchanged)
{
	json_object *v;
	int status = EXITCODE_FAILED;

	*unchanged = 0;
	if (end != NULL && json_object_object_get_ex(end, "status", &v))
		status = json_object_get_int(v);
	if (end != NULL && json_object_object_get_ex(end, "unchanged", &v))
		*unchanged = json_object_get_boolean(v);
	return status;
}

/*
 * The leaf stream: for each leaf, its data into a temporary, then, when
 * json-merge's end frame says it finished and the claim's hash matches
 * what came, the commit.  A failed leaf costs that leaf only; a stream cut
 * off inside a leaf (json-merge died) ends the run.
 */
static int
write_stream(void)
{
	static int worst;
	enum frame f;
	size_t len;

	if ((in.buf = malloc(BUF_SIZE)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	worst = EXITCODE_DONE;
	streaming = 1;
	while ((f = frame_next(&len)) != FRAME_EOF) {
		/* Read after a longjmp() from fail(). */
		static json_object *end;
		static int status, unchanged, at_end, cut;
		static char *path;
		char *text;

		if (f != FRAME_LEAF)
			diag_errx(EXITCODE_FAILED, "stdin: byte %llu: a frame "
			    "outside a leaf", in.offset);
		path = frame_text(len);
		if (len > 0 && path[len - 1] == '\n')
			path[len - 1] = '\0';
		end = NULL;
		status = EXITCODE_FAILED;
		unchanged = at_end = cut = 0;
		memset(&stats, 0, sizeof(stats));
		clock_gettime(CLOCK_MONOTONIC, &stats.start);
		journal_hash_init(&wbuf.hash);
		if (setjmp(failed_leaf) == 0) {
			if (set_output(path) < 0)
				fail("stdin: byte %llu: a leaf frame without "
				    "a file path", in.offset);
			open_temp();
			while ((f = frame_next(&len)) == FRAME_DATA)
				if (frame_copy(len, 1) < 0)
					break;
			if (f != FRAME_END) {
				cut = 1;
				fail("%s: json-merge's stream ends inside the "
				    "leaf: nothing written", diag_quote(out.dir));
			}
			at_end = 1;
			text = frame_text(len);
			end = json_tokener_parse(text);
			free(text);
			status = merge_status(end, &unchanged);
			stats.records = wbuf.hash.records;
			stats.bytes = wbuf.hash.bytes;
			if (status != EXITCODE_DONE && status != EXITCODE_PARTIAL) {
				/* json-merge said why. */
				remove_temp();
				status = EXITCODE_FAILED;
			} else if (unchanged) {
				remove_temp();
			} else {
				int st = commit();

				if (st > status)
					status = st;
			}
		} else {
			status = EXITCODE_FAILED;
			/* Whatever is left of the leaf is not for us. */
			while (!at_end && !cut) {
				f = frame_next(&len);
				if (f == FRAME_DATA) {
					if (frame_copy(len, 0) < 0)
						cut = 1;
				} else if (f == FRAME_END) {
					free(frame_text(len));
					at_end = 1;
				} else
					cut = 1;
			}
		}
		report_leaf(status, unchanged, end);
		if (end != NULL)
			json_object_put(end);
		leaf_close();
		free(path);
		if (status > worst)
			worst = status;
		if (cut)
			break;
	}
	free(in.buf);
	return worst;
}

int
main(int argc, char **argv)
{
	int status;

	diag_init(argv[0]);
	clock_gettime(CLOCK_MONOTONIC, &stats.start);
	parse_options(argc, argv);
	catch_signals();
	if (out.path == NULL) {
		status = write_stream();
	} else {
		open_temp();
		copy_stdin();
		status = commit();
		leaf_close();
		if (opt.stats)
			print_stats();
	}
	if (diag_close_stdout() == -1)
		return EXITCODE_FAILED;
	return status;
}
