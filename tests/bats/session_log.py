#!/usr/bin/env python3
"""Check a session log (connect/listen -o or --hex-dump) against the bytes.

session_log.py [--hex] LOG SENT RECEIVED

LOG parses back into exactly the bytes of file SENT (">" records) and of
file RECEIVED ("<" records), each record at the offset where the last one of
its direction ended.  Headers may name a client (listen -k: " ID PEER").
--hex: LOG is a --hex-dump (hexdump -C lines after each header).
Exits non-zero, saying where, at the first difference.
"""
import re
import sys

HEAD = rb"([<>]) (\d+) (\d+) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z( \d+ \S+)?"


def raw(log):
    got = {b">": b"", b"<": b""}
    i = 0
    while i < len(log):
        nl = log.index(b"\n", i)
        m = re.fullmatch(HEAD, log[i:nl])
        assert m, log[i:nl]
        d, off, n = m.group(1), int(m.group(2)), int(m.group(3))
        assert off == len(got[d]), (off, len(got[d]))
        got[d] += log[nl + 1:nl + 1 + n]
        assert log[nl + 1 + n:nl + 2 + n] == b"\n"
        i = nl + 2 + n
    return got


def hexdump(log):
    got = {b">": bytearray(), b"<": bytearray()}
    d = None
    for line in log.split(b"\n")[:-1]:
        m = re.fullmatch(HEAD, line)
        if m:
            d = m.group(1)
            assert int(m.group(2)) == len(got[d]), line
            continue
        left, bar, _ = line.partition(b"  |")
        assert d and bar and re.fullmatch(rb"[0-9a-f]{8}", left[:8]), line
        assert int(left[:8], 16) == len(got[d]), line
        got[d] += bytes(int(x, 16) for x in left[8:].split())
    return got


def main():
    args = sys.argv[1:]
    hexd = args[0] == "--hex"
    if hexd:
        args = args[1:]
    log = open(args[0], "rb").read()
    got = hexdump(log) if hexd else raw(log)
    assert bytes(got[b">"]) == open(args[1], "rb").read(), "sent (>) differs"
    assert bytes(got[b"<"]) == open(args[2], "rb").read(), "received (<) differs"


main()
