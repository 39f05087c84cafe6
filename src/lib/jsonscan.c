/*
 * jsonscan.c - the strict byte-preserving JSON scanner.
 *
 * One hand-written state machine (scan_value) validates a value and copies
 * it out.  It does not copy byte by byte: it remembers where the current run
 * of non-whitespace started (span) and copies the run with memcpy() only
 * when whitespace interrupts it, so a compact input is a single memcpy().
 * String bodies, the bulk of the bytes, are skipped eight bytes at a time
 * while no byte needs a look (quote, backslash, control, non-ASCII).
 * Lines are counted only where newlines can be: in whitespace, since a raw
 * newline inside a string is an error anyway.
 */
#include "jsonscan.h"
#include "jsonscanpriv.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif


/* Whitespace outside strings: 1, newline 2. */
const unsigned char jsonscan_ws_class[256] = {
	['\t'] = 1, ['\n'] = 2, ['\r'] = 1, [' '] = 1,
};

/* Hex digits: their value plus one, 0 for other bytes. */
static const unsigned char hex_value1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* The escapes of RFC 8259 other than \u, and the bytes they stand for. */
static const unsigned char escape_value[256] = {
	['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
	['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
};

#define IS_DIGIT(c) ((unsigned char)((c) - '0') < 10)


void
jsonscan_buf_free(struct jsonscan_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int
jsonscan_buf_reserve(struct jsonscan_buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (extra <= b->cap - b->len)
		return 0;
	if (extra > SIZE_MAX / 2 - b->len) {
		errno = ENOMEM;
		return -1;
	}
	want = b->len + extra;
	cap = b->cap ? b->cap : 4096;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
jsonscan_keypath_parse(const char *dotted, struct jsonscan_keypath *kp)
{
	const char *s, *dot;
	size_t n, i;

	memset(kp, 0, sizeof(*kp));
	n = 1;
	for (s = dotted; *s != '\0'; s++)
		n += *s == '.';
	kp->names = calloc(n, sizeof(*kp->names));
	kp->lengths = calloc(n, sizeof(*kp->lengths));
	if (kp->names == NULL || kp->lengths == NULL)
		goto fail;
	kp->count = n;
	s = dotted;
	for (i = 0; i < n; i++) {
		dot = strchr(s, '.');
		kp->lengths[i] = dot ? (size_t)(dot - s) : strlen(s);
		if (kp->lengths[i] == 0) {
			jsonscan_keypath_free(kp);
			errno = EINVAL;
			return -1;
		}
		kp->names[i] = strndup(s, kp->lengths[i]);
		if (kp->names[i] == NULL)
			goto fail;
		s += kp->lengths[i] + 1;
	}
	return 0;
fail:
	jsonscan_keypath_free(kp);
	errno = ENOMEM;
	return -1;
}

void
jsonscan_keypath_free(struct jsonscan_keypath *kp)
{
	size_t i;

	if (kp->names != NULL)
		for (i = 0; i < kp->count; i++)
			free(kp->names[i]);
	free(kp->names);
	free(kp->lengths);
	memset(kp, 0, sizeof(*kp));
}

/* Reads the 4 hex digits at s (already validated). */
static unsigned
hex4(const unsigned char *s)
{
	return (hex_value1[s[0]] - 1u) << 12 | (hex_value1[s[1]] - 1u) << 8 |
	    (hex_value1[s[2]] - 1u) << 4 | (hex_value1[s[3]] - 1u);
}

/*
 * Decodes the character at s (a validated string body ending at end) into
 * out; returns the number of bytes stored and sets *step to the input bytes
 * it took.  A \u escape of a lone surrogate becomes its 3-byte generalized
 * UTF-8 form (it then matches no valid UTF-8 text, which is the point).
 */
static size_t
unescape_one(const unsigned char *s, const unsigned char *end,
    unsigned char out[4], size_t *step)
{
	unsigned cp, lo;

	if (s[0] != '\\') {
		out[0] = s[0];
		*step = 1;
		return 1;
	}
	if (s[1] != 'u') {
		out[0] = escape_value[s[1]];
		*step = 2;
		return 1;
	}
	cp = hex4(s + 2);
	*step = 6;
	if (cp >= 0xD800 && cp < 0xDC00 && end - s >= 12 && s[6] == '\\' &&
	    s[7] == 'u' && (lo = hex4(s + 8)) >= 0xDC00 && lo < 0xE000) {
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		*step = 12;
	}
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xC0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3F);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xE0 | cp >> 12;
		out[1] = 0x80 | (cp >> 6 & 0x3F);
		out[2] = 0x80 | (cp & 0x3F);
		return 3;
	}
	out[0] = 0xF0 | cp >> 18;
	out[1] = 0x80 | (cp >> 12 & 0x3F);
	out[2] = 0x80 | (cp >> 6 & 0x3F);
	out[3] = 0x80 | (cp & 0x3F);
	return 4;
}

size_t
jsonscan_unescape(const char *raw, size_t len, char *out)
{
	const unsigned char *s = (const unsigned char *)raw, *end = s + len;
	size_t n = 0, step;

	while (s < end) {
		n += unescape_one(s, end, (unsigned char *)out + n, &step);
		s += step;
	}
	return n;
}

/* Whether the raw member name s[0..len) decodes to name[0..nlen).  Inlined:
 * as a call it cost 2% of a scan once jsonscan_scan_value() was made twice. */
static inline __attribute__((always_inline)) int
name_matches(const unsigned char *s, size_t len, int escaped,
    const char *name, size_t nlen)
{
	const unsigned char *end = s + len;
	unsigned char dec[4];
	size_t n, i = 0, step;

	if (!escaped)
		return len == nlen && memcmp(s, name, len) == 0;
	while (s < end) {
		n = unescape_one(s, end, dec, &step);
		if (n > nlen - i || memcmp(dec, name + i, n) != 0)
			return 0;
		i += n;
		s += step;
	}
	return i == nlen;
}


/* A word with the bits 0x80 of the bytes that need a look in a string. */
static inline uint64_t
string_specials(uint64_t v)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t quote = v ^ (ones * '"'), bslash = v ^ (ones * '\\');

	/* Exact for the lowest flagged byte, which is all we use. */
	return (((v - ones * 0x20) | (quote - ones) | (bslash - ones)) & ~v &
	    high) | (v & high);
}

/* What scan_string() and scan_number() came to. */
/* Inlined into jsonscan_scan_value() whatever the optimiser thinks: as
 * calls they cost 1.4% more instructions on a big leaf (callgrind), as
 * inline code 0.3%. */
#define TOKEN_INLINE static inline __attribute__((always_inline))
/* TOKEN_MORE: a number at the end of the buffer, that may go on. */
enum token_result { TOKEN_OK, TOKEN_SHORT, TOKEN_BAD, TOKEN_MORE };

/*
 * The rest of a string from *pp, just past its opening quote: checks its
 * escapes and its UTF-8 (strictly: no overlong form, no surrogate, nothing
 * past U+10FFFF, no control character).  TOKEN_OK: *pp is just past the
 * closing quote, *escaped set when it holds a backslash.  TOKEN_SHORT: the
 * input ends first.  TOKEN_BAD: *errpos and *why say where and what.
 */
TOKEN_INLINE enum token_result
scan_string(const unsigned char **pp, const unsigned char *end, int *escaped,
    const unsigned char **errpos, const char **why)
{
	const unsigned char *p = *pp;
	unsigned char lo, hi;
	unsigned c;
	size_t n;

#define BAD(pos, text) do { \
		*errpos = (pos); \
		*why = (text); \
		return TOKEN_BAD; \
	} while (0)
#define HAVE(pos) do { \
		if ((pos) >= end) \
			return TOKEN_SHORT; \
	} while (0)
	*escaped = 0;
	for (;;) {
#ifdef __SSE2__
		/* 16 bytes a step where every x86-64 has it: a byte that needs
		 * a look is '"', '\\', or below 0x20 or above 0x7F (both
		 * below 0x20 as signed bytes). */
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)p);
			__m128i look = _mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
			    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
			int m = _mm_movemask_epi8(look);

			if (m != 0) {
				p += __builtin_ctz((unsigned)m);
				goto look;
			}
			p += 16;
		}
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		while (end - p >= 8) {
			uint64_t v, m;

			memcpy(&v, p, 8);
			m = string_specials(v);
			if (m != 0) {
				p += __builtin_ctzll(m) >> 3;
				break;
			}
			p += 8;
		}
#endif
#ifdef __SSE2__
look:
#endif
		HAVE(p);
		c = *p;
		if (c == '"')
			break;
		if (c == '\\') {
			*escaped = 1;
			HAVE(p + 1);
			if (p[1] == 'u') {
				for (n = 2; n < 6; n++) {
					HAVE(p + n);
					if (hex_value1[p[n]] == 0)
						BAD(p + n, "invalid \\u escape");
				}
				p += 6;
			} else if (escape_value[p[1]] != 0) {
				p += 2;
			} else {
				BAD(p + 1, "invalid escape");
			}
		} else if (c < 0x20) {
			BAD(p, "control character in string");
		} else if (c < 0x80) {
			p++;
		} else if (c < 0xC2) {
			BAD(p, "invalid UTF-8 in string");
		} else if (c < 0xE0) {
			HAVE(p + 1);
			if ((p[1] & 0xC0) != 0x80)
				BAD(p + 1, "invalid UTF-8 in string");
			p += 2;
		} else if (c < 0xF5) {
			/* The second byte's range excludes overlong forms
			 * (E0, F0), surrogates (ED) and > U+10FFFF (F4). */
			lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
			hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
			HAVE(p + 1);
			if (p[1] < lo || p[1] > hi)
				BAD(p + 1, "invalid UTF-8 in string");
			HAVE(p + 2);
			if ((p[2] & 0xC0) != 0x80)
				BAD(p + 2, "invalid UTF-8 in string");
			if (c >= 0xF0) {
				HAVE(p + 3);
				if ((p[3] & 0xC0) != 0x80)
					BAD(p + 3, "invalid UTF-8 in string");
				p++;
			}
			p += 3;
		} else {
			BAD(p, "invalid UTF-8 in string");
		}
	}
	*pp = p + 1;
	return TOKEN_OK;
}

/*
 * A number from *pp (at its '-' or first digit), in JSON's grammar: no
 * leading zero, digits after the point and in the exponent.  TOKEN_OK: *pp
 * is past it (it may go on in the next buffer: the caller looks whether it
 * ended at the end of the input).  TOKEN_SHORT: the input ends inside it
 * where a digit must follow.  TOKEN_BAD: *errpos and *why are set.
 */
TOKEN_INLINE enum token_result
scan_number(const unsigned char **pp, const unsigned char *end,
    const unsigned char **errpos, const char **why)
{
	const unsigned char *p = *pp;

	if (*p == '-') {
		p++;
		HAVE(p);
	}
	if (*p == '0') {
		p++;
		if (p < end && IS_DIGIT(*p))
			BAD(p, "leading zero");
	} else if (IS_DIGIT(*p)) {
		do
			p++;
		while (p < end && IS_DIGIT(*p));
	} else {
		BAD(p, "digit expected in number");
	}
	if (p < end && *p == '.') {
		p++;
		HAVE(p);
		if (!IS_DIGIT(*p))
			BAD(p, "digit expected after decimal point");
		do
			p++;
		while (p < end && IS_DIGIT(*p));
	}
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		HAVE(p);
		if (*p == '+' || *p == '-') {
			p++;
			HAVE(p);
		}
		if (!IS_DIGIT(*p))
			BAD(p, "digit expected in exponent");
		do
			p++;
		while (p < end && IS_DIGIT(*p));
	}
	*pp = p;
	return TOKEN_OK;
#undef BAD
#undef HAVE
}

/* The literal lit (true, false or null) at *pp: TOKEN_OK with *pp past
 * it, TOKEN_SHORT, or TOKEN_BAD (*errpos, *why) at the first wrong byte. */
TOKEN_INLINE enum token_result
scan_literal(const unsigned char **pp, const unsigned char *end,
    const char *lit, const unsigned char **errpos, const char **why)
{
	const unsigned char *p = *pp;
	size_t n;

	for (n = 0; lit[n] != '\0'; n++) {
		if (p + n >= end)
			return TOKEN_SHORT;
		if (p[n] != (unsigned char)lit[n]) {
			*errpos = p + n;
			*why = "invalid literal";
			return TOKEN_BAD;
		}
	}
	*pp = p + n;
	return TOKEN_OK;
}

/* What the key path found in a value: its kind and where its bytes are in
 * the output. */
struct keyfound {
	enum jsonscan_keytype type;
	int escaped;
	size_t off, len;
};

TOKEN_INLINE void
key_found(struct keyfound *kf, enum jsonscan_keytype type, int escaped,
    size_t off, size_t len)
{
	kf->type = type;
	kf->escaped = escaped;
	kf->off = off;
	kf->len = len;
}

/* Why a value cannot start with c (none of '{', '[', '"', '-', a digit,
 * 't', 'f', 'n'). */
static const char *
bad_value_reason(unsigned char c)
{
	switch (c) {
	case '/':
		return "comments are not allowed";
	case '\'':
		return "single quotes are not allowed";
	case 'N': case 'I':
		return "NaN and Infinity are not allowed";
	default:
		return "value expected";
	}
}

/* Level depth of the container stack (a bit per level) is an object or
 * an array. */
TOKEN_INLINE void
level_set(unsigned char *stack, unsigned depth, int in_object)
{
	if (in_object)
		stack[depth >> 3] |= 1u << (depth & 7);
	else
		stack[depth >> 3] &= ~(1u << (depth & 7));
}

/* True when the container that holds level depth (> 0) is an object. */
TOKEN_INLINE int
level_in_object(const unsigned char *stack, unsigned depth)
{
	return depth && stack[(depth - 1) >> 3] >> ((depth - 1) & 7) & 1;
}

/*
 * Where a value stands on the key path: follow, the next value leads on
 * along it; capture, the next value is the one at the path; cap, capture
 * for the value being scanned; chain, how deep the path has led (through
 * objects only); found, what the value at the path was.
 */
struct keywalk {
	const struct jsonscan_keypath *key;
	unsigned chain;
	int follow, capture, cap;
	struct keyfound found;
};

/* A value begins: it takes the capture the member before it gave. */
TOKEN_INLINE void
kw_value(struct keywalk *kw)
{
	kw->cap = kw->capture;
	kw->capture = 0;
}

/* The value is a container, now at depth: an object on the path leads it
 * on. */
TOKEN_INLINE void
kw_open(struct keywalk *kw, int in_object, unsigned depth)
{
	if (in_object && kw->follow)
		kw->chain = depth;
	kw->follow = 0;
	if (kw->cap)
		kw->found.type = JSONSCAN_KEY_OTHER;
}

/*
 * The member name just scanned (name, len bytes, escaped or not) at depth:
 * where the path has led this far and the name is its next step, the
 * member's value is the key (the last step) or leads on.  A later
 * duplicate replaces what an earlier one held.
 */
TOKEN_INLINE void
kw_member(struct keywalk *kw, unsigned depth, const unsigned char *name,
    size_t len, int escaped)
{
	const struct jsonscan_keypath *key = kw->key;

	if (kw->chain != depth || depth == 0 || !name_matches(name, len,
	    escaped, key->names[depth - 1], key->lengths[depth - 1]))
		return;
	kw->found.type = JSONSCAN_KEY_NONE;
	if (depth == key->count)
		kw->capture = 1;
	else
		kw->follow = 1;
}

/* Stores the scan's line and, with found, the key it found in sc. */
TOKEN_INLINE void
scan_store(struct scanner *sc, unsigned long line, ptrdiff_t linebase,
    const struct keyfound *found)
{
	sc->line = line;
	sc->linebase = linebase;
	if (found != NULL) {
		sc->ktype = found->type;
		sc->kescaped = found->escaped;
		sc->koff = found->off;
		sc->klen = found->len;
	}
}

/* Why a member name cannot start with c. */
static const char *
bad_member_reason(unsigned char c)
{
	return c == '\'' ? bad_value_reason(c) : "member name expected";
}

/*
 * The string, number or literal whose first byte is at *pp (anything else
 * is TOKEN_BAD, saying why no value starts there), recorded as the key's
 * value when the walk is on the key (out: where its first byte lands in
 * the output).  *pp is past it on TOKEN_OK.
 */
TOKEN_INLINE enum token_result
scan_scalar(struct scanner *sc, const unsigned char **pp,
    const unsigned char *end, size_t out, struct keywalk *kw)
{
	const unsigned char *v = *pp;
	enum token_result r;
	int escaped;

	kw->follow = 0;
	switch (*v) {
	case '"':
		++*pp;
		r = scan_string(pp, end, &escaped, &sc->errpos, &sc->reason);
		if (r == TOKEN_OK && kw->cap)
			key_found(&kw->found, JSONSCAN_KEY_STRING, escaped,
			    out + 1, (size_t)(*pp - 1 - (v + 1)));
		return r;
	case 't': case 'f': case 'n':
		r = scan_literal(pp, end, *v == 't' ? "true" : *v == 'f' ?
		    "false" : "null", &sc->errpos, &sc->reason);
		if (r == TOKEN_OK && kw->cap)
			kw->found.type = JSONSCAN_KEY_OTHER;
		return r;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		r = scan_number(pp, end, &sc->errpos, &sc->reason);
		/* More digits may follow in the next buffer. */
		if (r == TOKEN_OK && *pp == end && !sc->eof)
			return TOKEN_MORE;
		if (r == TOKEN_OK && kw->cap)
			key_found(&kw->found, JSONSCAN_KEY_NUMBER, 0, out,
			    (size_t)(*pp - v));
		return r;
	default:
		sc->errpos = v;
		sc->reason = bad_value_reason(*v);
		return TOKEN_BAD;
	}
}

/* The end of the input inside a value: SCAN_MORE unless it is the end of
 * the input (eof), where it is an error. */
static int
scan_truncated(struct scanner *sc, unsigned long line, ptrdiff_t linebase)
{
	if (!sc->eof)
		return SCAN_MORE;
	sc->errpos = sc->end;
	sc->reason = "unexpected end of input";
	scan_store(sc, line, linebase, NULL);
	return SCAN_ERROR;
}

/* jsonscan_scan_value()'s steps, on its locals: fail at pos, saying why; go to
 * truncated unless pos is in the input; copy the span up to whitespace to
 * the output and skip the whitespace (counting lines); where the byte at
 * input position pos lands in the output. */
#define FAIL(pos, why) do { \
		sc->errpos = (pos); \
		sc->reason = (why); \
		goto fail; \
	} while (0)
#define NEED(pos) do { \
		if ((pos) >= end) \
			goto truncated; \
	} while (0)
#define SKIP_WS do { \
		if (p < end && jsonscan_is_ws(*p)) { \
			if (obuf == NULL) \
				FAIL(p, "whitespace in compact input"); \
			if (!discard) \
				memmove(obuf + olen, span, p - span); \
			olen += p - span; \
			do { \
				if (*p == '\n') { \
					line++; \
					linebase = p - base + 1; \
				} \
				p++; \
			} while (p < end && jsonscan_is_ws(*p)); \
			span = p; \
		} \
	} while (0)
#define OUTPOS(pos) (olen + (size_t)((pos) - span))
#define TOKEN(scan) do { \
		enum token_result token_ = (scan); \
		if (token_ == TOKEN_SHORT) \
			goto truncated; \
		if (token_ == TOKEN_BAD) \
			goto fail; \
		if (token_ == TOKEN_MORE) \
			return SCAN_MORE; \
	} while (0)

/*
 * Scans the one value at *pp (no whitespace before it) and writes its
 * compact form at obuf + *olen (NULL obuf: write nothing and treat any
 * whitespace as an error, for input already compact; discard: write
 * nothing).  obuf may be the input itself, at or before *pp: the output
 * never overtakes the input it comes from (memmove, not memcpy).
 * SCAN_OK: *pp and *olen advanced past the value, sc's line and key fields
 * updated.
 * SCAN_MORE: the input ended inside the value and more may come; nothing
 * updated.  SCAN_ERROR: sc->errpos, sc->reason and sc's line set.
 */
TOKEN_INLINE int
scan_value_as(struct scanner *sc, const unsigned char **pp,
    unsigned char *obuf, size_t *olen_io, const int discard)
{
	const unsigned char *p = *pp, *const end = sc->end, *span = p;
	/* vstart: set again before each use; the first value is for the
	 * analyzer's sake of the jumps below. */
	/* NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores) */
	const unsigned char *const base = sc->base, *vstart = p;
	size_t olen = *olen_io;
	unsigned long line = sc->line;
	ptrdiff_t linebase = sc->linebase;
	unsigned depth = 0;
	int in_object = 0, escaped = 0, opened;
	struct keywalk kw = { sc->key, 0, sc->key != NULL, 0, 0,
	    { JSONSCAN_KEY_NONE, 0, 0, 0 } };

value:
	NEED(p);
	vstart = p;
	kw_value(&kw);
	/* '[' and '{' (0x5B, 0x7B) are the bytes whose | 0x20 is '{'. */
	if ((*p | 0x20) != '{') {
		TOKEN(scan_scalar(sc, &p, end, OUTPOS(vstart), &kw));
		goto after_value;
	}
	if (depth == JSONSCAN_MAX_DEPTH)
		FAIL(p, "nesting too deep");
	in_object = *p == '{';
	level_set(sc->stack, depth++, in_object);
	kw_open(&kw, in_object, depth);
	p++;
	opened = 1;
	goto next_in_container;

member:
	/* p < end, at where a member name must start. */
	if (*p != '"')
		FAIL(p, bad_member_reason(*p));
	vstart = p++;
	TOKEN(scan_string(&p, end, &escaped, &sc->errpos, &sc->reason));
	kw_member(&kw, depth, vstart + 1, p - vstart - 2, escaped);
	SKIP_WS;
	NEED(p);
	if (*p != ':')
		FAIL(p, "':' expected");
	p++;
	SKIP_WS;
	goto value;

close:
	depth--;
	if (kw.chain > depth)
		kw.chain = depth;
	in_object = level_in_object(sc->stack, depth);
	/* FALLTHROUGH */
after_value:
	if (depth == 0)
		goto done;
	SKIP_WS;
	NEED(p);
	if (*p == (in_object ? '}' : ']')) {
		p++;
		goto close;
	}
	if (*p != ',')
		FAIL(p, in_object ? "',' or '}' expected" :
		    "',' or ']' expected");
	p++;
	opened = 0;
	/* FALLTHROUGH */
next_in_container:
	/* Just past the opening bracket, or past a comma. */
	SKIP_WS;
	NEED(p);
	if (*p == (in_object ? '}' : ']')) {
		if (!opened)
			FAIL(p, "trailing comma");
		p++;
		goto close;
	}
	if (in_object)
		goto member;
	goto value;

done:
	if (obuf != NULL && !discard)
		memmove(obuf + olen, span, p - span);
	*pp = p;
	*olen_io = olen + (size_t)(p - span);
	scan_store(sc, line, linebase, &kw.found);
	return SCAN_OK;

truncated:
	return scan_truncated(sc, line, linebase);
fail:
	scan_store(sc, line, linebase, NULL);
	return SCAN_ERROR;
}
#undef FAIL
#undef NEED
#undef SKIP_WS
#undef OUTPOS
#undef TOKEN

/* scan_value_as() made twice, so that writing or not is decided once per
 * value rather than at every run of whitespace (3% of the scan on
 * pretty-printed input). */
int
jsonscan_scan_value(struct scanner *sc, const unsigned char **pp,
    unsigned char *obuf, size_t *olen_io)
{
	if (sc->discard)
		return scan_value_as(sc, pp, obuf, olen_io, 1);
	return scan_value_as(sc, pp, obuf, olen_io, 0);
}

/* Fills *err for the byte at pos; offset0 is the offset of sc->base. */
void
jsonscan_set_error(const struct scanner *sc, const unsigned char *pos,
    const char *reason, unsigned long long offset0,
    struct jsonscan_error *err)
{
	err->offset = offset0 + (unsigned long long)(pos - sc->base);
	err->line = sc->line;
	err->column = (unsigned long)(pos - sc->base - sc->linebase + 1);
	err->reason = reason;
}

/* Copies the key found by the last jsonscan_scan_value() into *kv. */
void
jsonscan_set_keyval(const struct scanner *sc, const char *out,
    struct jsonscan_keyval *kv)
{
	kv->type = sc->ktype;
	/* Only a string has escapes: a later duplicate member of another
	 * kind must not keep the flag of the string it replaced. */
	kv->escaped = sc->ktype == JSONSCAN_KEY_STRING && sc->kescaped;
	if (sc->ktype == JSONSCAN_KEY_STRING ||
	    sc->ktype == JSONSCAN_KEY_NUMBER) {
		kv->data = out + sc->koff;
		kv->len = sc->klen;
	} else {
		kv->data = NULL;
		kv->len = 0;
	}
}

/* Scans one complete JSON text; obuf may be NULL (see
 * jsonscan_scan_value()). */
static ssize_t
scan_text(const char *buf, size_t len, char *obuf,
    const struct jsonscan_keypath *key, struct jsonscan_keyval *kv,
    struct jsonscan_error *err)
{
	unsigned char stack[(JSONSCAN_MAX_DEPTH + 7) / 8];
	struct scanner sc = {
		.base = (const unsigned char *)buf,
		.end = (const unsigned char *)buf + len,
		.eof = 1,
		.line = 1,
		.stack = stack,
		.key = key,
	};
	const unsigned char *p;
	size_t olen = 0;

	p = skip_ws(&sc, sc.base);
	if (p == sc.end) {
		sc.errpos = p;
		sc.reason = "unexpected end of input";
		goto fail;
	}
	if (jsonscan_scan_value(&sc, &p, (unsigned char *)obuf, &olen) != SCAN_OK)
		goto fail;
	p = skip_ws(&sc, p);
	if (p != sc.end) {
		sc.errpos = p;
		sc.reason = "text after the value";
		goto fail;
	}
	if (kv != NULL)
		jsonscan_set_keyval(&sc, obuf != NULL ? obuf : buf, kv);
	return (ssize_t)olen;
fail:
	if (kv != NULL)
		memset(kv, 0, sizeof(*kv));
	if (err != NULL)
		jsonscan_set_error(&sc, sc.errpos, sc.reason, 0, err);
	return -1;
}

ssize_t
jsonscan_compact_value(const char *buf, size_t len, char *out,
    struct jsonscan_error *err)
{
	return scan_text(buf, len, out, NULL, NULL, err);
}

ssize_t
jsonscan_compact_value_key(const char *buf, size_t len, char *out,
    const struct jsonscan_keypath *key, struct jsonscan_keyval *kv,
    struct jsonscan_error *err)
{
	return scan_text(buf, len, out, key, kv, err);
}

int
jsonscan_value_key(const char *compact, size_t len,
    const struct jsonscan_keypath *key, struct jsonscan_keyval *kv)
{
	return scan_text(compact, len, NULL, key, kv, NULL) < 0 ? -1 : 0;
}
