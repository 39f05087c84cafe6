/*
 * jsonscan_cli - drives the JSON scanner from the tests.
 *
 *   jsonscan_cli [-c chunk] [-k key] [-l] file
 *   jsonscan_cli -b [-c chunk] [-k key] [-l] <paths
 *
 * Scans file as a top-level array, feeding the scanner at most chunk bytes
 * per read (default 65536; 1 feeds it byte by byte), and prints each
 * element's compact form on its own line (with -k, preceded by the kind of
 * value at the key path and its raw bytes, a tab between).  With -l the file
 * is one JSON value instead (a JSONL line), printed compact.  On invalid
 * input prints "file:line:column: reason (offset N)" on stderr and exits 1;
 * usage errors and I/O errors exit 2.
 *
 * With -b (batch, for tests/differential.py) it scans every file named on
 * standard input, one path a line, and after each file's records prints
 * the message it would have printed as "message<TAB>text" and then
 * "status<TAB>N", N the status it would have exited with; it exits 0 once
 * standard input ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonscan.h"

static const char *const kind_names[] = { "none", "string", "number",
    "other" };

/* What every scan takes from the command line. */
struct options {
	size_t chunk;
	const struct jsonscan_keypath *key;
	int line_mode;
	int batch;		/* messages go to stdout, tagged */
};

static void
usage(void)
{
	fprintf(stderr, "usage: jsonscan_cli [-b] [-c chunk] [-k key] [-l] "
	    "file\n");
	exit(2);
}

/* Prints a message where the mode says; returns status. */
static int
say(const struct options *o, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
say(const struct options *o, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (o->batch)
		fputs("message\t", stdout);
	vfprintf(o->batch ? stdout : stderr, fmt, ap);
	va_end(ap);
	return status;
}

static void
print_key(const struct jsonscan_keyval *kv)
{
	printf("%s%s\t", kind_names[kv->type], kv->escaped ? "+escaped" : "");
	fwrite(kv->data != NULL ? kv->data : "", 1, kv->len, stdout);
	putchar('\t');
}

static int
report(const struct options *o, const char *path,
    const struct jsonscan_error *err)
{
	return say(o, 1, "%s:%lu:%lu: %s (offset %llu)\n", path, err->line,
	    err->column, err->reason, err->offset);
}

/* Reads the whole file into memory for -l. */
static char *
slurp(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap), *nbuf;
	ssize_t r;

	while (buf != NULL && (r = read(fd, buf + n, cap - n)) != 0) {
		if (r < 0)
			goto fail;
		n += (size_t)r;
		if (n == cap) {
			nbuf = realloc(buf, cap *= 2);
			if (nbuf == NULL)
				goto fail;
			buf = nbuf;
		}
	}
	*len = n;
	return buf;
fail:
	free(buf);
	return NULL;
}

/* -l: the file is one JSON value. */
static int
scan_line(const struct options *o, const char *path, int fd)
{
	struct jsonscan_keyval kv;
	struct jsonscan_error err;
	size_t have = 0;
	char *buf = slurp(fd, &have), *out = malloc(have + 1);
	int status = 0;
	ssize_t n;

	if (buf == NULL || out == NULL) {
		status = say(o, 2, "%s: %s\n", path, strerror(errno));
	} else if ((n = jsonscan_compact_value_key(buf, have, out, o->key, &kv,
	    &err)) < 0) {
		status = report(o, path, &err);
	} else {
		if (o->key != NULL)
			print_key(&kv);
		fwrite(out, 1, (size_t)n, stdout);
		putchar('\n');
	}
	free(buf);
	free(out);
	return status;
}

/* The file as a source: a top-level array read chunk bytes at a time. */
static int
scan_array(const struct options *o, const char *path, int fd)
{
	struct jsonscan_array *scan = malloc(sizeof(*scan));
	struct jsonscan_buf out = { 0 };
	struct jsonscan_keyval kv;
	struct jsonscan_error err;
	size_t cap = o->chunk, have = 0, used;
	int eof = 0, status = -1;
	enum jsonscan_status st;
	char *buf = malloc(cap), *nbuf;
	ssize_t r;

	if (scan == NULL || buf == NULL)
		status = say(o, 2, "malloc: %s\n", strerror(errno));
	else
		jsonscan_array_init(scan, o->key);
	while (status < 0) {
		out.len = 0;
		st = jsonscan_array_next(scan, buf, have, eof, &used, &out, &kv,
		    &err);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (st == JSONSCAN_ELEMENT) {
			if (o->key != NULL)
				print_key(&kv);
			fwrite(out.data, 1, out.len, stdout);
			putchar('\n');
			continue;
		}
		if (st == JSONSCAN_END) {
			status = 0;
			break;
		}
		if (st == JSONSCAN_ERROR) {
			status = report(o, path, &err);
			break;
		}
		if (eof) {
			status = say(o, 2, "jsonscan_cli: more input wanted at "
			    "eof\n");
			break;
		}
		/* JSONSCAN_MORE: the element does not fit, grow the buffer. */
		if (have == cap) {
			nbuf = realloc(buf, cap *= 2);
			if (nbuf == NULL) {
				status = say(o, 2, "realloc: %s\n",
				    strerror(errno));
				break;
			}
			buf = nbuf;
		}
		r = read(fd, buf + have, cap - have < o->chunk ? cap - have :
		    o->chunk);
		if (r < 0) {
			status = say(o, 2, "%s: %s\n", path, strerror(errno));
			break;
		}
		have += (size_t)r;
		eof = r == 0;
	}
	free(buf);
	free(scan);
	jsonscan_buf_free(&out);
	return status;
}

/* Scans one file as the options say; returns its exit status. */
static int
scan_file(const struct options *o, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), status;

	if (fd < 0)
		return say(o, 2, "%s: %s\n", path, strerror(errno));
	status = o->line_mode ? scan_line(o, path, fd) :
	    scan_array(o, path, fd);
	close(fd);
	return status;
}

/* -b: every path on stdin, each closed by its status. */
static int
scan_batch(const struct options *o)
{
	char *path = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&path, &cap, stdin)) > 0) {
		if (path[n - 1] == '\n')
			path[n - 1] = '\0';
		printf("status\t%d\n", scan_file(o, path));
		if (fflush(stdout) != 0)
			break;
	}
	free(path);
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o = { .chunk = 65536 };
	struct jsonscan_keypath kp;
	int ch, status;

	while ((ch = getopt(argc, argv, "bc:k:l")) != -1) {
		switch (ch) {
		case 'b':
			o.batch = 1;
			break;
		case 'c':
			o.chunk = strtoul(optarg, NULL, 10);
			if (o.chunk == 0)
				usage();
			break;
		case 'k':
			if (jsonscan_keypath_parse(optarg, &kp) < 0)
				usage();
			o.key = &kp;
			break;
		case 'l':
			o.line_mode = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != !o.batch)
		usage();
	status = o.batch ? scan_batch(&o) : scan_file(&o, argv[optind]);
	if (o.key != NULL)
		jsonscan_keypath_free(&kp);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 2;
	return status;
}
