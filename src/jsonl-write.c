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
 * Map of the program (this file, and the modules of src/write/):
 *   options        usage and --help texts, parse_options()
 *   writeleaf.h    the options as a struct, the temporary the signal
 *                  handler removes, struct leaf (one output, its
 *                  temporary, its claim): leaf_init(), leaf_open_temp(),
 *                  leaf_close(), fail()
 *   one file       copy_stdin(): validated lines into the temporary
 *   writecommit.h  check_claim(), set_mode_owner(), seal_temp(),
 *                  recheck_sources(), after_commit(), commit(): steps 2
 *                  to 5
 *   writestaged.h  a leaf without a free inode: the temporary made or
 *                  moved into --staging DIR, staged_commit()
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alloc.h"
#include "cli.h"
#include "diag.h"
#include "exitcode.h"
#include "journal.h"
#include "jsonscan.h"
#include "leafstream.h"
#include "stats.h"
#include "watch.h"
#include "writecommit.h"
#include "writeleaf.h"
#include "writestaged.h"
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

struct write_options opt;

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
