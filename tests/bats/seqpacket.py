#!/usr/bin/env python3
"""Message boundaries through 'sockctl listen --type seqpacket' (inherit.bats).

Every hop is a SOCK_SEQPACKET socket, so each read and each write is seen:
listen's stdin and stdout are socketpairs, and so are the stdin and stdout of
a 'sockctl connect --type seqpacket' client.  A message that arrives split,
merged or changed fails the check (sizes in order, and sha256 of the bytes).

seqpacket.py relay SOCKCTL PATH CLIENT [ACTIVATE]
    listen without -k; CLIENT is 'python' or 'sockctl'; ACTIVATE 'activate'
    starts listen under systemd-socket-activate --seqpacket.
seqpacket.py keep SOCKCTL PATH      listen -k: two clients, stdin broadcast
seqpacket.py echo SOCKCTL PATH [-k] listen --echo (two clients with -k)
Exit 0 when every check passed; a message on stderr otherwise.
"""
import atexit
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time

SEQ = socket.SOCK_SEQPACKET
TIMEOUT = 30
mode, sockctl, path = sys.argv[1], sys.argv[2], sys.argv[3]
extra = sys.argv[4:]


PROCS = []


@atexit.register
def stop_all():
    """Whatever happened, no process of ours outlives the check."""
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    PROCS.append(p)
    return p


def fail(msg):
    sys.stderr.write("seqpacket.py: %s\n" % msg)
    sys.exit(1)


def messages(sizes, tag):
    """Messages of the given sizes, each one different (tag, index, random)."""
    out = []
    for i, n in enumerate(sizes):
        head = b"%s%d:" % (tag, i)
        body = head + os.urandom(max(0, n - len(head)))
        out.append(body[:n])
    return out


def digest(msgs):
    h = hashlib.sha256()
    for m in msgs:
        h.update(m)
    return h.hexdigest()


def same(what, got, want):
    if [len(m) for m in got] != [len(m) for m in want]:
        fail("%s: sizes %s, want %s" % (what, [len(m) for m in got][:12],
                                        [len(m) for m in want]))
    if digest(got) != digest(want):
        fail("%s: sha256 %s, want %s" % (what, digest(got), digest(want)))


class Reader(threading.Thread):
    """Collect messages from a seqpacket socket until EOF or @count messages."""

    def __init__(self, sock, count=None):
        super().__init__(daemon=True)
        self.sock, self.count, self.msgs = sock, count, []
        self.sock.settimeout(TIMEOUT)
        self.start()

    def run(self):
        try:
            while self.count is None or len(self.msgs) < self.count:
                m = self.sock.recv(1 << 22)
                if not m:
                    return
                self.msgs.append(m)
        except OSError as e:
            self.error = e

    def result(self, what):
        self.join(TIMEOUT)
        if self.is_alive():
            fail("%s: still waiting after %ds (%d messages)" % (what, TIMEOUT, len(self.msgs)))
        return self.msgs


def wait_path():
    for _ in range(TIMEOUT * 20):
        if os.path.exists(path):
            return
        time.sleep(0.05)
    fail("%s never appeared" % path)


def start_listen(args, stdin, stdout, activate=False):
    cmd = [sockctl, "listen", "-v"] + args
    if activate:
        cmd = ["systemd-socket-activate", "--seqpacket", "-l", path, "--"] + cmd
    else:
        cmd[3:3] = ["-U", "--type", "seqpacket", path]
    err = open(os.path.join(os.path.dirname(path), "listen.err"), "wb")
    p = spawn(cmd, stdin=stdin, stdout=stdout, stderr=err)
    return p


def wait_exit(p, what):
    try:
        rc = p.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("%s still running after %ds" % (what, TIMEOUT))
    if rc != 0:
        fail("%s: exit status %d" % (what, rc))


def client():
    c = socket.socket(socket.AF_UNIX, SEQ)
    c.settimeout(TIMEOUT)
    for _ in range(TIMEOUT * 20):
        try:
            c.connect(path)
            return c
        except OSError:
            time.sleep(0.05)
    fail("cannot connect to %s" % path)


# sizes: tiny, a 64 KiB read's worth and more than that (one message each)
TO_SERVER = [1, 100, 65536, 70000, 200000, 5]
TO_CLIENTS = [3, 1000, 60000, 2]


def relay(kind, activate):
    in_a, in_b = socket.socketpair(socket.AF_UNIX, SEQ)
    out_a, out_b = socket.socketpair(socket.AF_UNIX, SEQ)
    p = start_listen([], in_b, out_b, activate)
    in_b.close()
    out_b.close()
    wait_path()
    stdout = Reader(out_a)
    up, down = messages(TO_SERVER, b"c"), messages(TO_CLIENTS, b"s")
    q = None
    if kind == "sockctl":
        cin_a, cin_b = socket.socketpair(socket.AF_UNIX, SEQ)
        cout_a, cout_b = socket.socketpair(socket.AF_UNIX, SEQ)
        q = spawn([sockctl, "connect", "--type", "seqpacket", "-U", path],
                  stdin=cin_b, stdout=cout_b)
        cin_b.close()
        cout_b.close()
        send, recv_sock = cin_a, cout_a
    else:
        send = recv_sock = client()
    got = Reader(recv_sock, len(down))
    for m in down:
        in_a.send(m)
    for m in up:
        send.send(m)
    same("client received", got.result("client"), down)
    # both directions are through: now both ends say EOF
    in_a.shutdown(socket.SHUT_WR)
    send.shutdown(socket.SHUT_WR)
    wait_exit(p, "listen")
    if q:
        wait_exit(q, "connect")
    same("listen's stdout", stdout.result("stdout"), up)


def keep():
    in_a, in_b = socket.socketpair(socket.AF_UNIX, SEQ)
    out_a, out_b = socket.socketpair(socket.AF_UNIX, SEQ)
    p = start_listen(["-k"], in_b, out_b)
    in_b.close()
    out_b.close()
    wait_path()
    up1, up2 = messages(TO_SERVER, b"a"), messages(TO_SERVER[::-1], b"b")
    stdout = Reader(out_a, len(up1) + len(up2))
    err = os.path.join(os.path.dirname(path), "listen.err")
    c1, c2 = client(), client()
    for _ in range(TIMEOUT * 20):
        with open(err, "rb") as f:
            if f.read().count(b"connection from") == 2:
                break
        time.sleep(0.05)
    else:
        fail("listen did not report two clients")
    down = messages(TO_CLIENTS, b"s")
    r1, r2 = Reader(c1, len(down)), Reader(c2, len(down))
    for m in down:
        in_a.send(m)
    same("client 1 received", r1.result("client 1"), down)
    same("client 2 received", r2.result("client 2"), down)
    t = threading.Thread(target=lambda: [c2.send(m) for m in up2], daemon=True)
    t.start()
    for m in up1:
        c1.send(m)
    t.join(TIMEOUT)
    c1.close()
    c2.close()
    # -k: listen serves on after both left; stdout holds both clients' messages
    msgs = stdout.result("stdout")
    same("stdout from client 1", [m for m in msgs if m.startswith(b"a")], up1)
    same("stdout from client 2", [m for m in msgs if m.startswith(b"b")], up2)
    if p.poll() is not None:
        fail("listen -k exited (status %d) when its clients left" % p.returncode)
    p.terminate()
    p.wait(TIMEOUT)


def echo(keep_open):
    p = start_listen(["--echo"] + (["-k"] if keep_open else []), subprocess.DEVNULL,
                     subprocess.DEVNULL)
    wait_path()
    clients = [client() for _ in range(2 if keep_open else 1)]
    sent = [messages(TO_SERVER, b"e%d" % i) for i in range(len(clients))]
    readers = [Reader(c, len(s)) for c, s in zip(clients, sent)]
    threads = [threading.Thread(target=lambda c=c, s=s: [c.send(m) for m in s], daemon=True)
               for c, s in zip(clients, sent)]
    for t in threads:
        t.start()
    for i, (r, s) in enumerate(zip(readers, sent)):
        same("echo to client %d" % (i + 1), r.result("echo"), s)
    for c in clients:
        c.shutdown(socket.SHUT_WR)
        if c.recv(10) != b"":
            fail("more than the echo came back")
    if keep_open:
        if p.poll() is not None:
            fail("listen -k --echo exited")
        p.terminate()
        p.wait(TIMEOUT)
    else:
        wait_exit(p, "listen --echo")


if mode == "relay":
    relay(extra[0], len(extra) > 1 and extra[1] == "activate")
elif mode == "keep":
    keep()
elif mode == "echo":
    echo(extra[:1] == ["-k"])
else:
    fail("unknown mode " + mode)
print("ok")
