#!/usr/bin/env bash
# How many bad-input cases the bats suite tries, per command: every call of
# assert_usage_error / usage_error / bad_arg and every `run -2`, multiplied
# out over the `for X in WORDS; do ... done` loops around it (a loop over
# the commands, or over `$(sockctl --list-commands)`, spreads its cases over
# each command), plus the status-2 rows of valgrind.bats.
#   tests/bad-input-count.sh            # the table
set -eu
cd "$(dirname "$0")/bats"
python3 - *.bats <<'PY'
import re, sys
CMDS = ["resolve", "connect", "listen", "udp-send", "udp-recv", "raw-icmp"]
CHECK = re.compile(r'^\s*(assert_usage_error|usage_error|(?:\w+=\S+\s+)?bad_arg|run -2\b)')
total = {c: 0 for c in CMDS + ["(sockctl)"]}
for path in sys.argv[1:]:
    stack = []  # (var, words) of the enclosing for-loops
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r'^\s*for (\w+) in (.*?); do\s*$', line)
        if m:
            var, words = m.group(1), m.group(2)
            if "--list-commands" in words:
                items = CMDS
            else:
                items = re.findall(r'"[^"]*"|\'[^\']*\'|\S+', words)
            stack.append((var, items))
            continue
        if re.match(r'^\s*done\b', line) and stack:
            stack.pop()
            continue
        # valgrind.bats rows: "COMMAND 2 ARGS..."
        m = re.match(r'^(resolve|connect|listen|udp-send|udp-recv|raw-icmp) 2\b', line)
        if m and path == "valgrind.bats":
            total[m.group(1)] += 1
            continue
        if not CHECK.match(line):
            continue
        mult, cmd = 1, None
        for var, items in stack:
            if re.search(r'"?\$\{?%s\b' % var, line) and all(i in CMDS for i in items):
                continue  # a loop over commands: handled below
            mult *= len(items)
        words = re.findall(r'"[^"]*"|\'[^\']*\'|\S+', line)
        for i, w in enumerate(words):
            w = w.strip('"\'')
            if w in CMDS:
                cmd = w
                break
            if re.fullmatch(r'\$\{?(\w+)\}?', w):
                var = re.fullmatch(r'\$\{?(\w+)\}?', w).group(1)
                loop = [it for v, it in stack if v == var]
                if loop and all(i in CMDS for i in loop[0]):
                    for c in loop[0]:
                        total[c] += mult
                    cmd = "done"
                    break
        if cmd is None:
            # sockctl itself (bad command names, help NOSUCH)
            if "SOCKCTL" in line:
                total["(sockctl)"] += mult
            continue
        if cmd != "done":
            total[cmd] += mult
print("%-10s %s" % ("command", "bad inputs tried"))
for c in CMDS + ["(sockctl)"]:
    print("%-10s %d" % (c, total[c]))
print("%-10s %d" % ("total", sum(total.values())))
PY
