/*
 * journaljsonread.c - the JSON form of a journal, streamed
 * (journaljson.h): the reader.  A small pull parser over a buffer of the
 * file (or over memory) first, then the journal's objects on top of it.
 */
#include "journaljson.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "journal.h"
#include "share.h"

/* Objects and arrays nested deeper than this in a key we do not know are
 * not a journal of ours (and would cost the reader's stack). */
#define MAX_DEPTH 64

/* Where the bytes come from: fd through buf, or only [p, end). */
struct in {
	int fd;			/* -1: memory */
	const char *name;
	const unsigned char *p, *end;
	char *buf;
	size_t left;		/* bytes of fd not yet read */
	int err;		/* errno: EBADMSG, or a read's */
	struct buf str;		/* the last string read */
	bool committed;		/* the state read so far is "committed" */
};

/* Fails the read as malformed (unless a read failed first): -1. */
static int
bad(struct in *in)
{
	if (in->err == 0)
		in->err = EBADMSG;
	return -1;
}

/* The next byte without taking it, or -1 at the end (or a failure). */
static int
peek(struct in *in)
{
	ssize_t n;

	if (in->p < in->end)
		return *in->p;
	/* The file's size is known: no read to learn that it ends (a round
	 * trip on a share). */
	if (in->fd < 0 || in->err != 0 || in->left == 0)
		return -1;
	n = share_read_all(in->fd, in->name, in->buf, in->left < JOURNAL_JSON_BUF ?
	    in->left : JOURNAL_JSON_BUF);
	if (n < 0) {
		in->err = errno;
		return -1;
	}
	in->left = n == 0 ? 0 : in->left - (size_t)n;
	in->p = (const unsigned char *)in->buf;
	in->end = in->p + n;
	return n > 0 ? *in->p : -1;
}

static int
next(struct in *in)
{
	int c = peek(in);

	if (c >= 0)
		in->p++;
	return c;
}

static void
skip_ws(struct in *in)
{
	int c;

	while ((c = peek(in)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		in->p++;
}

/* Takes c, after whitespace: 0, or -1 when something else comes. */
static int
expect(struct in *in, int c)
{
	skip_ws(in);
	return next(in) == c ? 0 : bad(in);
}

static int
hex4(struct in *in, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int c = next(in), d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return bad(in);
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

/* Appends code point cp as UTF-8 (a NUL is no name of ours: malformed). */
static int
put_utf8(struct in *in, unsigned cp, bool keep)
{
	char u[4];
	size_t n;

	if (cp == 0)
		return bad(in);
	if (!keep)
		return 0;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (buf_append(&in->str, u, n) < 0) {
		in->err = ENOMEM;
		return -1;
	}
	return 0;
}

/* A string, after whitespace, into in->str (NUL-terminated) when keep is
 * set, else only skipped. */
static int
read_string(struct in *in, bool keep)
{
	unsigned cp, lo;
	int c;

	in->str.len = 0;
	if (expect(in, '"') < 0)
		return -1;
	for (;;) {
		const unsigned char *run = in->p;

		/* The plain bytes straight from the buffer. */
		while (in->p < in->end && *in->p != '"' && *in->p != '\\')
			in->p++;
		if (keep && in->p > run &&
		    buf_append(&in->str, run, (size_t)(in->p - run)) < 0) {
			in->err = ENOMEM;
			return -1;
		}
		if ((c = next(in)) < 0)
			return bad(in);
		if (c == '"')
			break;
		if (c != '\\') {
			in->p--;	/* a refill: its bytes above */
			continue;
		}
		switch (c = next(in)) {
		case '"': case '\\': case '/': cp = (unsigned)c; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (hex4(in, &cp) < 0)
				return -1;
			if (cp >= 0xd800 && cp < 0xdc00 && peek(in) == '\\') {
				in->p++;
				if (next(in) != 'u' || hex4(in, &lo) < 0)
					return bad(in);
				if (lo < 0xdc00 || lo >= 0xe000)
					return bad(in);
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			break;
		default:
			return bad(in);
		}
		if (put_utf8(in, cp, keep) < 0)
			return -1;
	}
	if (keep && buf_append(&in->str, "", 1) < 0) {
		in->err = ENOMEM;
		return -1;
	}
	return 0;
}

/* What read_number() found. */
enum number { NUMBER_INT, NUMBER_OTHER };

/*
 * A JSON number, after whitespace: its text in num (NUL-terminated).
 * NUMBER_OTHER when it has a fraction or an exponent (json-c's double: not
 * a field of ours).
 */
static int
read_number(struct in *in, char *num, size_t cap, enum number *kind)
{
	size_t n = 0;
	int c;

	*kind = NUMBER_INT;
	skip_ws(in);
	while ((c = peek(in)) == '-' || c == '+' || c == '.' || c == 'e' ||
	    c == 'E' || (c >= '0' && c <= '9')) {
		if (c == '.' || c == 'e' || c == 'E')
			*kind = NUMBER_OTHER;
		if (n + 1 >= cap)
			return bad(in);
		num[n++] = (char)c;
		in->p++;
	}
	num[n] = '\0';
	if (n == 0 || num[n - 1] == '-' || num[n - 1] == '+')
		return bad(in);
	return 0;
}

static int
read_i64(struct in *in, long long *v)
{
	enum number kind;
	char num[64], *end;

	if (read_number(in, num, sizeof(num), &kind) < 0)
		return -1;
	if (kind != NUMBER_INT)
		return bad(in);
	errno = 0;
	*v = strtoll(num, &end, 10);
	return *end != '\0' || errno != 0 ? bad(in) : 0;
}

/* A non-negative integer (json-c's negative ones were refused too). */
static int
read_u64(struct in *in, unsigned long long *v)
{
	enum number kind;
	char num[64], *end;

	if (read_number(in, num, sizeof(num), &kind) < 0)
		return -1;
	if (kind != NUMBER_INT || num[0] == '-')
		return bad(in);
	errno = 0;
	*v = strtoull(num, &end, 10);
	return *end != '\0' || errno != 0 ? bad(in) : 0;
}

static int
read_u32(struct in *in, unsigned *v)
{
	unsigned long long u;

	if (read_u64(in, &u) < 0)
		return -1;
	*v = (unsigned)u;	/* as json-c's journals were read */
	return 0;
}

static int
read_literal(struct in *in, const char *word)
{
	skip_ws(in);
	for (const char *w = word; *w; w++)
		if (next(in) != *w)
			return bad(in);
	return 0;
}

/* Any value, taken and dropped: a key we do not know. */
static int
skip_value(struct in *in, int depth)
{
	enum number kind;
	char num[512];
	int c;

	if (depth > MAX_DEPTH)
		return bad(in);
	skip_ws(in);
	switch (c = peek(in)) {
	case '"':
		return read_string(in, false);
	case 't':
		return read_literal(in, "true");
	case 'f':
		return read_literal(in, "false");
	case 'n':
		return read_literal(in, "null");
	case '{':
	case '[':
		in->p++;
		skip_ws(in);
		if (peek(in) == (c == '{' ? '}' : ']')) {
			in->p++;
			return 0;
		}
		for (;;) {
			if (c == '{' && (read_string(in, false) < 0 ||
			    expect(in, ':') < 0))
				return -1;
			if (skip_value(in, depth + 1) < 0)
				return -1;
			skip_ws(in);
			if ((c == '{' && peek(in) == '}') ||
			    (c == '[' && peek(in) == ']')) {
				in->p++;
				return 0;
			}
			if (next(in) != ',')
				return bad(in);
		}
	default:
		return read_number(in, num, sizeof(num), &kind);
	}
}

/*
 * The members of an object, after whitespace: member() is called with
 * each key (in in->str) and reads its value.  0, or -1.
 */
static int
read_object(struct in *in, int (*member)(struct in *, const char *, void *),
    void *ctx)
{
	char key[32];

	if (expect(in, '{') < 0)
		return -1;
	skip_ws(in);
	if (peek(in) == '}') {
		in->p++;
		return 0;
	}
	for (;;) {
		if (read_string(in, true) < 0 || expect(in, ':') < 0)
			return -1;
		/* Our keys are short: a longer one is not ours. */
		snprintf(key, sizeof(key), "%s", in->str.len < sizeof(key) ?
		    in->str.data : "");
		if (member(in, key, ctx) < 0)
			return -1;
		skip_ws(in);
		if (peek(in) == '}') {
			in->p++;
			return 0;
		}
		if (next(in) != ',')
			return bad(in);
	}
}

/* An identity's fields, with the bits of those seen. */
#define SEEN_INO 1
#define SEEN_SIZE 2
#define SEEN_MTIME 4
#define SEEN_IDENTITY (SEEN_INO | SEEN_SIZE | SEEN_MTIME)

struct identity_fields {
	struct journal_identity *id;
	unsigned seen;
};

/* 1 when key is an identity's (read), 0 when not, -1. */
static int
identity_member(struct in *in, const char *key, struct identity_fields *f)
{
	int r;

	if (strcmp(key, "ino") == 0) {
		r = read_u64(in, &f->id->ino);
		f->seen |= SEEN_INO;
	} else if (strcmp(key, "size") == 0) {
		r = read_i64(in, &f->id->size);
		f->seen |= SEEN_SIZE;
	} else if (strcmp(key, "mtime_ns") == 0) {
		r = read_i64(in, &f->id->mtime_ns);
		f->seen |= SEEN_MTIME;
	} else if (strcmp(key, "ctime_ns") == 0)
		r = read_i64(in, &f->id->ctime_ns);
	else
		return 0;
	return r < 0 ? -1 : 1;
}

static int
base_member(struct in *in, const char *key, void *ctx)
{
	int r = identity_member(in, key, ctx);

	return r == 0 ? skip_value(in, 1) : r < 0 ? -1 : 0;
}

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex into a new string; NULL (EBADMSG) on bad or NUL bytes. */
static char *
hex_decode(const char *hex)
{
	size_t len = strlen(hex);
	char *s;

	if (len % 2 != 0 || len == 0) {
		errno = EBADMSG;
		return NULL;
	}
	if ((s = malloc(len / 2 + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(s);
			errno = EBADMSG;
			return NULL;
		}
		s[i] = (char)(hi << 4 | lo);
	}
	s[len / 2] = '\0';
	return s;
}

/* One entry being read. */
#define SEEN_NAME 8
#define SEEN_HEX 16
#define SEEN_MODE 32
#define SEEN_UID 64
#define SEEN_GID 128

struct entry_fields {
	struct identity_fields idf;
	struct journal_entry e;
	char *name, *hex;	/* owned */
};

/* A copy of the string just read, or NULL (errno). */
static char *
take_string(struct in *in)
{
	char *s;

	if (read_string(in, true) < 0)
		return NULL;
	if ((s = strdup(in->str.data)) == NULL)
		in->err = ENOMEM;
	return s;
}

static int
entry_member(struct in *in, const char *key, void *ctx)
{
	struct entry_fields *f = ctx;
	char **slot = NULL;
	int r;

	if ((r = identity_member(in, key, &f->idf)) != 0)
		return r < 0 ? -1 : 0;
	if (strcmp(key, "name") == 0) {
		slot = &f->name;
		f->idf.seen |= SEEN_NAME;
	} else if (strcmp(key, "name_hex") == 0) {
		slot = &f->hex;
		f->idf.seen |= SEEN_HEX;
	}
	if (slot != NULL) {
		free(*slot);
		return (*slot = take_string(in)) == NULL ? -1 : 0;
	}
	if (strcmp(key, "mode") == 0) {
		f->idf.seen |= SEEN_MODE;
		return read_u32(in, &f->e.mode);
	}
	if (strcmp(key, "uid") == 0) {
		f->idf.seen |= SEEN_UID;
		return read_u32(in, &f->e.uid);
	}
	if (strcmp(key, "gid") == 0) {
		f->idf.seen |= SEEN_GID;
		return read_u32(in, &f->e.gid);
	}
	return skip_value(in, 2);
}

/* One entry of an array, appended to the list. */
static int
read_entry(struct in *in, struct spill *list)
{
	struct entry_fields f;
	/* A committed record leaves the owner out (put_entries). */
	unsigned need = SEEN_IDENTITY |
	    (in->committed ? 0 : SEEN_MODE | SEEN_UID | SEEN_GID);
	int r = -1;

	memset(&f, 0, sizeof(f));
	f.idf.id = &f.e.id;
	if (read_object(in, entry_member, &f) < 0)
		goto out;
	/* A plain name wins, as it did when json-c read the journal. */
	if ((f.idf.seen & need) != need ||
	    !(f.idf.seen & (SEEN_NAME | SEEN_HEX))) {
		bad(in);
		goto out;
	}
	if (f.name != NULL)
		f.e.name = f.name;
	else if ((f.e.name = f.hex != NULL ? hex_decode(f.hex) : NULL) ==
	    NULL) {
		in->err = errno == ENOMEM ? ENOMEM : EBADMSG;
		goto out;
	}
	if (journal_entries_add(list, &f.e) < 0)
		in->err = errno;
	else
		r = 0;
	if (f.e.name != f.name)
		free(f.e.name);
out:
	free(f.name);
	free(f.hex);
	return r;
}

/* An array of entries: what the list held is replaced. */
static int
read_entries(struct in *in, struct spill *list)
{
	int c;

	spill_free(list);
	if (expect(in, '[') < 0)
		return -1;
	skip_ws(in);
	if (peek(in) == ']') {
		in->p++;
		return 0;
	}
	for (;;) {
		if (read_entry(in, list) < 0)
			return -1;
		skip_ws(in);
		if ((c = next(in)) == ']')
			return 0;
		if (c != ',')
			return bad(in);
	}
}

/* The top-level fields, with the bits of those seen. */
#define SEEN_VERSION 1
#define SEEN_STATE 2
#define SEEN_HOLDER 4
#define SEEN_BASE 8
#define SEEN_OUTPUT 16
#define SEEN_KEPT 32
#define SEEN_SOURCES 64
#define SEEN_RECORDS 128
#define SEEN_BYTES 256
#define SEEN_HASH 512
#define SEEN_ALL 1023

struct journal_fields {
	struct journal *j;
	unsigned seen;
	unsigned holder_seen;	/* 1: host, 2: pid */
};

static int
holder_member(struct in *in, const char *key, void *ctx)
{
	struct journal_fields *f = ctx;

	if (strcmp(key, "host") == 0) {
		free(f->j->host);
		f->holder_seen |= 1;
		return (f->j->host = take_string(in)) == NULL ? -1 : 0;
	}
	if (strcmp(key, "pid") == 0) {
		f->holder_seen |= 2;
		return read_i64(in, &f->j->pid);
	}
	if (strcmp(key, "pgid") == 0)
		return read_i64(in, &f->j->pgid);
	if (strcmp(key, "start") == 0)
		return read_i64(in, &f->j->start_ticks);
	return skip_value(in, 2);
}

static int
read_state(struct in *in, enum journal_state *state)
{
	if (read_string(in, true) < 0)
		return -1;
	if (strcmp(in->str.data, "merging") == 0)
		*state = JOURNAL_MERGING;
	else if (strcmp(in->str.data, "merged") == 0)
		*state = JOURNAL_MERGED;
	else if (strcmp(in->str.data, "committed") == 0)
		*state = JOURNAL_COMMITTED;
	else
		return bad(in);
	return 0;
}

static int
read_hash(struct in *in, uint64_t *hash)
{
	unsigned long long h;

	if (read_string(in, true) < 0)
		return -1;
	if (sscanf(in->str.data, "%16llx", &h) != 1)
		return bad(in);
	*hash = h;
	return 0;
}

static int
read_base(struct in *in, struct journal *j)
{
	struct identity_fields f = { .id = &j->base };

	skip_ws(in);
	j->has_base = peek(in) != 'n';
	if (!j->has_base)
		return read_literal(in, "null");
	memset(&j->base, 0, sizeof(j->base));
	if (read_object(in, base_member, &f) < 0)
		return -1;
	return (f.seen & SEEN_IDENTITY) == SEEN_IDENTITY ? 0 : bad(in);
}

static int
journal_member(struct in *in, const char *key, void *ctx)
{
	struct journal_fields *f = ctx;
	struct journal *j = f->j;
	long long version;
	static const struct {
		const char *key;
		unsigned bit;
	} keys[] = {
		{ "version", SEEN_VERSION }, { "state", SEEN_STATE },
		{ "holder", SEEN_HOLDER }, { "base", SEEN_BASE },
		{ "output_ino", SEEN_OUTPUT }, { "kept", SEEN_KEPT },
		{ "sources", SEEN_SOURCES }, { "records", SEEN_RECORDS },
		{ "bytes", SEEN_BYTES }, { "hash", SEEN_HASH },
	};
	unsigned bit = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i].key) == 0)
			bit = keys[i].bit;
	f->seen |= bit;
	switch (bit) {
	case SEEN_VERSION:
		if (read_i64(in, &version) < 0)
			return -1;
		return version == JOURNAL_VERSION ? 0 : bad(in);
	case SEEN_STATE:
		if (read_state(in, &j->state) < 0)
			return -1;
		in->committed = j->state == JOURNAL_COMMITTED;
		return 0;
	case SEEN_HOLDER:
		f->holder_seen = 0;
		j->pgid = 0;
		j->start_ticks = 0;
		if (read_object(in, holder_member, f) < 0)
			return -1;
		return f->holder_seen == 3 ? 0 : bad(in);
	case SEEN_BASE:
		return read_base(in, j);
	case SEEN_OUTPUT:
		return read_u64(in, &j->output_ino);
	case SEEN_KEPT:
		return read_entries(in, &j->kept);
	case SEEN_SOURCES:
		return read_entries(in, &j->sources);
	case SEEN_RECORDS:
		return read_u64(in, &j->records);
	case SEEN_BYTES:
		return read_u64(in, &j->bytes);
	case SEEN_HASH:
		return read_hash(in, &j->hash);
	}
	return skip_value(in, 1);
}

/*
 * A later line of a journal file (journal_append()), at its '{': when it is
 * a whole journal it replaces *j (1).  One cut short (its writer died
 * while writing it, or a share shows only part of it yet) leaves *j as it
 * was (0), and the rest of the file is not read.  -1: a read failed, or
 * no memory.
 */
static int
read_later(struct in *in, struct journal *j)
{
	struct journal later;
	struct journal_fields f = { .j = &later };
	bool committed = in->committed;

	if (journal_init(&later) < 0) {
		in->err = ENOMEM;
		return -1;
	}
	later.version = JOURNAL_VERSION;
	in->committed = false;
	if (read_object(in, journal_member, &f) == 0 && f.seen == SEEN_ALL &&
	    in->err == 0) {
		journal_free(j);
		*j = later;
		return 1;
	}
	journal_free(&later);
	if (in->err != EBADMSG)
		return -1;
	in->err = 0;
	in->committed = committed;
	return 0;
}

static int
read_journal(struct in *in, struct journal *j)
{
	struct journal_fields f = { .j = j };
	int c, err;

	j->version = JOURNAL_VERSION;
	if (read_object(in, journal_member, &f) == 0 && f.seen != SEEN_ALL)
		bad(in);
	/* Only whitespace may follow the object, and in a file the lines
	 * its holder added (journal_append()): the last whole one is the
	 * journal.  A NUL is where a share shows a later line's bytes that
	 * have not arrived. */
	for (;;) {
		skip_ws(in);
		if (in->err != 0 || (c = peek(in)) < 0)
			break;
		if (in->fd < 0 || (c != '{' && c != '\0')) {
			bad(in);
			break;
		}
		if (c == '\0' || read_later(in, j) <= 0)
			break;
	}
	err = in->err;
	buf_free(&in->str);
	errno = err;
	return err ? -1 : 0;
}

int
journal_json_read_fd(int fd, const char *name, size_t size,
    struct journal *j)
{
	struct in in = { .fd = fd, .name = name, .left = size };
	int r;

	if ((in.buf = malloc(size < JOURNAL_JSON_BUF ? size + 1 : JOURNAL_JSON_BUF)) ==
	    NULL)
		return -1;
	r = read_journal(&in, j);
	free(in.buf);
	return r;
}

int
journal_json_read_mem(const char *text, size_t len, struct journal *j)
{
	struct in in = { .fd = -1 };

	in.p = (const unsigned char *)text;
	in.end = in.p + len;
	return read_journal(&in, j);
}
