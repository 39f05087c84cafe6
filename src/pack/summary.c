/*
 * summary.c - totals, the status line and the summary (see summary.h).
 */
#include "summary.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "diag.h"
#include "exitcode.h"
#include "pathstream.h"
#include "progress.h"
#include "stats.h"
#include "watch.h"

void
summary_init(struct summary *s)
{
	memset(s, 0, sizeof(*s));
}

void
summary_found(struct summary *s, unsigned long long n)
{
	s->leaves_found += n;
}

static void
add_skipped(struct summary *s, int reason, unsigned long long n)
{
	if (n == 0)
		return;
	if (s->skipped[reason] == 0)
		s->reasons[s->nreasons++] = reason;
	s->skipped[reason] += n;
}

/* json-merge's skipped sources; the too young are no error, only left
 * for a later run. */
static void
add_merge_skipped(struct summary *s, const struct leafstream_merge *m)
{
	for (int i = 0; i < LEAFSTREAM_SKIP_REASONS; i++) {
		if (m->skipped[i] == 0)
			continue;
		if (i != LEAFSTREAM_SKIP_TOO_YOUNG)
			s->errors += m->skipped[i];
		add_skipped(s, i, m->skipped[i]);
	}
}

/* True when the leaf had sources that could not be consumed. */
static bool
has_bad_sources(const struct leafstream_merge *m)
{
	for (int i = 0; i < LEAFSTREAM_SKIP_REASONS; i++)
		if (i != LEAFSTREAM_SKIP_TOO_YOUNG && m->skipped[i] > 0)
			return true;
	return false;
}

/* A leaf consolidated (or, in a dry run, to be). */
static int
add_done(struct summary *s, const struct context *ctx,
    const struct slot_result *r)
{
	unsigned long long consumed = r->merge.sources;
	bool exact = slot_status_ok(r->merge_status, false) &&
	    (ctx->dry_run || r->unchanged ||
	    slot_status_ok(r->write_status, false));

	if (!r->unchanged)
		s->records += r->merge.records;
	s->bytes_in += r->merge.bytes_in;
	s->files_consumed += consumed;
	s->bytes_out += r->write.bytes;
	s->files_removed += r->write.sources_removed;
	if (r->unchanged && !has_bad_sources(&r->merge))
		s->leaves_idle++;
	else if (consumed == 0 && r->write.sources_removed == 0)
		s->leaves_unchanged++;
	else
		s->leaves_consolidated++;
	if (!exact)
		s->leaves_partial++;
	if (ctx->dry_run && !r->unchanged &&
	    pathstream_write(stdout, r->dir, ctx->delim) < 0) {
		if (errno != EINVAL)
			diag_err(EXITCODE_FAILED, "stdout");
		diag_warnx("%s: path holds a newline; use -0",
		    diag_quote(r->dir));
	}
	return exact ? EXITCODE_DONE : EXITCODE_PARTIAL;
}

/* A copy of path added to the stalled ones. */
static void
add_stalled(struct summary *s, const char *path)
{
	if (RESERVE(s->stalled, s->stalled_cap, s->nstalled + 1) < 0 ||
	    (s->stalled[s->nstalled] = strdup(path)) == NULL)
		diag_err(EXITCODE_FAILED, "out of memory");
	s->nstalled++;
}

/* A leaf given up on a call that hung. */
static int
add_stalled_leaf(struct summary *s, const struct slot_result *r)
{
	char secs[32];

	snprintf(secs, sizeof(secs), "%g", (double)s->timeout_ms / 1000);
	diag_warnx("%s: stalled: %s of %s blocked for %s s", diag_quote(r->dir),
	    watch_op_name(r->stall->op), diag_quote(r->stall->path), secs);
	s->leaves_stalled++;
	add_stalled(s, r->dir);
	return EXITCODE_PARTIAL;
}

/* A leaf checked by jsonl-verify: clean, with problems (each told on
 * stdout by jsonl-verify itself), or not read to the end (said on
 * stderr by it). */
static int
add_verified(struct summary *s, const struct slot_result *r)
{
	s->problems += r->verify.problems;
	s->lines_checked += r->verify.lines;
	s->bytes_checked += r->verify.bytes;
	s->leaves_with_output += r->verify.has_output;
	if (!r->verify.checked) {
		s->leaves_failed++;
		diag_warnx("%s: not checked", diag_quote(r->dir));
		return EXITCODE_FAILED;
	}
	s->leaves_checked++;
	if (r->verify.problems > 0)
		return EXITCODE_PARTIAL;
	s->leaves_clean++;
	return EXITCODE_DONE;
}

int
summary_add_leaf(struct summary *s, const struct context *ctx,
    const struct slot_result *r)
{
	bool merged = slot_status_ok(r->merge_status, true);
	bool written = ctx->dry_run || r->unchanged ||
	    slot_status_ok(r->write_status, true);
	bool jq_ok = ctx->jq == NULL || ctx->dry_run ||
	    slot_status_ok(r->jq_status, false);
	int status;

	s->leaves_done++;
	if (r->stall != NULL)
		return add_stalled_leaf(s, r);
	if (ctx->verify)
		return add_verified(s, r);
	if (r->merge.busy) {
		/* Left to the run that holds it (json-merge said which). */
		s->leaves_busy++;
		return EXITCODE_PARTIAL;
	}
	if (r->merge.waiting) {
		/* Its records wait in a staging directory (said). */
		s->leaves_waiting++;
		return EXITCODE_PARTIAL;
	}
	if (r->merge.staged || r->write.staged)
		s->leaves_staged++;
	if (ctx->staging == NULL && (r->merge.no_inodes ||
	    r->write.no_inodes)) {
		/* Untouched; the run says why once (run.c). */
		if (s->leaves_no_inodes++ == 0 &&
		    (s->no_inodes_dir = strdup(r->dir)) == NULL)
			diag_err(EXITCODE_FAILED, "out of memory");
		if (s->inodes == 0)
			s->inodes = r->merge.no_inodes ? r->merge.inodes :
			    r->write.inodes;
		return EXITCODE_FAILED;
	}
	if (merged && written && jq_ok)
		status = add_done(s, ctx, r);
	else {
		s->leaves_failed++;
		status = EXITCODE_FAILED;
		if (!jq_ok)
			diag_warnx("%s: jq failed; nothing committed",
			    diag_quote(r->dir));
		else
			diag_warnx("%s: not consolidated; its files are "
			    "untouched", diag_quote(r->dir));
	}
	add_merge_skipped(s, &r->merge);
	return status;
}

/* The sources_skipped breakdown of a report. */
static void
add_report_skipped(struct summary *s, json_object *report)
{
	json_object *skipped;

	if (!json_object_object_get_ex(report, "sources_skipped", &skipped) ||
	    !json_object_is_type(skipped, json_type_object))
		return;
	for (int i = 0; i < LEAFSTREAM_SKIP_REASONS; i++) {
		unsigned long long n = stats_get_count(skipped,
		    leafstream_skip_names[i]);

		if (n > 0 && i != LEAFSTREAM_SKIP_TOO_YOUNG)
			s->errors += n;
		add_skipped(s, i, n);
	}
}

void
summary_add_report(struct summary *s, json_object *report)
{
	json_object *paths;

	s->leaves_done += stats_get_count(report, "leaves_found");
	s->leaves_consolidated += stats_get_count(report,
	    "leaves_consolidated");
	s->leaves_unchanged += stats_get_count(report, "leaves_unchanged");
	s->leaves_idle += stats_get_count(report, "leaves_idle");
	s->leaves_partial += stats_get_count(report, "leaves_partial");
	s->leaves_failed += stats_get_count(report, "leaves_failed");
	s->leaves_busy += stats_get_count(report, "leaves_busy");
	s->leaves_stalled += stats_get_count(report, "leaves_stalled");
	s->files_consumed += stats_get_count(report, "files_consumed");
	s->files_removed += stats_get_count(report, "files_removed");
	s->records += stats_get_count(report, "records");
	s->bytes_in += stats_get_count(report, "bytes_in");
	s->bytes_out += stats_get_count(report, "bytes_out");
	add_report_skipped(s, report);
	if (!json_object_object_get_ex(report, "stalled_paths", &paths) ||
	    !json_object_is_type(paths, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(paths); i++) {
		json_object *p = json_object_array_get_idx(paths, i);

		if (json_object_is_type(p, json_type_string))
			add_stalled(s, json_object_get_string(p));
	}
}

static void
human_bytes(char *buf, size_t size, unsigned long long n)
{
	static const char units[] = "BKMGTP";
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%lluB", n);
	else
		snprintf(buf, size, "%.1f%c", v, units[u]);
}

/* "1.2ms", or "-" before the first half second's calls. */
static void
format_ms(char *buf, size_t size, double ms)
{
	if (isnan(ms))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*fms", ms < 10 ? 1 : 0, ms);
}

/*
 * What both status lines show of the files: how many ("files 240", a total
 * that goes first on a narrow terminal), then "146 files/s" and "1.2MB/s"
 * (read).
 */
static void
add_files(struct progress_line *line, const struct summary *s, double secs)
{
	char b[16];

	progress_add(line, 5, "files %llu", s->files_consumed);
	progress_add(line, 1, "%.0f files/s",
	    secs > 0 ? (double)s->files_consumed / secs : 0.0);
	human_bytes(b, sizeof(b), secs > 0 ?
	    (unsigned long long)((double)s->bytes_in / secs) : 0);
	progress_add(line, 1, "%s%s/s", b, b[strlen(b) - 1] == 'B' ? "" : "B");
}

/* "ETA 42s", "ETA 5m07s", "ETA 1h02m": the time left at the pace so far,
 * when leaves are done and some are left (done of found). */
static void
add_eta(struct progress_line *line, unsigned long long done,
    unsigned long long found, double secs)
{
	unsigned long long t;

	if (done == 0 || found <= done)
		return;
	t = (unsigned long long)(secs / (double)done * (double)(found - done) +
	    0.5);
	if (t < 60)
		progress_add(line, 0, "ETA %llus", t);
	else if (t < 3600)
		progress_add(line, 0, "ETA %llum%02llus", t / 60, t % 60);
	else
		progress_add(line, 0, "ETA %lluh%02llum", t / 3600, t / 60 % 60);
}

/* Errors (or failed leaves) and stalls: first of all when there are any,
 * last when there are none. */
static void
add_troubles(struct progress_line *line, const char *what,
    unsigned long long errors, size_t stalled)
{
	progress_add(line, errors ? 0 : 7, "%s %llu", what, errors);
	progress_add(line, stalled ? 0 : 7, "stalled %zu", stalled);
}

/*
 * The status line, in fields of ranks (progress.h): on an 80-column
 * terminal the leaves, the files and bytes a second, the latency, the
 * slots and the ETA stay (with the numbers of a small run; the slots go
 * first when they grow), and errors or stalls whenever there are any; the
 * totals go first.
 */
void
summary_progress(const struct summary *s, const struct pace *pace,
    size_t running, bool scanning)
{
	char bytes[16], p50[16], p99[16];
	double secs = progress_seconds(), p50_ms, p99_ms;
	struct progress_line line = { .n = 0 };

	if (!progress_due())
		return;
	progress_add(&line, 0, "leaves %llu/%llu%s", s->leaves_done,
	    s->leaves_found, scanning ? "+" : "");
	progress_add(&line, 4, "%zu running", running);
	/* The slots in use, and the -P they may grow back to. */
	if (pace->active < pace->max)
		progress_add(&line, 3, "slots %ld/%ld", pace->active,
		    pace->max);
	else
		progress_add(&line, 3, "slots %ld", pace->active);
	add_files(&line, s, secs);
	human_bytes(bytes, sizeof(bytes), s->bytes_in);
	progress_add(&line, 5, "in %s", bytes);
	human_bytes(bytes, sizeof(bytes), s->bytes_out);
	progress_add(&line, 5, "out %s", bytes);
	progress_add(&line, 6, "inodes freed %llu", s->files_removed);
	add_troubles(&line, "errors", s->errors + s->leaves_failed,
	    s->nstalled);
	pace_latency(pace, false, &p50_ms, &p99_ms);
	format_ms(p50, sizeof(p50), p50_ms);
	format_ms(p99, sizeof(p99), p99_ms);
	progress_add(&line, 2, "latency %s p99 %s", p50, p99);
	/* Once the scan has finished: before, the leaves found grow. */
	if (!scanning)
		add_eta(&line, s->leaves_done, s->leaves_found, secs);
	progress_show_line(&line);
}

/* The status line of a --hosts run: what the jobs reported so far. */
void
summary_progress_jobs(const struct summary *s, unsigned long long jobs_done,
    unsigned long long jobs_total)
{
	double secs = progress_seconds();
	struct progress_line line = { .n = 0 };

	if (!progress_due())
		return;
	progress_add(&line, 0, "leaves %llu/%llu", s->leaves_done,
	    s->leaves_found);
	progress_add(&line, 2, "jobs %llu/%llu", jobs_done, jobs_total);
	add_files(&line, s, secs);
	progress_add(&line, 5, "inodes freed %llu", s->files_removed);
	progress_add(&line, 6, "records %llu", s->records);
	add_troubles(&line, "failed", s->leaves_failed, s->nstalled);
	add_eta(&line, s->leaves_done, s->leaves_found, secs);
	progress_show_line(&line);
}

void
summary_write_stalled(const struct summary *s, const struct context *ctx)
{
	FILE *out;

	if (ctx->stalled_path == NULL)
		return;
	if ((out = fopen(ctx->stalled_path, "we")) == NULL)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(ctx->stalled_path));
	for (size_t i = 0; i < s->nstalled; i++)
		pathstream_write(out, s->stalled[i], ctx->delim);
	if (fclose(out) == EOF)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(ctx->stalled_path));
}

/* A latency in whole microseconds, for --stats=json (0: none). */
static unsigned long long
latency_us(double ms)
{
	return isnan(ms) ? 0 : (unsigned long long)(ms * 1000 + 0.5);
}

/* With --hosts: "jobs", "jobs_failed", "joblog" and "hosts", one object
 * per host. */
static void
add_json_hosts(json_object *o, const struct summary *s)
{
	json_object *hosts = json_object_new_array();

	if (hosts == NULL)
		diag_errx(EXITCODE_FAILED, "out of memory");
	stats_add_count(o, "jobs", s->jobs);
	stats_add_count(o, "jobs_failed", s->jobs_failed);
	stats_add_string(o, "joblog", s->joblog);
	for (size_t i = 0; i < s->nhosts; i++) {
		const struct summary_host *h = &s->hosts[i];
		json_object *one = stats_new();

		stats_add_string(one, "host", h->name);
		stats_add_bool(one, "used", h->left_out == NULL);
		if (h->left_out != NULL)
			stats_add_string(one, "left_out", h->left_out);
		stats_add_count(one, "jobs", h->jobs);
		stats_add_count(one, "jobs_failed", h->jobs_failed);
		stats_add_count(one, "leaves", h->s.leaves_done);
		stats_add_count(one, "leaves_consolidated",
		    h->s.leaves_consolidated);
		stats_add_count(one, "leaves_failed", h->s.leaves_failed);
		stats_add_count(one, "files_removed", h->s.files_removed);
		stats_add_count(one, "records", h->s.records);
		stats_add_count(one, STATS_KEY_STALLED, h->s.nstalled);
		json_object_array_add(hosts, one);
	}
	stats_add_object(o, "hosts", hosts);
}

static void
print_json(const struct summary *s, const struct context *ctx,
    const struct pace *pace, double secs)
{
	double p50_ms, p99_ms;

	const char *names[LEAFSTREAM_SKIP_REASONS];
	unsigned long long counts[LEAFSTREAM_SKIP_REASONS];
	json_object *o = stats_new(), *paths = json_object_new_array();

	stats_add_bool(o, "dry_run", ctx->dry_run);
	stats_add_bool(o, "verify", ctx->verify);
	stats_add_count(o, "leaves_found", s->leaves_found);
	stats_add_count(o, "leaves_consolidated", s->leaves_consolidated);
	stats_add_count(o, "leaves_unchanged", s->leaves_unchanged);
	stats_add_count(o, "leaves_idle", s->leaves_idle);
	stats_add_count(o, "leaves_partial", s->leaves_partial);
	stats_add_count(o, "leaves_failed", s->leaves_failed);
	stats_add_count(o, "leaves_busy", s->leaves_busy);
	stats_add_count(o, "leaves_no_inodes", s->leaves_no_inodes);
	stats_add_count(o, "leaves_staged", s->leaves_staged);
	stats_add_count(o, "leaves_waiting", s->leaves_waiting);
	stats_add_count(o, "files_consumed", s->files_consumed);
	stats_add_count(o, "files_removed", s->files_removed);
	stats_add_count(o, "records", s->records);
	stats_add_count(o, "bytes_in", s->bytes_in);
	stats_add_count(o, "bytes_out", s->bytes_out);
	stats_add_count(o, "leaves_checked", s->leaves_checked);
	stats_add_count(o, "leaves_clean", s->leaves_clean);
	stats_add_count(o, "leaves_with_output", s->leaves_with_output);
	stats_add_count(o, "problems", s->problems);
	stats_add_count(o, "lines_checked", s->lines_checked);
	stats_add_count(o, "bytes_checked", s->bytes_checked);
	for (size_t i = 0; i < s->nreasons; i++) {
		names[i] = leafstream_skip_names[s->reasons[i]];
		counts[i] = s->skipped[s->reasons[i]];
	}
	stats_add_breakdown(o, "sources_skipped", names, counts, s->nreasons);
	stats_add_count(o, STATS_KEY_STALLED, s->nstalled);
	if (paths == NULL)
		diag_errx(EXITCODE_FAILED, "out of memory");
	for (size_t i = 0; i < s->nstalled; i++)
		json_object_array_add(paths,
		    json_object_new_string(s->stalled[i]));
	stats_add_object(o, "stalled_paths", paths);
	stats_add_count(o, "leaves_stalled", s->leaves_stalled);
	if ((paths = json_object_new_array()) == NULL)
		diag_errx(EXITCODE_FAILED, "out of memory");
	for (size_t i = 0; i < s->nstuck; i++)
		json_object_array_add(paths, json_object_new_int(s->stuck[i]));
	stats_add_object(o, "stuck_pids", paths);
	stats_add_count(o, "slots", (unsigned long long)pace->max);
	stats_add_count(o, "slots_fewest", (unsigned long long)pace->lowest);
	pace_latency(pace, true, &p50_ms, &p99_ms);
	stats_add_count(o, "latency_p50_us", latency_us(p50_ms));
	stats_add_count(o, "latency_p99_us", latency_us(p99_ms));
	if (s->nhosts > 0)
		add_json_hosts(o, s);
	stats_add_seconds(o, STATS_KEY_ELAPSED, secs);
	(void)stats_print(o, stderr);
}

/* On a share slow enough to tell (or one that made the run slow down):
 * its latency, and the slots the run gave it. */
static void
print_pace(const struct pace *pace)
{
	char p50[16], p99[16];
	double p50_ms, p99_ms;

	pace_latency(pace, true, &p50_ms, &p99_ms);
	if (pace->lowest == pace->max && (isnan(p50_ms) || p50_ms < 1))
		return;
	format_ms(p50, sizeof(p50), p50_ms);
	format_ms(p99, sizeof(p99), p99_ms);
	fprintf(stderr, "%s: share latency %s median, %s p99; %ld slots",
	    diag_progname(), p50, p99, pace->max);
	if (pace->lowest < pace->max)
		fprintf(stderr, ", down to %ld while the share was slow",
		    pace->lowest);
	fputc('\n', stderr);
}

/* The processes left behind on the share, named. */
static void
print_stuck(const struct summary *s)
{
	if (s->nstuck == 0)
		return;
	fprintf(stderr, "%s: %zu process%s stuck on the share left behind "
	    "(pid%s", diag_progname(), s->nstuck, s->nstuck == 1 ? "" : "es",
	    s->nstuck == 1 ? "" : "s");
	for (size_t i = 0; i < s->nstuck; i++)
		fprintf(stderr, " %ld", (long)s->stuck[i]);
	fprintf(stderr, "): each ends by itself once the share answers\n");
}

/* With --hosts: a line per host, and where the job log is. */
static void
print_hosts(const struct summary *s)
{
	for (size_t i = 0; i < s->nhosts; i++) {
		const struct summary_host *h = &s->hosts[i];

		if (h->left_out != NULL) {
			fprintf(stderr, "%s: host %s: left out (%s)\n",
			    diag_progname(), h->name, h->left_out);
			continue;
		}
		fprintf(stderr, "%s: host %s: %llu leaves, %llu files removed, "
		    "%llu records, %zu stalled, %llu failed; %llu jobs (%llu "
		    "failed)\n", diag_progname(), h->name, h->s.leaves_done,
		    h->s.files_removed, h->s.records, h->s.nstalled,
		    h->s.leaves_failed, h->jobs, h->jobs_failed);
	}
	if (s->nhosts > 0)
		fprintf(stderr, "%s: %llu jobs (%llu failed), logged in %s\n",
		    diag_progname(), s->jobs, s->jobs_failed, s->joblog);
}

/* A run that found nothing to do says only that. */
static bool
print_nothing_to_do(const struct summary *s, const struct context *ctx)
{
	if (ctx->dry_run || s->leaves_consolidated > 0 ||
	    s->files_removed > 0 || s->leaves_failed > 0 || s->nstalled > 0 ||
	    s->leaves_busy > 0 || s->leaves_no_inodes > 0 ||
	    s->leaves_waiting > 0)
		return false;
	if (s->leaves_unchanged == 0)
		fprintf(stderr, "%s: nothing to do: no leaf has new sources\n",
		    diag_progname());
	else
		fprintf(stderr, "%s: nothing to do: no new sources (%llu "
		    "leaves hold sources that cannot be consumed, left in "
		    "place)\n", diag_progname(), s->leaves_unchanged);
	return true;
}

/* What --verify found. */
static void
print_verified(const struct summary *s, double secs)
{
	char bytes[16];

	human_bytes(bytes, sizeof(bytes), s->bytes_checked);
	fprintf(stderr, "%s: verify: %llu leaves checked (%llu with an "
	    "output), %llu clean, %llu with problems; %llu problems, %llu "
	    "not checked, %zu stalled; %llu lines, %s, %.1fs\n",
	    diag_progname(), s->leaves_checked, s->leaves_with_output,
	    s->leaves_clean, s->leaves_checked - s->leaves_clean, s->problems,
	    s->leaves_failed, s->nstalled, s->lines_checked, bytes, secs);
	print_stuck(s);
}

void
summary_print(const struct summary *s, const struct context *ctx,
    const struct pace *pace, double secs)
{
	char in[16], out[16];

	if (ctx->stats == CLI_STATS_JSON) {
		print_json(s, ctx, pace, secs);
		return;
	}
	if (ctx->verify) {
		print_verified(s, secs);
		return;
	}
	if (print_nothing_to_do(s, ctx))
		return;
	human_bytes(in, sizeof(in), s->bytes_in);
	human_bytes(out, sizeof(out), s->bytes_out);
	fprintf(stderr, "%s: %s%llu leaves %s (%llu partial, %llu failed, "
	    "%llu busy, %llu unchanged), %llu files %s, %llu records, %s in, "
	    "%s out, %zu stalled, %.1fs\n", diag_progname(),
	    ctx->dry_run ? "dry run: " : "", s->leaves_consolidated,
	    ctx->dry_run ? "to consolidate" : "consolidated",
	    s->leaves_partial, s->leaves_failed, s->leaves_busy,
	    s->leaves_unchanged,
	    ctx->dry_run ? s->files_consumed : s->files_removed,
	    ctx->dry_run ? "to consume" : "removed", s->records, in, out,
	    s->nstalled, secs);
	if (s->leaves_staged > 0)
		fprintf(stderr, "%s: %llu leaves committed through --staging "
		    "%s\n", diag_progname(), s->leaves_staged,
		    diag_quote(ctx->staging));
	if (s->leaves_waiting > 0)
		fprintf(stderr, "%s: %llu leaves left: their records wait in "
		    "a staging directory\n", diag_progname(),
		    s->leaves_waiting);
	print_pace(pace);
	print_stuck(s);
	print_hosts(s);
	if (s->nreasons > 0) {
		fprintf(stderr, "%s: sources skipped:", diag_progname());
		for (size_t i = 0; i < s->nreasons; i++)
			fprintf(stderr, " %s %llu",
			    leafstream_skip_names[s->reasons[i]],
			    s->skipped[s->reasons[i]]);
		fputc('\n', stderr);
	}
}

void
summary_free(struct summary *s)
{
	for (size_t i = 0; i < s->nstalled; i++)
		free(s->stalled[i]);
	free(s->stalled);
	free(s->no_inodes_dir);
	memset(s, 0, sizeof(*s));
}
