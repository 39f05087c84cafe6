#!/usr/bin/env python3
"""The fuzz fixtures' text format (tests/fuzz/README.md), both ways.

A fixture is a text file: lines starting with '#' are comments; the other
lines, without their line breaks, joined, are the input, where \\xHH stands
for the byte HH and \\\\ for a backslash, and every other character for
itself.  Writers escape each byte outside printable ASCII (0x20-0x7E), the
backslash, and a '#' that would start a line; they break lines after each
newline of the input (\\x0A) and before 76 columns.

    fixture.py decode FILE                  the input, on stdout
    fixture.py encode COMMENT... <INPUT     the fixture, on stdout
"""
import sys

WIDTH = 76


def decode(text):
    out = bytearray()
    for line in text.split(b'\n'):
        if line.startswith(b'#'):
            continue
        i = 0
        while i < len(line):
            if line[i:i + 2] == b'\\\\':
                out.append(0x5C)
                i += 2
            elif line[i] == 0x5C:
                if line[i + 1:i + 2] != b'x' or len(line) < i + 4:
                    raise ValueError(f'bad escape at {line[i:i + 4]!r}')
                out.append(int(line[i + 2:i + 4], 16))
                i += 4
            else:
                out.append(line[i])
                i += 1
    return bytes(out)


def encode(data, comments):
    lines = [f'# {c}' for c in comments]
    cur = ''
    for b in data:
        if b == 0x5C:
            piece = '\\\\'
        elif 0x20 <= b <= 0x7E and not (b == 0x23 and cur == ''):
            piece = chr(b)
        else:
            piece = f'\\x{b:02X}'
        if len(cur) + len(piece) > WIDTH:
            lines.append(cur)
            cur = ''
            if piece == '#':
                piece = '\\x23'
        cur += piece
        if b == 0x0A:
            lines.append(cur)
            cur = ''
    if cur:
        lines.append(cur)
    return '\n'.join(lines) + '\n'


def main(argv):
    if len(argv) == 3 and argv[1] == 'decode':
        with open(argv[2], 'rb') as f:
            sys.stdout.buffer.write(decode(f.read()))
    elif len(argv) >= 2 and argv[1] == 'encode':
        data = sys.stdin.buffer.read()
        sys.stdout.write(encode(data, argv[2:]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
