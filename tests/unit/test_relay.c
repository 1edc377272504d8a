/* SPDX-License-Identifier: MIT */
/* lib/relay against a peer in a child process, over socketpairs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay.h"
#include "unit.h"

#define BIG (3 * 1024 * 1024 + 17)

static char *pattern(size_t n)
{
	char *p = malloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (char)(i * 131 + i / 7);
	return p;
}

static int tmpfile_with(const void *data, size_t n)
{
	char name[] = "/tmp/test_relay.XXXXXX";
	int fd = mkstemp(name);

	unlink(name);
	if (write(fd, data, n) != (ssize_t)n)
		return -1;
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static size_t slurp(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
		got += (size_t)n;
	return got;
}

/* Child: echo every byte back until EOF, then close. */
static void echo_peer(int s)
{
	char buf[65536];
	ssize_t n, w, off;

	while ((n = read(s, buf, sizeof(buf))) > 0)
		for (off = 0; off < n; off += w)
			if ((w = write(s, buf + off, (size_t)(n - off))) <= 0)
				_exit(1);
	_exit(0);
}

static pid_t spawn(int sv[2], void (*fn)(int))
{
	pid_t pid = fork();

	if (pid == 0) {
		close(sv[0]);
		fn(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	return pid;
}

static void test_echo_intact(void)
{
	int sv[2], in, out;
	char *data = pattern(BIG), *back = malloc(BIG + 1);
	struct relay_opts o;
	struct relay_stats st;
	struct err e = { 0 };
	pid_t pid;
	int rc;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = spawn(sv, echo_peer);
	in = tmpfile_with(data, BIG);
	out = tmpfile_with("", 0);
	relay_opts_init(&o);
	rc = relay_run(sv[0], in, out, &o, &st, &e);
	CHECK(rc == 0, "echo: relay ends with 0 (%s)", rc ? e.msg : "ok");
	CHECK(st.to_sock == BIG && st.to_out == BIG, "echo: %d bytes each way (%llu, %llu)", BIG,
	      (unsigned long long)st.to_sock, (unsigned long long)st.to_out);
	CHECK(slurp(out, back, BIG + 1) == BIG && !memcmp(data, back, BIG),
	      "echo: the bytes come back unchanged and in order");
	CHECK(st.peer_eof && st.stdin_eof, "echo: both EOFs seen");
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close(in);
	close(out);
	free(data);
	free(back);
}

static void say_x_and_close(int s)
{
	if (write(s, "x", 1) != 1)
		_exit(1);
	_exit(0);
}

static void test_peer_close_with_stdin_open(void)
{
	int sv[2], p[2], out;
	struct relay_opts o;
	struct relay_stats st;
	struct err e = { 0 };
	char c = 0;
	pid_t pid;
	int rc;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	if (pipe(p))
		return;
	pid = spawn(sv, say_x_and_close);
	out = tmpfile_with("", 0);
	relay_opts_init(&o);
	o.exit_on_peer_eof = 1;
	rc = relay_run(sv[0], p[0], out, &o, &st, &e); /* p[1] stays open */
	CHECK(rc == 0 && st.peer_eof && !st.stdin_eof && st.stdin_cut && st.stdin_left == 0,
	      "exit_on_peer_eof: peer closes while stdin is open: the relay ends anyway");
	CHECK(slurp(out, &c, 1) == 1 && c == 'x', "peer closes: its byte arrived");
	waitpid(pid, NULL, 0);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(out);
}

static void silent(int s)
{
	char c;

	(void)!read(s, &c, 1); /* until the parent goes */
	_exit(0);
}

static void test_idle_timeout(void)
{
	int sv[2], out;
	struct relay_opts o;
	struct relay_stats st;
	struct err e = { 0 };
	pid_t pid;
	int rc;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = spawn(sv, silent);
	out = tmpfile_with("", 0);
	relay_opts_init(&o);
	o.recv_only = 1;
	o.idle_timeout = 100 * 1000 * 1000;
	rc = relay_run(sv[0], -1, out, &o, &st, &e);
	CHECK(rc == -1 && e.status == EXIT_FAIL, "idle timeout: status 1");
	CHECK_STR(e.msg, "idle timeout after 100ms", "idle timeout: the message");
	close(sv[0]);
	waitpid(pid, NULL, 0);
	close(out);
}

static void test_dgram_boundaries(void)
{
	int sv[2], out;
	struct relay_opts o;
	struct relay_stats st;
	struct err e = { 0 };
	char buf[64] = "";
	pid_t pid;
	int rc;

	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		if (send(sv[1], "one", 3, 0) != 3 || send(sv[1], "two!", 4, 0) != 4)
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	out = tmpfile_with("", 0);
	relay_opts_init(&o);
	o.dgram = 1;
	o.recv_only = 1;
	rc = relay_run(sv[0], -1, out, &o, &st, &e);
	CHECK(rc == 0 && st.to_out == 7 && slurp(out, buf, sizeof(buf)) == 7 &&
		      !memcmp(buf, "onetwo!", 7),
	      "seqpacket: two messages, then EOF");
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close(out);
}

static void test_stdout_error(void)
{
	int sv[2], full = open("/dev/full", O_WRONLY);
	struct relay_opts o;
	struct relay_stats st;
	struct err e = { 0 };
	pid_t pid;
	int rc;

	if (full < 0)
		return;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = spawn(sv, say_x_and_close);
	relay_opts_init(&o);
	o.recv_only = 1;
	rc = relay_run(sv[0], -1, full, &o, &st, &e);
	CHECK(rc == -1 && st.out_errno == ENOSPC, "stdout /dev/full: an error, ENOSPC");
	CHECK_STR(e.msg, "write error on stdout: no space left on device", "stdout: the message");
	waitpid(pid, NULL, 0);
	close(sv[0]);
	close(full);
}

int main(void)
{
	test_echo_intact();
	test_peer_close_with_stdin_open();
	test_idle_timeout();
	test_dgram_boundaries();
	test_stdout_error();
	return UNIT_DONE();
}
