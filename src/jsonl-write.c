/*
 * jsonl-write - commit JSONL from standard input to a file, durably and
 * atomically, finishing the hand-over that json-merge started.
 *
 * The protocol (journal states, recovery after a crash, the mode and owner
 * rule) is documented in jsonl-write(1) and claim.h; the storage is
 * journal.h.  The order of the steps below is what makes a SIGKILL between
 * any two system calls harmless:
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
 *
 * Map of this file:
 *   options        usage and --help texts, parse_options()
 *   signals        the handler removes the temporary (its file-scope copy)
 *   the leaf       struct leaf: one output, its temporary, its claim;
 *                  leaf_init(), leaf_open_temp(), leaf_close(), fail()
 *   one file       copy_stdin(): validated lines into the temporary
 *   the commit     check_claim(), set_mode_owner(), seal_temp(),
 *                  after_commit(), commit(): steps 2 to 5
 *   stats          the text line and the JSON objects of --stats
 *   the stream     write_stream(), stream_leaf(): leafstream.h frames,
 *                  one leaf after the other (stream_frames() into the
 *                  temporary), each through commit()
 *   main           write_file() or write_stream()
 * A leaf fails by returning EXITCODE_FAILED from the step that failed
 * (which said why and removed the temporary); the loop that owns the leaf
 * closes it, whatever happened, with leaf_close().
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alloc.h"
#include "claim.h"
#include "cli.h"
#include "diag.h"
#include "exitcode.h"
#include "journal.h"
#include "jsonscan.h"
#include "leafstream.h"
#include "share.h"
#include "staging.h"
#include "stats.h"
#include "watch.h"
#include "xstd.h"

/* ---- options ---- */

static const char usage_text[] =
    "usage: jsonl-write [--filtered] [--remove-sources] [--skip-unchanged] "
    "[--staging DIR]\n"
    "                   [--stats[=json]] [DIR/NAME]\n";

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
    "      --staging DIR       with --remove-sources: where the output is "
    "built when its\n"
    "                          file system has no free inode (see "
    "leafpack(1))\n"
    "      --stats[=json]      print counts (or one JSON object) on stderr "
    "at the end\n"
    "      --help              print this help\n"
    "      --version           print the version\n";

/* Reads from stdin and writes to the temporary are of this size. */
#define WRITE_SIZE (1024 * 1024)

static struct {
	bool filtered;
	bool remove_sources;
	bool skip_unchanged;
	const char *staging;	/* --staging DIR, or NULL */
	int stagefd;		/* it, open */
	enum cli_stats stats;
} opt;

static const struct option long_options[] = {
	{ "filtered", no_argument, NULL, 'f' },
	{ "skip-unchanged", no_argument, NULL, 'u' },
	{ "help", no_argument, NULL, 'h' },
	{ "remove-sources", no_argument, NULL, 'r' },
	{ "staging", required_argument, NULL, 'T' },
	{ "stats", optional_argument, NULL, 's' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* NAME of DIR/NAME (the whole path when it has no '/'). */
static const char *
output_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* True when path names a file DIR/NAME whose temporaries fit NAME_MAX;
 * says why not. */
static bool
output_path_valid(const char *path)
{
	const char *name = output_name(path);

	if (*name == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || strlen(name) + 32 > NAME_MAX) {
		diag_warnx("%s: not a file path DIR/NAME", diag_quote(path));
		return false;
	}
	return true;
}

/* Sets opt; returns DIR/NAME, or NULL for the leaf stream. */
static char *
parse_options(int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			opt.filtered = true;
			break;
		case 'u':
			opt.skip_unchanged = true;
			break;
		case 'h':
			cli_help(usage_text, options_text);
		case 'r':
			opt.remove_sources = true;
			break;
		case 's':
			if (cli_stats(optarg, &opt.stats) < 0)
				cli_usage(usage_text);
			break;
		case 'T':
			opt.staging = optarg;
			break;
		case 'V':
			cli_version();
		default:
			cli_usage(usage_text);
		}
	}
	if (argc - optind > 1)
		cli_usage(usage_text);
	opt.stagefd = -1;
	if (opt.staging != NULL && (opt.stagefd = cli_staging(opt.staging)) < 0)
		cli_usage(usage_text);
	if (argc - optind == 0)
		return NULL;
	if (!output_path_valid(argv[optind]))
		cli_usage(usage_text);
	return argv[optind];
}

/* ---- signals ---- */

static const int caught_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

/* What the signal handler removes: a copy of the temporary's name and of
 * its directory's fd, valid while live is set. */
static struct {
	char temp[NAME_MAX + 1];
	int dirfd;
	volatile sig_atomic_t live;
} handler;

static void
on_signal(int sig)
{
	/* unlinkat() and _exit() are async-signal-safe. */
	if (handler.live)
		unlinkat(handler.dirfd, handler.temp, 0);
	_exit(128 + sig);
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < countof(caught_signals); i++)
		sigaction(caught_signals[i], &sa, NULL);
}

/* Removes the temporary (if still there); the previous output is intact. */
static void
remove_temp(void)
{
	if (handler.live) {
		handler.live = 0;
		share_unlinkat(handler.dirfd, handler.temp, 0);
	}
}

/* ---- the leaf ---- */

/* One output being written, from its temporary to the release of its
 * claim.  leaf_init() makes it, leaf_close() frees it. */
struct leaf {
	char *path;		/* DIR/NAME as given (not owned) */
	char *dir;		/* DIR ("." when the path has no '/') */
	const char *name;	/* NAME: points into path */
	char *jname;		/* .NAME.journal, for messages */
	bool in_stream;		/* a leaf of the leaf stream */
	int dirfd;
	int fd;			/* the temporary */
	char *temp;		/* its name in DIR */
	struct buf wbuf;	/* one file: lines not yet written */
	struct journal_hash hash;	/* of all that went into the temp */
	struct journal claim;	/* json-merge's, when have_claim */
	bool have_claim;
	struct buf first_name;	/* first_source()'s */
	struct journal record;	/* the commit record (borrows the claim's
				 * entries) */
	bool in_attr;		/* it is on the temporary's attribute */
	struct leafstream_write counts;	/* for --stats */
	bool withdrawn;		/* --skip-unchanged left the output alone */
	bool staged;		/* the temporary is in --staging DIR */
	char entry[STAGING_ENTRY_MAX];	/* the leaf's name there */
	bool committed;		/* renamed into place */
	bool busy;		/* another run holds the leaf */
	struct stats_clock clock;
	/* the leaf stream: json-merge's end frame, as sent and as read */
	json_object *merge_end;
	struct leafstream_end end;
};

/*
 * Starts the leaf for DIR/NAME (path, not owned; not yet checked): nothing
 * is open.  Returns -1 when out of memory; leaf_close() is safe anyway.
 */
static int
leaf_init(struct leaf *leaf, char *path)
{
	const char *slash = strrchr(path, '/');

	memset(leaf, 0, sizeof(*leaf));
	leaf->fd = leaf->dirfd = -1;
	leaf->path = path;
	leaf->name = output_name(path);
	journal_hash_init(&leaf->hash);
	stats_clock_start(&leaf->clock);
	if (slash == NULL)
		leaf->dir = strdup(".");
	else if (slash == path)
		leaf->dir = strdup("/");
	else
		leaf->dir = strndup(path, (size_t)(slash - path));
	leaf->jname = journal_name(leaf->name);
	return leaf->dir == NULL || leaf->jname == NULL ? -1 : 0;
}

/* DIR/name for messages, quoted; two calls fit in one message. */
static const char *
leaf_path(const struct leaf *leaf, const char *name)
{
	static char buf[2][PATH_MAX * 2];
	static int which;

	which = !which;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", leaf->dir, name);
	return diag_quote(buf[which]);
}

/*
 * Fails the leaf before its commit: nothing was replaced or removed.  The
 * temporary goes first, so that whoever reads the message finds it gone.
 * Returns EXITCODE_FAILED.
 */
static int __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	char msg[PATH_MAX * 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	remove_temp();
	diag_warnx("%s", msg);
	return EXITCODE_FAILED;
}

/* A write (or fstat, fsync, close) of the temporary failed: errno. */
static int
temp_failed(const struct leaf *leaf)
{
	return fail("%s: %s", leaf_path(leaf, leaf->temp), strerror(errno));
}

/*
 * Creating the temporary failed with ENOSPC: true when DIR's file system
 * has no free inode (staging.h), which is then in the counts.  Run by
 * leafpack, which says it once for the run, we only report it.
 */
static bool
no_inodes(struct leaf *leaf)
{
	return staging_out_of_inodes(leaf->dirfd, leaf->dir,
	    &leaf->counts.no_inodes, &leaf->counts.inodes);
}

/*
 * The leaf's file system has no free inode: with --staging (and
 * --remove-sources, which frees the inodes the commit needs) the
 * temporary is made in the staging directory instead (staging.h), where
 * the commit goes on.  0, -1 when it is not for staging, -2 when creating
 * it there failed (said).
 */
static int
stage_temp(struct leaf *leaf, bool force)
{
	unsigned long long total;
	struct stat leafst, stagest;

	if (opt.stagefd < 0 || !opt.remove_sources ||
	    (!force && !share_out_of_inodes(leaf->dirfd, NULL, &total)) ||
	    share_fstat(leaf->dirfd, NULL, &leafst) < 0 ||
	    fstat(opt.stagefd, &stagest) < 0 ||
	    leafst.st_dev == stagest.st_dev ||
	    staging_entry_name(leaf->dirfd, leaf->entry) < 0)
		return -1;
	leaf->fd = journal_temp_create(opt.stagefd, leaf->entry, "tmp", 0600,
	    &leaf->temp);
	if (leaf->fd < 0) {
		fail("%s: cannot create a temporary file: %s",
		    diag_quote(opt.staging), strerror(errno));
		return -2;
	}
	leaf->staged = true;
	return 0;
}

/* Opens DIR and creates the temporary there. */
static int
leaf_open_temp(struct leaf *leaf)
{
	sigset_t held, saved_mask;

	watch_set_dir(leaf->dir);
	leaf->dirfd = share_open(leaf->dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (leaf->dirfd == -1)
		return fail("%s: %s", diag_quote(leaf->dir), strerror(errno));
	/* A signal between the creation and handler.live would leave the
	 * temporary behind: hold them until the handler knows its name. */
	sigemptyset(&held);
	for (size_t i = 0; i < countof(caught_signals); i++)
		sigaddset(&held, caught_signals[i]);
	sigprocmask(SIG_BLOCK, &held, &saved_mask);
	/* Created 0600: nobody reads it before its mode is decided. */
	leaf->fd = journal_temp_create(leaf->dirfd, leaf->name, "tmp", 0600,
	    &leaf->temp);
	if (leaf->fd == -1 && errno == ENOSPC) {
		int staged = stage_temp(leaf, false);

		if (staged < 0) {
			sigprocmask(SIG_SETMASK, &saved_mask, NULL);
			if (staged == -2 || no_inodes(leaf))
				return EXITCODE_FAILED;
			errno = ENOSPC;
		}
	}
	if (leaf->fd == -1) {
		sigprocmask(SIG_SETMASK, &saved_mask, NULL);
		return fail("%s: cannot create a temporary file: %s",
		    diag_quote(leaf->dir), strerror(errno));
	}
	snprintf(handler.temp, sizeof(handler.temp), "%s", leaf->temp);
	handler.dirfd = leaf->staged ? opt.stagefd : leaf->dirfd;
	handler.live = 1;
	sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	return EXITCODE_DONE;
}

/* Writes bytes to the temporary, hashing them as they go out. */
static int
temp_write(struct leaf *leaf, const char *p, size_t len)
{
	journal_hash_update(&leaf->hash, p, len);
	if (share_write_all(leaf->fd, leaf->temp, p, len) < 0)
		return temp_failed(leaf);
	return EXITCODE_DONE;
}

/* Frees what the leaf holds; the temporary, if still there, is removed. */
static void
leaf_close(struct leaf *leaf)
{
	claim_record_free(&leaf->record);
	journal_free(&leaf->claim);
	buf_free(&leaf->first_name);
	journal_redirect_clear();
	remove_temp();
	share_close_quietly(&leaf->fd, leaf->temp);
	share_close_quietly(&leaf->dirfd, NULL);
	watch_set_dir(NULL);
	free(leaf->temp);
	free(leaf->dir);
	free(leaf->jname);
	buf_free(&leaf->wbuf);
	json_object_put(leaf->merge_end);
}

/* ---- one file: copying stdin to the temporary ---- */

static int
wbuf_flush(struct leaf *leaf)
{
	int status = temp_write(leaf, leaf->wbuf.data, leaf->wbuf.len);

	leaf->wbuf.len = 0;
	return status;
}

/* Makes room for need more bytes in the write buffer, writing it out
 * first when they do not fit. */
static int
wbuf_room(struct leaf *leaf, size_t need)
{
	if (leaf->wbuf.cap - leaf->wbuf.len >= need)
		return EXITCODE_DONE;
	if (wbuf_flush(leaf) != EXITCODE_DONE)
		return EXITCODE_FAILED;
	if (buf_reserve(&leaf->wbuf, need) < 0)
		return fail("out of memory");
	return EXITCODE_DONE;
}

/* Validates every line of stdin and writes its compact form. */
static int
copy_stdin(struct leaf *leaf)
{
	struct jsonscan_error err;
	struct buf *out = &leaf->wbuf;
	unsigned long long lineno = 0;
	char *line = NULL;
	size_t linecap = 0;
	ssize_t len, clen;
	int status = EXITCODE_DONE;

	/* Fewer, bigger reads from the pipe. */
	setvbuf(stdin, NULL, _IOFBF, WRITE_SIZE);
	if (buf_reserve(out, WRITE_SIZE) < 0)
		return fail("out of memory");
	while ((len = getline(&line, &linecap, stdin)) != -1) {
		lineno++;
		if (line[len - 1] == '\n')
			len--;
		/* A line bigger than the write buffer is compacted where it
		 * lies and written from there: it is held once. */
		if ((size_t)len + 1 > WRITE_SIZE) {
			clen = jsonscan_compact_value(line, (size_t)len, line,
			    &err);
			if (clen < 0)
				goto invalid;
			line[clen] = '\n';
			if ((status = wbuf_flush(leaf)) != EXITCODE_DONE ||
			    (status = temp_write(leaf, line, (size_t)clen + 1)) !=
			    EXITCODE_DONE)
				break;
			continue;
		}
		if ((status = wbuf_room(leaf, (size_t)len + 1)) != EXITCODE_DONE)
			break;
		clen = jsonscan_compact_value(line, (size_t)len,
		    out->data + out->len, &err);
		if (clen < 0)
			goto invalid;
		out->len += (size_t)clen;
		out->data[out->len++] = '\n';
		continue;
invalid:
		status = fail("stdin:%llu:%lu: %s", lineno, err.column,
		    err.reason);
		break;
	}
	if (status == EXITCODE_DONE && ferror(stdin))
		status = fail("stdin: %s", strerror(errno));
	free(line);
	if (status == EXITCODE_DONE)
		status = wbuf_flush(leaf);
	leaf->counts.records = leaf->hash.records;
	leaf->counts.bytes = leaf->hash.bytes;
	return status;
}

/* ---- the commit ---- */

/*
 * Checks the journal json-merge left (claim.h): sets have_claim when it is
 * a claim to commit; none is a plain write.  Anything else fails, with the
 * reason: nothing has been replaced yet.
 */
static int
check_claim(struct leaf *leaf)
{
	int flags = 0, err;
	enum claim_check verdict;

	if (leaf->in_stream)
		flags |= CLAIM_CHECK_STREAM;
	if (opt.remove_sources)
		flags |= CLAIM_CHECK_REMOVE;
	if (opt.filtered)
		flags |= CLAIM_CHECK_FILTERED;
	verdict = claim_check(leaf->dirfd, leaf->name, &leaf->hash, flags,
	    &leaf->claim);
	err = errno;
	switch (verdict) {
	case CLAIM_READY:
		leaf->have_claim = true;
		return EXITCODE_DONE;
	case CLAIM_NONE:
		return EXITCODE_DONE;
	case CLAIM_CHECK_ERROR:
		return fail("%s: %s", leaf_path(leaf, leaf->jname),
		    err == EBADMSG ? "not a valid journal: nothing written" :
		    strerror(err));
	case CLAIM_RECORD_ERROR:
		return fail("%s: %s", leaf_path(leaf, leaf->name),
		    err == EBADMSG ? "attribute " JOURNAL_ATTR " is not a "
		    "valid journal: nothing written" : strerror(err));
	case CLAIM_MISSING:
		return fail("no claim from json-merge in %s: nothing %s",
		    diag_quote(leaf->dir), leaf->in_stream ? "written" : "removed");
	case CLAIM_RECORD_HOLDS:
		return fail("%s (attribute " JOURNAL_ATTR ") records sources "
		    "already in %s: only json-merge's output may replace it "
		    "(nothing written)", leaf_path(leaf, leaf->name),
		    leaf_path(leaf, leaf->name));
	case CLAIM_MERGING:
		return fail("json-merge did not finish (%s is still merging): "
		    "nothing written", leaf_path(leaf, leaf->jname));
	case CLAIM_COMMITTED:
		return fail("%s records sources already in %s: only "
		    "json-merge's output may replace it (nothing written)",
		    leaf_path(leaf, leaf->jname), leaf_path(leaf, leaf->name));
	case CLAIM_STREAM_DIFFERS:
		return fail("the leaf stream for %s is not what json-merge "
		    "wrote: nothing written", diag_quote(leaf->dir));
	case CLAIM_EMPTY_INPUT:
		return fail("no input, but json-merge wrote %llu records for %s "
		    "(use --filtered if a filter drops them all): nothing "
		    "written", (unsigned long long)leaf->claim.records,
		    diag_quote(leaf->dir));
	case CLAIM_OUTPUT_ERROR:
		return fail("%s: %s", leaf_path(leaf, leaf->name),
		    strerror(err));
	case CLAIM_HELD:
		/* Our json-merge lost the leaf to that run: it is busy. */
		remove_temp();
		leaf->busy = true;
		diag_warnx("%s: busy: being consolidated by %s pid %lld: "
		    "nothing written", diag_quote(leaf->dir),
		    leaf->claim.host ? leaf->claim.host : "?", leaf->claim.pid);
		return EXITCODE_PARTIAL;
	case CLAIM_OUTPUT_CHANGED:
		break;
	}
	return fail("%s changed since json-merge read it",
	    leaf_path(leaf, leaf->name));
}

/* The byte-order first source json-merge consumed in *first (NULL when
 * none was; valid until the next call), or -1 (errno). */
static int
first_source(struct leaf *leaf, const struct journal_entry **first)
{
	static struct journal_entry e;
	int r = journal_entries_first(&leaf->claim.sources, &e,
	    &leaf->first_name);

	*first = r == 1 ? &e : NULL;
	return r < 0 ? -1 : 0;
}

/*
 * The rule of jsonl-write(1): the mode and ids of the first consumed
 * source in byte order of names; else those of the existing output; else
 * 0666 & ~umask and our own ids.
 */
static int
set_mode_owner(struct leaf *leaf)
{
	const struct journal_entry *first = NULL;
	struct stat st;
	mode_t mode, mask;
	uid_t uid = geteuid();
	gid_t gid = getegid();

	if (leaf->have_claim && first_source(leaf, &first) < 0)
		return fail("%s: the claim's sources: %s",
		    diag_quote(leaf->dir), strerror(errno));
	mask = umask(0);
	umask(mask);
	mode = 0666 & ~mask;
	if (first != NULL) {
		mode = first->mode & 0777;
		uid = first->uid;
		gid = first->gid;
	} else if (share_fstatat(leaf->dirfd, leaf->name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
		mode = st.st_mode & 0777;
		uid = st.st_uid;
		gid = st.st_gid;
	}
	if ((uid != geteuid() || gid != getegid()) &&
	    share_fchown(leaf->fd, leaf->temp, uid, gid) == -1 &&
	    geteuid() == 0)
		return fail("%s: chown: %s", leaf_path(leaf, leaf->temp),
		    strerror(errno));
	if (share_fchmod(leaf->fd, leaf->temp, mode) == -1)
		return fail("%s: chmod: %s", leaf_path(leaf, leaf->temp),
		    strerror(errno));
	return EXITCODE_DONE;
}

/*
 * The temporary was made in the leaf, but its commit needs one more inode
 * there, and none is free: with --staging, it is copied whole into a new
 * temporary in the staging directory and removed from the leaf, and
 * leaf->staged set; with force also when inodes are free (the claim is in
 * the staging directory already).  0, or -1 (errno ENOSPC: not for
 * staging; else said, with leaf->staged set).
 */
static int
restage_temp(struct leaf *leaf, bool force)
{
	static char buf[1 << 20];
	char *leaftemp = leaf->temp;
	ssize_t n = 0;
	int in;

	share_close_quietly(&leaf->fd, leaftemp);
	leaf->temp = NULL;
	if (stage_temp(leaf, force) < 0) {
		if (leaf->temp == NULL)
			leaf->temp = leaftemp;
		else
			free(leaftemp);
		errno = ENOSPC;
		return -1;
	}
	/* The signal handler removes the new one from now on. */
	snprintf(handler.temp, sizeof(handler.temp), "%s", leaf->temp);
	handler.dirfd = opt.stagefd;
	in = share_openat(leaf->dirfd, leaftemp, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC, 0);
	while (in >= 0 && (n = share_read_all(in, leaftemp, buf,
	    sizeof(buf))) > 0) {
		if (xwrite(leaf->fd, buf, (size_t)n) < 0) {
			n = -1;
			break;
		}
		if ((size_t)n < sizeof(buf))
			break;
	}
	if (in < 0 || n < 0) {
		int err = errno;

		share_close_quietly(&in, leaftemp);
		share_unlinkat(leaf->dirfd, leaftemp, 0);
		free(leaftemp);
		errno = err;
		return fail("%s: %s", leaf_path(leaf, leaf->temp),
		    strerror(errno)), -1;
	}
	share_close_quietly(&in, leaftemp);
	share_unlinkat(leaf->dirfd, leaftemp, 0);
	free(leaftemp);
	return 0;
}

/*
 * The output is durable and not yet published: a source rewritten since
 * json-merge read it (its old records are in the temporary) makes us
 * publish nothing for the leaf this time, and give the claim back, so
 * that a later run reads the leaf again; removing the other sources and
 * keeping that one would have the next run read its old records twice.
 * What remains is the window between this look and the rename (and the
 * unlinks after it): see jsonl-write(1).
 */
static int
recheck_sources(struct leaf *leaf)
{
	struct buf name = { 0 };
	int r = claim_changed_source(leaf->dirfd, &leaf->claim, &name);

	if (r == 0)
		return EXITCODE_DONE;
	remove_temp();
	if (r > 0)
		diag_warnx("%s: changed since it was read: nothing published "
		    "for %s; a later run consolidates it",
		    leaf_path(leaf, name.data), diag_quote(leaf->dir));
	else
		diag_warnx("%s: the claim's sources: %s: nothing published; "
		    "a later run consolidates it", diag_quote(leaf->dir),
		    strerror(errno));
	buf_free(&name);
	if (claim_give_back(leaf->dirfd, leaf->name, &leaf->claim) == -1)
		diag_warn("%s", leaf_path(leaf, leaf->jname));
	leaf->counts.records = leaf->counts.bytes = 0;
	leaf->counts.sources_kept = leaf->claim.kept.count +
	    leaf->claim.sources.count;
	leaf->have_claim = false;
	return EXITCODE_PARTIAL;
}

/*
 * Steps 2 and 3: the temporary made ready to be renamed, with its commit
 * record (on its attribute, or in the journal file), mode and owner,
 * synced.
 */
static int
seal_temp(struct leaf *leaf)
{
	struct stat st;
	int status, closed;

	if (share_fstat(leaf->fd, leaf->temp, &st) == -1)
		return temp_failed(leaf);
	if (leaf->have_claim) {
		/* The commit record: once the rename is done, it says which
		 * sources the output holds, whatever happens next. */
		if (claim_record_init(&leaf->record, &leaf->claim, st.st_ino,
		    &leaf->hash) == -1)
			return fail("out of memory");
		/* On the temporary itself, while it is still ours (0600):
		 * the fsync below makes it durable with the data, the rename
		 * publishes both at once. */
		leaf->in_attr = journal_attr_store(leaf->fd, leaf->temp,
		    &leaf->record) == 0;
	}
	if ((status = set_mode_owner(leaf)) != EXITCODE_DONE)
		return status;
	if (share_fsync(leaf->fd, leaf->temp) == -1)
		return temp_failed(leaf);
	if (leaf->have_claim && (status = recheck_sources(leaf)) !=
	    EXITCODE_DONE)
		return status;
	if (!leaf->in_attr) {
		/* The last report of a write error (NFS): the data is lost. */
		closed = share_close(leaf->fd, leaf->temp) == -1 &&
		    errno != EINTR ? -1 : 0;
		leaf->fd = -1;
		if (closed == -1)
			return temp_failed(leaf);
	}
	if (leaf->have_claim && !leaf->in_attr &&
	    journal_store(leaf->dirfd, leaf->name, &leaf->record, 1) == -1) {
		/* No inode for the record: the commit goes through the
		 * staging directory instead. */
		if (errno == ENOSPC && restage_temp(leaf, false) == 0)
			return EXITCODE_DONE;
		if (leaf->staged)
			return EXITCODE_FAILED;	/* said */
		if (errno == ENOSPC && no_inodes(leaf)) {
			remove_temp();
			return EXITCODE_FAILED;
		}
		return fail("%s: %s", leaf_path(leaf, leaf->jname),
		    strerror(errno));
	}
	return EXITCODE_DONE;
}

/* Failures after the commit leave the new output in place: status 1. */
static bool
after_commit_warn(const char *what)
{
	diag_warn("%s", what);
	return true;
}

/* What became of a source in claim_remove_sources(): said and counted. */
static void
count_removal(void *ctx, const struct journal_entry *e,
    enum claim_removal what, int err)
{
	struct leaf *leaf = ctx;

	switch (what) {
	case CLAIM_REMOVED:
		leaf->counts.sources_removed++;
		break;
	case CLAIM_GONE:
		break;
	case CLAIM_KEPT_CHANGED:
		diag_warnx("%s: changed since it was read; kept",
		    leaf_path(leaf, e->name));
		leaf->counts.sources_kept++;
		break;
	case CLAIM_KEPT_ERROR:
		errno = err;
		if (e != NULL)
			diag_warn("%s", leaf_path(leaf, e->name));
		else
			diag_warn("%s: the claim's sources; the rest are kept",
			    diag_quote(leaf->dir));
		leaf->counts.sources_kept++;
		break;
	}
}

/* Steps 4 (after the rename) and 5: sync, remove the sources, release the
 * claim.  Returns EXITCODE_DONE or EXITCODE_PARTIAL. */
static int
after_commit(struct leaf *leaf)
{
	bool partial = false, record_needed;

	if (share_fsync(leaf->dirfd, NULL) == -1)
		partial = after_commit_warn(leaf->dir);
	if (!leaf->have_claim)
		return partial ? EXITCODE_PARTIAL : EXITCODE_DONE;
	record_needed = partial;
	if (opt.remove_sources) {
		if (claim_remove_sources(leaf->dirfd, &leaf->claim,
		    count_removal, leaf, &record_needed) > 0)
			partial = true;
		if (share_fsync(leaf->dirfd, NULL) == -1) {
			partial = after_commit_warn(leaf->dir);
			record_needed = true;
		}
	} else if (leaf->claim.kept.count + leaf->claim.sources.count > 0)
		record_needed = true;	/* the kept sources */
	/*
	 * Not synced: a lost unlink brings back a claim of a dead process
	 * whose base is no longer the output, or a committed journal naming
	 * the output and sources that are all gone; a lost attribute removal
	 * leaves a record whose sources are all gone.  Each adds nothing, and
	 * the next run drops it.
	 */
	if (claim_release(leaf->dirfd, leaf->name, leaf->fd, leaf->in_attr,
	    record_needed) == -1)
		partial = after_commit_warn(leaf_path(leaf, leaf->jname));
	return partial ? EXITCODE_PARTIAL : EXITCODE_DONE;
}

/* A staged commit that failed: said, and when the leaf was not marked
 * (its records are all still there), the staged copy dropped. */
static int
staged_failed(struct leaf *leaf, const struct journal_entry *first,
    const char *step)
{
	int err = errno;
	char *mark = staging_mark_name(leaf->name);

	if (mark != NULL && share_faccessat(leaf->dirfd, mark, F_OK,
	    AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
	    journal_identity_matches(leaf->dirfd, first->name, &first->id)) {
		staging_drop(opt.stagefd, leaf->entry);
		diag_warnx("%s: staged commit: %s: %s; nothing changed",
		    diag_quote(leaf->dir), step, strerror(err));
	} else
		diag_warnx("%s: staged commit: %s: %s; its records wait in "
		    "%s/%s (run again with --staging %s)",
		    diag_quote(leaf->dir), step, strerror(err),
		    diag_quote(opt.staging), leaf->entry,
		    diag_quote(opt.staging));
	free(mark);
	return EXITCODE_FAILED;
}

/*
 * A staged commit with no source consumed: the output already holds
 * every record (json-merge only rewrote it), so it stays as it is; the
 * kept sources it holds go (--remove-sources), and the claim.
 */
static int
staged_nothing_new(struct leaf *leaf)
{
	bool record_needed = false;
	int status = EXITCODE_DONE;

	remove_temp();
	if (claim_remove_sources(leaf->dirfd, &leaf->claim, count_removal,
	    leaf, &record_needed) > 0)
		status = EXITCODE_PARTIAL;
	if (claim_release(leaf->dirfd, leaf->name, -1, false,
	    record_needed) < 0)
		status = after_commit_warn(leaf_path(leaf, leaf->jname)) ?
		    EXITCODE_PARTIAL : status;
	/* With the claim in the staging directory, a journal left in the
	 * leaf is a dead run's, which the claim took over. */
	if (!record_needed)
		share_unlinkat(leaf->dirfd, leaf->jname, 0);
	leaf->withdrawn = true;
	return status;
}

/*
 * The commit through the staging directory (staging.h): the temporary
 * there becomes DIR/E, the claim DIR/.E.journal and the entry
 * DIR/.E.entry, each durable; then staging_finish() moves the output
 * into the leaf without a new inode there.
 */
static int
staged_commit(struct leaf *leaf)
{
	const struct journal_entry *first;
	struct staging_entry en;
	unsigned long long removed;
	enum staging_result r;
	const char *step;
	int closed, status;

	if (!leaf->have_claim)
		return fail("no claim from json-merge in %s: a staged commit "
		    "needs one (nothing written)", diag_quote(leaf->dir));
	/* As before a rename in the leaf: a source rewritten since it was
	 * read keeps the whole leaf back. */
	if ((status = recheck_sources(leaf)) != EXITCODE_DONE)
		return status;
	if (first_source(leaf, &first) < 0)
		return fail("%s: the claim's sources: %s", diag_quote(leaf->dir),
		    strerror(errno));
	if (first == NULL)
		return staged_nothing_new(leaf);
	if (share_fsync(leaf->fd, leaf->temp) < 0)
		return temp_failed(leaf);
	closed = share_close(leaf->fd, leaf->temp);
	leaf->fd = -1;
	if (closed < 0)
		return temp_failed(leaf);
	if (renameat(opt.stagefd, leaf->temp, opt.stagefd, leaf->entry) < 0)
		return fail("%s/%s: rename: %s", diag_quote(opt.staging),
		    leaf->entry, strerror(errno));
	handler.live = 0;
	en.leaf = leaf->dir;
	en.output = (char *)leaf->name;
	en.host = (char *)journal_this_host();
	en.first = first->name;
	en.first_id = first->id;
	en.records = leaf->hash.records;
	en.bytes = leaf->hash.bytes;
	en.hash = journal_hash_final(&leaf->hash);
	if (journal_store(opt.stagefd, leaf->entry, &leaf->claim, 1) < 0 ||
	    staging_entry_store(opt.stagefd, leaf->entry, &en) < 0) {
		diag_warnx("%s: %s: nothing changed", diag_quote(opt.staging),
		    strerror(errno));
		staging_drop(opt.stagefd, leaf->entry);
		return EXITCODE_FAILED;
	}
	journal_redirect_clear();
	r = staging_finish(opt.stagefd, opt.staging, leaf->entry, leaf->dirfd,
	    &en, &leaf->claim, true, &removed, &step);
	if (r != STAGING_DONE)
		return staged_failed(leaf, first, step);
	leaf->counts.sources_removed = removed + 1;
	leaf->counts.staged = true;
	return EXITCODE_DONE;
}

/*
 * With --staging: json-merge's claim is in the staging directory when the
 * leaf had no inode for it; it is read there, and the commit is staged
 * too, whatever the leaf has now (a commit record in the staging
 * directory without an entry would be a dead run's, dropped).  Returns
 * EXITCODE_DONE, or EXITCODE_FAILED (said).
 */
static int
find_staged_claim(struct leaf *leaf)
{
	char jname[STAGING_ENTRY_MAX + 16];

	if (opt.stagefd < 0 || (!leaf->staged &&
	    staging_entry_name(leaf->dirfd, leaf->entry) < 0))
		return EXITCODE_DONE;
	snprintf(jname, sizeof(jname), ".%s.journal", leaf->entry);
	if (faccessat(opt.stagefd, jname, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
		return EXITCODE_DONE;
	journal_redirect(leaf->dirfd, opt.stagefd, leaf->entry);
	if (leaf->staged || !opt.remove_sources)
		return EXITCODE_DONE;
	if (restage_temp(leaf, true) < 0)
		return leaf->staged ? EXITCODE_FAILED : fail("%s: a claim in "
		    "%s, but the output cannot be staged: nothing written",
		    diag_quote(leaf->dir), diag_quote(opt.staging));
	return EXITCODE_DONE;
}

/* Set when the leaf stream's reports cannot reach stdout: no more is
 * written there, and no leaf is committed. */
static bool report_lost;

/*
 * In the leaf stream with --stats=json each leaf's report goes to stdout,
 * where the driver waits for it: before a commit, the channel must be able
 * to take it (open for writing, writable: a write of nothing fails on a
 * closed or read-only descriptor and on /dev/full; a pipe whose reader is
 * gone polls POLLERR), or the leaf would be committed and its sources
 * removed with a status saying nothing was.  Fails the leaf when it is
 * not, and stops the reports.
 */
static int
check_report_channel(const struct leaf *leaf)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };

	if (!leaf->in_stream || opt.stats != CLI_STATS_JSON)
		return EXITCODE_DONE;
	if (!report_lost && write(STDOUT_FILENO, "", 0) == -1)
		report_lost = true;
	else if (!report_lost && poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
		errno = EPIPE;
		report_lost = true;
	} else if (!report_lost)
		return EXITCODE_DONE;
	return fail("stdout: %s: the report of %s cannot be sent: nothing "
	    "written", strerror(errno), diag_quote(leaf->dir));
}

/*
 * Everything after the input is in the temporary: the claim, the commit,
 * the removal of the sources.  Returns EXITCODE_DONE, EXITCODE_PARTIAL
 * (committed, something after it failed) or EXITCODE_FAILED (said, the
 * previous output untouched).
 */
static int
commit(struct leaf *leaf)
{
	int status;

	if ((status = find_staged_claim(leaf)) != EXITCODE_DONE ||
	    (status = check_claim(leaf)) != EXITCODE_DONE)
		return status;
	if (leaf->have_claim && opt.skip_unchanged &&
	    claim_check_idle(&leaf->claim)) {
		/* json-merge found nothing new: the output stays as it is. */
		remove_temp();
		if (claim_withdraw(leaf->dirfd, leaf->name, &leaf->claim) < 0)
			diag_warn("%s: withdrawing the claim",
			    diag_quote(leaf->dir));
		leaf->withdrawn = true;
		return EXITCODE_DONE;
	}
	if ((status = check_report_channel(leaf)) != EXITCODE_DONE)
		return status;
	if (leaf->staged)
		return staged_commit(leaf);
	if ((status = seal_temp(leaf)) != EXITCODE_DONE)
		return status;
	if (leaf->staged)
		return staged_commit(leaf);
	if (share_renameat(leaf->dirfd, leaf->temp, leaf->name) == -1)
		return fail("%s: rename: %s", leaf_path(leaf, leaf->name),
		    strerror(errno));
	/* Committed: from here on the previous output is gone. */
	handler.live = 0;
	leaf->committed = true;
	return after_commit(leaf);
}

/* ---- stats ---- */

/* --stats: one line of text on stderr. */
static void
print_stats_text(const struct leaf *leaf)
{
	fprintf(stderr, "jsonl-write: %s: %llu records, %llu bytes, "
	    "%llu sources removed, %llu kept, %.3f s\n",
	    diag_quote(leaf->path), leaf->counts.records, leaf->counts.bytes,
	    leaf->counts.sources_removed, leaf->counts.sources_kept,
	    stats_clock_seconds(&leaf->clock));
}

/* One file's --stats. */
static void
print_stats(struct leaf *leaf)
{
	json_object *o;

	if (opt.stats == CLI_STATS_TEXT) {
		print_stats_text(leaf);
		return;
	}
	leaf->counts.elapsed = stats_clock_seconds(&leaf->clock);
	o = leafstream_write_json(&leaf->counts);
	stats_add_bool(o, LEAFSTREAM_KEY_UNCHANGED, leaf->withdrawn);
	stats_add_bool(o, LEAFSTREAM_KEY_BUSY, leaf->busy);
	stats_print(o, stderr);
}

/* A leaf of the stream's --stats: text on stderr, or its report on stdout,
 * flushed (the driver waits for it to send the next leaf).  Returns -1
 * when stdout cannot be written (errno). */
static int
report_leaf(struct leaf *leaf, int status)
{
	struct leafstream_report report = {
		.output = leaf->path,
		.status = status,
		.unchanged = leaf->end.merge.unchanged,
		.busy = leaf->busy,
		.write = leaf->counts,
	};

	if (opt.stats == CLI_STATS_TEXT)
		print_stats_text(leaf);
	if (opt.stats != CLI_STATS_JSON)
		return 0;
	if (report_lost) {
		errno = EPIPE;
		return -1;
	}
	report.write.elapsed = stats_clock_seconds(&leaf->clock);
	return stats_print(leafstream_report_json(&report, leaf->merge_end),
	    stdout);
}

/* ---- the leaf stream ---- */

/* How far the stream got in a leaf. */
enum stream_pos {
	STREAM_AT_END,		/* its end frame was read: the next leaf */
	STREAM_CUT,		/* the stream ended inside the leaf */
	STREAM_BROKEN		/* not a leaf stream (said): stop at once */
};

/* Says why the stream cannot be read on, once the temporary is gone: t is
 * LEAFSTREAM_BAD (garbage), or a read failed (errno; r->cut: the stream
 * ended inside a frame that is read whole). */
static enum stream_pos
stream_broken(const struct leafstream_reader *r, enum leafstream_type t)
{
	remove_temp();
	if (t == LEAFSTREAM_BAD)
		diag_warnx("stdin: byte %llu: not json-merge's leaf stream "
		    "(run json-merge without DIR, or give jsonl-write "
		    "DIR/NAME)", r->offset);
	else if (r->cut)
		diag_warnx("stdin: byte %llu: the stream ends inside a frame",
		    r->offset);
	else if (errno == ENOMEM)
		diag_warn("out of memory");
	else
		diag_warn("stdin");
	return STREAM_BROKEN;
}

/*
 * The frames of a leaf after its leaf frame, up to its end frame: the data
 * straight from the read buffer into the temporary (json-merge validated
 * the lines, and the claim's hash checks that they came whole), skipped
 * once *status says the leaf failed; the end record into leaf->end.
 */
static enum stream_pos
stream_frames(struct leaf *leaf, struct leafstream_reader *r, int *status)
{
	enum leafstream_type t;
	const char *p;
	ssize_t n = 0;
	size_t len;
	char *text;

	while ((t = leafstream_next(r, &len)) == LEAFSTREAM_DATA) {
		while ((n = leafstream_chunk(r, &p)) > 0) {
			/* The temporary is made with the first record: a leaf
			 * left unchanged costs the share no file. */
			if (*status == EXITCODE_DONE && leaf->fd < 0)
				*status = leaf_open_temp(leaf);
			if (*status == EXITCODE_DONE)
				*status = temp_write(leaf, p, (size_t)n);
			leafstream_skip(r, (size_t)n);
		}
		if (n < 0)
			break;
	}
	if (t == LEAFSTREAM_BAD || t == LEAFSTREAM_ERROR || (n < 0 && !r->cut))
		return stream_broken(r, t);
	if (t != LEAFSTREAM_END) {
		if (*status == EXITCODE_DONE)
			*status = fail("%s: json-merge's stream ends inside "
			    "the leaf: nothing written", diag_quote(leaf->dir));
		return STREAM_CUT;
	}
	if (leafstream_payload(r, &text, &len) < 0)
		return stream_broken(r, t);
	if (*status == EXITCODE_DONE) {
		leaf->merge_end = json_tokener_parse(text);
		leafstream_end_parse(text, &leaf->end);
	}
	free(text);
	return STREAM_AT_END;
}

/* A leaf whose frames all came: committed when json-merge's end frame
 * says it finished with something new. */
static int
stream_commit(struct leaf *leaf)
{
	int status = leaf->end.status, committed;

	leaf->counts.records = leaf->hash.records;
	leaf->counts.bytes = leaf->hash.bytes;
	if (status != EXITCODE_DONE && status != EXITCODE_PARTIAL) {
		/* json-merge said why. */
		remove_temp();
		return EXITCODE_FAILED;
	}
	if (leaf->end.merge.unchanged) {
		remove_temp();
		return status;
	}
	/* No record came: the output is made empty, from a temporary too. */
	if (leaf->fd < 0 && (committed = leaf_open_temp(leaf)) != EXITCODE_DONE)
		return committed;
	committed = commit(leaf);
	return committed > status ? committed : status;
}

/*
 * One leaf of the stream, after its leaf frame header; reported unless the
 * stream broke.  A failed leaf costs that leaf only: the rest of its frames
 * are skipped.  Returns how far the stream got, the leaf's status in
 * *status.
 */
static enum stream_pos
stream_leaf(struct leafstream_reader *r, int *status)
{
	enum stream_pos pos = STREAM_BROKEN;
	struct leaf leaf;
	char *path;
	size_t len;
	int err;

	*status = EXITCODE_FAILED;
	if (leafstream_payload(r, &path, &len) < 0)
		return stream_broken(r, LEAFSTREAM_LEAF);
	if (len > 0 && path[len - 1] == '\n')
		path[len - 1] = '\0';
	if (leaf_init(&leaf, path) < 0) {
		diag_warn("out of memory");
	} else {
		leaf.in_stream = true;
		*status = !output_path_valid(path) ? fail("stdin: byte %llu: "
		    "a leaf frame without a file path", r->offset) :
		    EXITCODE_DONE;
		pos = stream_frames(&leaf, r, status);
		if (pos == STREAM_AT_END && *status == EXITCODE_DONE)
			*status = stream_commit(&leaf);
	}
	if (pos != STREAM_BROKEN && report_leaf(&leaf, *status) < 0)
		pos = STREAM_BROKEN;	/* main's check of stdout says why */
	/* A leaf committed before its report was lost stays committed. */
	if (pos == STREAM_BROKEN)
		*status = !leaf.committed ? EXITCODE_FAILED :
		    *status > EXITCODE_PARTIAL ? *status : EXITCODE_PARTIAL;
	err = errno;
	leaf_close(&leaf);
	free(path);
	errno = err;
	return pos;
}

/*
 * The leaf stream: for each leaf, its data into a temporary, then, when
 * json-merge's end frame says it finished and the claim's hash matches
 * what came, the commit.  A stream cut off inside a leaf (json-merge died)
 * ends the run; input that is not a leaf stream ends it at once.  Returns
 * the worst status of the leaves.
 */
static int
write_stream(void)
{
	struct leafstream_reader r;
	enum leafstream_type t;
	int worst = EXITCODE_DONE, status;
	size_t len;

	if (leafstream_reader_init(&r, STDIN_FILENO) < 0) {
		diag_warn("out of memory");
		return EXITCODE_FAILED;
	}
	while ((t = leafstream_next(&r, &len)) == LEAFSTREAM_LEAF) {
		enum stream_pos pos = stream_leaf(&r, &status);

		if (status > worst)
			worst = status;
		if (pos != STREAM_AT_END)
			break;
	}
	if (t == LEAFSTREAM_DATA || t == LEAFSTREAM_END)
		diag_warnx("stdin: byte %llu: a frame outside a leaf",
		    r.offset);
	else if (t == LEAFSTREAM_BAD || t == LEAFSTREAM_ERROR)
		stream_broken(&r, t);
	if (t != LEAFSTREAM_EOF && t != LEAFSTREAM_LEAF)
		worst = EXITCODE_FAILED;
	leafstream_reader_free(&r);
	return worst;
}

/* ---- main ---- */

/* DIR/NAME from stdin (the clock started with the program). */
static int
write_file(char *path, const struct stats_clock *start)
{
	struct leaf leaf;
	int status = EXITCODE_FAILED;

	if (leaf_init(&leaf, path) < 0)
		diag_warn("out of memory");
	else if ((status = leaf_open_temp(&leaf)) == EXITCODE_DONE &&
	    (status = copy_stdin(&leaf)) == EXITCODE_DONE)
		status = commit(&leaf);
	leaf.clock = *start;
	leaf_close(&leaf);
	/* A failure says why, and there is nothing to count. */
	if (opt.stats != CLI_STATS_NONE && status != EXITCODE_FAILED)
		print_stats(&leaf);
	return status;
}

int
main(int argc, char **argv)
{
	struct stats_clock start;
	char *path;
	int status;

	diag_init(argv[0]);
	/* No file of ours may land on a closed 0 or 1: stdin read from the
	 * output's directory, reports written into a temporary. */
	if (open_std_fds() < 0)
		diag_err(EXITCODE_FAILED, "standard descriptors");
	stats_clock_start(&start);
	path = parse_options(argc, argv);
	/* Run by leafpack, every call on the share is announced to it. */
	if (watch_attach() < 0)
		diag_err(EXITCODE_FAILED, "%s", WATCH_ENV);
	catch_signals();
	status = path != NULL ? write_file(path, &start) : write_stream();
	/* Only the leaf stream's reports go to stdout, each flushed: a
	 * failure here is that of a report (counted), not of a commit. */
	if (diag_close_stdout() == -1 && status == EXITCODE_DONE)
		status = EXITCODE_PARTIAL;
	return status;
}
