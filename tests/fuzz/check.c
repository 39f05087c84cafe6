/*
 * check.c - the properties the fuzz harnesses check (see check.h).
 *
 * Parts, in order: messages; the transcript of a scan and the feeder that
 * drives the scanner whole or through json-merge's refill loop; the checks
 * of each element; fuzzcheck_scan() and fuzzcheck_line(); the sort-key
 * values with their references, and fuzzcheck_sortkey().  The fixtures are
 * read by fixture.c.
 */
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonscan.h"
#include "sortkey.h"

/* Under ASan the bytes past what the scanner was given are poisoned, so a
 * read beyond len is caught even where the buffer is larger. */
#if defined(__SANITIZE_ADDRESS__)
#define FUZZCHECK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZCHECK_ASAN 1
#endif
#endif
#ifdef FUZZCHECK_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* json-merge's default key path; the line check follows a nested one. */
#define KEY_PATH "timestamp"
#define NESTED_KEY_PATH "meta.ts"

static char message[4096];

/* Formats the message a check returns. */
static const char *
bug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return message;
}

/* Writes p[0..n) escaped as in a fixture into out (of cap > 4 bytes),
 * cut with "..." when it does not fit. */
static const char *
escape(const char *p, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < n; i++) {
		if (o + 5 >= cap) {
			strcpy(out + (o < cap - 4 ? o : cap - 4), "...");
			return out;
		}
		c = (unsigned char)p[i];
		if (c < 0x20 || c > 0x7E || c == '\\')
			o += (size_t)sprintf(out + o, "\\x%02X", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

static void
add(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) < 0)
		abort();
}

static uint64_t
hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xCBF29CE484222325ULL;

	while (n-- > 0)
		h = (h ^ *p++) * 0x100000001B3ULL;
	return h;
}

/* splitmix64: the sizes of the reads, from the input's hash. */
static uint64_t
draw(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ z >> 27) * 0x94D049BB133111EBULL;
	return z ^ z >> 31;
}

static const struct jsonscan_keypath *
key_path(int nested)
{
	static const char *const dotted[2] = { KEY_PATH, NESTED_KEY_PATH };
	static struct jsonscan_keypath kp[2];

	if (kp[nested].count == 0 &&
	    jsonscan_keypath_parse(dotted[nested], &kp[nested]) < 0)
		abort();
	return &kp[nested];
}

/* Appends one element to a transcript: its key and its compact bytes. */
static void
record_element(struct buf *t, const struct jsonscan_keyval *kv,
    const char *value, size_t len)
{
	char head[64];

	snprintf(head, sizeof(head), "element key %d%s %zu:", (int)kv->type,
	    kv->escaped ? "+escaped" : "", kv->len);
	add(t, head, strlen(head));
	add(t, kv->data != NULL ? kv->data : "", kv->len);
	snprintf(head, sizeof(head), " value %zu:", len);
	add(t, head, strlen(head));
	add(t, value, len);
	add(t, "\n", 1);
}

static void
record_error(struct buf *t, const struct jsonscan_error *err)
{
	char line[256];

	snprintf(line, sizeof(line), "ERROR @%llu %lu:%lu %s\n", err->offset,
	    err->line, err->column, err->reason);
	add(t, line, strlen(line));
}

/* How the scanner is fed. */
struct feed {
	const struct jsonscan_keypath *key;
	int whole;		/* every byte at once, eof from the start */
	size_t cap;		/* else: the refill buffer's first size */
	unsigned piece;		/* the most one read returns (0: all it may) */
	uint64_t rng;		/* draws the size of each read */
};

/* The refill buffer of json-merge's scan_source(). */
struct reader {
	char *buf;
	size_t cap, pos, len, off;
	int eof;
};

/*
 * json-merge's refill(): keep the unconsumed tail, grow a full buffer,
 * read what fits (at most f->piece bytes when set), and take a short read
 * that reaches the end as the end.
 */
static void
refill(struct reader *r, const uint8_t *data, size_t size, struct feed *f)
{
	size_t want, n, piece;
	char *p;

	memmove(r->buf, r->buf + r->pos, r->len - r->pos);
	r->len -= r->pos;
	r->pos = 0;
	if (r->len == r->cap) {
		if ((p = realloc(r->buf, 2 * r->cap)) == NULL)
			abort();
		r->buf = p;
		r->cap *= 2;
	}
	want = r->cap - r->len;
	n = size - r->off < want ? size - r->off : want;
	if (f->piece != 0) {
		piece = 1 + (size_t)(draw(&f->rng) % f->piece);
		if (n > piece)
			n = piece;
	}
	memcpy(r->buf + r->len, data + r->off, n);
	r->off += n;
	r->len += n;
	if (n == 0 || (n < want && r->off == size))
		r->eof = 1;
}

static const char *check_element(const struct jsonscan_buf *el,
    const struct jsonscan_keyval *kv, const struct jsonscan_keypath *kp);
static const char *check_finished(struct jsonscan_array *s,
    enum jsonscan_status last);

/*
 * Scans data as a source, fed as f says, into the transcript t; *elements
 * counts the elements and *ended is set on JSONSCAN_END.  Returns NULL, or
 * a message when the scanner broke its protocol or (fed whole) an element
 * check failed.
 */
static const char *
scan_fed(const uint8_t *data, size_t size, struct feed f, struct buf *t,
    size_t *elements, int *ended)
{
	struct jsonscan_array *s = malloc(sizeof(*s));
	struct jsonscan_buf el = { 0 };
	struct jsonscan_keyval kv;
	struct jsonscan_error err;
	struct reader r = { .cap = f.whole ? size + 1 : f.cap };
	enum jsonscan_status st;
	const char *why = NULL;
	size_t used, avail, rounds = 0;

	r.buf = malloc(r.cap);
	if (s == NULL || r.buf == NULL)
		abort();
	if (f.whole) {
		memcpy(r.buf, data, size);
		r.len = r.off = size;
		r.eof = 1;
	}
	*elements = 0;
	*ended = 0;
	jsonscan_array_init(s, f.key);
	while (why == NULL) {
		el.len = 0;
		avail = r.len - r.pos;
		POISON(r.buf + r.len, r.cap - r.len);
		st = jsonscan_array_next(s, r.buf + r.pos, avail, r.eof, &used,
		    &el, &kv, &err);
		UNPOISON(r.buf + r.len, r.cap - r.len);
		if (used > avail) {
			why = bug("used %zu of %zu bytes", used, avail);
			break;
		}
		r.pos += used;
		if (++rounds > 4 * size + 16) {
			why = bug("no progress after %zu calls", rounds);
		} else if (st == JSONSCAN_ELEMENT) {
			record_element(t, &kv, el.data, el.len);
			++*elements;
			if (used == 0)
				why = bug("an element that consumed nothing");
			else if (f.whole)
				why = check_element(&el, &kv, f.key);
		} else if (st == JSONSCAN_MORE) {
			if (r.eof)
				why = bug("more input wanted at eof");
			else
				refill(&r, data, size, &f);
		} else {
			if (st == JSONSCAN_END)
				add(t, "END\n", 4);
			else
				record_error(t, &err);
			*ended = st == JSONSCAN_END;
			if (f.whole)
				why = check_finished(s, st);
			break;
		}
	}
	jsonscan_buf_free(&el);
	free(r.buf);
	free(s);
	return why;
}

/* Whether two key values hold the same key at the same offset. */
static int
same_key(const struct jsonscan_keyval *a, const char *abase,
    const struct jsonscan_keyval *b, const char *bbase)
{
	if (a->type != b->type || a->escaped != b->escaped || a->len != b->len)
		return 0;
	if (a->data == NULL || b->data == NULL)
		return a->data == b->data;
	return a->data - abase == b->data - bbase &&
	    memcmp(a->data, b->data, a->len) == 0;
}

/* kv->escaped must say whether a string key holds a backslash, and be 0
 * for every other kind. */
static int
escaped_wrong(const struct jsonscan_keyval *kv)
{
	return kv->escaped != (kv->type == JSONSCAN_KEY_STRING &&
	    memchr(kv->data, '\\', kv->len) != NULL);
}

/*
 * An element must be compact and valid as a JSONL line, give the same key
 * read as a line and from its compact form, and key as its kind says.
 */
static const char *
check_element(const struct jsonscan_buf *el, const struct jsonscan_keyval *kv,
    const struct jsonscan_keypath *kp)
{
	struct jsonscan_keyval line_kv, compact_kv;
	struct sortkey_buf key = { 0 };
	struct jsonscan_error err;
	enum sortkey_result r;
	const char *why = NULL;
	char *out = malloc(el->len + 1);
	ssize_t n;

	if (out == NULL)
		abort();
	n = jsonscan_compact_value_key(el->data, el->len, out, kp, &line_kv,
	    &err);
	if (kv->data != NULL && (kv->data < el->data ||
	    kv->data + kv->len > el->data + el->len))
		why = bug("the key lies outside its element");
	else if (escaped_wrong(kv))
		why = bug("a key of kind %d with escaped %d", (int)kv->type,
		    kv->escaped);
	else if (n < 0)
		why = bug("an element is not a valid line: %s at %llu",
		    err.reason, err.offset);
	else if ((size_t)n != el->len || memcmp(out, el->data, el->len) != 0)
		why = bug("an element is not compact");
	else if (!same_key(kv, el->data, &line_kv, out))
		why = bug("the key of an element differs read as a line");
	else if (jsonscan_value_key(el->data, el->len, kp, &compact_kv) < 0 ||
	    !same_key(kv, el->data, &compact_kv, el->data))
		why = bug("jsonscan_value_key() differs on an element");
	if (why == NULL) {
		r = sortkey_from_keyval(kv, &key);
		if (r == SORTKEY_ERROR)
			abort();
		if ((kv->type == JSONSCAN_KEY_NUMBER && r != SORTKEY_KEYED) ||
		    ((kv->type == JSONSCAN_KEY_NONE ||
		    kv->type == JSONSCAN_KEY_OTHER) && r != SORTKEY_NONE))
			why = bug("key kind %d gave sortkey result %d",
			    (int)kv->type, (int)r);
	}
	sortkey_buf_free(&key);
	free(out);
	return why;
}

/* A scan that ended stays ended; one that failed fails again. */
static const char *
check_finished(struct jsonscan_array *s, enum jsonscan_status last)
{
	struct jsonscan_buf out = { 0 };
	struct jsonscan_keyval kv;
	struct jsonscan_error err;
	enum jsonscan_status st;
	size_t used;

	st = jsonscan_array_next(s, "[1]", 3, 1, &used, &out, &kv, &err);
	jsonscan_buf_free(&out);
	if (st != last || (st == JSONSCAN_ERROR &&
	    strcmp(err.reason, "scan already failed") != 0))
		return bug("called again after %d, the scanner says %d",
		    (int)last, (int)st);
	return NULL;
}

/* Describes where the transcript b parts from the expected a. */
static const char *
differ(const char *how, const struct buf *a, const struct buf *b)
{
	char ea[900], eb[900];
	size_t i = 0, line, n = a->len < b->len ? a->len : b->len;

	while (i < n && a->data[i] == b->data[i])
		i++;
	/* Show both from the start of the line where they part. */
	for (line = i; line > 0 && a->data[line - 1] != '\n'; line--)
		continue;
	return bug("%s: the results part at byte %zu:\n  expected: %s\n"
	    "  got:      %s", how, i,
	    escape(a->data + line, a->len - line, ea, 200),
	    escape(b->data + line, b->len - line, eb, 200));
}

const char *
fuzzcheck_scan(const uint8_t *data, size_t size)
{
	static const char *const how[] = { "fed in pieces of 1 to 7 bytes",
	    "fed through a growing buffer" };
	struct buf whole = { 0 }, fed = { 0 };
	uint64_t h = hash(data, size);
	const char *why;
	size_t elements;
	int i, ended;

	why = scan_fed(data, size, (struct feed){ .key = key_path(0),
	    .whole = 1 }, &whole, &elements, &ended);
	for (i = 0; why == NULL && i < 2; i++) {
		fed.len = 0;
		why = scan_fed(data, size, (struct feed){ .key = key_path(0),
		    .cap = i == 0 ? 8 + h % 57 : 1 + h % 16,
		    .piece = i == 0 ? 7 : 0, .rng = h }, &fed, &elements,
		    &ended);
		if (why == NULL && (fed.len != whole.len ||
		    memcmp(fed.data, whole.data, fed.len) != 0))
			why = differ(how[i], &whole, &fed);
	}
	buf_free(&whole);
	buf_free(&fed);
	return why;
}

const char *
fuzzcheck_line(const uint8_t *data, size_t size)
{
	struct buf want = { 0 }, got = { 0 }, arr = { 0 };
	struct jsonscan_keyval kv, compact_kv;
	struct jsonscan_error err, err2;
	char *out = malloc(size + 1), *out2 = malloc(size + 1);
	const char *why = NULL;
	size_t elements;
	ssize_t n, n2;
	int ended;

	if (out == NULL || out2 == NULL)
		abort();
	n = jsonscan_compact_value_key((const char *)data, size, out,
	    key_path(1), &kv, &err);
	n2 = jsonscan_compact_value((const char *)data, size, out2, &err2);
	add(&arr, "[", 1);
	add(&arr, data, size);
	add(&arr, "]", 1);
	why = scan_fed((const uint8_t *)arr.data, arr.len,
	    (struct feed){ .key = key_path(1), .whole = 1 }, &got, &elements,
	    &ended);
	if (why != NULL) {
		/* Said by scan_fed(). */
	} else if (n != n2 || (n >= 0 && memcmp(out, out2, (size_t)n) != 0) ||
	    (n < 0 && (err.offset != err2.offset ||
	    strcmp(err.reason, err2.reason) != 0))) {
		why = bug("jsonscan_compact_value() and _key() disagree");
	} else if (n < 0 && elements == 1 && ended) {
		why = bug("the line is invalid (%s at %llu) but [line] holds "
		    "one element", err.reason, err.offset);
	} else if (n >= 0 && escaped_wrong(&kv)) {
		why = bug("the line's key of kind %d with escaped %d",
		    (int)kv.type, kv.escaped);
	} else if (n >= 0) {
		record_element(&want, &kv, out, (size_t)n);
		add(&want, "END\n", 4);
		if (want.len != got.len || memcmp(want.data, got.data,
		    got.len) != 0)
			why = differ("the line read as [line]", &want, &got);
		else if (jsonscan_value_key(out, (size_t)n, key_path(1),
		    &compact_kv) < 0 || !same_key(&kv, out, &compact_kv, out))
			why = bug("jsonscan_value_key() differs on the line");
	}
	buf_free(&want);
	buf_free(&got);
	buf_free(&arr);
	free(out);
	free(out2);
	return why;
}

/* One value of the sort-key check and what the references know of it. */
struct skval {
	struct sortkey_buf key, neg;	/* neg: the key of the negated number */
	enum sortkey_result r;
	enum jsonscan_keytype type;
	int has_exact;			/* exact: an int64 or a simple instant */
	long long exact;
	int has_double;
	double dval;
};

static int
sign(int c)
{
	return (c > 0) - (c < 0);
}

static int
compare(const struct sortkey_buf *a, const struct sortkey_buf *b)
{
	return sign(sortkey_compare(a->data, a->len, b->data, b->len));
}

/* Keys the number num[0..len) into k; aborts on ENOMEM. */
static enum sortkey_result
number_key(const char *num, size_t len, struct sortkey_buf *k)
{
	enum sortkey_result r = sortkey_from_number(num, len, k);

	if (r == SORTKEY_ERROR)
		abort();
	return r;
}

/*
 * The scaling relations of a number written without an exponent: x equals
 * xe0 (and x0 when it has a fraction), and xe1 lies further from zero.
 */
static const char *
check_scaling(const char *num, size_t len, const struct sortkey_buf *k)
{
	struct sortkey_buf other = { 0 };
	char *text = malloc(len + 3);
	const char *why = NULL;
	int want;

	if (text == NULL)
		abort();
	memcpy(text, num, len);
	memcpy(text + len, "e0", 2);
	number_key(text, len + 2, &other);
	if (compare(&other, k) != 0)
		why = bug("xe0 differs from x");
	text[len + 1] = '1';
	number_key(text, len + 2, &other);
	want = k->data[0] == 0x80 ? 0 : k->data[0] == 0xC0 ? 1 : -1;
	if (why == NULL && compare(&other, k) != want)
		why = bug("xe1 compares %d with x, not %d", compare(&other, k),
		    want);
	text[len] = '0';
	number_key(text, len + 1, &other);
	if (why == NULL && memchr(num, '.', len) != NULL &&
	    compare(&other, k) != 0)
		why = bug("x0 differs from x");
	sortkey_buf_free(&other);
	free(text);
	return why;
}

/* The references of a number: strtod(), strtoll() when it is an integer;
 * and its negation's key. */
static const char *
number_references(struct skval *v, const char *num, size_t len)
{
	char *text = malloc(len + 2), *end;
	int no_exponent = memchr(num, 'e', len) == NULL &&
	    memchr(num, 'E', len) == NULL;
	int integer = no_exponent && memchr(num, '.', len) == NULL;

	if (text == NULL)
		abort();
	memcpy(text, num, len);
	text[len] = '\0';
	v->dval = strtod(text, &end);
	v->has_double = 1;
	errno = 0;
	v->exact = strtoll(text, &end, 10);
	v->has_exact = integer && errno == 0 && *end == '\0';
	/* -x, or x for -x: a number the scanner would take too. */
	if (num[0] == '-') {
		number_key(num + 1, len - 1, &v->neg);
	} else {
		text[0] = '-';
		memcpy(text + 1, num, len);
		number_key(text, len + 1, &v->neg);
	}
	free(text);
	return no_exponent ? check_scaling(num, len, &v->key) : NULL;
}

/* Reads k digits at s; -1 unless they are all digits. */
static int
digits(const char *s, int k)
{
	int v = 0;

	for (; k > 0; k--, s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/*
 * The reference of an instant YYYY-MM-DDThh:mm:ssZ: timegm() says which
 * dates exist (a date it has to normalize does not), ss may be 60 (a leap
 * second, the next minute's :00).  Returns 1 with *secs if s is one, 0 if
 * it has the form but is no instant, -1 if it lacks the form.
 */
static int
instant_reference(const char *s, size_t len, long long *secs)
{
	struct tm tm = { 0 }, back;
	int y, mo, d, h, mi, sec;
	time_t t;

	if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -1;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	t = timegm(&tm);
	if (gmtime_r(&t, &back) == NULL || back.tm_year != y - 1900 ||
	    back.tm_mon != mo - 1 || back.tm_mday != d || back.tm_hour != h ||
	    back.tm_min != mi || sec > 60)
		return 0;
	*secs = (long long)t + sec;
	return 1;
}

/*
 * Makes v from one part of the input: the value of {"timestamp":PART}, or
 * else of {"timestamp":"PART"}, keyed as json-merge keys it, twice.
 */
static const char *
value_build(struct skval *v, const char *part, size_t len)
{
	static const char *const wrap[2][2] = {
		{ "{\"" KEY_PATH "\":", "}" }, { "{\"" KEY_PATH "\":\"", "\"}" },
	};
	struct jsonscan_keyval kv = { 0 };
	struct sortkey_buf again = { 0 };
	struct buf doc = { 0 };
	const char *why = NULL;
	char *out;
	int i, rc = -1;

	for (i = 0; i < 2 && rc < 0; i++) {
		doc.len = 0;
		add(&doc, wrap[i][0], strlen(wrap[i][0]));
		add(&doc, part, len);
		add(&doc, wrap[i][1], strlen(wrap[i][1]));
		if ((out = malloc(doc.len)) == NULL)
			abort();
		rc = jsonscan_compact_value_key(doc.data, doc.len, out,
		    key_path(0), &kv, NULL) < 0 ? -1 : 0;
		if (rc < 0)
			free(out);
	}
	if (rc < 0) {
		memset(&kv, 0, sizeof(kv));
		out = NULL;
	}
	v->type = kv.type;
	v->r = sortkey_from_keyval(&kv, &v->key);
	/* The same bytes again into a buffer that held other bytes. */
	number_key("-98765432109876543210.5e-77", 27, &again);
	memset(again.data, 0x5A, again.cap);
	if (v->r == SORTKEY_ERROR || sortkey_from_keyval(&kv, &again) != v->r)
		abort();
	if (again.len != v->key.len || memcmp(again.data, v->key.data,
	    again.len) != 0)
		why = bug("the key is not deterministic");
	if (why == NULL && kv.type == JSONSCAN_KEY_NUMBER)
		why = number_references(v, kv.data, kv.len);
	if (why == NULL && kv.type == JSONSCAN_KEY_STRING && !kv.escaped) {
		switch (instant_reference(kv.data, kv.len, &v->exact)) {
		case 1:
			v->has_exact = v->has_double = 1;
			v->dval = (double)v->exact;
			if (v->r != SORTKEY_KEYED)
				why = bug("an instant timegm() takes is not keyed");
			break;
		case 0:
			if (v->r != SORTKEY_NONE)
				why = bug("an instant timegm() rejects is keyed");
			break;
		}
	}
	sortkey_buf_free(&again);
	buf_free(&doc);
	free(out);
	return why;
}

/* A key must be one of the four classes, 0xFF exactly when not keyed. */
static const char *
check_form(const struct skval *v)
{
	const unsigned char *k = v->key.data;

	if (v->key.len == 0)
		return bug("an empty key");
	if ((v->r == SORTKEY_NONE) != (v->key.len == 1 && k[0] == 0xFF))
		return bug("result %d with a key of class %02X", (int)v->r, k[0]);
	if (v->r == SORTKEY_KEYED && k[0] != 0x40 && k[0] != 0xC0 &&
	    !(k[0] == 0x80 && v->key.len == 1))
		return bug("a key of class %02X, length %zu", k[0], v->key.len);
	if ((v->type == JSONSCAN_KEY_NUMBER) && v->r != SORTKEY_KEYED)
		return bug("a number that is not keyed");
	if ((v->type == JSONSCAN_KEY_OTHER || v->type == JSONSCAN_KEY_NONE) &&
	    v->r != SORTKEY_NONE)
		return bug("a value of kind %d is keyed", (int)v->type);
	return NULL;
}

/* The order of two values against the references. */
static const char *
check_pair(const struct skval *a, const struct skval *b, int ia, int ib)
{
	int c = compare(&a->key, &b->key), want;

	if (c != -compare(&b->key, &a->key))
		return bug("values %d and %d: not antisymmetric", ia, ib);
	if (a->r == SORTKEY_NONE || b->r == SORTKEY_NONE) {
		want = (a->r == SORTKEY_NONE) - (b->r == SORTKEY_NONE);
		if (c != want)
			return bug("values %d and %d: %d, not %d with the one "
			    "not keyed last", ia, ib, c, want);
		return NULL;
	}
	if (a->has_exact && b->has_exact &&
	    c != (a->exact > b->exact) - (a->exact < b->exact))
		return bug("values %d and %d: %d, but %lld and %lld", ia, ib,
		    c, a->exact, b->exact);
	/* strtod() rounds monotonically: doubles apart are in true order. */
	if (a->has_double && b->has_double && a->dval != b->dval &&
	    c != (a->dval > b->dval ? 1 : -1))
		return bug("values %d and %d: %d, but strtod() gives %.17g "
		    "and %.17g", ia, ib, c, a->dval, b->dval);
	if (a->neg.len > 0 && b->neg.len > 0 &&
	    compare(&a->neg, &b->neg) != -c)
		return bug("values %d and %d: %d, and negated %d", ia, ib, c,
		    compare(&a->neg, &b->neg));
	return NULL;
}

/* c[i][j] <= 0 and c[j][k] <= 0 give c[i][k] <= 0, equal if both are. */
static const char *
check_transitive(int c[3][3], int n)
{
	int i, j, k, want;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			for (k = 0; k < n; k++) {
				if (i == j || j == k || i == k ||
				    c[i][j] > 0 || c[j][k] > 0)
					continue;
				want = c[i][j] == 0 && c[j][k] == 0 ? 0 : -1;
				if (c[i][k] != want)
					return bug("values %d, %d, %d: not "
					    "transitive", i, j, k);
			}
	return NULL;
}

const char *
fuzzcheck_sortkey(const uint8_t *data, size_t size)
{
	static const struct sortkey_buf zero = {
		.data = (unsigned char *)"\x80", .len = 1 };
	struct skval v[3];
	const char *p = (const char *)data, *end = p + size, *nl;
	const char *why = NULL;
	struct sortkey_buf raw = { 0 };
	int c[3][3], n = 0, i, j;

	memset(v, 0, sizeof(v));
	for (; n < 3 && why == NULL && (n == 0 || p < end); n++) {
		nl = n < 2 ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		if (nl == NULL)
			nl = end;
		/* The raw bytes too: garbage must not crash the parsers. */
		if (sortkey_from_number(p, (size_t)(nl - p), &raw) ==
		    SORTKEY_ERROR || sortkey_from_string(p, (size_t)(nl - p),
		    0, &raw) == SORTKEY_ERROR)
			abort();
		why = value_build(&v[n], p, (size_t)(nl - p));
		if (why == NULL)
			why = check_form(&v[n]);
		if (why == NULL && v[n].neg.len > 0 &&
		    compare(&v[n].neg, &zero) != -compare(&v[n].key, &zero))
			why = bug("value %d: -x and x are not on either side "
			    "of 0", n);
		p = nl + (nl < end);
	}
	for (i = 0; i < n && why == NULL; i++)
		for (j = 0; j < n && why == NULL; j++) {
			c[i][j] = compare(&v[i].key, &v[j].key);
			if (i == j && c[i][j] != 0)
				why = bug("value %d: not equal to itself", i);
			else
				why = check_pair(&v[i], &v[j], i, j);
		}
	if (why == NULL)
		why = check_transitive(c, n);
	for (i = 0; i < 3; i++) {
		sortkey_buf_free(&v[i].key);
		sortkey_buf_free(&v[i].neg);
	}
	sortkey_buf_free(&raw);
	return why;
}
