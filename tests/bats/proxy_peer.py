#!/usr/bin/env python3
"""Peers for proxy.bats.

proxy_peer.py target HOST PORT NBYTES REPLYFILE HASHFILE [COUNT]
    A target behind a proxy: for each of COUNT clients (1), read exactly
    NBYTES (NBYTES -1: up to EOF, which needs half-close through the proxy),
    append their sha256 to HASHFILE, send REPLYFILE, close.  PORT 0: the
    kernel's choice, written to HASHFILE.port.
proxy_peer.py hostile HOST PORT MODE READYFILE
    A proxy that answers one client wrongly.  MODE:
      s5-truncated   SOCKS5: method ok, then 3 bytes of the reply and close
      s5-wrongver    SOCKS5: the method reply says version 4
      s5-slowloris   SOCKS5: the reply one byte every 0.3 s
      s5-refused     SOCKS5: REP 0x05
      http-oversized HTTP: 200, then endless headers (16 KiB)
      http-407       HTTP: 407 with a Proxy-Authenticate header
      http-tunnel    HTTP: 200 and the first tunnel bytes in the same segment
"""
import hashlib
import os
import socket
import sys
import time


def listen(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)
    return s


def announce(path, port):
    with open(path + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(path + ".tmp", path)


def recv_exact(c, n):
    got = b""
    while len(got) < n:
        b = c.recv(n - len(got))
        if not b:
            break
        got += b
    return got


def target(host, port, nbytes, replyfile, hashfile, count):
    s = listen(host, port)
    announce(hashfile + ".port", s.getsockname()[1])
    with open(replyfile, "rb") as f:
        reply = f.read()
    for _ in range(count):
        c, _ = s.accept()
        c.settimeout(30)
        h = hashlib.sha256()
        left = nbytes
        while left != 0:
            b = c.recv(1 << 16 if left < 0 else min(left, 1 << 16))
            if not b:
                break
            h.update(b)
            left -= len(b) if left > 0 else 0
        with open(hashfile, "a") as f:
            f.write(h.hexdigest() + "\n")
        c.sendall(reply)
        c.close()


def read_request(c):
    """Read the client's first message (greeting or CONNECT headers)."""
    data = c.recv(4096)
    if data.startswith(b"CONNECT"):
        while b"\r\n\r\n" not in data:
            more = c.recv(4096)
            if not more:
                break
            data += more
    return data


def hostile(host, port, mode, ready):
    s = listen(host, port)
    announce(ready, s.getsockname()[1])
    c, _ = s.accept()
    c.settimeout(30)
    read_request(c)
    if mode.startswith("s5-"):
        if mode == "s5-wrongver":
            c.sendall(b"\x04\x00")
            time.sleep(1)
            return
        c.sendall(b"\x05\x00")
        recv_exact(c, 4)
        c.recv(512)
        reply = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50"
        if mode == "s5-truncated":
            c.sendall(reply[:3])
            c.close()
        elif mode == "s5-refused":
            c.sendall(b"\x05\x05" + reply[2:])
            time.sleep(1)
        elif mode == "s5-slowloris":
            try:
                for i in range(len(reply)):
                    c.sendall(reply[i:i + 1])
                    time.sleep(0.3)
            except OSError:
                pass
        return
    if mode == "http-oversized":
        c.sendall(b"HTTP/1.1 200 OK\r\n")
        try:
            for i in range(400):
                c.sendall(b"X-Pad-%03d: %s\r\n" % (i, b"a" * 30))
        except OSError:
            pass
    elif mode == "http-407":
        c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                  b"Proxy-Authenticate: Basic realm=\"sockctl test\"\r\n"
                  b"Content-Length: 0\r\n\r\n")
        time.sleep(1)
    elif mode == "http-tunnel":
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\nfirst tunnel bytes\n")
        time.sleep(0.5)
        c.shutdown(socket.SHUT_WR)
        recv_exact(c, 1)


def main():
    if sys.argv[1] == "target":
        target(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6],
               int(sys.argv[7]) if len(sys.argv) > 7 else 1)
    else:
        hostile(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])


main()
