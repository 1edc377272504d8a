#!/usr/bin/env bats
# listen --type seqpacket, sockets inherited with --fd (listen, connect), and
# systemd socket activation (systemd-socket-activate, and a python3 launcher).
bats_require_minimum_version 1.5.0
load helper

teardown() { common_teardown; }

SEQ="$BATS_TEST_DIRNAME/seqpacket.py"

# launch ENV_PID ENV_FDS FDSPEC SOCKCTL_ARGS...: run sockctl with the sockets
# of FDSPEC (comma-separated: tcp, tcp6, udp, unix, seq, file) as fds 3, 4,
# ...; LISTEN_PID is sockctl's own pid when ENV_PID is "self", left out when
# "-", else taken as is; LISTEN_FDS is ENV_FDS ("-": left out).  The port of
# the first IP socket goes to $BATS_TEST_TMPDIR/port.  python3 execs sockctl
# (same pid), so call it in a subshell: ( launch ... ) or launch ... &.
launch() {
	exec python3 - "$BATS_TEST_TMPDIR" "$@" <<'PY'
import os, socket, sys
tmp, envpid, envfds, spec = sys.argv[1:5]
argv = [os.environ["SOCKCTL"]] + sys.argv[5:]
socks, port = [], None
for i, kind in enumerate(spec.split(",")):
    if kind == "file":
        fd = os.open("/etc/hostname", os.O_RDONLY)
    else:
        fam = {"tcp6": socket.AF_INET6, "unix": socket.AF_UNIX, "seq": socket.AF_UNIX}.get(kind, socket.AF_INET)
        typ = {"udp": socket.SOCK_DGRAM, "seq": socket.SOCK_SEQPACKET}.get(kind, socket.SOCK_STREAM)
        s = socket.socket(fam, typ)
        if fam == socket.AF_UNIX:
            name = os.path.join(tmp, "l%d.sock" % i)
            if os.path.exists(name):
                os.unlink(name)
            s.bind(name)
        else:
            s.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0))
            port = port or s.getsockname()[1]
        if typ != socket.SOCK_DGRAM:
            s.listen(8)
        socks.append(s)
        fd = s.fileno()
    os.dup2(fd, 3 + i)
if port:
    with open(os.path.join(tmp, "port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(tmp, "port.tmp"), os.path.join(tmp, "port"))
# exec keeps the pid: LISTEN_PID is known before, and a kill reaches sockctl
env = dict(os.environ)
for k in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
    env.pop(k, None)
if envpid != "-":
    env["LISTEN_PID"] = str(os.getpid()) if envpid == "self" else envpid
if envfds != "-":
    env["LISTEN_FDS"] = envfds
os.execve(argv[0], argv, env)
PY
}

# wait_port: the port the launcher chose, in $PORT.
wait_port() {
	wait_for 10 test -s "$BATS_TEST_TMPDIR/port"
	PORT=$(cat "$BATS_TEST_TMPDIR/port")
}

# ---- listen --type seqpacket ----

@test "listen --type seqpacket: message boundaries and sha256 both ways, python3 client" {
	run -0 timeout 60 python3 "$SEQ" relay "$SOCKCTL" "$BATS_TEST_TMPDIR/s.sock" python
	[ ! -e "$BATS_TEST_TMPDIR/s.sock" ]
	grep -q "closed unix:(unnamed): 335642 bytes in, 61005 bytes out" "$BATS_TEST_TMPDIR/listen.err"
}

@test "listen --type seqpacket: boundaries kept with sockctl connect --type seqpacket as the client" {
	run -0 timeout 60 python3 "$SEQ" relay "$SOCKCTL" "$BATS_TEST_TMPDIR/s.sock" sockctl
}

@test "listen -k --type seqpacket: two clients, each message whole on stdout; stdin to both" {
	run -0 timeout 60 python3 "$SEQ" keep "$SOCKCTL" "$BATS_TEST_TMPDIR/s.sock"
}

@test "listen --echo --type seqpacket: each message back whole, with and without -k" {
	run -0 timeout 60 python3 "$SEQ" echo "$SOCKCTL" "$BATS_TEST_TMPDIR/s.sock"
	rm -f "$BATS_TEST_TMPDIR/s.sock"
	run -0 timeout 60 python3 "$SEQ" echo "$SOCKCTL" "$BATS_TEST_TMPDIR/s.sock" -k
}

@test "listen --type seqpacket: a message over 256 KiB is whole with -k, a failure (not cut) without" {
	sock=$BATS_TEST_TMPDIR/big.sock
	send_big() { # one message as big as the client's SO_SNDBUF allows (up to 3 MB)
		python3 -c '
import socket, sys, time
c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
n = min(3000000, c.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) - 4096)
assert n > 300000, n
c.settimeout(20)
for _ in range(200):
    try:
        c.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.05)
c.send(b"b" * n)
c.shutdown(socket.SHUT_WR)
c.recv(1)
print(n)' "$sock" >"$BATS_TEST_TMPDIR/size"
	}
	"$SOCKCTL" listen -k -U --type seqpacket "$sock" </dev/null >"$BATS_TEST_TMPDIR/out" &
	echo $! >>"$BATS_TEST_TMPDIR/.pids"
	send_big
	size=$(cat "$BATS_TEST_TMPDIR/size")
	wait_for 20 test "$(stat -c %s "$BATS_TEST_TMPDIR/out")" = "$size"
	[ "$(tr -d b <"$BATS_TEST_TMPDIR/out" | wc -c)" = 0 ]
	kill "$!"
	wait_for 10 test ! -e "$sock"
	"$SOCKCTL" listen -U --type seqpacket "$sock" </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	lp=$!
	echo "$lp" >>"$BATS_TEST_TMPDIR/.pids"
	send_big
	wait_pid 20 "$lp"
	[ "$WAIT_STATUS" = 1 ]
	grep -q "a message of $size bytes is larger than the 262144-byte buffer" "$BATS_TEST_TMPDIR/err"
}

@test "listen --type: bad input is one line, status 2" {
	assert_usage_error "--type" "$SOCKCTL" listen --type seqpacket 127.0.0.1 0
	assert_usage_error "--type" "$SOCKCTL" listen --type raw -U "$BATS_TEST_TMPDIR/x.sock"
	assert_usage_error "--type" "$SOCKCTL" listen -u --type dgram -U "$BATS_TEST_TMPDIR/x.sock"
	assert_usage_error "--backlog" "$SOCKCTL" listen --type dgram --backlog 3 -U "$BATS_TEST_TMPDIR/x.sock"
	[ ! -e "$BATS_TEST_TMPDIR/x.sock" ]
}

@test "listen --type dgram is -u on a Unix socket" {
	sock=$BATS_TEST_TMPDIR/d.sock
	"$SOCKCTL" listen -v --type dgram -U "$sock" </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	echo $! >>"$BATS_TEST_TMPDIR/.pids"
	wait_for 10 test -S "$sock"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"dgram!", sys.argv[1])' "$sock"
	wait_for 10 grep -q 'dgram!' "$BATS_TEST_TMPDIR/out"
}

# ---- --fd ----

@test "listen --fd: a listening TCP socket made by python3; data checked with sha256" {
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	launch - - tcp listen -v --fd 3 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	lp=$!
	echo "$lp" >>"$BATS_TEST_TMPDIR/.pids"
	wait_port
	wait_for 10 grep -q "listening on 127.0.0.1:$PORT" "$BATS_TEST_TMPDIR/err"
	timeout 20 nc.openbsd -N 127.0.0.1 "$PORT" <"$BATS_TEST_TMPDIR/in"
	wait_pid 20 "$lp"
	[ "$WAIT_STATUS" = 0 ]
	grep -q "closed 127.0.0.1:[0-9]*: 300000 bytes in" "$BATS_TEST_TMPDIR/err"
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/in")" = "$(sha256sum <"$BATS_TEST_TMPDIR/out")" ]
}

@test "listen --fd -k --echo: a bound (not listening) IPv6 socket is made to listen" {
	python3 - "$SOCKCTL" <<'PY'
import os, socket, subprocess, sys, time
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))
p = subprocess.Popen([sys.argv[1], "listen", "-k", "--echo", "--fd", str(s.fileno()), "--backlog", "4"],
                     pass_fds=[s.fileno()], stdin=subprocess.DEVNULL)
try:
    for i in range(2):
        for _ in range(200):
            try:
                c = socket.create_connection(s.getsockname()[:2], timeout=10)
                break
            except ConnectionRefusedError:
                time.sleep(0.05)
        data = os.urandom(100000)
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        back = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            back += b
        assert back == data, "echo %d of %d bytes" % (len(back), len(data))
    assert p.poll() is None, "listen -k ended"
finally:
    p.terminate()
    p.wait(10)
PY
}

@test "listen --fd: a bound UDP socket is served as with -u" {
	launch - - udp listen --fd 3 </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	echo $! >>"$BATS_TEST_TMPDIR/.pids"
	wait_port
	printf 'over udp' | timeout 10 nc.openbsd -u -w 1 127.0.0.1 "$PORT" || true
	wait_for 10 grep -q 'over udp' "$BATS_TEST_TMPDIR/out"
}

@test "listen --fd: what the descriptor is must fit; status 2, one line naming --fd" {
	assert_usage_error "--fd 9: not an open descriptor" "$SOCKCTL" listen --fd 9
	assert_usage_error "--fd 0: 0, 1 and 2" "$SOCKCTL" listen --fd 0
	assert_usage_error "--fd" "$SOCKCTL" listen --fd 3 127.0.0.1 0
	assert_usage_error "--fd" "$SOCKCTL" listen --fd 3 -U "$BATS_TEST_TMPDIR/x.sock"
	for c in "file|--fd 3: not a socket|" \
		"tcp|--fd 3: a socket of type stream, but the options ask for dgram|-u" \
		"tcp|--fd 3: a socket of family inet, but the options ask for inet6|-6" \
		"tcp|--fd 3: a socket of type stream, but the options ask for seqpacket|--type seqpacket" \
		"unix|--ttl, --tos, --nodelay and --keepalive need IP; --fd 3 is Unix|--ttl 5" \
		"unix|--allow/--deny need IP; --fd 3 is Unix|--allow 127.0.0.1" \
		"tcp|--type needs a Unix socket; --fd 3 is IP|--type stream"; do
		IFS='|' read -r spec want args <<<"$c"
		# shellcheck disable=SC2086
		assert_usage_error "$want" launch - - "$spec" listen --fd 3 $args </dev/null
	done
	# connected, or not bound: not something to listen on
	run -2 --separate-stderr python3 -c '
import os, socket, sys
a, b = socket.socketpair()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
os.dup2(a.fileno(), 3); os.dup2(u.fileno(), 4)
fd = sys.argv[2]
os.execv(sys.argv[1], [sys.argv[1], "listen", "--fd", fd])' "$SOCKCTL" 3
	[ "$stderr" = "sockctl listen: --fd 3: a connected socket, not a listening one (sockctl connect --fd relays it)" ]
	[ -z "$output" ]
	run -2 --separate-stderr python3 -c '
import os, socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
os.dup2(u.fileno(), 3)
os.execv(sys.argv[1], [sys.argv[1], "listen", "--fd", "3"])' "$SOCKCTL"
	[ "$stderr" = "sockctl listen: --fd 3: not bound to an address" ]
}

@test "connect --fd: relays a connected TCP socket both ways (sha256), and a Unix seqpacket one" {
	head -c 500000 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	run -0 python3 - "$SOCKCTL" "$BATS_TEST_TMPDIR/in" <<'PY'
import hashlib, os, socket, subprocess, sys, threading
l = socket.create_server(("127.0.0.1", 0))
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
reply = os.urandom(200000)
got = []
def peer():
    a.sendall(reply)
    d = b""
    while True:
        b = a.recv(65536)
        if not b:
            break
        d += b
    got.append(d)
    a.close()
a.settimeout(30)
t = threading.Thread(target=peer, daemon=True)
t.start()
with open(sys.argv[2], "rb") as f:
    p = subprocess.Popen([sys.argv[1], "connect", "--fd", str(c.fileno()), "--keep-sending"],
                         stdin=f, stdout=subprocess.PIPE, pass_fds=[c.fileno()])
c.close()  # only connect holds it now: its end is the peer's EOF
out, _ = p.communicate(timeout=30)
t.join(30)
sent = open(sys.argv[2], "rb").read()
assert p.returncode == 0, p.returncode
assert hashlib.sha256(out).digest() == hashlib.sha256(reply).digest(), len(out)
assert got and hashlib.sha256(got[0]).digest() == hashlib.sha256(sent).digest()
# seqpacket: each message a message
x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
i, j = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
y.settimeout(30)
q = subprocess.Popen([sys.argv[1], "connect", "--fd", str(x.fileno()), "--type", "seqpacket"],
                     stdin=j, stdout=subprocess.PIPE, pass_fds=[x.fileno()])
j.close(); x.close()
for n in (1, 5000, 70000):
    i.send(b"m" * n)
sizes = [len(y.recv(1 << 20)) for _ in range(3)]
assert sizes == [1, 5000, 70000], sizes
y.send(b"back")
i.shutdown(socket.SHUT_WR)
y.shutdown(socket.SHUT_WR)
out, _ = q.communicate(timeout=30)
assert q.returncode == 0 and out == b"back", (q.returncode, out)
PY
}

@test "connect --fd: what the descriptor is must fit; status 2, one line naming --fd" {
	assert_usage_error "--fd 9: not an open descriptor" "$SOCKCTL" connect --fd 9
	assert_usage_error "--fd 1: 0, 1 and 2" "$SOCKCTL" connect --fd 1
	assert_usage_error "--fd" "$SOCKCTL" connect --fd 3 127.0.0.1 80
	assert_usage_error "--fd" "$SOCKCTL" connect --fd 3 -z
	assert_usage_error "--fd" "$SOCKCTL" connect --fd 3 -s 127.0.0.1
	assert_usage_error "missing arguments" "$SOCKCTL" connect
	for c in "file|--fd 3: not a socket|" \
		"tcp|--fd 3: a listening socket, not a connected one|" \
		"udp|--fd 3: not connected to a peer|-u"; do
		IFS='|' read -r spec want args <<<"$c"
		# shellcheck disable=SC2086
		assert_usage_error "$want" launch - - "$spec" connect --fd 3 $args </dev/null
	done
	run -2 --separate-stderr python3 -c '
import os, socket, sys
a, b = socket.socketpair()
os.dup2(a.fileno(), 3)
os.execv(sys.argv[1], [sys.argv[1], "connect", "--fd", "3"] + sys.argv[2:])' "$SOCKCTL" -u
	[ "$stderr" = "sockctl connect: --fd 3: a socket of type stream, but the options ask for dgram" ]
	run -2 --separate-stderr python3 -c '
import os, socket, sys
a, b = socket.socketpair()
os.dup2(a.fileno(), 3)
os.execv(sys.argv[1], [sys.argv[1], "connect", "--fd", "3"] + sys.argv[2:])' "$SOCKCTL" --nodelay
	[[ $stderr == "sockctl connect: --fd 3: --tcp-info/--nodelay need a TCP connection" ]]
}

@test "udp-recv --fd: the shared check (not bound, wrong family)" {
	assert_usage_error "--fd 3: a socket of family inet, but the options ask for inet6" \
		launch - - udp udp-recv -6 -w 5 --fd 3
	run -2 --separate-stderr python3 -c '
import os, socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
os.dup2(u.fileno(), 3)
os.execv(sys.argv[1], [sys.argv[1], "udp-recv", "--fd", "3"])' "$SOCKCTL"
	[ "$stderr" = "sockctl udp-recv: --fd 3: not bound to an address" ]
}

# ---- socket activation ----

@test "activation: systemd-socket-activate passes a Unix socket; listen --echo serves it, no address" {
	command -v systemd-socket-activate || skip "no systemd-socket-activate"
	sock=$BATS_TEST_TMPDIR/a.sock
	bg timeout 30 systemd-socket-activate -l "$sock" -- "$SOCKCTL" listen -v --echo \
		</dev/null 2>"$BATS_TEST_TMPDIR/err"
	wait_for 10 test -S "$sock"
	head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	timeout 20 nc.openbsd -N -U "$sock" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	[ "$(sha256sum <"$BATS_TEST_TMPDIR/in")" = "$(sha256sum <"$BATS_TEST_TMPDIR/out")" ]
	wait_pid 20 "$BG_PID"
	[ "$WAIT_STATUS" = 0 ]
	grep -qx "sockctl listen: listening on unix:$sock" "$BATS_TEST_TMPDIR/err"
	# the launcher made the file; listen leaves it
	[ -S "$sock" ]
}

@test "activation: two sockets (TCP and Unix) in one -k loop" {
	command -v systemd-socket-activate || skip "no systemd-socket-activate"
	port=$(free_port)
	sock=$BATS_TEST_TMPDIR/b.sock
	bg timeout 30 systemd-socket-activate -l "127.0.0.1:$port" -l "$sock" -- \
		"$SOCKCTL" listen -k --echo --json </dev/null 2>"$BATS_TEST_TMPDIR/err"
	wait_for 10 test -S "$sock"
	run -0 bash -c 'printf one | timeout 10 nc.openbsd -N 127.0.0.1 "$1"' _ "$port"
	[ "$output" = one ]
	run -0 bash -c 'printf two | timeout 10 nc.openbsd -N -U "$1"' _ "$sock"
	[ "$output" = two ]
	[ "$(grep -c '"event":"listening"' "$BATS_TEST_TMPDIR/err")" = 2 ]
	grep -q "\"address\":\"$sock\"" "$BATS_TEST_TMPDIR/err"
	kill -0 "$BG_PID"
}

@test "activation: a seqpacket socket from systemd-socket-activate keeps message boundaries" {
	command -v systemd-socket-activate || skip "no systemd-socket-activate"
	run -0 timeout 60 python3 "$SEQ" relay "$SOCKCTL" "$BATS_TEST_TMPDIR/q.sock" python activate
}

@test "activation: a datagram socket is served as with -u" {
	command -v systemd-socket-activate || skip "no systemd-socket-activate"
	sock=$BATS_TEST_TMPDIR/d.sock
	bg timeout 30 systemd-socket-activate -d -l "$sock" -- "$SOCKCTL" listen \
		</dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	wait_for 10 test -S "$sock"
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"activated", sys.argv[1])' "$sock"
	wait_for 10 grep -q activated "$BATS_TEST_TMPDIR/out"
}

@test "activation: systemd's Accept=yes passes a connection: connect --fd 3 relays it, listen refuses it" {
	command -v systemd-socket-activate || skip "no systemd-socket-activate"
	sock=$BATS_TEST_TMPDIR/acc.sock
	bg timeout 30 systemd-socket-activate -a -l "$sock" -- "$SOCKCTL" connect --fd 3 \
		</dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	wait_for 10 test -S "$sock"
	run -0 bash -c 'printf hello | timeout 10 socat -t 5 - "UNIX-CONNECT:$1"' _ "$sock"
	wait_for 10 grep -qx hello "$BATS_TEST_TMPDIR/out"
	kill "$BG_PID"
	sock2=$BATS_TEST_TMPDIR/acc2.sock
	bg timeout 30 systemd-socket-activate -a -l "$sock2" -- "$SOCKCTL" listen \
		</dev/null 2>"$BATS_TEST_TMPDIR/err2"
	wait_for 10 test -S "$sock2"
	timeout 10 socat -u /dev/null "UNIX-CONNECT:$sock2" || true
	wait_for 10 grep -q "LISTEN_FDS: fd 3: a connected socket" "$BATS_TEST_TMPDIR/err2"
}

@test "activation: a python3 launcher; LISTEN_PID must be ours; bad LISTEN_FDS is status 2" {
	# two IP listeners, served by one loop; the first one's port is in the file
	launch self 2 tcp,tcp6 listen -v </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	echo $! >>"$BATS_TEST_TMPDIR/.pids"
	wait_port
	wait_for 10 grep -q "listening on \[::1\]:" "$BATS_TEST_TMPDIR/err"
	grep -q "listening on 127.0.0.1:$PORT" "$BATS_TEST_TMPDIR/err"
	printf 'via launcher' | timeout 10 nc.openbsd -N 127.0.0.1 "$PORT"
	wait_for 10 grep -q 'via launcher' "$BATS_TEST_TMPDIR/out"
	# meant for another process: ignored (so an address is needed)
	assert_usage_error "PORT" launch 1 1 tcp listen
	assert_usage_error "LISTEN_FDS: not a count" launch self 1x tcp listen
	assert_usage_error "LISTEN_FDS: 17 sockets" launch self 17 tcp listen
	assert_usage_error "LISTEN_FDS: fd 3: not a socket" launch self 1 file listen
	assert_usage_error "LISTEN_FDS: fd 4 is dgram, fd 3 stream" launch self 2 tcp,udp listen
	assert_usage_error "LISTEN_FDS gives the socket" launch self 1 tcp listen 127.0.0.1 0
	assert_usage_error "--fd cannot be used with" launch self 1 tcp listen --fd 3
	assert_usage_error "LISTEN_FDS: fd 3: a socket of family inet, but the options ask for inet6" \
		launch self 1 tcp listen -6
}
