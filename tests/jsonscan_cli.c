/*
 * jsonscan_cli - drives the JSON scanner from the tests.
 *
 *   jsonscan_cli [-c chunk] [-k key] [-l] file
 *
 * Scans file as a top-level array, feeding the scanner at most chunk bytes
 * per read (default 65536; 1 feeds it byte by byte), and prints each
 * element's compact form on its own line (with -k, preceded by the kind of
 * value at the key path and its raw bytes, a tab between).  With -l the file
 * is one JSON value instead (a JSONL line), printed compact.  On invalid
 * input prints "file:line:column: reason (offset N)" on stderr and exits 1;
 * usage errors and I/O errors exit 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonscan.h"

static const char *const kind_names[] = { "none", "string", "number",
    "other" };

static void
usage(void)
{
	fprintf(stderr, "usage: jsonscan_cli [-c chunk] [-k key] [-l] file\n");
	exit(2);
}

static void
print_key(const struct jsonscan_keyval *kv)
{
	printf("%s%s\t", kind_names[kv->type], kv->escaped ? "+escaped" : "");
	fwrite(kv->data != NULL ? kv->data : "", 1, kv->len, stdout);
	putchar('\t');
}

static int
report(const char *path, const struct jsonscan_error *err)
{
	fprintf(stderr, "%s:%lu:%lu: %s (offset %llu)\n", path, err->line,
	    err->column, err->reason, err->offset);
	return 1;
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

int
main(int argc, char **argv)
{
	struct jsonscan_keypath kp, *key = NULL;
	struct jsonscan_array *scan;
	struct jsonscan_buf out = { 0 };
	struct jsonscan_keyval kv;
	struct jsonscan_error err;
	size_t chunk = 65536, cap, have = 0, used;
	int ch, fd, eof = 0, line_mode = 0, status = 0;
	enum jsonscan_status st;
	char *buf, *nbuf;
	ssize_t r;

	while ((ch = getopt(argc, argv, "c:k:l")) != -1) {
		switch (ch) {
		case 'c':
			chunk = strtoul(optarg, NULL, 10);
			if (chunk == 0)
				usage();
			break;
		case 'k':
			if (jsonscan_keypath_parse(optarg, &kp) < 0)
				usage();
			key = &kp;
			break;
		case 'l':
			line_mode = 1;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[optind]);
		return 2;
	}
	if (line_mode) {
		ssize_t n;

		buf = slurp(fd, &have);
		nbuf = malloc(have + 1);
		if (buf == NULL || nbuf == NULL) {
			perror(argv[optind]);
			return 2;
		}
		n = jsonscan_compact_value_key(buf, have, nbuf, key, &kv, &err);
		if (n < 0)
			return report(argv[optind], &err);
		if (key != NULL)
			print_key(&kv);
		fwrite(nbuf, 1, (size_t)n, stdout);
		putchar('\n');
		free(buf);
		free(nbuf);
		goto done;
	}
	scan = malloc(sizeof(*scan));
	cap = chunk;
	buf = malloc(cap);
	if (scan == NULL || buf == NULL) {
		perror("malloc");
		return 2;
	}
	jsonscan_array_init(scan, key);
	for (;;) {
		out.len = 0;
		st = jsonscan_array_next(scan, buf, have, eof, &used, &out, &kv,
		    &err);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (st == JSONSCAN_ELEMENT) {
			if (key != NULL)
				print_key(&kv);
			fwrite(out.data, 1, out.len, stdout);
			putchar('\n');
			continue;
		}
		if (st == JSONSCAN_END)
			break;
		if (st == JSONSCAN_ERROR) {
			status = report(argv[optind], &err);
			break;
		}
		if (eof) {
			fprintf(stderr, "jsonscan_cli: more input wanted at eof\n");
			return 2;
		}
		/* JSONSCAN_MORE: the element does not fit, grow the buffer. */
		if (have == cap) {
			nbuf = realloc(buf, cap *= 2);
			if (nbuf == NULL) {
				perror("realloc");
				return 2;
			}
			buf = nbuf;
		}
		r = read(fd, buf + have, cap - have < chunk ? cap - have : chunk);
		if (r < 0) {
			perror(argv[optind]);
			return 2;
		}
		have += (size_t)r;
		eof = r == 0;
	}
	free(buf);
	free(scan);
	jsonscan_buf_free(&out);
done:
	close(fd);
	if (key != NULL)
		jsonscan_keypath_free(key);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 2;
	return status;
}
