#!/usr/bin/env python3
"""Writes N SET commands in RESP to stdout, for `redis-cli --pipe`: keys key:000000000000 .. key:<N-1>, the names
redis-benchmark's `-r N` draws from (12-digit zero-padded), so GET workloads hit exactly these keys.

Usage: resp_sets.py N VALUE_BYTES > file
"""
import sys


def main(count, size):
    value = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    tail = b"$%d\r\n%s\r\n" % (size, value)
    out = sys.stdout.buffer
    batch = []
    for i in range(count):
        batch.append(b"*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n" % i + tail)
        if len(batch) == 10000:
            out.write(b"".join(batch))
            batch.clear()
    out.write(b"".join(batch))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
