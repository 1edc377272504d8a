#!/usr/bin/env python3
"""schema-check.py COMMAND FILE...: validate every line of FILEs (sockctl
COMMAND --json output, stdout and stderr) against docs/sockctl-COMMAND.schema.json
(JSON Schema draft 2020-12, with python3-jsonschema).  An event that the
schema does not name fails with a line saying so, so a new event cannot go
undocumented.  --require EVENT,...: each must have been seen at least once.
Prints one line per failure and a summary; status 1 on any failure."""
import json
import os
import sys

import jsonschema

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs")


def load(name):
    with open(os.path.join(DOCS, name)) as f:
        return json.load(f)


def main(argv):
    require = []
    if len(argv) > 2 and argv[1] == "--require":
        require = [e for e in argv[2].split(",") if e]
        argv = argv[:1] + argv[3:]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, files = argv[1], argv[2:]
    name = "sockctl-%s.schema.json" % cmd
    try:
        schema = load(name)
    except FileNotFoundError:
        print("not ok: %s: no schema docs/%s" % (cmd, name))
        return 1
    diag = load("sockctl-diagnostic.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator.check_schema(diag)
    resolver = jsonschema.RefResolver.from_schema(schema, store={diag["$id"]: diag})
    validator = jsonschema.Draft202012Validator(schema, resolver=resolver)
    known = schema["properties"]["event"]["enum"]
    seen, bad, lines = set(), 0, 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line:
                    continue
                lines += 1
                where = "%s:%d" % (path, n)
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    print("not ok: %s: not JSON (%s): %s" % (where, e, line[:200]))
                    bad += 1
                    continue
                ev = obj.get("event") if isinstance(obj, dict) else None
                if ev not in known:
                    print("not ok: %s: %s event %r has no schema in docs/%s "
                          "(add it to $defs and to the event enum): %s"
                          % (where, cmd, ev, name, line[:200]))
                    bad += 1
                    continue
                seen.add(ev)
                errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
                for e in errors[:3]:
                    print("not ok: %s: %s %r: %s at %s: %s"
                          % (where, cmd, ev, e.message, "/".join(map(str, e.path)) or "top",
                             line[:200]))
                if errors:
                    bad += 1
    for ev in require:
        if ev not in seen:
            print("not ok: %s: no %r event was produced (the test must exercise it)" % (cmd, ev))
            bad += 1
    print("%s: %d lines, events %s; %d failed" % (cmd, lines, ",".join(sorted(seen)), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
