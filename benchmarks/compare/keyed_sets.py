#!/usr/bin/env python3
"""Writes N SET commands in RESP to stdout, for `redis-cli --pipe`: keys key:000000000000 .. key:<N-1> (the names
redis-benchmark's `-r N` draws from), each with a 100-byte value derived from its number, so that check_keyed.py can
tell every value apart. Used for the 20M-key run in docs/benchmarks.md.

Usage: keyed_sets.py N | redis-cli -p PORT --pipe
"""
import sys


def value(i):
    return ((b"v%012d-" % i) * 8)[:100]


def main(count):
    out = sys.stdout.buffer
    batch = []
    for i in range(count):
        batch.append(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$100\r\n%s\r\n" % (i, value(i)))
        if len(batch) == 20000:
            out.write(b"".join(batch))
            batch.clear()
    out.write(b"".join(batch))


if __name__ == "__main__":
    main(int(sys.argv[1]))
