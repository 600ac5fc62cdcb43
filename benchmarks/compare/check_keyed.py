#!/usr/bin/env python3
"""Reads SAMPLES random keys of the N written by keyed_sets.py from a server and counts wrong or missing values.

Usage: check_keyed.py PORT N SAMPLES    (prints "<SAMPLES> sampled, <W> wrong"; exit code 1 when W > 0)
"""
import random
import socket
import sys

from keyed_sets import value


def main(port, count, samples):
    connection = socket.create_connection(("127.0.0.1", port))
    replies = connection.makefile("rb")
    rng = random.Random(7)
    keys = [rng.randrange(count) for _ in range(samples)]
    wrong = 0
    for start in range(0, samples, 100):
        chunk = keys[start:start + 100]
        connection.sendall(b"".join(b"*2\r\n$3\r\nGET\r\n$16\r\nkey:%012d\r\n" % i for i in chunk))
        for i in chunk:
            header = replies.readline()
            read = replies.readline()[:-2] if header.startswith(b"$") and header != b"$-1\r\n" else None
            if read != value(i):
                wrong += 1
    print(f"{samples} sampled, {wrong} wrong")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
