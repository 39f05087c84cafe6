#!/usr/bin/env python3
"""Checks, outside the timing, that a contender produced the right records.

    check.py expect ROOT > expected.tsv
    check.py verify [--raw] [--removed] EXPECTED MASTER ROOT

`expect` reads every leaf's *.txt sources of a pristine tree and writes one
line per leaf: path, sources, source bytes, records, and two digests of the
multiset of records: one of their bytes (whitespace outside strings removed)
and one of their values (parsed, then printed canonically: big integers
kept exactly, escapes normalised).  It is independent of leafpack's code.

`verify` reads each leaf's consolidated.jsonl after a contender ran on a
copy (ROOT) of the pristine tree (MASTER) and prints one line: "bytes" when the records are byte-identical to the
sources', "values" when only a re-serialisation separates them (Python's
json.dumps, jq, Miller), or what is wrong: leaves whose records differ
(lost, doubled or altered, e.g. jq 1.6 rounding integers beyond 2^53;
counted against MASTER's records), or sources left behind.  It also counts the leaves whose records are not in
timestamp order compared as instants (offsets and fractions of any
precision), which is what the contract asks and what string sorts miss.
--raw checks only that each output holds exactly the sources' bytes (the
floor, which does no JSON work).  --removed expects the sources gone.
Exit status 0 when the records are right, 1 otherwise.
"""
import calendar
import hashlib
import json
import os
import re
import sys
from collections import Counter
from multiprocessing import Pool

OUTPUT = "consolidated.jsonl"
# A string, or a run of the whitespace RFC 8259 allows between tokens.
MINIFY = re.compile(r'("(?:[^"\\]|\\.)*")|[ \t\n\r]+')
INSTANT = re.compile(r'(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)'
                     r'(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$')
DECODER = json.JSONDecoder()


def minify(text):
    return MINIFY.sub(lambda m: m.group(1) or "", text)


def canonical(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


def digest(lines):
    h = hashlib.sha1()
    for line in sorted(lines):
        h.update(line.encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()


def instant(record):
    """Sort key of a record: its timestamp as (UTC seconds, fraction)."""
    ts = record.get("timestamp") if isinstance(record, dict) else None
    m = INSTANT.match(ts) if isinstance(ts, str) else None
    if m is None:
        return (1, 0, "")
    y, mo, d, h, mi, s, frac, zone = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi),
                            int(s)))
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        secs -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return (0, secs, (frac or "").ljust(30, "0"))


def sources(leaf):
    return sorted(e.name for e in os.scandir(leaf)
                  if e.name.endswith(".txt") and e.is_file(follow_symlinks=False))


def leaves(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        if not dirnames:
            yield os.path.relpath(dirpath, root)


def leaf_records(leaf):
    """The sources of leaf: (their names, total bytes, records as minified
    bytes, records as canonical values)."""
    raw, values, size = [], [], 0
    names = sources(leaf)
    for name in names:
        with open(os.path.join(leaf, name), "rb") as f:
            data = f.read()
        size += len(data)
        text = minify(data.decode("utf-8", "surrogatepass").lstrip("\ufeff"))
        pos = 1
        while pos < len(text) - 1:
            value, end = DECODER.raw_decode(text, pos)
            raw.append(text[pos:end])
            values.append(canonical(value))
            pos = end + 1
    return names, size, raw, values


def expect_leaf(args):
    root, rel = args
    names, size, raw, values = leaf_records(os.path.join(root, rel))
    return "\t".join([rel, str(len(names)), str(size), str(len(raw)),
                      digest(raw), digest(values)])


def verify_leaf(args):
    """Returns (leaf, problems, form, misordered, records differing)."""
    master, root, fields, raw_only, removed = args
    rel, nsources, size, _, want_bytes, want_values = fields
    leaf = os.path.join(root, rel)
    left = len(sources(leaf))
    problems = []
    if left != (0 if removed else int(nsources)):
        problems.append("sources")
    try:
        with open(os.path.join(leaf, OUTPUT), "rb") as f:
            data = f.read()
    except OSError:
        return rel, problems + ["missing"], None, False, 0
    if raw_only:
        if len(data) != int(size):
            problems.append("size")
        return rel, problems, None, False, 0
    # Not splitlines(): it also splits at U+2028 and friends, legal in JSON.
    lines = data.decode("utf-8", "surrogatepass").split("\n")
    if lines[-1] == "":
        lines.pop()
    try:
        records = [json.loads(line) for line in lines]
    except ValueError:
        return rel, problems + ["invalid"], None, False, 0
    form, differing = "bytes" if digest(lines) == want_bytes else None, 0
    if form is None:
        got = [canonical(r) for r in records]
        if digest(got) == want_values:
            form = "values"
        else:
            problems.append("records")
            want = Counter(leaf_records(os.path.join(master, rel))[3])
            got = Counter(got)
            differing = max(sum((want - got).values()),
                            sum((got - want).values()))
    keys = [instant(r) for r in records]
    ordered = all(a <= b for a, b in zip(keys, keys[1:]))
    return rel, problems, form, not ordered, differing


def main(argv):
    args = argv[1:]
    if len(args) == 2 and args[0] == "expect":
        root = args[1]
        with Pool() as pool:
            for line in pool.imap(expect_leaf, ((root, rel)
                                                for rel in leaves(root)), 16):
                print(line)
        return 0
    if len(args) < 4 or args[0] != "verify":
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    raw_only = "--raw" in args
    removed = "--removed" in args
    expected, master, root = [a for a in args[1:] if not a.startswith("--")]
    with open(expected) as f:
        rows = [line.rstrip("\n").split("\t") for line in f]
    forms, bad, unordered, differing = set(), {}, 0, 0
    with Pool() as pool:
        work = ((master, root, row, raw_only, removed) for row in rows)
        for rel, problems, form, misordered, n in pool.imap(verify_leaf,
                                                            work, 16):
            unordered += misordered
            differing += n
            forms.add(form)
            for p in problems:
                bad.setdefault(p, rel)
    if raw_only and not bad:
        verdict = "ok: output holds the sources' bytes"
    elif not bad:
        verdict = "ok: same records, same " + (
            "bytes" if forms == {"bytes"} else "values (re-serialised)")
    else:
        verdict = "WRONG: " + "; ".join(
            "%s (e.g. %s)" % ({"records": "%d of %d records differ" % (
                               differing, sum(int(r[3]) for r in rows)),
                               "missing": "no output",
                               "invalid": "output is not JSONL",
                               "sources": "sources not " +
                               ("removed" if removed else "kept"),
                               "size": "size differs"}[p], leaf)
            for p, leaf in sorted(bad.items()))
    if not raw_only:
        verdict += "; %s" % ("in instant order" if unordered == 0 else
                             "%d of %d leaves not in instant order" %
                             (unordered, len(rows)))
    print(verdict)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
