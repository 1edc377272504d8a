/* SPDX-License-Identifier: MIT */
/* lib/server's single-client accept and lib/sock's listen-all, over loopback. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "server.h"
#include "sock.h"
#include "unit.h"

struct seen {
	int connections, refused;
	const char *reason;
};

static void on_event(void *ctx, const struct server_event *ev)
{
	struct seen *s = ctx;

	if (ev->type == SERVER_EV_CONNECTION)
		s->connections++;
	if (ev->type == SERVER_EV_REFUSED) {
		s->refused++;
		s->reason = ev->reason;
	}
}

/* A listening loopback socket on a port the kernel picks. */
static int listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), n = 1;
	struct err e;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sin, sizeof(*sin)) ||
	    sock_listen_all(&fd, &n, 4, &e) ||
	    getsockname(fd, (struct sockaddr *)sin, &len))
		return -1;
	return fd;
}

static int client(const struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (const struct sockaddr *)sin, sizeof(*sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_accept_first(void)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	socklen_t len = 0;
	struct server_opts o;
	struct seen seen = { 0 };
	struct cidr deny;
	struct err e;
	int lfd = listener(&sin), c1, c2, fd;

	CHECK(lfd >= 0, "a listening loopback socket (sock_listen_all)");
	server_opts_init(&o);
	o.on_event = on_event;
	o.ctx = &seen;
	o.accept_timeout = 5 * NS_PER_SEC;
	c1 = client(&sin);
	fd = server_accept_first(&lfd, 1, &o, 0, &ss, &len, &e);
	CHECK(fd >= 0 && seen.connections == 1 && len == sizeof(struct sockaddr_in) &&
		      ss.ss_family == AF_INET,
	      "the first client is taken and reported");
	if (fd >= 0)
		close(fd);
	close(c1);

	CHECK(!addr_parse_cidr("127.0.0.0/8", &deny, &e), "a prefix to deny");
	o.deny = &deny;
	o.ndeny = 1;
	o.accept_timeout = 300 * NS_PER_MS;
	c2 = client(&sin);
	fd = server_accept_first(&lfd, 1, &o, 0, &ss, &len, &e);
	CHECK(fd == -1 && seen.refused == 1 && seen.reason && !strcmp(seen.reason, "denied") &&
		      e.status == EXIT_FAIL && strstr(e.msg, "no client within"),
	      "a denied client is refused, then the timeout: %s", e.msg);
	close(c2);

	o.ndeny = 0;
	CHECK(!sock_set_nonblock_all(&lfd, 1, &e), "non-blocking listener");
	fd = server_accept_first(&lfd, 1, &o, 1, &ss, &len, &e);
	CHECK(fd == -1 && strstr(e.msg, "EAGAIN"), "nonblock: no client is EAGAIN: %s", e.msg);
	sock_close_all(&lfd, 1);
}

static void test_listen_all_fails(void)
{
	int fds[1] = { socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) }, n = 1;
	struct err e;

	CHECK(sock_listen_all(fds, &n, 4, &e) == -1 && n == 0 && e.status == EXIT_FAIL &&
		      strstr(e.msg, "listen"),
	      "listen on a datagram socket fails, and closes: %s", e.msg);
}

int main(void)
{
	test_accept_first();
	test_listen_all_fails();
	return UNIT_DONE();
}
