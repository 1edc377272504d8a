#!/usr/bin/env python3
# probe_seq.py FORMAT FILE N: the udp-recv output FILE (FORMAT text or json)
# holds exactly N lines, each a probe of udp-send (seq 0..N-1), in order: no
# gap, no duplicate, nothing out of place.  JSON lines must each parse.
# Prints "ok N" or what is wrong (exit 1).
import codecs
import json
import sys

fmt, path, want = sys.argv[1], sys.argv[2], int(sys.argv[3])


def payload(line):
    if fmt == "json":
        o = json.loads(line.decode("utf-8"))
        if o.get("event") != "datagram":
            return None
        if "data" in o:
            return o["data"].encode("utf-8")
        return bytes.fromhex(o["data_hex"])
    head, sep, rest = line.partition(b": ")
    if not sep:
        raise ValueError("no ': ' in a text line")
    # \\ \n \r \t \xNN undone; UTF-8 shown as is stays the bytes it was
    return codecs.escape_decode(rest)[0]


n = 0
with open(path, "rb") as f:
    for line in f:
        if not line.endswith(b"\n"):
            sys.exit("line %d is not whole: %r" % (n + 1, line[:80]))
        try:
            p = payload(line[:-1])
        except (ValueError, UnicodeDecodeError) as e:
            sys.exit("line %d does not parse (%s): %r" % (n + 1, e, line[:80]))
        if p is None:  # the JSON stats line
            continue
        if p[:4] != b"SKP1" or len(p) < 32:
            sys.exit("line %d is not a probe: %r" % (n + 1, line[:80]))
        seq = int.from_bytes(p[8:16], "big")
        if seq != n:
            sys.exit("line %d: seq %d where %d was due (gap, duplicate or reorder)"
                     % (n + 1, seq, n))
        n += 1
if n != want:
    sys.exit("%d probes, %d expected" % (n, want))
print("ok", n)
