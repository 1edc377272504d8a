#!/usr/bin/env python3
"""TLS peers for tls.bats, on python's ssl module (a real, independent TLS stack).

Server modes (listen on 127.0.0.1:0, write the port to READY, serve one client):
  tls_peer.py MODE READY CERT KEY [ARG]
    swap FILE OUT   read the client's bytes to its close_notify into OUT,
                    then send FILE and close_notify
    notify DATA     send DATA, then close_notify, then wait for the client's
    fin DATA        send DATA, then close TCP without close_notify
    stall           accept TCP, never answer (the handshake stalls)
    garbage         accept TCP, answer the ClientHello with plaintext
    smtp            a plaintext SMTP dialogue up to STARTTLS, then TLS: say
                    "tls-ok" and close_notify ("smtp-notls": no STARTTLS offered)
    starttls-PROTO  the same for imap, pop3, ftp, xmpp, postgres
Client mode:
  tls_peer.py client PORT CAFILE DATA   verify localhost, send DATA and
                    close_notify, print what comes back (to the server's EOF)
"""
import socket
import ssl
import sys
import time


def listen(ready):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    import os
    os.rename(ready + ".tmp", ready)
    s.settimeout(60)
    return s


def server_ctx(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def read_all(t):
    out = bytearray()
    while True:
        b = t.recv(1 << 16)
        if not b:
            return bytes(out)
        out += b


def smtp(c, ctx, offer):
    f = c.makefile("rb")
    c.sendall(b"220 peer ESMTP ready\r\n")
    while True:
        line = f.readline().strip().upper()
        if line.startswith(b"EHLO"):
            c.sendall(b"250-peer hello\r\n250-SIZE 1000\r\n" +
                      (b"250 STARTTLS\r\n" if offer else b"250 HELP\r\n"))
        elif line == b"STARTTLS" and offer:
            c.sendall(b"220 go ahead\r\n")
            t = ctx.wrap_socket(c, server_side=True)
            t.sendall(b"tls-ok\n")
            t.unwrap()
            return
        else:
            c.sendall(b"502 no\r\n")
            return


def read_until(c, token):
    got = b""
    while token not in got:
        b = c.recv(4096)
        if not b:
            raise SystemExit("client left before %r" % token)
        got += b
    return got


# proto: (greeting, what the client sends, the answer that says go on)
DIALOGUES = {
    "imap": (b"* OK IMAP4rev1 ready\r\n", b"STARTTLS\r\n", b"a OK begin TLS\r\n"),
    "pop3": (b"+OK POP3 ready\r\n", b"STLS\r\n", b"+OK begin TLS\r\n"),
    "ftp": (b"220-welcome\r\n220 ready\r\n", b"AUTH TLS\r\n", b"234 AUTH TLS ok\r\n"),
    "postgres": (b"", b"\x04\xd2\x16\x2f", b"S"),
    "xmpp": (None, b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
             b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
}


def plain_starttls(c, ctx, proto):
    greeting, ask, go = DIALOGUES[proto]
    if proto == "xmpp":
        read_until(c, b"version='1.0'>")
        c.sendall(b"<?xml version='1.0'?><stream:stream from='peer' version='1.0'>"
                  b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
                  b"<required/></starttls></stream:features>")
    elif greeting:
        c.sendall(greeting)
    read_until(c, ask)
    c.sendall(go)
    t = ctx.wrap_socket(c, server_side=True)
    t.sendall(b"tls-ok\n")
    t.unwrap()


def main():
    mode = sys.argv[1]
    if mode == "client":
        port, ca, data = int(sys.argv[2]), sys.argv[3], sys.argv[4].encode()
        ctx = ssl.create_default_context(cafile=ca)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
            t = ctx.wrap_socket(c, server_hostname="localhost")
            t.sendall(data)
            sys.stdout.buffer.write(read_all(t))
            try:
                t.unwrap()
            except (ssl.SSLError, OSError):
                pass
        return
    ready, cert, key = sys.argv[2], sys.argv[3], sys.argv[4]
    arg = sys.argv[5:]
    s = listen(ready)
    c, _ = s.accept()
    c.settimeout(60)
    ctx = server_ctx(cert, key)
    if mode == "stall":
        time.sleep(60)
        return
    if mode == "garbage":
        c.recv(4096)
        c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nthis is not TLS\r\n")
        time.sleep(30)
        return
    if mode.startswith("starttls-"):
        plain_starttls(c, ctx, mode[len("starttls-"):])
        return
    if mode in ("smtp", "smtp-notls"):
        smtp(c, ctx, mode == "smtp")
        return
    t = ctx.wrap_socket(c, server_side=True)
    if mode == "swap":
        got = read_all(t)
        with open(arg[1], "wb") as f:
            f.write(got)
        with open(arg[0], "rb") as f:
            while True:
                b = f.read(1 << 16)
                if not b:
                    break
                t.sendall(b)
        t.unwrap()
    elif mode == "notify":
        t.sendall(arg[0].encode())
        t.unwrap()
    elif mode == "fin":
        t.sendall(arg[0].encode())
        time.sleep(0.2)
        c2 = socket.socket(fileno=t.detach())
        c2.shutdown(socket.SHUT_RDWR)
        c2.close()


main()
