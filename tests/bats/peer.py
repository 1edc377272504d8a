#!/usr/bin/env python3
"""Test peers for connect.bats: one connection (or datagram exchange), then exit.

peer.py MODE READYFILE [ARG]   listens on 127.0.0.1 (or ::1 for *6 modes, or the
Unix path ARG for unix-* modes) on a kernel-chosen port, writes the port to
READYFILE, serves one client and exits.
"""
import hashlib
import os
import socket
import struct
import sys
import time

mode, ready = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None


def announce(port):
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, ready)


def read_all(c):
    h, n = hashlib.sha256(), 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            return h.hexdigest(), n
        h.update(b)
        n += len(b)


def tcp(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(1)
    announce(s.getsockname()[1])
    c, peer = s.accept()
    return c, peer


if mode in ("sha", "sha6"):
    # read to EOF, then answer with the sha256 and byte count, then close
    c, _ = tcp(socket.AF_INET6, "::1") if mode == "sha6" else tcp()
    digest, n = read_all(c)
    c.sendall(f"{digest} {n}\n".encode())
    c.close()
elif mode == "halfclose":
    # say hello, close our sending side, then read everything the client sends
    c, _ = tcp()
    c.sendall(b"hello\n")
    c.shutdown(socket.SHUT_WR)
    digest, n = read_all(c)
    with open(arg, "w") as f:
        f.write(f"{digest} {n}\n")
    c.close()
elif mode == "reset":
    # read a little, then abort the connection with an RST
    c, _ = tcp()
    c.recv(1000)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
elif mode == "silent":
    # accept and say nothing for a long time
    c, _ = tcp()
    time.sleep(30)
elif mode == "peername":
    c, peer = tcp()
    c.sendall(f"{peer[0]} {peer[1]}\n".encode())
    c.close()
elif mode in ("udp-echo", "udp-echo6"):
    fam, host = (socket.AF_INET6, "::1") if mode == "udp-echo6" else (socket.AF_INET, "127.0.0.1")
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host, 0))
    announce(s.getsockname()[1])
    s.settimeout(20)
    for _ in range(int(arg or 1)):
        d, a = s.recvfrom(70000)
        s.sendto(b"echo:" + d, a)
elif mode == "unix-seqpacket":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(arg)
    s.listen(1)
    announce(0)
    c, _ = s.accept()
    while True:
        d = c.recv(70000)
        if not d:
            break
        c.send(b"echo:" + d)
    c.close()
elif mode == "unix-dgram":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(arg)
    announce(0)
    s.settimeout(20)
    d, a = s.recvfrom(70000)
    if a:
        s.sendto(b"echo:" + d, a)
else:
    sys.exit(f"unknown mode {mode}")
