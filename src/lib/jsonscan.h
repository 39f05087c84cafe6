/*
 * jsonscan.h - the byte-preserving strict JSON scanner: validates JSON text
 * against RFC 8259 and writes it back compacted, byte for byte.
 *
 * Compaction removes the whitespace outside strings (space, tab, newline,
 * carriage return) and nothing else: strings, escapes, numbers, key order
 * and duplicate keys come out exactly as they went in.  Nothing is decoded
 * or re-serialized, so 12345678901234567890123, -0, 1.0e+10, "\u00e9" and
 * the escaped lone surrogate "\ud800" survive unchanged.
 *
 * Strict means: no trailing commas, no leading zeros, no NaN or Infinity, no
 * comments, no single quotes, no raw control characters (< 0x20) in strings,
 * only the escapes of RFC 8259, and valid UTF-8 in strings (no overlong
 * forms, no encoded surrogates, nothing above U+10FFFF, no truncated
 * sequences).  Values nested up to JSONSCAN_MAX_DEPTH levels are accepted
 * (in an array scan, that many inside each element).
 *
 * While scanning, the scanner can pick out the value found at a key path
 * ("timestamp", "meta.ts") in each value it returns, so that json-merge
 * sorts records in the same single pass (see sortkey.h for the key).
 *
 * Two entry points: jsonscan_compact_value() for one complete JSON text in
 * memory (a JSONL line), and jsonscan_array_next() for the elements of a
 * top-level array streamed through a buffer refilled by the caller (a source
 * file, which may be larger than memory).
 */
#ifndef LEAFPACK_JSONSCAN_H
#define LEAFPACK_JSONSCAN_H

#include <stddef.h>
#include <sys/types.h>

/* The deepest nesting accepted; deeper input fails with "nesting too deep". */
#define JSONSCAN_MAX_DEPTH 100000

/*
 * Where and why input was rejected.  offset is the 0-based byte offset of
 * the first bad byte (the input length for "unexpected end of input"), line
 * and column are 1-based, the column counted in bytes.  The first bad byte
 * is the first one that no valid text can have there: the '1' of "01", the
 * ']' of "[1,]", in a bad UTF-8 sequence the byte where it goes wrong (a
 * lead byte that starts no sequence, or the first continuation byte out of
 * range, such as the A0 of the encoded surrogate ED A0 80).  reason is a short
 * static string such as "trailing comma", "leading zero", "invalid UTF-8 in
 * string", "unexpected end of input", "text after the closing bracket",
 * "top level is not an array".
 */
struct jsonscan_error {
	unsigned long long offset;
	unsigned long line, column;
	const char *reason;
};

/*
 * A key path: the object member names to follow from a value down to its
 * key, e.g. {"meta", "ts"} for "meta.ts".  Only object members are
 * followed (never array elements).  Filled by jsonscan_keypath_parse().
 */
struct jsonscan_keypath {
	size_t count;		/* number of components, >= 1 */
	char **names;		/* owned: the components, NUL-terminated */
	size_t *lengths;	/* owned: their lengths */
};

/* The kind of value found at the key path. */
enum jsonscan_keytype {
	JSONSCAN_KEY_NONE,	/* the path leads nowhere (missing member,
				   not an object on the way, no key path) */
	JSONSCAN_KEY_STRING,	/* a string: bytes between the quotes */
	JSONSCAN_KEY_NUMBER,	/* a number: its bytes as written */
	JSONSCAN_KEY_OTHER	/* true, false, null, an object or array */
};

/*
 * The value at the key path in one JSON value.  Where a member name occurs
 * more than once in an object, the last occurrence wins (as in jq and
 * json-c).  For a string, data/len are the raw bytes between the quotes,
 * escapes not decoded, and escaped says whether they hold a backslash (it
 * is 0 for every other kind); for a number, the number's bytes.  data points into the compact output of the
 * call that filled it (see each function for how long it stays valid); it
 * is NULL for NONE and OTHER.
 */
struct jsonscan_keyval {
	enum jsonscan_keytype type;
	int escaped;
	const char *data;
	size_t len;
};

/*
 * A growable output buffer, owned by the caller: start it zeroed ({0}),
 * reset it with len = 0 to reuse the memory, free it with
 * jsonscan_buf_free().
 */
struct jsonscan_buf {
	char *data;
	size_t len, cap;
};

/* Frees the memory of b and zeroes it. */
void jsonscan_buf_free(struct jsonscan_buf *b);

/*
 * Splits a dotted key path ("timestamp", "meta.ts") into kp.  Components
 * must not be empty ("", "a..b", ".a" fail).  Returns 0, or -1 with errno
 * EINVAL (bad path) or ENOMEM.  Free with jsonscan_keypath_free().
 */
int jsonscan_keypath_parse(const char *dotted, struct jsonscan_keypath *kp);

/* Frees the components of kp and zeroes it. */
void jsonscan_keypath_free(struct jsonscan_keypath *kp);

/*
 * Validates one complete JSON text in buf[0..len): exactly one value of any
 * type with optional whitespace around it (no byte order mark; a JSONL
 * line).  Writes its compact form to out, which must have room for len
 * bytes (out may be buf itself: the text is then compacted in place, and
 * on invalid input buf is left undefined), and returns the compact length;
 * on invalid input returns -1 and fills *err.  No memory is allocated.
 */
ssize_t jsonscan_compact_value(const char *buf, size_t len, char *out,
    struct jsonscan_error *err);

/*
 * Like jsonscan_compact_value(), and also stores in *kv the value at key
 * (NULL: kv->type is NONE).  kv->data points into out.
 */
ssize_t jsonscan_compact_value_key(const char *buf, size_t len, char *out,
    const struct jsonscan_keypath *key, struct jsonscan_keyval *kv,
    struct jsonscan_error *err);

/*
 * Finds the value at key in a compact value already validated (a line of an
 * existing consolidated.jsonl).  kv->data points into compact.  Returns 0,
 * or -1 if compact turns out not to be one valid JSON value (kv is NONE).
 */
int jsonscan_value_key(const char *compact, size_t len,
    const struct jsonscan_keypath *key, struct jsonscan_keyval *kv);

/*
 * Decodes the escapes of the raw JSON string body raw[0..len) (validated by
 * the scanner) into out, which needs room for len bytes (decoding never
 * lengthens), and returns the decoded length.  A surrogate pair becomes one
 * 4-byte UTF-8 character; an escaped lone surrogate its 3-byte form.
 */
size_t jsonscan_unescape(const char *raw, size_t len, char *out);

/* What jsonscan_array_next() found. */
enum jsonscan_status {
	JSONSCAN_ELEMENT,	/* one element, appended to out */
	JSONSCAN_MORE,		/* needs more bytes: refill and call again */
	JSONSCAN_END,		/* the array and the input ended correctly */
	JSONSCAN_ERROR		/* invalid input: *err says where and why */
};

/*
 * The state of a scan over one top-level array.  Its fields are private to
 * jsonscan.c; it holds no allocated memory (the nesting stack is a bitmap
 * inside it, about 12 KiB), so it needs no freeing.
 */
struct jsonscan_array {
	const struct jsonscan_keypath *key;
	unsigned long long offset;	/* absolute offset of the next byte */
	unsigned long line;		/* line of the next byte */
	unsigned long column;		/* column of the next byte */
	int phase;
	unsigned char stack[(JSONSCAN_MAX_DEPTH + 7) / 8];
};

/*
 * A point between two elements of a scan to go back to: the scan without
 * its nesting stack, which holds nothing there (so a mark is small, where
 * a copy of the scan is 12 KiB).
 */
struct jsonscan_mark {
	unsigned long long offset;
	unsigned long line, column;
	int phase;
};

/* Marks where s is; s must be between elements (not after JSONSCAN_MORE
 * cut one: there it is still before it, which is fine). */
void jsonscan_array_mark(const struct jsonscan_array *s,
    struct jsonscan_mark *m);

/* Takes s back to the mark m made of it. */
void jsonscan_array_rewind(struct jsonscan_array *s,
    const struct jsonscan_mark *m);

/*
 * Starts a scan; key (may be NULL, not owned, must outlive the scan) is the
 * key path extracted from each element.
 */
void jsonscan_array_init(struct jsonscan_array *s,
    const struct jsonscan_keypath *key);

/*
 * Scans the next element of the array.  buf/len are the bytes available
 * from the current position of the input; eof says that no more bytes will
 * follow them.  *used is set to the number of bytes consumed: the caller
 * drops buf[0..*used) and passes buf[*used..len), followed by any new bytes,
 * to the next call.  Handles an optional UTF-8 byte order mark at the very
 * start, whitespace, '[', ',' between elements, ']' and trailing whitespace.
 *
 * Returns JSONSCAN_ELEMENT with the element's compact bytes appended to out
 * and *kv set to the value at the key path (kv->data points into out->data,
 * valid until out changes).  Returns JSONSCAN_MORE when the bytes end
 * before the next element does (an element cut by the end of the buffer is
 * not consumed and is scanned again from its start on the next call, so a
 * caller whose buffer is full with *used == 0 must grow it).  Returns
 * JSONSCAN_END once ']' and only whitespace after it have been seen up to
 * eof.  Returns JSONSCAN_ERROR with *err filled (absolute offset, line and
 * column over the whole input) on invalid input, or with errno ENOMEM and
 * err->reason "out of memory" when out cannot grow; the scan cannot go on
 * after an error.
 *
 * With out NULL the element is only validated: nothing is written and kv
 * (which may then be NULL too) is NONE.  That is how a caller finds the end
 * of an element bigger than its buffer without holding it twice.
 */
enum jsonscan_status jsonscan_array_next(struct jsonscan_array *s,
    const char *buf, size_t len, int eof, size_t *used,
    struct jsonscan_buf *out, struct jsonscan_keyval *kv,
    struct jsonscan_error *err);

/*
 * Like jsonscan_array_next(), but compacts the element over its own input:
 * its compact bytes are buf[0..*elemlen) (compaction never lengthens, so
 * the output never overtakes the input), kv->data points into buf.  For an
 * element too big to hold twice.  Only JSONSCAN_ELEMENT leaves buf meaning
 * anything before *used: after any other status buf[0..len) may have been
 * overwritten, so the caller must know the element to be whole in buf
 * (from a validating call, then jsonscan_array_rewind()), or not care:
 * with eof set there is no JSONSCAN_MORE, and an error's place is exact
 * whatever was overwritten (the output never overtakes the input).
 */
enum jsonscan_status jsonscan_array_next_inplace(struct jsonscan_array *s,
    char *buf, size_t len, int eof, size_t *used, size_t *elemlen,
    struct jsonscan_keyval *kv, struct jsonscan_error *err);

#endif
