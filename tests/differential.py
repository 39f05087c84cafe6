#!/usr/bin/env python3
"""Differential check of the JSON scanner against an independent reference.

Each input is scanned by tests/bin/jsonscan_cli -b (the scanner as a source
file: a top-level array, key path "timestamp"; or with -l as one JSONL
line) and judged by a strict reference built on Python's json module:

  - the bytes must decode as strict UTF-8 (no surrogateescape: overlong
    forms, encoded surrogates, code points above U+10FFFF, truncated
    sequences are rejected);
  - json.loads() must take the text, with NaN, Infinity and -Infinity
    rejected (parse_constant raises); numbers are kept as their text;
  - a source's top level must be an array.

For an accepted input the scanner must have accepted it too, and printed
for each element exactly the reference's compact form: the element's bytes
with the whitespace outside strings removed and nothing else changed,
computed from the raw bytes by the small tokenizer below (not by
json.dumps, which re-serializes).  Each element, read back, must have the
reference's structure (every object's members in the same order, duplicates
kept) and the same key: the last "timestamp" member of a top-level object,
its kind, decoded value and whether it was written with escapes.  For a
rejected input the scanner must have rejected it with a "path:line:column:
reason (offset N)" message.

Decisions, where RFC 8259 leaves the choice (as tests/json_testsuite.sh
lists the i_ cases), and how the reference models them:
  - A UTF-8 byte order mark is accepted before a source's array only: the
    reference drops one there (json.loads() rejects U+FEFF); a JSONL line
    with one is rejected by both.
  - Escaped lone or inverted surrogates ("\\ud800", "\\udd1e\\ud834") are
    valid: json.loads() decodes them to lone code points, and both sides
    keep the text as written.
  - Numbers of any size or exponent are valid and kept as written.
Known, documented differences (counted apart, never a failure):
  - Nesting deeper than JSONSCAN_MAX_DEPTH (100000) levels inside an
    element: the scanner rejects it ("nesting too deep") on purpose, to
    bound its stack; the reference has no such limit.

Inputs: every file of JSONTestSuite's test_parsing (as a source and as a
line), the fuzz fixtures and corpora given, and --mutations mutations of
those and of a generated tree, drawn from a fixed --seed.  A disagreement
is printed and its input kept in --out as disagree-N.bin; the exit status
is 1 if there is any.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                'fuzz'))
import fixture  # noqa: E402

BOM = b'\xef\xbb\xbf'
WHITESPACE = b' \t\n\r'
MAX_DEPTH = 100000
KEY = 'timestamp'


class Rejected(Exception):
    pass


def reject_constant(name):
    raise Rejected(f'{name} is not JSON')


def number(text):
    return ('number', text)


def members(pairs):
    return ('object', pairs)


def loads(text):
    return json.loads(text, parse_constant=reject_constant,
                      parse_int=number, parse_float=number,
                      object_pairs_hook=members)


def outside_strings(data):
    """Each byte of a valid text, with whether it is outside every string
    (quotes count as inside)."""
    in_string = escape = False
    for b in data:
        if in_string:
            if escape:
                escape = False
            elif b == 0x5C:
                escape = True
            elif b == 0x22:
                in_string = False
        elif b == 0x22:
            in_string = True
        yield b, not in_string and b != 0x22


def compact(data):
    """The bytes minus the whitespace outside strings."""
    return bytes(b for b, outside in outside_strings(data)
                 if not (outside and b in WHITESPACE))


def split_array(text):
    """The elements of the compact array text, as bytes."""
    elements, depth, start = [], 0, 1
    for i, (b, outside) in enumerate(outside_strings(text)):
        if not outside:
            continue
        if b in b'[{':
            depth += 1
        elif b in b']}':
            depth -= 1
            if depth == 0 and i > start:
                elements.append(text[start:i])
        elif b == 0x2C and depth == 1:
            elements.append(text[start:i])
            start = i + 1
    return elements


def depth_of(value):
    """Nesting depth: 0 for a scalar, 1 for [] or {}."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, list):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in v)
        elif isinstance(v, tuple) and v[0] == 'object':
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for _, x in v[1])
    return deepest


def key_of(value):
    """What the scanner should find at the key path: (kind, value)."""
    if not (isinstance(value, tuple) and value[0] == 'object'):
        return ('none', None)
    found = [v for k, v in value[1] if k == KEY]
    if not found:
        return ('none', None)
    v = found[-1]
    if isinstance(v, str):
        return ('string', v)
    if isinstance(v, tuple) and v[0] == 'number':
        return ('number', v[1])
    return ('other', None)


def reference(data, line):
    """('accept', [(compact bytes, value)]), ('reject', why) or
    ('known', why) for a documented difference."""
    if not line and data.startswith(BOM):
        data = data[3:]
    try:
        value = loads(data.decode('utf-8'))
    except UnicodeDecodeError:
        return ('reject', 'invalid UTF-8')
    except (ValueError, Rejected) as e:
        return ('reject', str(e))
    if line:
        if depth_of(value) > MAX_DEPTH:
            return ('known', 'nesting deeper than JSONSCAN_MAX_DEPTH')
        return ('accept', [(compact(data), value)])
    if not isinstance(value, list):
        return ('reject', 'top level is not an array')
    if any(depth_of(v) > MAX_DEPTH for v in value):
        return ('known', 'nesting deeper than JSONSCAN_MAX_DEPTH')
    return ('accept', list(zip(split_array(compact(data)), value)))


class Scanner:
    """jsonscan_cli -b processes, one per way of reading, kept running."""

    def __init__(self, cli):
        self.cli, self.procs = cli, {}

    def scan(self, path, line, chunk):
        """The scanner's verdict: (status, [(kind, raw, element)], message)."""
        how = ('-l',) if line else ('-c', str(chunk))
        if how not in self.procs:
            self.procs[how] = subprocess.Popen(
                [self.cli, '-b', '-k', KEY, *how], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE)
        p = self.procs[how]
        p.stdin.write(path.encode() + b'\n')
        p.stdin.flush()
        records, message = [], b''
        while True:
            rec = p.stdout.readline()
            if not rec:
                raise RuntimeError(f'{self.cli} ended on {path}')
            kind, _, rest = rec[:-1].partition(b'\t')
            if kind == b'status':
                return int(rest), records, message
            if kind == b'message':
                message += rest
            else:
                raw, _, element = rest.partition(b'\t')
                records.append((kind.decode(), raw, element))

    def close(self):
        for p in self.procs.values():
            p.stdin.close()
            p.wait()


def key_problem(kind, raw, want):
    """Why the scanner's key differs from the reference's, or None."""
    wkind, wvalue = want
    base, _, escaped = kind.partition('+')
    if base != wkind:
        return f'key kind {kind}, reference {wkind}'
    if bool(escaped) != (base == 'string' and b'\\' in raw):
        return f'key {raw!r} of kind {kind}: escaped wrongly'
    if base == 'number' and raw.decode() != wvalue:
        return f'key {raw!r}, reference {wvalue!r}'
    if base == 'string':
        got = json.loads(b'"' + raw + b'"')
        if got != wvalue or bool(escaped) != (b'\\' in raw):
            return f'key {raw!r} ({kind}), reference {wvalue!r}'
    return None


def judge(scanner, path, data, line, chunk):
    """None if scanner and reference agree; ('known', why) for a
    documented difference; else the disagreement as a string."""
    want = reference(data, line)
    status, records, err = scanner.scan(path, line, chunk)
    if want[0] == 'known':
        # The scanner must reject it, and for that reason.
        if status != 1 or b'nesting too deep' not in err:
            return f'{want[1]}, but not rejected as too deep: {err[:200]!r}'
        return want
    if want[0] == 'reject':
        if status == 0:
            return f'accepted, reference rejects: {want[1]}'
        if status != 1 or b': ' not in err or b'(offset ' not in err:
            return f'rejected with status {status}: {err[:200]!r}'
        return None
    if status != 0:
        return f'rejected, reference accepts: {err[:200]!r}'
    if len(records) != len(want[1]):
        return f'{len(records)} elements, reference {len(want[1])}'
    for i, ((kind, raw, element), (wbytes, wvalue)) in enumerate(
            zip(records, want[1])):
        if element != wbytes:
            return f'element {i}: {element[:100]!r}, reference ' \
                   f'{wbytes[:100]!r}'
        if loads(element.decode('utf-8')) != wvalue:
            return f'element {i}: read back, not the reference\'s value'
        problem = key_problem(kind, raw, key_of(wvalue))
        if problem:
            return f'element {i}: {problem}'
    return None


INTERESTING = [b'[', b']', b'{', b'}', b'"', b',', b':', b'\\', b' ', b'\n',
               b'\r\n', b'\t', b'0', b'-', b'.', b'e', b'E+', b'1', b'9',
               b'true', b'null', b'NaN', b'-Infinity', b'\x00', b'\x7f',
               b'\x80', b'\xc2\xa0', b'\xc0\xaf', b'\xed\xa0\x80',
               b'\xf0\x9f\x98\x80', b'\xf4\x90\x80\x80', b'\xff', BOM,
               b'\\u', b'\\ud800', b'\\udc00', b'\\u00e9', b'1e9999999999',
               b'"timestamp":', b'{"timestamp":"2024-01-01T00:00:00Z"}',
               b'12345678901234567890', b'-0.0e-0', b'[]', b'{}', b'//', b"'"]


def mutate(rng, base, others):
    """A few random edits of base, drawing bytes and splices from others."""
    data = bytearray(base)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[pos:pos] = rng.choice(INTERESTING)
        elif op == 2:
            del data[pos:pos + rng.randint(1, 4)]
        elif op == 3:
            end = min(len(data), pos + rng.randint(1, 16))
            data[pos:pos] = data[pos:end]
        elif op == 4:
            other = rng.choice(others)
            start = rng.randint(0, len(other))
            data[pos:pos] = other[start:start + rng.randint(1, 64)]
        else:
            data[pos:pos] = rng.choice([b' ', b'\n', b'\t', b'\r'])
    if rng.randrange(8) == 0:
        data = bytearray(b'[' + bytes(data) + b']')
    return bytes(data)


CHARS = ['a', 'Z', '0', ' ', '/', '"', '\\', '\b', '\f', '\n', '\r', '\t',
         '\x00', '\x1f', '\x7f', '\u00e9', '\u20ac', '\u2028', '\ufeff',
         '\uffff', '\U0001f600', '\U0010ffff', '\ud800', '\udfff']
SHORT = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n',
         '\r': '\\r', '\t': '\\t', '/': '\\/'}
NAMES = [KEY, KEY, 'time\\u0073tamp', 'a', '', 'meta', 'timestamps', 'id']


def gen_string(rng):
    """A JSON string, each character written raw or escaped at random."""
    out = []
    for _ in range(rng.randint(0, 6)):
        c = rng.choice(CHARS)
        lone = 0xD800 <= ord(c) <= 0xDFFF
        if c in SHORT and (ord(c) < 0x20 or c in '"\\' or rng.randrange(2)):
            out.append(SHORT[c])
        elif ord(c) < 0x20 or lone or rng.randrange(3) == 0:
            units = c.encode('utf-16-be', 'surrogatepass')
            out += [f'\\u{units[i] << 8 | units[i + 1]:0{4}{rng.choice("xX")}}'
                    for i in range(0, len(units), 2)]
        else:
            out.append(c)
    return '"' + ''.join(out) + '"'


def gen_number(rng):
    digits = lambda n: ''.join(rng.choice('0123456789') for _ in range(n))
    text = rng.choice(['', '-']) + rng.choice(
        ['0', rng.choice('123456789') + digits(rng.randint(0, 24))])
    if rng.randrange(2):
        text += '.' + digits(rng.randint(1, 12))
    if rng.randrange(2):
        text += rng.choice('eE') + rng.choice(['', '+', '-']) + \
            rng.choice('123456789') + digits(rng.randint(0, 24))
    return text


def gen_instant(rng):
    return '"%04d-%02d-%02dT%02d:%02d:%02d%sZ"' % (
        rng.randint(0, 9999), rng.randint(0, 13), rng.randint(0, 32),
        rng.randint(0, 24), rng.randint(0, 60), rng.randint(0, 61),
        rng.choice(['', '.5', '.123456789']))


def gen_value(rng, depth, ws):
    """A random JSON value as text, whitespace drawn by ws()."""
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return gen_string(rng)
    if kind in (1, 2):
        return gen_number(rng)
    if kind == 3:
        return gen_instant(rng)
    if kind in (4, 5):
        return rng.choice(['true', 'false', 'null'])
    if kind == 6:
        items = [gen_value(rng, depth + 1, ws)
                 for _ in range(rng.randint(0, 3))]
        return '[' + ws() + (ws() + ',' + ws()).join(items) + ws() + ']'
    items = [f'"{rng.choice(NAMES)}"' + ws() + ':' + ws() +
             gen_value(rng, depth + 1, ws) for _ in range(rng.randint(0, 4))]
    return '{' + ws() + (ws() + ',' + ws()).join(items) + ws() + '}'


def generated_valid(rng):
    """A valid source: an array of records, odd whitespace, maybe a BOM."""
    ws = lambda: rng.choice(['', '', '', ' ', '\n', '\t', '\r\n', '  \n  '])
    records = [gen_value(rng, 0, ws) for _ in range(rng.randint(0, 4))]
    text = ws() + '[' + ws() + (ws() + ',' + ws()).join(records) + ws() + \
        ']' + ws()
    data = text.encode('utf-8')
    return BOM + data if rng.randrange(10) == 0 else data


def generated_sources(gentree, tmp):
    """The sources of a small generated tree (none without gentree)."""
    if not gentree or not os.access(gentree, os.X_OK):
        return []
    root = os.path.join(tmp, 'tree')
    subprocess.run([gentree, '--seed', '14', '--entities', '1', '--types',
                    '2', '--dates', '1', '--files', '5', '--records', '3',
                    '--bad', '1', root], check=True, capture_output=True)
    found = []
    for d, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            with open(os.path.join(d, f), 'rb') as fp:
                found.append(fp.read())
    return found


def read_dir(d):
    out = []
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), 'rb') as f:
            out.append((f'{d}/{name}', f.read()))
    return out


def inputs(args, tmp):
    """(name, bytes, as a line?) for every input, mutations last."""
    cases, bases = [], []
    for name, data in read_dir(args.suite):
        cases += [(name, data, False), (name, data, True)]
        bases.append(data)
    for name in sorted(os.listdir(args.fixtures or '.')) if \
            args.fixtures else []:
        if name.startswith(('scan-', 'line-')):
            with open(os.path.join(args.fixtures, name), 'rb') as f:
                data = fixture.decode(f.read())
            cases.append((name, data, name.startswith('line-')))
    for d in args.corpus_array:
        if os.path.isdir(d):
            cases += [(n, data, False) for n, data in read_dir(d)]
    for d in args.corpus_line:
        if os.path.isdir(d):
            cases += [(n, data, True) for n, data in read_dir(d)]
    for i, data in enumerate(generated_sources(args.gentree, tmp)):
        cases.append((f'gentree source {i}', data, False))
        bases.append(data)
    # The nesting limit: the deepest element accepted, and one level more
    # (the known difference).
    for depth in (MAX_DEPTH, MAX_DEPTH + 1):
        data = b'[' + b'[' * depth + b']' * depth + b']'
        cases.append((f'an element {depth} levels deep', data, False))
    rng = random.Random(args.seed)
    for i in range(args.generated):
        data = generated_valid(rng)
        cases.append((f'generated {i}', data, False))
        bases.append(data)
    for i in range(args.mutations):
        data = mutate(rng, rng.choice(bases), bases)
        cases.append((f'mutation {i}', data, rng.randrange(4) == 0))
    return cases


def run(args):
    counts = {'accepted': 0, 'rejected': 0, 'known': 0, 'disagree': 0}
    scanner = Scanner(args.cli)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'input')
        for n, (name, data, line) in enumerate(inputs(args, tmp)):
            with open(path, 'wb') as f:
                f.write(data)
            # Small reads cost a rescan of the cut element each: only
            # for small inputs (the fuzz harness covers the rest).
            chunk = (1, 7, 65536)[n % 3] if len(data) < 8192 else 65536
            result = judge(scanner, path, data, line, chunk)
            if result is None:
                kind = reference(data, line)[0]
                counts['accepted' if kind == 'accept' else 'rejected'] += 1
            elif isinstance(result, tuple):
                counts['known'] += 1
                print(f'known difference: {name}: {result[1]}')
            else:
                keep = os.path.join(args.out,
                                    f'disagree-{counts["disagree"]}.bin')
                with open(keep, 'wb') as f:
                    f.write(data)
                counts['disagree'] += 1
                print(f'DISAGREE: {name}{" as a line" if line else ""}: '
                      f'{result} (input kept in {keep})')
    scanner.close()
    total = sum(counts.values())
    print(f'differential: {total} inputs: {counts["accepted"]} accepted and '
          f'{counts["rejected"]} rejected by both, {counts["known"]} known '
          f'differences, {counts["disagree"]} disagreements')
    return 1 if counts['disagree'] else 0


def main():
    ap = argparse.ArgumentParser(description='scanner against reference')
    ap.add_argument('--cli', required=True, help='tests/bin/jsonscan_cli')
    ap.add_argument('--suite', required=True, help='JSONTestSuite '
                    'test_parsing')
    ap.add_argument('--fixtures', help='tests/fuzz/fixtures')
    ap.add_argument('--corpus-array', action='append', default=[],
                    help='inputs scanned as sources (fuzz corpus)')
    ap.add_argument('--corpus-line', action='append', default=[],
                    help='inputs scanned as lines (fuzz corpus)')
    ap.add_argument('--gentree', help='tests/bin/gentree')
    ap.add_argument('--generated', type=int, default=1000,
                    help='valid sources drawn at random')
    ap.add_argument('--mutations', type=int, default=3000)
    ap.add_argument('--seed', type=int, default=14)
    ap.add_argument('--out', default='.', help='where disagreements go')
    args = ap.parse_args()
    # json's decoder recurses per level: room for JSONSCAN_MAX_DEPTH + 1.
    sys.setrecursionlimit(4 * MAX_DEPTH)
    threading.stack_size(1 << 30)
    status = []
    t = threading.Thread(target=lambda: status.append(run(args)))
    t.start()
    t.join()
    return status[0] if status else 1


if __name__ == '__main__':
    sys.exit(main())
