/*
 * jsonscanarray.c - the array reader of jsonscan.h: a top-level JSON array
 * read element by element from a buffer that may end anywhere, each
 * element validated and compacted by the scanner (jsonscan.c).
 */
#include "jsonscan.h"
#include "jsonscanpriv.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
	PHASE_BOM,		/* at the very start */
	PHASE_OPEN,		/* '[' expected */
	PHASE_FIRST,		/* after '[': an element or ']' */
	PHASE_NEXT,		/* after an element: ',' or ']' */
	PHASE_ELEMENT,		/* after ',': an element */
	PHASE_TAIL,		/* after ']': only whitespace */
	PHASE_DONE,
	PHASE_FAILED
};

void
jsonscan_array_init(struct jsonscan_array *s,
    const struct jsonscan_keypath *key)
{
	s->key = key;
	s->offset = 0;
	s->line = 1;
	s->column = 1;
	s->phase = PHASE_BOM;
}

/* Where next_element() writes an element: appended to a buffer, nowhere,
 * or over its own input. */
enum output {
	OUTPUT_APPEND,
	OUTPUT_NONE,
	OUTPUT_INPLACE
};

/*
 * The element at *pp (its first byte) of the len bytes at buf, scanned and
 * written as output says: SCAN_OK, with *pp past it and *kv, the output
 * and *elemlen (in place) set; SCAN_MORE; SCAN_ERROR, with *pp at the
 * error and sc->reason set.
 */
static int
scan_element(struct scanner *sc, const unsigned char **pp, const char *buf,
    size_t len, enum output output, struct jsonscan_buf *out,
    size_t *elemlen, struct jsonscan_keyval *kv)
{
	size_t olen = 0;
	char *obuf = (char *)buf;
	int r;

	sc->discard = output == OUTPUT_NONE;
	if (output == OUTPUT_APPEND) {
		if (jsonscan_buf_reserve(out, len - (size_t)(*pp - sc->base)) < 0) {
			sc->reason = "out of memory";
			return SCAN_ERROR;
		}
		olen = out->len;
		obuf = out->data;
	}
	r = jsonscan_scan_value(sc, pp, (unsigned char *)obuf, &olen);
	if (r == SCAN_ERROR)
		*pp = sc->errpos;
	if (r != SCAN_OK)
		return r;
	/* Key offsets count from the start of the output. */
	if (output == OUTPUT_NONE)
		memset(kv, 0, sizeof(*kv));
	else
		jsonscan_set_keyval(sc, obuf, kv);
	if (output == OUTPUT_APPEND)
		out->len = olen;
	else if (output == OUTPUT_INPLACE)
		*elemlen = olen;
	return SCAN_OK;
}

/* jsonscan_array_next() and jsonscan_array_next_inplace(), as output says;
 * an element in place is buf[0..*elemlen). */
static enum jsonscan_status
next_element(struct jsonscan_array *s, const char *buf, size_t len, int eof,
    size_t *used, enum output output, struct jsonscan_buf *out,
    size_t *elemlen, struct jsonscan_keyval *kv, struct jsonscan_error *err)
{
	static const unsigned char bom[3] = { 0xEF, 0xBB, 0xBF };
	struct scanner sc = {
		.base = (const unsigned char *)buf,
		.end = (const unsigned char *)buf + len,
		.eof = eof,
		.line = s->line,
		.linebase = -(ptrdiff_t)(s->column - 1),
		.stack = s->stack,
		.key = s->key,
	};
	const unsigned char *p = sc.base;
	enum jsonscan_status status = JSONSCAN_MORE;

	memset(kv, 0, sizeof(*kv));
	for (;;) {
		switch (s->phase) {
		case PHASE_BOM:
			if (len < 3 && !eof && (len == 0 || memcmp(p, bom, len) == 0))
				goto out;
			if (len >= 3 && memcmp(p, bom, 3) == 0)
				p += 3;
			s->phase = PHASE_OPEN;
			break;
		case PHASE_OPEN:
			p = skip_ws(&sc, p);
			if (p == sc.end)
				goto end_of_bytes;
			if (*p != '[') {
				sc.reason = "top level is not an array";
				goto fail;
			}
			p++;
			s->phase = PHASE_FIRST;
			break;
		case PHASE_FIRST:
		case PHASE_ELEMENT:
			p = skip_ws(&sc, p);
			if (p == sc.end)
				goto end_of_bytes;
			if (*p == ']') {
				if (s->phase == PHASE_ELEMENT) {
					sc.reason = "trailing comma";
					goto fail;
				}
				p++;
				s->phase = PHASE_TAIL;
				break;
			}
			switch (scan_element(&sc, &p, buf, len, output, out,
			    elemlen, kv)) {
			case SCAN_MORE:
				goto out;
			case SCAN_ERROR:
				goto fail;
			}
			s->phase = PHASE_NEXT;
			status = JSONSCAN_ELEMENT;
			goto out;
		case PHASE_NEXT:
			p = skip_ws(&sc, p);
			if (p == sc.end)
				goto end_of_bytes;
			if (*p == ',') {
				s->phase = PHASE_ELEMENT;
			} else if (*p == ']') {
				s->phase = PHASE_TAIL;
			} else {
				sc.reason = "',' or ']' expected";
				goto fail;
			}
			p++;
			break;
		case PHASE_TAIL:
			p = skip_ws(&sc, p);
			if (p != sc.end) {
				sc.reason = "text after the closing bracket";
				goto fail;
			}
			if (!eof)
				goto out;
			s->phase = PHASE_DONE;
			status = JSONSCAN_END;
			goto out;
		case PHASE_DONE:
			status = JSONSCAN_END;
			goto out;
		default:
			sc.reason = "scan already failed";
			goto fail;
		}
	}
end_of_bytes:
	if (!eof)
		goto out;
	sc.reason = "unexpected end of input";
fail:
	jsonscan_set_error(&sc, p, sc.reason, s->offset, err);
	s->phase = PHASE_FAILED;
	*used = (size_t)(p - sc.base);
	return JSONSCAN_ERROR;
out:
	*used = (size_t)(p - sc.base);
	s->offset += *used;
	s->line = sc.line;
	s->column = (unsigned long)(p - sc.base - sc.linebase + 1);
	return status;
}

void
jsonscan_array_mark(const struct jsonscan_array *s, struct jsonscan_mark *m)
{
	m->offset = s->offset;
	m->line = s->line;
	m->column = s->column;
	m->phase = s->phase;
}

void
jsonscan_array_rewind(struct jsonscan_array *s, const struct jsonscan_mark *m)
{
	s->offset = m->offset;
	s->line = m->line;
	s->column = m->column;
	s->phase = m->phase;
}

enum jsonscan_status
jsonscan_array_next(struct jsonscan_array *s, const char *buf, size_t len,
    int eof, size_t *used, struct jsonscan_buf *out,
    struct jsonscan_keyval *kv, struct jsonscan_error *err)
{
	struct jsonscan_keyval none;

	return next_element(s, buf, len, eof, used,
	    out != NULL ? OUTPUT_APPEND : OUTPUT_NONE, out, NULL,
	    kv != NULL ? kv : &none, err);
}

enum jsonscan_status
jsonscan_array_next_inplace(struct jsonscan_array *s, char *buf, size_t len,
    int eof, size_t *used, size_t *elemlen, struct jsonscan_keyval *kv,
    struct jsonscan_error *err)
{
	return next_element(s, buf, len, eof, used, OUTPUT_INPLACE, NULL,
	    elemlen, kv, err);
}
