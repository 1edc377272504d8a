/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inherit.h"
#include "unit.h"

static int tcp_socket(int bind_it, int listen_it)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (bind_it)
		bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	if (listen_it)
		listen(fd, 1);
	return fd;
}

static void check_fds(void)
{
	struct inherit_want passive = { .role = INHERIT_PASSIVE, .no_stdio = 1 };
	struct inherit_want connected = { .role = INHERIT_CONNECTED };
	struct inherit_sock s;
	struct err e;
	int sp[2], p[2], fd;

	fd = tcp_socket(1, 1);
	CHECK(inherit_check(fd, "--fd x", &passive, &s, &e) == 0 && s.listening &&
		      s.family == AF_INET && s.type == SOCK_STREAM,
	      "a listening TCP socket is passive");
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "an adopted socket is close-on-exec");
	passive.family = AF_INET6;
	CHECK(inherit_check(fd, "--fd x", &passive, &s, &e) == -1 && e.status == EXIT_USAGE &&
		      strstr(e.msg, "--fd x: a socket of family inet, but"),
	      "family mismatch: %s", e.msg);
	passive.family = 0;
	passive.type = SOCK_DGRAM;
	CHECK(inherit_check(fd, "--fd x", &passive, &s, &e) == -1 && strstr(e.msg, "of type stream"),
	      "type mismatch: %s", e.msg);
	passive.type = 0;
	CHECK(inherit_check(fd, "--fd x", &connected, &s, &e) == -1 &&
		      strstr(e.msg, "a listening socket"),
	      "a listening socket is not connected: %s", e.msg);
	close(fd);

	fd = tcp_socket(1, 0);
	CHECK(inherit_check(fd, "--fd x", &passive, &s, &e) == 0 && !s.listening,
	      "a bound TCP socket is passive (not listening yet)");
	close(fd);
	fd = tcp_socket(0, 0);
	CHECK(inherit_check(fd, "--fd x", &passive, &s, &e) == -1 && strstr(e.msg, "not bound"),
	      "an unbound socket is not passive: %s", e.msg);
	CHECK(inherit_check(fd, "--fd x", &connected, &s, &e) == -1 &&
		      strstr(e.msg, "not connected"),
	      "an unconnected socket: %s", e.msg);
	close(fd);
	CHECK(inherit_check(fd, "--fd x", &passive, &s, &e) == -1 && e.status == EXIT_USAGE &&
		      strstr(e.msg, "--fd x: not an open descriptor"),
	      "a closed fd: %s", e.msg);

	if (pipe(p) == 0) {
		CHECK(inherit_check(p[0], "--fd x", &passive, &s, &e) == -1 &&
			      strstr(e.msg, "not a socket"),
		      "a pipe: %s", e.msg);
		close(p[0]);
		close(p[1]);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0) {
		CHECK(inherit_check(sp[0], "--fd x", &connected, &s, &e) == 0 &&
			      s.family == AF_UNIX && s.type == SOCK_SEQPACKET,
		      "a connected seqpacket pair");
		CHECK(inherit_check(sp[0], "--fd x", &passive, &s, &e) == -1 &&
			      strstr(e.msg, "a connected socket"),
		      "a connected socket is not passive: %s", e.msg);
		close(sp[0]);
		close(sp[1]);
	}
	CHECK(inherit_check(0, "--fd 0", &passive, &s, &e) == -1 && strstr(e.msg, "--fd 0: 0, 1"),
	      "stdin refused: %s", e.msg);
}

static void check_env(void)
{
	char pid[32];
	struct err e;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "2", 1);
	setenv("LISTEN_FDNAMES", "a:b", 1);
	CHECK(inherit_listen_fds(16, &e) == 2, "LISTEN_FDS=2 for us");
	CHECK(!getenv("LISTEN_PID") && !getenv("LISTEN_FDS") && !getenv("LISTEN_FDNAMES"),
	      "the variables are gone");
	CHECK(inherit_listen_fds(16, &e) == 0, "none the second time");

	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	CHECK(inherit_listen_fds(16, &e) == 0 && !getenv("LISTEN_FDS"),
	      "another process's sockets: none, and unset");

	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1x", 1);
	CHECK(inherit_listen_fds(16, &e) == -1 && e.status == EXIT_USAGE &&
		      strstr(e.msg, "LISTEN_FDS"),
	      "a malformed count: %s", e.msg);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "17", 1);
	CHECK(inherit_listen_fds(16, &e) == -1 && strstr(e.msg, "at most 16"),
	      "too many: %s", e.msg);
}

int main(void)
{
	check_fds();
	check_env();
	return UNIT_DONE();
}
