/*
 * gentree - writes a deterministic tree of small JSON dump files, shaped like
 * the service dumps leafpack consolidates, for the demo, the tests and the
 * benchmarks.
 *
 *     gentree [--seed N] [--entities N] [--types N] [--dates N] [--files N]
 *             [--records N] [--start-date YYYY-MM-DD] [--bad N]
 *             [--mtime-age SECONDS] ROOT
 *
 * ROOT/e0001/<type>/<YYYY-MM-DD>/part-NNNNN-XXXXXXXX.txt, each file a JSON
 * array of --records records.  The same seed and options always give the
 * same bytes: every file draws from its own PRNG stream seeded from (seed,
 * entity, type, date, file), so nothing depends on the clock or on the order
 * of writing.  Only the mtimes depend on the clock: they are set
 * --mtime-age seconds before now (default one day) so that a --min-age
 * check does not leave the files for later.
 *
 * What the records hold, on purpose:
 *   - timestamps with Z or +02:00 offsets and 0, 3, 6 or 9 fractional digits,
 *     unsorted within a file, sometimes repeated (ties), so that sorting by
 *     string differs from sorting by instant;
 *   - ids that are sometimes integers beyond 2^64, which only a
 *     byte-preserving tool keeps;
 *   - strings with escapes (\", \u00e9, \n) and raw UTF-8;
 *   - three layouts: compact, Python's json.dump separators, pretty-printed.
 * --bad N makes N files invalid (truncated, or a trailing comma), spread
 * evenly over the tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "units.h"
#include "version.h"

static const char *const type_names[] = {
	"audit", "metrics", "events", "access", "billing", "errors",
	"sessions", "trace",
};
#define NTYPE_NAMES (sizeof(type_names) / sizeof(type_names[0]))

static const char *const services[] = {
	"billing-api", "auth-gateway", "search-indexer", "orders", "inventory",
	"notifier", "report-builder", "media-transcoder",
};
static const char *const methods[] = { "GET", "GET", "GET", "POST", "PUT",
	"DELETE", "PATCH" };
static const char *const regions[] = { "eu-west-1", "eu-central-1",
	"us-east-1", "ap-southeast-2" };
static const char *const words[] = {
	"request", "completed", "cache", "miss", "retrying", "upstream",
	"timeout", "accepted", "queued", "batch", "flushed", "rows", "user",
	"session", "renewed", "token", "rejected", "quota", "exceeded",
	"invoice", "generated", "shard", "rebalanced", "latency", "spike",
	"\\\"quoted\\\"", "caf\\u00e9", "na\xc3\xafve", "line\\nbreak",
};
static const char *const tags[] = { "batch", "retry", "canary", "internal",
	"external", "slow", "cached", "v2" };

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* splitmix64: tiny, fast and good enough to make varied, repeatable data. */
static uint64_t
rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* The PRNG state of one file: each coordinate stirred in turn. */
static uint64_t
file_stream(uint64_t seed, long long entity, long long type, long long date,
    long long file)
{
	uint64_t state = seed;
	const long long parts[] = { entity, type, date, file };
	for (size_t i = 0; i < 4; i++) {
		state ^= (uint64_t)parts[i];
		state = rng_next(&state);
	}
	return state;
}

/* A number in [0, n). */
static uint32_t
rng_below(uint64_t *state, uint32_t n)
{
	return (uint32_t)((rng_next(state) >> 32) * n >> 32);
}

/* The output buffer of one file, written with a single write(). */
struct buf {
	char *data;
	size_t len, cap;
};

static void
buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 65536;
	while (cap < b->len + more)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (p == NULL)
		diag_err(EXITCODE_FAILED, "realloc");
	b->data = p;
	b->cap = cap;
}

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	buf_reserve(b, 256);
	va_start(ap, fmt);
	int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		diag_errx(EXITCODE_FAILED, "vsnprintf failed");
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/*
 * A small JSON emitter with three layouts, so the same records come out
 * compact, with Python's default separators, or pretty-printed.
 */
enum layout { LAYOUT_COMPACT, LAYOUT_PYTHON, LAYOUT_PRETTY };

struct emit {
	struct buf *out;
	enum layout layout;
	int depth;
	bool first[16];	/* per depth: no member written yet */
};

static void
emit_newline(struct emit *e)
{
	if (e->layout != LAYOUT_PRETTY)
		return;
	buf_add(e->out, "\n", 1);
	for (int i = 0; i < e->depth; i++)
		buf_add(e->out, "  ", 2);
}

/* Starts a member or element: the separator and indentation before it. */
static void
emit_item(struct emit *e)
{
	if (!e->first[e->depth])
		buf_str(e->out, e->layout == LAYOUT_PYTHON ? ", " : ",");
	e->first[e->depth] = false;
	emit_newline(e);
}

static void
emit_open(struct emit *e, char bracket)
{
	buf_add(e->out, &bracket, 1);
	e->depth++;
	e->first[e->depth] = true;
}

static void
emit_close(struct emit *e, char bracket)
{
	bool empty = e->first[e->depth];
	e->depth--;
	if (!empty)
		emit_newline(e);
	buf_add(e->out, &bracket, 1);
}

static void
emit_key(struct emit *e, const char *key)
{
	emit_item(e);
	buf_printf(e->out, "\"%s\"%s", key,
	    e->layout == LAYOUT_COMPACT ? ":" : ": ");
}

/* A member whose value is already JSON text (number, literal, string). */
static void
emit_raw(struct emit *e, const char *key, const char *json)
{
	emit_key(e, key);
	buf_str(e->out, json);
}

static void
emit_string(struct emit *e, const char *key, const char *text)
{
	emit_key(e, key);
	buf_printf(e->out, "\"%s\"", text);
}

struct options {
	long long seed, entities, types, dates, files, records, bad, mtime_age;
	time_t start;	/* midnight UTC of the first date */
};

/* RFC 3339 text for instant t_ns (UTC nanoseconds) with the given shape. */
static void
format_timestamp(char *out, size_t size, int64_t t_ns, int digits,
    int offset_min)
{
	time_t secs = (time_t)(t_ns / 1000000000) + offset_min * 60;
	long frac = (long)(t_ns % 1000000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	/* digits is 0, 3, 6 or 9: the leading digits of the nanoseconds. */
	char fraction[16] = "";
	if (digits > 0) {
		snprintf(fraction, sizeof(fraction), ".%09ld", frac);
		fraction[1 + digits] = '\0';
	}
	char zone[8] = "Z";
	if (offset_min != 0)
		snprintf(zone, sizeof(zone), "%c%02d:%02d",
		    offset_min < 0 ? '-' : '+', abs(offset_min) / 60,
		    abs(offset_min) % 60);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, fraction, zone);
}

/* Appends one record of entity/type on the day starting at day_ns. */
static void
emit_record(struct emit *e, uint64_t *rng, const char *entity,
    const char *type, int64_t day_ns, int64_t *last_ns)
{
	char text[256];
	int64_t t_ns;

	/* About one record in 50 repeats the previous instant: ties. */
	if (*last_ns >= 0 && rng_below(rng, 50) == 0)
		t_ns = *last_ns;
	else
		t_ns = day_ns + (int64_t)(rng_next(rng) %
		    (UINT64_C(86400) * 1000000000));
	*last_ns = t_ns;
	static const int precisions[] = { 6, 6, 6, 3, 3, 0, 9 };
	int digits = precisions[rng_below(rng, ARRAY_LEN(precisions))];
	int offset = rng_below(rng, 5) == 0 ? 120 : 0;

	emit_item(e);
	emit_open(e, '{');
	format_timestamp(text, sizeof(text), t_ns, digits, offset);
	emit_string(e, "timestamp", text);
	emit_string(e, "entity", entity);
	emit_string(e, "type", type);
	uint32_t lv = rng_below(rng, 10);
	emit_string(e, "level", lv < 6 ? "info" : lv < 9 ? "debug" : "warn");
	if (rng_below(rng, 40) == 0)
		/* Beyond 2^64: json-c saturates it, jq 1.6 rounds it. */
		snprintf(text, sizeof(text), "%" PRIu64 "%07" PRIu32,
		    rng_next(rng) % UINT64_C(9000000000000000) +
		    UINT64_C(1000000000000000), rng_below(rng, 10000000));
	else
		snprintf(text, sizeof(text), "%" PRIu32,
		    rng_below(rng, 2000000000));
	emit_raw(e, "id", text);

	emit_key(e, "payload");
	emit_open(e, '{');
	snprintf(text, sizeof(text), "node-%02" PRIu32 ".%s",
	    rng_below(rng, 64), regions[rng_below(rng, ARRAY_LEN(regions))]);
	emit_string(e, "host", text);
	emit_string(e, "service", services[rng_below(rng, ARRAY_LEN(services))]);
	snprintf(text, sizeof(text), "%08" PRIx32 "-%04" PRIx32 "-4%03" PRIx32
	    "-%04" PRIx32 "-%012" PRIx64, (uint32_t)rng_next(rng),
	    rng_below(rng, 65536), rng_below(rng, 4096),
	    0x8000 + rng_below(rng, 16384),
	    rng_next(rng) & UINT64_C(0xffffffffffff));
	emit_string(e, "request_id", text);
	emit_string(e, "method", methods[rng_below(rng, ARRAY_LEN(methods))]);
	snprintf(text, sizeof(text), "/v2/accounts/%" PRIu32 "/%s/%" PRIu32,
	    rng_below(rng, 100000), type, rng_below(rng, 1000000));
	emit_string(e, "path", text);
	static const char *const statuses[] = { "200", "200", "200", "201",
		"204", "304", "404", "429", "500" };
	emit_raw(e, "status", statuses[rng_below(rng, ARRAY_LEN(statuses))]);
	/* Shortest round-trip form, so re-serializers keep the same text. */
	uint32_t us = rng_below(rng, 5000000);
	if (us % 1000 == 0)
		us += 500;
	snprintf(text, sizeof(text), "%" PRIu32 ".%03" PRIu32, us / 1000,
	    us % 1000);
	size_t n = strlen(text);
	while (text[n - 1] == '0')
		text[--n] = '\0';
	emit_raw(e, "duration_ms", text);
	emit_raw(e, "cached", rng_below(rng, 3) == 0 ? "true" : "false");

	emit_key(e, "tags");
	emit_open(e, '[');
	for (uint32_t i = rng_below(rng, 3); i > 0; i--) {
		emit_item(e);
		buf_printf(e->out, "\"%s\"", tags[rng_below(rng, ARRAY_LEN(tags))]);
	}
	emit_close(e, ']');

	char message[256] = "";
	size_t used = 0;
	for (uint32_t i = 2 + rng_below(rng, 5); i > 0; i--) {
		const char *w = words[rng_below(rng, ARRAY_LEN(words))];
		int k = snprintf(message + used, sizeof(message) - used, "%s%s",
		    used ? " " : "", w);
		if (k < 0 || (size_t)k >= sizeof(message) - used)
			break;
		used += (size_t)k;
	}
	emit_string(e, "message", message);
	emit_close(e, '}');
	emit_close(e, '}');
}

/* Writes b to dir/name (dirfd open on dir) with mtime `when`; exits on
 * failure. */
static void
write_file(int dirfd, const char *dir, const char *name, const struct buf *b,
    time_t when)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644);
	if (fd < 0)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(path));
	size_t done = 0;
	while (done < b->len) {
		ssize_t w = write(fd, b->data + done, b->len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			diag_err(EXITCODE_FAILED, "%s", diag_quote(path));
		done += (size_t)w;
	}
	struct timespec times[2] = { { when, 0 }, { when, 0 } };
	if (futimens(fd, times) < 0)
		diag_err(EXITCODE_FAILED, "%s: futimens", diag_quote(path));
	if (close(fd) < 0)
		diag_err(EXITCODE_FAILED, "%s", diag_quote(path));
}

/* mkdir -p for the leaf path; the tree is shallow, so a loop is enough. */
static void
make_dirs(char *path)
{
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			diag_err(EXITCODE_FAILED, "mkdir %s", diag_quote(path));
		*p = c;
		if (c == '\0')
			break;
	}
}

static void
usage(FILE *to)
{
	fprintf(to, "usage: gentree [--seed N] [--entities N] [--types N] "
	    "[--dates N] [--files N]\n"
	    "               [--records N] [--start-date YYYY-MM-DD] [--bad N]\n"
	    "               [--mtime-age SECONDS] ROOT\n");
}

static void
help(void)
{
	usage(stdout);
	printf("  --seed N              PRNG seed (default 1)\n"
	    "  --entities N          entities e0001... (default 3)\n"
	    "  --types N             record types per entity (default 3)\n"
	    "  --dates N             dates per type (default 2)\n"
	    "  --files N             files per leaf (default 30)\n"
	    "  --records N           records per file (default 20)\n"
	    "  --start-date DATE     first date, YYYY-MM-DD (default 2024-03-01)\n"
	    "  --bad N               invalid files, spread evenly (default 0)\n"
	    "  --mtime-age SECONDS   set mtimes this far in the past "
	    "(default 86400)\n"
	    "  --help                print this help\n"
	    "  --version             print the version\n");
}

static long long
parse_count(const char *opt, const char *text, long long min, long long max)
{
	long long v;
	const char *why;
	if (units_parse_count(text, min, max, &v, &why) < 0) {
		diag_warnx("--%s %s: %s", opt, text, why);
		usage(stderr);
		exit(EXITCODE_USAGE);
	}
	return v;
}

static time_t
parse_date(const char *text)
{
	struct tm tm = { 0 };
	const char *end = strptime(text, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0' || strlen(text) != 10) {
		diag_warnx("--start-date %s: not YYYY-MM-DD", text);
		usage(stderr);
		exit(EXITCODE_USAGE);
	}
	return timegm(&tm);
}

static void
generate(const struct options *o, const char *root)
{
	uint64_t total = (uint64_t)o->entities * o->types * o->dates * o->files;
	/* Bad files at evenly spaced indexes, the first half a step in. */
	uint64_t step = o->bad ? total / o->bad : 0, next_bad = step / 2;
	long long bad_left = o->bad;
	uint64_t index = 0;
	time_t mtime = time(NULL) - o->mtime_age;
	struct buf b = { 0 };
	char dir[PATH_MAX], entity[32], name[64];

	for (long long en = 1; en <= o->entities; en++) {
		snprintf(entity, sizeof(entity), "e%04lld", en);
		for (long long ty = 0; ty < o->types; ty++) {
			char type[32];
			if ((size_t)ty < NTYPE_NAMES)
				snprintf(type, sizeof(type), "%s", type_names[ty]);
			else
				snprintf(type, sizeof(type), "type%02lld", ty);
			for (long long da = 0; da < o->dates; da++) {
				time_t day = o->start + (time_t)da * 86400;
				struct tm tm;
				gmtime_r(&day, &tm);
				int n = snprintf(dir, sizeof(dir),
				    "%s/%s/%s/%04d-%02d-%02d", root, entity, type,
				    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
				if (n < 0 || (size_t)n >= sizeof(dir))
					diag_errx(EXITCODE_FAILED, "%s: path too long",
					    diag_quote(root));
				make_dirs(dir);
				int dirfd = open(dir, O_RDONLY | O_DIRECTORY |
				    O_CLOEXEC);
				if (dirfd < 0)
					diag_err(EXITCODE_FAILED, "%s", diag_quote(dir));
				for (long long fi = 0; fi < o->files; fi++, index++) {
					uint64_t rng = file_stream((uint64_t)o->seed, en, ty,
					    da, fi);
					b.len = 0;
					uint32_t pick = rng_below(&rng, 10);
					struct emit e = { .out = &b,
						.layout = pick < 6 ? LAYOUT_COMPACT :
						pick < 8 ? LAYOUT_PYTHON : LAYOUT_PRETTY };
					int64_t last = -1;
					emit_open(&e, '[');
					for (long long r = 0; r < o->records; r++)
						emit_record(&e, &rng, entity, type,
						    (int64_t)day * 1000000000, &last);
					emit_close(&e, ']');
					buf_add(&b, "\n", 1);
					if (bad_left > 0 && index == next_bad) {
						if (bad_left % 2 == 0) {
							/* Cut mid-record. */
							b.len = b.len * 2 / 3;
						} else {
							/* [..., ] */
							b.len -= 2;
							buf_str(&b, ",]\n");
						}
						bad_left--;
						next_bad += step;
					}
					snprintf(name, sizeof(name),
					    "part-%05lld-%08" PRIx32 ".txt", fi,
					    (uint32_t)rng_next(&rng));
					write_file(dirfd, dir, name, &b, mtime);
				}
				close(dirfd);
			}
		}
	}
	free(b.data);
}

int
main(int argc, char **argv)
{
	struct options o = { .seed = 1, .entities = 3, .types = 3, .dates = 2,
		.files = 30, .records = 20, .bad = 0, .mtime_age = 86400 };
	/* The numeric options, in --help order; getopt_long's val indexes it. */
	const struct {
		const char *name;
		long long *value, min, max;
	} numbers[] = {
		{ "seed", &o.seed, 0, LLONG_MAX },
		{ "entities", &o.entities, 0, 9999999 },
		{ "types", &o.types, 0, 999 },
		{ "dates", &o.dates, 0, 36500 },
		{ "files", &o.files, 0, 9999999 },
		{ "records", &o.records, 0, 100000000 },
		{ "bad", &o.bad, 0, LLONG_MAX },
		{ "mtime-age", &o.mtime_age, -1000000000, 1000000000 },
	};
	enum { NNUMBERS = sizeof(numbers) / sizeof(numbers[0]),
		OPT_START = 256, OPT_HELP, OPT_VERSION };
	struct option longopts[NNUMBERS + 4] = {
		{ "start-date", required_argument, NULL, OPT_START },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
	};
	for (int i = 0; i < NNUMBERS; i++)
		longopts[3 + i] = (struct option){ numbers[i].name,
			required_argument, NULL, i };
	o.start = parse_date("2024-03-01");
	int c;

	diag_init(argv[0]);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c >= 0 && c < NNUMBERS) {
			*numbers[c].value = parse_count(numbers[c].name, optarg,
			    numbers[c].min, numbers[c].max);
			continue;
		}
		switch (c) {
		case OPT_START:
			o.start = parse_date(optarg);
			break;
		case OPT_HELP:
			help();
			return diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE;
		case OPT_VERSION:
			printf("gentree (leafpack) %s\n", LEAFPACK_VERSION);
			return diag_close_stdout() < 0 ? EXITCODE_FAILED : EXITCODE_DONE;
		default:
			usage(stderr);
			return EXITCODE_USAGE;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return EXITCODE_USAGE;
	}
	long long total = o.entities * o.types * o.dates * o.files;
	if (o.bad > total) {
		diag_warnx("--bad %lld: more than the %lld files", o.bad, total);
		return EXITCODE_USAGE;
	}
	generate(&o, argv[optind]);
	return EXITCODE_DONE;
}
