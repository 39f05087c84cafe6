/*
 * journaljson.c - the JSON form of a journal, streamed (journaljson.h):
 * the writer.  The reader is journaljsonread.c.
 */
#include "journaljson.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "journal.h"
#include "share.h"

/* ---- writing ---- */

/* Where the bytes go: fd through buf, or (fd -1) buf itself, grown up to
 * limit bytes. */
struct out {
	int fd;
	const char *name;
	char *buf;
	size_t len, cap, limit;
	int err;		/* the first failure's errno, or 0 */
};

static int
out_flush(struct out *o)
{
	if (o->err == 0 && o->len > 0 &&
	    share_write_all(o->fd, o->name, o->buf, o->len) < 0)
		o->err = errno;
	o->len = 0;
	return o->err ? -1 : 0;
}

/* Room for at least one more byte, or o->err set. */
static int
out_room(struct out *o)
{
	size_t cap;
	char *grown;

	if (o->len < o->cap)
		return 0;
	if (o->fd >= 0)
		return out_flush(o);
	if (o->cap >= o->limit) {
		o->err = E2BIG;
		return -1;
	}
	cap = o->cap ? o->cap * 2 : 4096;
	if (cap > o->limit)
		cap = o->limit;
	if ((grown = realloc(o->buf, cap)) == NULL) {
		o->err = ENOMEM;
		return -1;
	}
	o->buf = grown;
	o->cap = cap;
	return 0;
}

static void
put(struct out *o, const char *p, size_t n)
{
	while (n > 0 && o->err == 0 && out_room(o) == 0) {
		size_t k = o->cap - o->len < n ? o->cap - o->len : n;

		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
}

static void
put_raw(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_u64(struct out *o, unsigned long long v)
{
	char num[24];

	put(o, num, (size_t)snprintf(num, sizeof(num), "%llu", v));
}

static void
put_i64(struct out *o, long long v)
{
	char num[24];

	put(o, num, (size_t)snprintf(num, sizeof(num), "%lld", v));
}

/* A JSON string, escaped as json-c escapes (no "\/"). */
static void
put_string(struct out *o, const char *s)
{
	char esc[8];

	put(o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const char *e = NULL;

		switch (*p) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				e = esc;
			}
			break;
		}
		if (e != NULL)
			put_raw(o, e);
		else
			put(o, (const char *)p, 1);
	}
	put(o, "\"", 1);
}

/*
 * True when name can be stored as a plain JSON string that reads back as
 * the same bytes: printable ASCII without quotes or backslashes.  Plain
 * names keep the commit record small enough for an extended attribute
 * (about 4 KB on ext4) on leaves of tens of sources; others go hex-encoded.
 */
static bool
name_is_plain(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			return false;
	return true;
}

static void
put_name(struct out *o, const char *name)
{
	static const char digits[] = "0123456789abcdef";
	char hex[2];

	if (name_is_plain(name)) {
		put_raw(o, "\"name\":\"");
		put_raw(o, name);
		put(o, "\"", 1);
		return;
	}
	put_raw(o, "\"name_hex\":\"");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		hex[0] = digits[*p >> 4];
		hex[1] = digits[*p & 15];
		put(o, hex, 2);
	}
	put(o, "\"", 1);
}

/* id's fields, each preceded by a comma unless first. */
static void
put_identity(struct out *o, const struct journal_identity *id, bool first)
{
	put_raw(o, first ? "\"ino\":" : ",\"ino\":");
	put_u64(o, id->ino);
	put_raw(o, ",\"size\":");
	put_i64(o, id->size);
	put_raw(o, ",\"mtime_ns\":");
	put_i64(o, id->mtime_ns);
	if (id->ctime_ns != 0) {
		put_raw(o, ",\"ctime_ns\":");
		put_i64(o, id->ctime_ns);
	}
}

/*
 * The entries, with their mode and owner (with_owner) or without: those are
 * only read to give the next output the first source's (jsonl-write, from
 * the merged journal), so a committed record leaves them out.  That is 29
 * bytes a source, and what lets a record of 30 sources fit in the 4 KiB
 * an extended attribute has on ext4 (no journal file: two fsyncs fewer).
 */
static void
put_entries(struct out *o, const char *key, const struct spill *list,
    bool with_owner)
{
	struct spill_cursor c;
	struct journal_entry e;
	bool first = true;
	int r;

	put_raw(o, key);
	put(o, "[", 1);
	spill_cursor_init(&c, list);
	while (o->err == 0 && (r = journal_entries_next(&c, &e)) != 0) {
		if (r < 0) {
			o->err = errno;
			break;
		}
		put_raw(o, first ? "{" : ",{");
		first = false;
		put_name(o, e.name);
		put_identity(o, &e.id, false);
		if (!with_owner) {
			put(o, "}", 1);
			continue;
		}
		put_raw(o, ",\"mode\":");
		put_u64(o, e.mode);
		put_raw(o, ",\"uid\":");
		put_u64(o, e.uid);
		put_raw(o, ",\"gid\":");
		put_u64(o, e.gid);
		put(o, "}", 1);
	}
	spill_cursor_free(&c);
	put(o, "]", 1);
}

/* The fields in json-c's order (that of their insertion, as before). */
static void
put_journal(struct out *o, const struct journal *j)
{
	char hash[24];

	put_raw(o, "{\"version\":");
	put_i64(o, j->version);
	put_raw(o, ",\"state\":\"");
	put_raw(o, journal_state_name(j->state));
	put_raw(o, "\",\"holder\":{\"host\":");
	put_string(o, j->host ? j->host : "");
	put_raw(o, ",\"pid\":");
	put_i64(o, j->pid);
	if (j->pgid > 0) {
		put_raw(o, ",\"pgid\":");
		put_i64(o, j->pgid);
	}
	if (j->start_ticks > 0) {
		put_raw(o, ",\"start\":");
		put_i64(o, j->start_ticks);
	}
	put_raw(o, "},\"base\":");
	if (j->has_base) {
		put(o, "{", 1);
		put_identity(o, &j->base, true);
		put(o, "}", 1);
	} else
		put_raw(o, "null");
	put_raw(o, ",\"output_ino\":");
	put_u64(o, j->output_ino);
	put_entries(o, ",\"kept\":", &j->kept, j->state != JOURNAL_COMMITTED);
	put_entries(o, ",\"sources\":", &j->sources,
	    j->state != JOURNAL_COMMITTED);
	put_raw(o, ",\"records\":");
	put_u64(o, j->records);
	put_raw(o, ",\"bytes\":");
	put_u64(o, j->bytes);
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)j->hash);
	put_raw(o, ",\"hash\":\"");
	put_raw(o, hash);
	put_raw(o, "\"}");
}

int
journal_json_write(int fd, const char *name, const struct journal *j)
{
	struct out o = { .fd = fd, .name = name, .cap = JOURNAL_JSON_BUF };
	int err;

	if ((o.buf = malloc(o.cap)) == NULL)
		return -1;
	put_journal(&o, j);
	put(&o, "\n", 1);
	out_flush(&o);
	err = o.err;
	free(o.buf);
	errno = err;
	return err ? -1 : 0;
}

int
journal_json_text(const struct journal *j, size_t limit, char **text,
    size_t *len)
{
	struct out o = { .fd = -1, .limit = limit };

	put_journal(&o, j);
	if (o.err != 0) {
		free(o.buf);
		errno = o.err;
		return -1;
	}
	*text = o.buf;
	*len = o.len;
	return 0;
}
