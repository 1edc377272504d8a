/* SPDX-License-Identifier: MIT */
/* lib/exec: command lines, statuses, the spawned program's descriptors and environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "relay.h"
#include "unit.h"

static void test_parse(void)
{
	struct exec_cmd x;
	struct err e = { 0 };

	CHECK(!exec_cmd_parse("  cat\t-u  -v ", 0, &x, &e), "words: parsed");
	CHECK_STR(x.argv[0], "cat", "words: program");
	CHECK_STR(x.argv[1], "-u", "words: first argument");
	CHECK_STR(x.argv[2], "-v", "words: second argument, tab and spaces between");
	CHECK(x.argv[3] == NULL, "words: NULL-terminated");
	exec_cmd_free(&x);
	CHECK(!exec_cmd_parse("echo 'a  b' | wc", 1, &x, &e), "shell: parsed");
	CHECK_STR(x.argv[0], "/bin/sh", "shell: /bin/sh");
	CHECK_STR(x.argv[2], "echo 'a  b' | wc", "shell: the command whole");
	exec_cmd_free(&x);
	CHECK(exec_cmd_parse(" \t ", 0, &x, &e) && e.status == EXIT_USAGE, "empty: status 2");
	CHECK(exec_cmd_parse("no-such-program-xyz a", 0, &x, &e) && e.status == EXIT_USAGE &&
		      strstr(e.msg, "no-such-program-xyz"),
	      "missing program: status 2, named");
	CHECK(exec_cmd_parse("/etc/passwd", 0, &x, &e), "not executable: refused");
}

static void test_status(void)
{
	struct exec_status st;

	exec_status_decode(3 << 8, &st);
	CHECK(st.exited && st.code == 3 && exec_status_exit(&st) == 3, "exit 3");
	exec_status_decode(15, &st);
	CHECK(!st.exited && st.signal == 15 && exec_status_exit(&st) == 143, "SIGTERM: 143");
}

/* The child sees 0-2 only and the four variables, from a socketpair (a Unix socket). */
static void test_spawn(void)
{
	struct exec_cmd x;
	struct exec_status st;
	struct err e = { 0 };
	char buf[512] = { 0 };
	int sv[2], extra = dup(2), n = 0, r;
	pid_t pid;

	setenv("SOCKCTL_PEER_ADDR", "stale", 1);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	CHECK(!exec_cmd_parse("ls /proc/self/fd; echo \"[${SOCKCTL_PEER_ADDR-unset}]"
			      "[${SOCKCTL_PEER_PORT-unset}]\"", 1, &x, &e), "parse");
	CHECK(!exec_spawn(&x, sv[1], sv[1], sv[1], &pid, &e), "spawned");
	close(sv[1]);
	while ((r = (int)read(sv[0], buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	CHECK(!exec_wait(pid, &st, &e) && st.exited && st.code == 0, "exited 0");
	/* ls's own directory descriptor is 3: nothing of ours (the dup of 2) leaked */
	CHECK_STR(buf, "0\n1\n2\n3\n[][unset]\n", "fds 0-3 only; a Unix peer: empty address, no port");
	close(sv[0]);
	close(extra);
	exec_cmd_free(&x);
	unsetenv("SOCKCTL_PEER_ADDR");
}

static void test_crlf(void)
{
	char b[32];
	int cr = 0;
	size_t n;

	strcpy(b, "a\nb\r\nc\n");
	n = relay_crlf(b, strlen(b), &cr);
	CHECK(n == 9 && !memcmp(b, "a\r\nb\r\nc\r\n", 9), "LF -> CRLF, a CRLF stays");
	strcpy(b, "x\r");
	n = relay_crlf(b, 2, &cr);
	CHECK(n == 2 && cr, "a trailing CR is remembered");
	strcpy(b, "\ny");
	n = relay_crlf(b, 2, &cr);
	CHECK(n == 2 && !memcmp(b, "\ny", 2) && !cr, "an LF after the previous read's CR stays");
	strcpy(b, "\n\n");
	n = relay_crlf(b, 2, &cr);
	CHECK(n == 4 && !memcmp(b, "\r\n\r\n", 4), "every lone LF");
}

int main(void)
{
	test_parse();
	test_status();
	test_spawn();
	test_crlf();
	return UNIT_DONE();
}
