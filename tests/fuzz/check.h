/*
 * check.h - the properties the fuzz harnesses check, shared with the unit
 * tests that replay the fixtures (tests/fuzz/README.md).
 *
 * Each fuzzcheck_* function runs the library on one input and returns NULL
 * when every property holds, or a message (static storage, overwritten by
 * the next call) saying what disagreed.  A crash inside the library is left
 * to the sanitizers.
 */
#ifndef LEAFPACK_FUZZCHECK_H
#define LEAFPACK_FUZZCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

/*
 * The scanner as json-merge drives it: data scanned as a source (a
 * top-level array, key path "timestamp") given whole, then fed through
 * scan_source()'s refill protocol in pieces of 1 to 7 bytes and again
 * through a small buffer that grows, both chosen from the input.  The
 * verdict, the error's offset, line, column and reason, and every element's
 * compact bytes and key must agree exactly; each element must be compact
 * and valid as a line, with the same key from jsonscan_compact_value_key()
 * and jsonscan_value_key(); and a scan that ended or failed must say so
 * again when called once more.
 */
const char *fuzzcheck_scan(const uint8_t *data, size_t size);

/*
 * The sort keys: data is up to three values split at newlines, each a JSON
 * value or else the body of a JSON string.  Their keys (sortkey_from_keyval
 * of the value the scanner found) must be deterministic, well formed and
 * totally ordered (reflexive, antisymmetric, transitive); agree with
 * strtoll() on integers that fit in 64 bits, with strtod() where the doubles
 * are clearly apart, and with timegm() on instants YYYY-MM-DDThh:mm:ssZ
 * (also on which of those are instants at all); and reverse under negation.
 */
const char *fuzzcheck_sortkey(const uint8_t *data, size_t size);

/*
 * A JSONL line: jsonscan_compact_value_key() on data against the array
 * scanner on "[" data "]", both with the nested key path "meta.ts": the
 * line is valid exactly when the array holds one element, which is then
 * the line's compact form with the same key.
 */
const char *fuzzcheck_line(const uint8_t *data, size_t size);

/*
 * The fixtures (fixture.c, for the unit tests).
 *
 * Reads the fixture file path (tests/fuzz/README.md: '#' comment lines,
 * the input's bytes with \xHH and \\ escapes, line breaks not part of it)
 * into out, replacing its contents.  Returns 0, or -1 with errno set
 * (EINVAL for a bad escape).
 */
int fuzzcheck_fixture_read(const char *path, struct buf *out);

/*
 * Runs check on every fixture whose name starts with prefix ("scan-") in
 * $LEAFPACK_TESTS/fuzz/fixtures (LEAFPACK_TESTS is set by tests/run.sh),
 * else in tests/fuzz/fixtures, printing "FAIL: path: message" for each that
 * fails.  Returns the number of failures: a fixture that cannot be read
 * counts as one, and so does a directory that cannot be read.
 */
int fuzzcheck_replay(const char *prefix,
    const char *(*check)(const uint8_t *, size_t));

#endif
