#!/usr/bin/env python3
"""Hostile peers for tests/bats/hostile.bats.  Each mode serves one client
(or answers ICMP) and ends by itself within --limit seconds.

  hostile.py MODE [--port-file F] [--unix PATH] [--limit S] [--bytes N]

Modes (TCP on 127.0.0.1, port 0, the port written to --port-file):
  zero-window  accept, shrink the receive buffer, never read (window 0)
  slow         send one byte a second (--bytes of them), then close
  reset        read a little, send a little, then reset (SO_LINGER 0)
  flood        send --bytes without reading anything, then read all the
               client sent until its EOF, print the count, close
  fds          (Unix stream at --unix) send data with SCM_RIGHTS fds
               (of the file --pass) nobody asked for, many times, then close
  icmp         (raw socket, run in a namespace with icmp_echo_ignore_all)
               answer each echo request with replies wrong in every field
               (--odd: matching replies with odd code, size or payload)
"""
import argparse
import os
import socket
import struct
import sys
import time


def write_port(path, port):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(path + ".tmp", path)


def tcp_server(a, rcvbuf=None):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        # set before listen: the accepted socket inherits it, window and all
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    s.settimeout(a.limit)
    write_port(a.port_file, s.getsockname()[1])
    c, _ = s.accept()
    c.settimeout(a.limit)
    return s, c


def zero_window(a):
    s, c = tcp_server(a, rcvbuf=1024)
    time.sleep(a.limit)  # never read: the window closes and stays closed


def slow(a):
    s, c = tcp_server(a)
    for _ in range(a.bytes):
        c.sendall(b"x")
        time.sleep(1)
    c.close()


def reset(a):
    s, c = tcp_server(a)
    c.recv(4096)
    c.sendall(b"partial reply\n")
    time.sleep(0.2)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()  # RST: mid-stream, with the client still sending
    time.sleep(1)


def flood(a):
    s, c = tcp_server(a)
    chunk = b"\x5a" * (1 << 20)
    left = a.bytes
    while left > 0:
        n = c.send(chunk[: min(left, len(chunk))])
        left -= n
    got = 0
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        got += len(d)
    print(got, flush=True)
    c.close()


def fds(a):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(a.unix)
    s.listen(1)
    s.settimeout(a.limit)
    c, _ = s.accept()
    extra = [os.open(a.pass_file, os.O_RDONLY) for _ in range(16)]
    rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("%di" % len(extra), *extra))]
    for i in range(200):
        c.sendmsg([b"line %d\n" % i], rights)
    time.sleep(0.5)  # the client's fd count is checked meanwhile
    with open(a.port_file + ".tmp", "w") as f:
        f.write("sent\n")
    os.rename(a.port_file + ".tmp", a.port_file)
    time.sleep(2)
    c.close()


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def icmp(a):
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    r.settimeout(a.limit)
    write_port(a.port_file, 0)
    end = time.monotonic() + a.limit
    while time.monotonic() < end:
        try:
            pkt, src = r.recvfrom(65535)
        except socket.timeout:
            break
        ihl = (pkt[0] & 0x0F) * 4
        body = pkt[ihl:]
        if len(body) < 8 or body[0] != 8:
            continue  # not an echo request (or one of ours)
        ident, seq = struct.unpack("!HH", body[4:8])
        data = body[8:]

        def reply(t, code, i, s, payload, fix=True):
            h = struct.pack("!BBHHH", t, code, 0, i, s) + payload
            if fix:
                h = h[:2] + struct.pack("!H", csum(h)) + h[4:]
            r.sendto(h, src)

        if a.odd:
            # matching replies, odd in what ping tools tolerate and report
            reply(0, 7, ident, seq, data)                     # code 7
            reply(0, 0, ident, seq, data[: len(data) // 2])  # truncated payload
            reply(0, 0, ident, seq, bytes(len(data)))         # payload zeroed
            reply(0, 0, ident, seq, data * 20)                # far too long
            continue
        # every one wrong in a field that makes it nobody's reply
        reply(0, 0, ident, seq, data, fix=False)          # bad checksum
        reply(0, 0, ident ^ 0xFFFF, seq, data)            # someone else's id
        reply(0, 0, ident, seq ^ 0x8000, data)            # a sequence never sent
        r.sendto(b"\x00\x00", src)                        # 2 bytes: no header
        r.sendto(b"\x00" * 7, src)                        # 7 bytes
        reply(3, 3, 0, 0, pkt[:8])                        # unreachable quoting half a header
        reply(11, 0, 0, 0, b"\x45" + b"\xff" * 27)        # time exceeded, a garbage quote
        reply(3, 4, 0, 0xFFFF, b"\x4f" + b"\x00" * 59)    # frag needed, IHL 60, all zero
        reply(255, 255, ident, seq, data)                 # type and code 255
        reply(8, 0, ident, seq, data)                     # a request, not a reply


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode")
    p.add_argument("--port-file", default="/dev/null")
    p.add_argument("--unix")
    p.add_argument("--pass", dest="pass_file", default="/dev/null")
    p.add_argument("--limit", type=float, default=30)
    p.add_argument("--bytes", type=int, default=5)
    p.add_argument("--odd", action="store_true")
    a = p.parse_args()
    {"zero-window": zero_window, "slow": slow, "reset": reset, "flood": flood,
     "fds": fds, "icmp": icmp}[a.mode](a)


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, ConnectionResetError, socket.timeout) as e:
        print("hostile.py: %s" % e, file=sys.stderr)
        sys.exit(3)
