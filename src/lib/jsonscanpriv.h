/*
 * jsonscanpriv.h - what the scanner (jsonscan.c) and its array reader
 * (jsonscanarray.c) share; not for other users (jsonscan.h is).
 */
#ifndef LEAFPACK_JSONSCANPRIV_H
#define LEAFPACK_JSONSCANPRIV_H

#include <stddef.h>

#include "jsonscan.h"

enum {
	SCAN_OK,
	SCAN_MORE,
	SCAN_ERROR
};

/* Whitespace outside strings: 1, newline 2. */
extern const unsigned char jsonscan_ws_class[256];

/* True for JSON whitespace.  Every JSON space is <= ' ': one compare
 * passes the token boundaries of compact input without the table. */
static inline int
jsonscan_is_ws(unsigned char c)
{
	return c <= ' ' && jsonscan_ws_class[c];
}

struct scanner {
	const unsigned char *base;	/* the first byte of this call's input */
	const unsigned char *end;
	int eof;			/* nothing follows end */
	unsigned long line;
	ptrdiff_t linebase;		/* column of p = p - base - linebase + 1 */
	unsigned char *stack;		/* bit per level: 1 object, 0 array */
	const struct jsonscan_keypath *key;
	int discard;			/* validate only: write nothing */
	/* The value at the key path, as an offset into this value's output. */
	enum jsonscan_keytype ktype;
	int kescaped;
	size_t koff, klen;
	/* Set on SCAN_ERROR. */
	const unsigned char *errpos;
	const char *reason;
};

/* Skips whitespace from p, counting lines; returns the first other byte. */
static inline const unsigned char *
skip_ws(struct scanner *sc, const unsigned char *p)
{
	for (; p < sc->end && jsonscan_is_ws(*p); p++)
		if (*p == '\n') {
			sc->line++;
			sc->linebase = p - sc->base + 1;
		}
	return p;
}

/* Room for extra more bytes in b; 0, or -1 (ENOMEM). */
int jsonscan_buf_reserve(struct jsonscan_buf *b, size_t extra);

/* Validates the value at *pp and copies it, compacted, to obuf + *olen_io
 * (nothing written when sc->discard): SCAN_OK, SCAN_MORE or SCAN_ERROR. */
int jsonscan_scan_value(struct scanner *sc, const unsigned char **pp,
    unsigned char *obuf, size_t *olen_io);

/* Fills *err for the byte at pos; offset0 is the offset of sc->base. */
void jsonscan_set_error(const struct scanner *sc, const unsigned char *pos,
    const char *reason, unsigned long long offset0,
    struct jsonscan_error *err);

/* Copies the key found by the last jsonscan_scan_value() into *kv. */
void jsonscan_set_keyval(const struct scanner *sc, const char *out,
    struct jsonscan_keyval *kv);

#endif
