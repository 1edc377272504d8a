/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "sock.h"
#include "unit.h"

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, level, name, &v, &len);
	return v;
}

int main(void)
{
	struct addrinfo hints, *res;
	struct sockopts o;
	struct err e;
	int fds[4], n = 0, fd;

	CHECK_STR(sock_eai_name(EAI_NONAME), "EAI_NONAME", "EAI name");
	CHECK_STR(sock_eai_name(12345), "EAI_?", "unknown EAI");
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	CHECK(sock_getaddrinfo("not-numeric", "80", &hints, &res, &e) == -1 &&
		      e.status == EXIT_FAIL && strstr(e.msg, "not-numeric port 80: EAI_NONAME: "),
	      "getaddrinfo error message: %s", e.msg);
	hints.ai_flags = 0x7fff0000;
	CHECK(sock_getaddrinfo("127.0.0.1", NULL, &hints, &res, &e) == -1 &&
		      e.status == EXIT_USAGE && strstr(e.msg, "EAI_BADFLAGS"),
	      "bad flags are a usage error: %s", e.msg);

	sock_opts_init(&o);
	o.nodelay = o.keepalive = o.reuseaddr = 1;
	o.ttl = 7;
	o.rcvbuf = 65536;
	CHECK(!sock_bind_passive("127.0.0.1", "0", AF_INET, SOCK_STREAM, &o, fds, 4, &n, &e) &&
		      n == 1,
	      "bind 127.0.0.1:0");
	fd = fds[0];
	CHECK(getint(fd, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY applied");
	CHECK(getint(fd, SOL_SOCKET, SO_KEEPALIVE) == 1, "SO_KEEPALIVE applied");
	CHECK(getint(fd, SOL_SOCKET, SO_REUSEADDR) == 1, "SO_REUSEADDR applied");
	CHECK(getint(fd, IPPROTO_IP, IP_TTL) == 7, "IP_TTL applied");
	CHECK(getint(fd, SOL_SOCKET, SO_RCVBUF) >= 65536, "SO_RCVBUF applied (kernel doubles it)");
	close(fd);

	sock_opts_init(&o);
	CHECK(!sock_bind_passive(NULL, "0", AF_UNSPEC, SOCK_DGRAM, &o, fds, 4, &n, &e) && n == 2,
	      "wildcards: one IPv4 and one IPv6 socket");
	if (n == 2) {
		struct sockaddr_storage a, b;
		socklen_t la = sizeof(a), lb = sizeof(b);

		getsockname(fds[0], (struct sockaddr *)&a, &la);
		getsockname(fds[1], (struct sockaddr *)&b, &lb);
		CHECK(addr_port((struct sockaddr *)&a) == addr_port((struct sockaddr *)&b) &&
			      addr_port((struct sockaddr *)&a) != 0,
		      "both wildcards share the kernel-chosen port %u", addr_port((struct sockaddr *)&a));
		CHECK(getint(a.ss_family == AF_INET6 ? fds[0] : fds[1], IPPROTO_IPV6, IPV6_V6ONLY) == 1,
		      "the IPv6 socket is V6ONLY beside the IPv4 one");
		close(fds[0]);
		close(fds[1]);
	}
	/* the options added with the shared group, read back from the kernel */
	sock_opts_init(&o);
	o.keepalive = 1;
	o.keepidle = 77 * NS_PER_SEC;
	o.keepintvl = 9 * NS_PER_SEC;
	o.keepcnt = 3;
	o.user_timeout = 1500 * NS_PER_MS;
	o.mark = 0x2a;
	o.tos = 0x10;
	o.freebind = 1;
	o.reuseaddr = 0;
	CHECK(!sock_check_opts(&o, AF_INET, SOCK_STREAM, &e), "TCP options fit TCP: %s", e.msg);
	CHECK(!sock_bind_passive("127.0.0.1", "0", AF_INET, SOCK_STREAM, &o, fds, 4, &n, &e) &&
		      n == 1,
	      "bind with the TCP options: %s", e.msg);
	fd = fds[0];
	CHECK(getint(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 77, "TCP_KEEPIDLE in seconds");
	CHECK(getint(fd, IPPROTO_TCP, TCP_KEEPINTVL) == 9, "TCP_KEEPINTVL in seconds");
	CHECK(getint(fd, IPPROTO_TCP, TCP_KEEPCNT) == 3, "TCP_KEEPCNT");
	CHECK(getint(fd, IPPROTO_TCP, TCP_USER_TIMEOUT) == 1500, "TCP_USER_TIMEOUT in ms");
	CHECK(getint(fd, SOL_SOCKET, SO_MARK) == 0x2a, "SO_MARK");
	CHECK(getint(fd, IPPROTO_IP, IP_TOS) == 0x10, "IP_TOS");
	CHECK(getint(fd, IPPROTO_IP, IP_FREEBIND) == 1, "IP_FREEBIND");
	CHECK(getint(fd, SOL_SOCKET, SO_REUSEADDR) == 0, "--no-reuseaddr turns it off");
	close(fd);
	CHECK(sock_check_opts(&o, AF_INET, SOCK_DGRAM, &e) == -1 && e.status == EXIT_USAGE &&
		      strstr(e.msg, "--keepalive needs a TCP socket"),
	      "TCP options on UDP: %s", e.msg);
	sock_opts_init(&o);
	o.pmtu = 2;
	CHECK(sock_check_opts(&o, AF_INET, SOCK_STREAM, &e) == -1 && strstr(e.msg, "--pmtu"),
	      "--pmtu on TCP: %s", e.msg);
	CHECK(!sock_check_opts(&o, AF_INET6, SOCK_DGRAM, &e), "--pmtu on UDP");
	sock_opts_init(&o);
	o.ttl = 5;
	CHECK(sock_check_opts(&o, AF_UNIX, SOCK_STREAM, &e) == -1 && strstr(e.msg, "IP socket"),
	      "--ttl on a Unix socket: %s", e.msg);
	sock_opts_init(&o);
	o.keepidle = 5 * NS_PER_SEC;
	CHECK(sock_check_opts(&o, AF_INET, SOCK_STREAM, &e) == -1 && strstr(e.msg, "--keepalive"),
	      "--keepidle needs --keepalive: %s", e.msg);
	o.keepalive = 1;
	o.keepidle = 1500 * NS_PER_MS;
	CHECK(sock_check_opts(&o, AF_INET, SOCK_STREAM, &e) == -1 && strstr(e.msg, "whole seconds"),
	      "--keepidle 1.5s: %s", e.msg);

	sock_opts_init(&o);
	CHECK(sock_bind_passive("192.0.2.1", "0", AF_INET, SOCK_STREAM, &o, fds, 4, &n, &e) == -1 &&
		      strstr(e.msg, "bind 192.0.2.1:0") && strstr(e.msg, "address"),
	      "bind to an address not on this host fails with a message: %s", e.msg);
	return UNIT_DONE();
}
