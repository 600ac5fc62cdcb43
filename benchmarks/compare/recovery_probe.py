#!/usr/bin/env python3
"""Watches a server that was just restarted on its data directory and measures its recovery.

Usage: recovery_probe.py PORT PID KEY VALUE_BYTES EXPECTED_KEYS START_EPOCH TIMEOUT_S
Polls every 10 ms over one connection (reconnecting while the port refuses) and prints one CSV line:
  listen_s,first_get_s,loaded_s,dbsize,loading_replies,status
Times are seconds since START_EPOCH (taken just before the server was started):
- listen_s: the port accepts a connection;
- first_get_s: GET KEY returns a value of VALUE_BYTES bytes (until then a loading server answers -LOADING);
- loaded_s: DBSIZE answers EXPECTED_KEYS.
status is ok, or says what went wrong (key missing, fewer keys, server exited, timeout); times not reached are empty.
"""
import socket
import sys
import time


def command(stream, sock, *args):
    frame = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    sock.sendall(frame)
    line = stream.readline()
    if not line:
        raise ConnectionError("closed")
    if line.startswith(b"$") and int(line[1:]) >= 0:
        return line, stream.read(int(line[1:]) + 2)[:-2]
    return line, None


def alive(pid):
    # A killed child stays a zombie until the script reaps it, so check the state rather than kill(pid, 0).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def main(port, pid, key, size, expected, start, timeout):
    elapsed = lambda: time.time() - start  # noqa: E731
    listen = first_get = loaded = None
    dbsize = ""
    loading = 0
    status = "timeout"
    sock = stream = None
    settle_until = None  # a server whose DBSIZE differs from EXPECTED_KEYS gets 3 s to change its count
    while elapsed() < timeout:
        if not alive(pid):
            status = "server exited"
            break
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                stream = sock.makefile("rb")
                listen = listen if listen is not None else elapsed()
            missing = False
            if first_get is None:
                line, value = command(stream, sock, b"GET", key)
                if value is not None and len(value) == size:
                    first_get = elapsed()
                elif line.startswith(b"-LOADING"):
                    loading += 1
                elif line.startswith(b"-"):
                    status = "GET error: " + line.decode(errors="replace").strip()
                    break
                else:
                    missing = True
            if first_get is not None or missing:
                line, _ = command(stream, sock, b"DBSIZE")
                if line.startswith(b":"):
                    dbsize = int(line[1:])
                    if first_get is not None and dbsize == expected:
                        loaded = elapsed()
                        status = "ok"
                        break
                    settle_until = settle_until or elapsed() + 3
                    if missing or elapsed() > settle_until:
                        status = ("key missing, " if missing else "") + f"{dbsize} of {expected} keys"
                        break
        except (ConnectionError, OSError):
            if sock is not None:
                sock.close()
            sock = stream = None
        time.sleep(0.01)
    if sock is not None:
        sock.close()
    fmt = lambda t: "" if t is None else f"{t:.2f}"  # noqa: E731
    print(f"{fmt(listen)},{fmt(first_get)},{fmt(loaded)},{dbsize},{loading},{status}")


if __name__ == "__main__":
    a = sys.argv
    main(int(a[1]), int(a[2]), a[3].encode(), int(a[4]), int(a[5]), float(a[6]), float(a[7]))
