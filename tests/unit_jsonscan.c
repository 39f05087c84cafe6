/*
 * unit_jsonscan - unit tests of jsonscan.c: valid and invalid texts with
 * their exact compact output or error position, key path extraction, deep
 * nesting, and streaming: a sample array fed at every split point and byte
 * by byte must give the same elements, keys and errors as fed whole.
 * (The JSONTestSuite cases run from tests/json_testsuite.sh.)
 * Exits 0 if all pass.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"

/* The checks of the fuzz harnesses and their fixtures, to replay them:
 * compiled in, since each unit test is built from its one .c file. */
#include "fuzz/check.c"
#include "fuzz/fixture.c"

static int failures;

static void
failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

/* A growing text to collect results in. */
struct text {
	char *s;
	size_t len, cap;
};

static void
text_add(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		if (t->s == NULL)
			abort();
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void
text_printf(struct text *t, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	text_add(t, tmp, (size_t)n);
}

static const char *const kind[] = { "none", "string", "number", "other" };

/*
 * Scans doc as a top-level array, making first bytes available at the
 * start and then step more per refill.  Returns every element as
 * "<kind>[<key>]<compact>\n" and ends with "END" or
 * "ERROR line:column @offset reason".  The caller frees it.
 */
static char *
stream(const char *doc, size_t len, size_t first, size_t step,
    const char *keypath)
{
	struct jsonscan_keypath kp;
	struct jsonscan_array *s = malloc(sizeof(*s));
	struct jsonscan_buf out = { 0 };
	struct jsonscan_keyval kv;
	struct jsonscan_error err;
	struct text t = { 0 };
	size_t start = 0, avail = first < len ? first : len, used, before;
	int guard = 0;

	if (s == NULL || (keypath && jsonscan_keypath_parse(keypath, &kp) < 0))
		abort();
	jsonscan_array_init(s, keypath ? &kp : NULL);
	text_add(&t, "", 0);
	for (;;) {
		/* out keeps the earlier elements: new ones are appended. */
		before = out.len;
		switch (jsonscan_array_next(s, doc + start, avail - start,
		    avail == len, &used, &out, &kv, &err)) {
		case JSONSCAN_ELEMENT:
			text_printf(&t, "%s[", kind[kv.type]);
			text_add(&t, kv.data ? kv.data : "", kv.len);
			text_add(&t, "]", 1);
			text_add(&t, out.data + before, out.len - before);
			text_add(&t, "\n", 1);
			break;
		case JSONSCAN_MORE:
			if (avail == len || ++guard > 10000000) {
				text_printf(&t, "MORE at eof");
				goto done;
			}
			avail = avail + step < len ? avail + step : len;
			break;
		case JSONSCAN_END:
			text_printf(&t, "END");
			goto done;
		case JSONSCAN_ERROR:
			text_printf(&t, "ERROR %lu:%lu @%llu %s", err.line,
			    err.column, err.offset, err.reason);
			goto done;
		}
		start += used;
	}
done:
	jsonscan_buf_free(&out);
	if (keypath)
		jsonscan_keypath_free(&kp);
	free(s);
	return t.s;
}

/*
 * Like stream() of doc whole, but the way json-merge takes an element too
 * big to hold twice: a validating call (no output) from a mark finds its
 * end, then (rewound to the mark) the element is compacted over its bytes
 * (jsonscan_array_next_inplace) in a copy of doc.  Must give what
 * stream() gives.
 */
static char *
stream_inplace(const char *doc, size_t len, const char *keypath)
{
	struct jsonscan_keypath kp;
	struct jsonscan_array *s = malloc(sizeof(*s));
	struct jsonscan_mark mark;
	char *buf = malloc(len + 1);
	struct jsonscan_keyval kv;
	struct jsonscan_error err;
	struct text t = { 0 };
	size_t pos = 0, used, elen;
	enum jsonscan_status st;

	if (s == NULL || buf == NULL ||
	    (keypath && jsonscan_keypath_parse(keypath, &kp) < 0))
		abort();
	memcpy(buf, doc, len);
	jsonscan_array_init(s, keypath ? &kp : NULL);
	text_add(&t, "", 0);
	for (;;) {
		jsonscan_array_mark(s, &mark);
		st = jsonscan_array_next(s, buf + pos, len - pos, 1, &used,
		    NULL, NULL, &err);
		if (st == JSONSCAN_ELEMENT) {
			jsonscan_array_rewind(s, &mark);
			st = jsonscan_array_next_inplace(s, buf + pos,
			    len - pos, 1, &used, &elen, &kv, &err);
		}
		switch (st) {
		case JSONSCAN_ELEMENT:
			text_printf(&t, "%s[", kind[kv.type]);
			text_add(&t, kv.data ? kv.data : "", kv.len);
			text_add(&t, "]", 1);
			text_add(&t, buf + pos, elen);
			text_add(&t, "\n", 1);
			break;
		case JSONSCAN_MORE:
			text_printf(&t, "MORE at eof");
			goto done;
		case JSONSCAN_END:
			text_printf(&t, "END");
			goto done;
		case JSONSCAN_ERROR:
			text_printf(&t, "ERROR %lu:%lu @%llu %s", err.line,
			    err.column, err.offset, err.reason);
			goto done;
		}
		pos += used;
	}
done:
	if (keypath)
		jsonscan_keypath_free(&kp);
	free(buf);
	free(s);
	return t.s;
}

/* Checks that doc in place gives what it gives scanned whole. */
static void
check_inplace(const char *doc, size_t len, const char *keypath)
{
	char *want = stream(doc, len, len, 1, keypath);
	char *got = stream_inplace(doc, len, keypath);

	if (strcmp(got, want) != 0)
		failed("in place, key %s:\n  got  %s\n  want %s",
		    keypath ? keypath : "none", got, want);
	free(want);
	free(got);
}

/* Checks the whole-buffer result of doc against want. */
static void
check_stream(const char *doc, const char *keypath, const char *want)
{
	char *got = stream(doc, strlen(doc), strlen(doc), 1, keypath);

	if (strcmp(got, want) != 0)
		failed("%s:\n  got  %s\n  want %s", doc, got, want);
	free(got);
}

/* Checks that every way of cutting doc into chunks gives one result. */
static void
check_splits(const char *doc, size_t len, const char *keypath)
{
	char *whole = stream(doc, len, len, 1, keypath), *got;
	size_t split;

	for (split = 0; split <= len; split++) {
		got = stream(doc, len, split, len, keypath);
		if (strcmp(got, whole) != 0) {
			failed("split at %zu differs:\n  %s\n  %s", split, got,
			    whole);
			free(got);
			break;
		}
		free(got);
	}
	got = stream(doc, len, 0, 1, keypath);
	if (strcmp(got, whole) != 0)
		failed("byte by byte differs:\n  %s\n  %s", got, whole);
	free(got);
	got = stream(doc, len, 1, 7, keypath);
	if (strcmp(got, whole) != 0)
		failed("7 bytes at a time differs:\n  %s\n  %s", got, whole);
	free(got);
	free(whole);
}

/* Checks one JSON text: want is its compact form or "ERROR l:c reason". */
static void
check_value(const char *doc, const char *want)
{
	size_t len = strlen(doc);
	char *out = malloc(len + 1), got[256];
	struct jsonscan_error err;
	ssize_t n = jsonscan_compact_value(doc, len, out, &err);

	if (n >= 0)
		snprintf(got, sizeof(got), "%.*s", (int)n, out);
	else
		snprintf(got, sizeof(got), "ERROR %lu:%lu %s", err.line,
		    err.column, err.reason);
	if (strcmp(got, want) != 0)
		failed("value %s:\n  got  %s\n  want %s", doc, got, want);
	free(out);
}

/* Checks the key found in a JSON text, "kind[bytes]" or "invalid". */
static void
check_key(const char *doc, const char *keypath, const char *want)
{
	struct jsonscan_keypath kp;
	struct jsonscan_keyval kv, kv2;
	size_t len = strlen(doc);
	char *out = malloc(len + 1), got[256];
	ssize_t n;

	if (jsonscan_keypath_parse(keypath, &kp) < 0)
		abort();
	n = jsonscan_compact_value_key(doc, len, out, &kp, &kv, NULL);
	if (n < 0)
		snprintf(got, sizeof(got), "invalid");
	else
		snprintf(got, sizeof(got), "%s%s[%.*s]", kind[kv.type],
		    kv.escaped ? "+escaped" : "", (int)kv.len,
		    kv.data ? kv.data : "");
	if (strcmp(got, want) != 0)
		failed("key %s in %s:\n  got  %s\n  want %s", keypath, doc,
		    got, want);
	/* The same key from the compact form, without copying. */
	if (n >= 0 && (jsonscan_value_key(out, (size_t)n, &kp, &kv2) < 0 ||
	    kv2.type != kv.type || kv2.len != kv.len ||
	    (kv.data && memcmp(kv.data, kv2.data, kv.len) != 0)))
		failed("jsonscan_value_key differs on %s", doc);
	jsonscan_keypath_free(&kp);
	free(out);
}

/* An array element nested depth levels deep: [[[...]]] */
static void
check_depth(size_t depth, int valid)
{
	size_t len = 2 * depth + 2, i;
	char *doc = malloc(len + 1), *got;

	doc[0] = '[';
	doc[len - 1] = ']';
	for (i = 0; i < depth; i++) {
		doc[1 + i] = '[';
		doc[len - 2 - i] = ']';
	}
	doc[len] = '\0';
	got = stream(doc, len, len, 1, NULL);
	if (valid != (strncmp(got, "ERROR", 5) != 0 &&
	    strstr(got, "ERROR") == NULL))
		failed("depth %zu: %.80s", depth, got);
	if (!valid && strstr(got, "nesting too deep") == NULL)
		failed("depth %zu: wrong error %.80s", depth, got);
	free(got);
	free(doc);
}

/* A sample source file: BOM, CRLF, pretty-printed and compact records. */
static const char sample[] =
    "\xEF\xBB\xBF[\r\n"
    "  {\r\n"
    "    \"timestamp\": \"2024-03-01T12:34:56.123456Z\",\r\n"
    "    \"entity\": \"e0001\", \"type\" : \"orders\",\r\n"
    "    \"id\": 123,\r\n"
    "    \"payload\": {\"a\": [1, 2, 3], \"msg\": \"hello \\u00e9 \xC3\xA9\"}\r\n"
    "  },\r\n"
    "  {\"timestamp\":1709296496.5,\"big\":12345678901234567890123,"
    "\"neg\":-0,\"exp\":1.0e+10,\"s\":\"\\ud800\"},\n"
    "\t{ \"timestamp\" : \"a\\\"b\" , \"timestamp\" : [ ] } ,\n"
    "  {\"meta\": {\"ts\": \"2024-01-01\"}, \"x\": \"\xF0\x9F\x98\x80\"},\n"
    "  [ 1, {\"timestamp\": 5} ], \"str\", 0, -1.5E-3, true, false, null,\n"
    "  {}\n"
    "] \r\n";

int
main(void)
{
	size_t i;

	/* Element bytes, keys and errors, fed whole. */
	check_stream("[]", NULL, "END");
	check_stream(" \t\r\n[ \n ] \n", NULL, "END");
	check_stream("\xEF\xBB\xBF[1]", NULL, "none[]1\nEND");
	check_stream("[ 1 , \"a b\" ,{ \"k\" : [ 1 , 2 ] } ]", "k",
	    "none[]1\nnone[]\"a b\"\nother[]{\"k\":[1,2]}\nEND");
	check_stream("[{\"t\":\"x\\ny\"}]", "t",
	    "string[x\\ny]{\"t\":\"x\\ny\"}\nEND");
	check_stream("[{\"k\":1}, {\"k\":\"22\"},\n{\"k\" : 333}]", "k",
	    "number[1]{\"k\":1}\nstring[22]{\"k\":\"22\"}\n"
	    "number[333]{\"k\":333}\nEND");
	check_stream("", NULL, "ERROR 1:1 @0 unexpected end of input");
	check_stream("\xEF\xBB\xBF", NULL,
	    "ERROR 1:4 @3 unexpected end of input");
	check_stream("\xEF\xBB[]", NULL,
	    "ERROR 1:1 @0 top level is not an array");
	check_stream("{}", NULL, "ERROR 1:1 @0 top level is not an array");
	check_stream("1", NULL, "ERROR 1:1 @0 top level is not an array");
	check_stream("[1,]", NULL, "none[]1\nERROR 1:4 @3 trailing comma");
	check_stream("[1]]", NULL,
	    "none[]1\nERROR 1:4 @3 text after the closing bracket");
	check_stream("[1]\n\n  x", NULL,
	    "none[]1\nERROR 3:3 @7 text after the closing bracket");
	check_stream("[\n  1,\r\n  01]", NULL,
	    "none[]1\nERROR 3:4 @11 leading zero");
	check_stream("[\n {\"a\":\n  \"\xC3\"}]", NULL,
	    "ERROR 3:5 @13 invalid UTF-8 in string");
	check_stream("[1 2]", NULL, "none[]1\nERROR 1:4 @3 ',' or ']' expected");
	check_stream("[1", NULL, "none[]1\nERROR 1:3 @2 unexpected end of input");
	check_stream("[{\"a\" 1}]", NULL, "ERROR 1:7 @6 ':' expected");
	check_stream("[{\"a\":1,}]", NULL, "ERROR 1:9 @8 trailing comma");
	check_stream("[{1:1}]", NULL, "ERROR 1:3 @2 member name expected");
	check_stream("[\"\t\"]", NULL,
	    "ERROR 1:3 @2 control character in string");
	check_stream("[\"a\n\"]", NULL,
	    "ERROR 1:4 @3 control character in string");
	check_stream("[1]\v", NULL,
	    "none[]1\nERROR 1:4 @3 text after the closing bracket");
	check_stream("[\f1]", NULL, "ERROR 1:2 @1 value expected");
	check_stream("[\xC2\xA0" "1]", NULL, "ERROR 1:2 @1 value expected");

	/* Strings: valid UTF-8 at every length, and each kind of bad one. */
	check_value("\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF0\x90\x80\x80"
	    "\xF4\x8F\xBF\xBF\"", "\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF"
	    "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\"");
	check_value("\"\xED\x9F\xBF\xEE\x80\x80\"", "\"\xED\x9F\xBF\xEE\x80\x80\"");
	check_value("\"\xC0\xAF\"", "ERROR 1:2 invalid UTF-8 in string");
	check_value("\"\xC1\xBF\"", "ERROR 1:2 invalid UTF-8 in string");
	check_value("\"\xE0\x80\xAF\"", "ERROR 1:3 invalid UTF-8 in string");
	check_value("\"\xF0\x80\x80\xAF\"", "ERROR 1:3 invalid UTF-8 in string");
	check_value("\"\xED\xA0\x80\"", "ERROR 1:3 invalid UTF-8 in string");
	check_value("\"\xED\xBF\xBF\"", "ERROR 1:3 invalid UTF-8 in string");
	check_value("\"\xF4\x90\x80\x80\"", "ERROR 1:3 invalid UTF-8 in string");
	check_value("\"\xF5\x80\x80\x80\"", "ERROR 1:2 invalid UTF-8 in string");
	check_value("\"\xFF\"", "ERROR 1:2 invalid UTF-8 in string");
	check_value("\"\x80\"", "ERROR 1:2 invalid UTF-8 in string");
	check_value("\"\xE2\x82\"", "ERROR 1:4 invalid UTF-8 in string");
	check_value("\"\xF0\x9F\x98 \"", "ERROR 1:5 invalid UTF-8 in string");
	check_value("\"\xE2\x82", "ERROR 1:4 unexpected end of input");
	check_value("\"a\x7F\"", "\"a\x7F\"");
	check_value("\"0123456789abcdef\x1F\"",
	    "ERROR 1:18 control character in string");
	check_value("\"0123456789abcdef\\", "ERROR 1:19 unexpected end of input");
	check_value("\"\\u00e9\\uD800\\udc00\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
	    "\"\\u00e9\\uD800\\udc00\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
	check_value("\"\\ud800\"", "\"\\ud800\"");
	check_value("\"\\a\"", "ERROR 1:3 invalid escape");
	check_value("\"\\'\"", "ERROR 1:3 invalid escape");
	check_value("\"\\U00e9\"", "ERROR 1:3 invalid escape");
	check_value("\"\\u00g9\"", "ERROR 1:6 invalid \\u escape");
	check_value("\"\\u00\"", "ERROR 1:6 invalid \\u escape");
	check_value("'a'", "ERROR 1:1 single quotes are not allowed");

	/* Numbers kept as written. */
	check_value(" -0 ", "-0");
	check_value("\n12345678901234567890123\n", "12345678901234567890123");
	check_value("1.0e+10", "1.0e+10");
	check_value("1E-0", "1E-0");
	check_value("0.000", "0.000");
	check_value("1e400", "1e400");
	check_value("01", "ERROR 1:2 leading zero");
	check_value("-01", "ERROR 1:3 leading zero");
	check_value("00", "ERROR 1:2 leading zero");
	check_value("-", "ERROR 1:2 unexpected end of input");
	check_value("- 1", "ERROR 1:2 digit expected in number");
	check_value("1.", "ERROR 1:3 unexpected end of input");
	check_value("[1.]", "ERROR 1:4 digit expected after decimal point");
	check_value(".5", "ERROR 1:1 value expected");
	check_value("1e", "ERROR 1:3 unexpected end of input");
	check_value("[1e+]", "ERROR 1:5 digit expected in exponent");
	check_value("+1", "ERROR 1:1 value expected");
	check_value("0x10", "ERROR 1:2 text after the value");
	check_value("1.5.3", "ERROR 1:4 text after the value");
	check_value("NaN", "ERROR 1:1 NaN and Infinity are not allowed");
	check_value("-Infinity", "ERROR 1:2 digit expected in number");
	check_value("[Infinity]", "ERROR 1:2 NaN and Infinity are not allowed");

	/* Literals, structure, comments. */
	check_value("[true,false,null]", "[true,false,null]");
	check_value("tru", "ERROR 1:4 unexpected end of input");
	check_value("trUe", "ERROR 1:3 invalid literal");
	check_value("True", "ERROR 1:1 value expected");
	check_value("nulll", "ERROR 1:5 text after the value");
	check_value("[1,,2]", "ERROR 1:4 value expected");
	check_value("[,1]", "ERROR 1:2 value expected");
	check_value("{\"a\":1 \"b\":2}", "ERROR 1:8 ',' or '}' expected");
	check_value("{\"a\":}", "ERROR 1:6 value expected");
	check_value("{\"a\"}", "ERROR 1:5 ':' expected");
	check_value("{'a':1}", "ERROR 1:2 single quotes are not allowed");
	check_value("[1]/*c*/", "ERROR 1:4 text after the value");
	check_value("[/*c*/1]", "ERROR 1:2 comments are not allowed");
	check_value("[1 // c\n]", "ERROR 1:4 ',' or ']' expected");
	check_value("[1] [2]", "ERROR 1:5 text after the value");
	check_value("", "ERROR 1:1 unexpected end of input");
	check_value(" \n ", "ERROR 2:2 unexpected end of input");
	check_value("\xEF\xBB\xBF[]", "ERROR 1:1 value expected");
	check_value("[\n\r\n  {\n   \"a\"  :  [ 1 ,\t2 ] ,\"b\":{}}\r\n]\n",
	    "[{\"a\":[1,2],\"b\":{}}]");
	check_value("{\"a\":1,\"a\":2,\"b\":{\"c\":[]}}",
	    "{\"a\":1,\"a\":2,\"b\":{\"c\":[]}}");
	check_value("\"\\u0000\"", "\"\\u0000\"");
	check_value("\"a\0b\"", "ERROR 1:3 unexpected end of input");

	/* Key paths. */
	check_key("{\"timestamp\":\"2024\"}", "timestamp", "string[2024]");
	check_key("{\"timestamp\":\"a\\\"b\"}", "timestamp",
	    "string+escaped[a\\\"b]");
	check_key("{\"timestamp\": -1.5e3 }", "timestamp", "number[-1.5e3]");
	check_key("{\"timestamp\":1,\"timestamp\":2}", "timestamp", "number[2]");
	check_key("{\"timestamp\":1,\"timestamp\":{}}", "timestamp", "other[]");
	/* A later duplicate of another kind drops the string's escaped flag. */
	check_key("{\"timestamp\":\"a\\\"b\",\"timestamp\":5}", "timestamp",
	    "number[5]");
	check_key("{\"timestamp\":\"\\n\",\"timestamp\":true}", "timestamp",
	    "other[]");
	check_key("{\"meta\":{\"ts\":\"x\\\"y\"},\"meta\":{\"ts\":null}}",
	    "meta.ts", "other[]");
	check_key("{\"meta\":{\"ts\":\"x\\\"y\"},\"meta\":5}", "meta.ts",
	    "none[]");
	check_key("{\"timestamp\":null}", "timestamp", "other[]");
	check_key("{\"x\":{\"timestamp\":1}}", "timestamp", "none[]");
	check_key("[{\"timestamp\":1}]", "timestamp", "none[]");
	check_key("\"timestamp\"", "timestamp", "none[]");
	check_key("{\"meta\":{\"ts\":7}}", "meta.ts", "number[7]");
	check_key("{\"meta\":{\"ts\":7},\"ts\":8}", "meta.ts", "number[7]");
	check_key("{\"ts\":8,\"meta\":{\"a\":{\"ts\":9},\"ts\":7}}", "meta.ts",
	    "number[7]");
	check_key("{\"meta\":{\"ts\":7},\"meta\":{\"x\":1}}", "meta.ts",
	    "none[]");
	check_key("{\"meta\":{\"ts\":7},\"meta\":5}", "meta.ts", "none[]");
	check_key("{\"meta\":{\"ts\":7,\"ts\":8}}", "meta.ts", "number[8]");
	check_key("{\"meta\":[{\"ts\":7}]}", "meta.ts", "none[]");
	check_key("{\"meta\":{\"ts\":{\"ts\":1}}}", "meta.ts", "other[]");
	check_key("{\"a\":{\"b\":{\"c\":\"deep\"}},\"a.b.c\":1}", "a.b.c",
	    "string[deep]");
	check_key("{\"time\\u0073tamp\":3}", "timestamp", "number[3]");
	check_key("{\"\\u00e9\":3}", "\xC3\xA9", "number[3]");
	check_key("{\"\\ud83d\\ude00\":3}", "\xF0\x9F\x98\x80", "number[3]");
	check_key("{\"timestamp\\u0000\":3}", "timestamp", "none[]");
	check_key("{\"timestam\":3}", "timestamp", "none[]");
	check_key("{\"timestamps\":3}", "timestamp", "none[]");
	check_key("{\"timestamp\":3,}", "timestamp", "invalid");
	{
		struct jsonscan_keypath kp;
		static const char *const bad[] = { "", ".", "a.", ".a", "a..b" };

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (jsonscan_keypath_parse(bad[i], &kp) == 0)
				failed("key path \"%s\" accepted", bad[i]);
	}

	/* Nesting: 1,000 and 10,000 levels pass, beyond the cap fails. */
	check_depth(1000, 1);
	check_depth(10000, 1);
	check_depth(JSONSCAN_MAX_DEPTH, 1);
	check_depth(JSONSCAN_MAX_DEPTH + 1, 0);

	/* Streaming: every split point and byte by byte, with and without
	 * key paths, of a valid sample and of broken variants. */
	check_splits(sample, sizeof(sample) - 1, NULL);
	check_splits(sample, sizeof(sample) - 1, "timestamp");
	check_splits(sample, sizeof(sample) - 1, "meta.ts");
	check_inplace(sample, sizeof(sample) - 1, NULL);
	check_inplace(sample, sizeof(sample) - 1, "timestamp");
	check_inplace(sample, sizeof(sample) - 1, "meta.ts");
	{
		char *got = stream(sample, sizeof(sample) - 1,
		    sizeof(sample) - 1, 1, "timestamp");

		if (strstr(got, "string[2024-03-01T12:34:56.123456Z]{"
		    "\"timestamp\":\"2024-03-01T12:34:56.123456Z\","
		    "\"entity\":\"e0001\",\"type\":\"orders\",\"id\":123,"
		    "\"payload\":{\"a\":[1,2,3],\"msg\":\"hello \\u00e9 "
		    "\xC3\xA9\"}}\n") == NULL || strstr(got, "\nEND") == NULL ||
		    strstr(got, "other[]{\"timestamp\":\"a\\\"b\","
		    "\"timestamp\":[]}\n") == NULL ||
		    strstr(got, "none[][1,{\"timestamp\":5}]\n") == NULL)
			failed("sample: %s", got);
		free(got);
	}
	{
		/* Each byte of the sample replaced by a bad one in turn: the
		 * error (or result) must not depend on the chunking. */
		char *doc = malloc(sizeof(sample));

		for (i = 0; i < sizeof(sample) - 1; i += 3) {
			memcpy(doc, sample, sizeof(sample));
			doc[i] = (char)(i % 2 ? 0xFF : ',');
			check_splits(doc, sizeof(sample) - 1, "timestamp");
			check_inplace(doc, sizeof(sample) - 1, "timestamp");
		}
		for (i = 0; i < sizeof(sample) - 1; i += 5)
			check_splits(sample, i, NULL);
		free(doc);
	}

	failures += fuzzcheck_replay("scan-", fuzzcheck_scan);
	failures += fuzzcheck_replay("line-", fuzzcheck_line);
	if (failures != 0) {
		printf("unit_jsonscan: %d failures\n", failures);
		return 1;
	}
	printf("unit_jsonscan: all passed\n");
	return 0;
}
