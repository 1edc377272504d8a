#!/usr/bin/env python3
"""Compare `sockctl resolve --json` with Python's socket.getaddrinfo over many
host/service/family/type/flag combinations.  Run it inside the test namespace
(its resolver is a local dnsmasq), so no lookup leaves the machine.
Prints one line per mismatch and a final "compared N" line; exit 1 on any."""
import itertools
import json
import socket
import subprocess
import sys

SOCKCTL = sys.argv[1]
HOSTS = [None, "localhost", "127.0.0.1", "::1", "0.0.0.0", "::", "::ffff:127.0.0.1",
         "tutorialspoint.com", "edge.tutorialspoint.test", "v4only.test", "v6only.test",
         "nosuch.test"]
SERVICES = [None, "80", "www", "https", "domain", "0", "nosuchservice"]
FAMILIES = [(0, []), (socket.AF_INET, ["-4"]), (socket.AF_INET6, ["-6"])]
TYPES = [(0, []), (socket.SOCK_STREAM, ["--type", "stream"]),
         (socket.SOCK_DGRAM, ["--type", "dgram"]), (socket.SOCK_RAW, ["--type", "raw"])]
FLAGS = [(0, []), (socket.AI_PASSIVE, ["--passive"]), (socket.AI_CANONNAME, ["--canonname"]),
         (socket.AI_NUMERICHOST, ["--numeric-host"]), (socket.AI_NUMERICSERV, ["--numeric-serv"]),
         (socket.AI_V4MAPPED, ["--v4mapped"]),
         (socket.AI_V4MAPPED | socket.AI_ALL, ["--v4mapped", "--all"]),
         (socket.AI_ADDRCONFIG, ["--addrconfig"])]
FAMNAME = {socket.AF_INET: "inet", socket.AF_INET6: "inet6"}
TYPENAME = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "dgram", socket.SOCK_RAW: "raw"}
PROTONAME = {0: "ip", 6: "tcp", 17: "udp"}
EAI = {getattr(socket, n): n for n in dir(socket) if n.startswith("EAI_")}


def python_answer(host, serv, fam, typ, flags):
    try:
        res = socket.getaddrinfo(host, serv, fam, typ, 0, flags)
    except socket.gaierror as e:
        return ("error", EAI.get(e.errno, str(e.errno)))
    rows = []
    for f, t, p, canon, sa in res:
        addr = sa[0]
        if f == socket.AF_INET6 and sa[3]:
            addr = "%s%%%s" % (addr, socket.if_indextoname(sa[3]))
        rows.append((FAMNAME[f], TYPENAME[t], PROTONAME.get(p, p), addr, sa[1], canon or None))
    return ("ok", rows)


def sockctl_answer(host, serv, args):
    argv = [SOCKCTL, "resolve", "--json"] + args
    if host is not None or serv is not None:
        argv.append(host if host is not None else "")
    if serv is not None:
        argv.append(serv)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    if p.returncode != 0:
        names = [w.rstrip(":") for w in p.stderr.split() if w.startswith("EAI_")]
        return ("error", names[0] if names else "status %d: %s" % (p.returncode, p.stderr.strip()))
    rows = []
    for line in p.stdout.splitlines():
        o = json.loads(line)
        rows.append((o["family"], o["type"], o["protocol"], o["address"], o["port"],
                     o.get("canonname")))
    return ("ok", rows)


compared = mismatches = 0
for host, serv, (fam, fa), (typ, ta), (flags, fl) in itertools.product(
        HOSTS, SERVICES, FAMILIES, TYPES, FLAGS):
    if host is None and serv is None:
        continue  # sockctl refuses this as bad usage; tested separately
    want = python_answer(host, serv, fam, typ, flags)
    got = sockctl_answer(host, serv, fa + ta + fl)
    compared += 1
    if want != got:
        mismatches += 1
        print("MISMATCH host=%r serv=%r fam=%s type=%s flags=%s\n  python:  %r\n  sockctl: %r"
              % (host, serv, fam, typ, fl, want, got))
print("compared %d" % compared)
sys.exit(1 if mismatches else 0)
