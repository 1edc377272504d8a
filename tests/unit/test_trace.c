/* SPDX-License-Identifier: MIT */
/* lib/trace: marks, address comparison, bad configurations, and real traces on loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "trace.h"
#include "unit.h"

static int nhops, nrounds;

static void on_event(void *ctx, const struct trace_event *ev)
{
	(void)ctx;
	if (ev->type == TRACE_EV_HOP)
		nhops++;
	else
		nrounds++;
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static struct trace_config config(enum trace_proto proto, uint16_t port)
{
	struct trace_config cfg = { .proto = proto, .first_ttl = 1, .max_ttl = 5, .queries = 2,
				    .cycles = 1, .wait = TRACE_WAIT, .port = port,
				    .port_fixed = proto == TRACE_TCP };

	return cfg;
}

static void marks(void)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sin = loopback(9);
	struct trace_config cfg = config(TRACE_UDP, 9);
	struct trace t4, t6;
	struct trace_answer a = { .result = TRACE_UNREACH, .type = 3 };
	struct sockaddr_storage x, y;
	struct err e = { 0 };
	char buf[16];

	CHECK(!trace_init(&t4, &cfg, (struct sockaddr *)&sin, sizeof(sin), NULL, NULL, &e), "init v4");
	CHECK(!trace_init(&t6, &cfg, (struct sockaddr *)&s6, sizeof(s6), NULL, NULL, &e), "init v6");
	a.code = 13;
	CHECK_STR(trace_mark(&t4, &a, buf, sizeof(buf)), "!X", "IPv4 admin-prohibited: !X");
	a.code = 1;
	CHECK_STR(trace_mark(&t4, &a, buf, sizeof(buf)), "!H", "IPv4 host unreachable: !H");
	a.code = 0;
	CHECK_STR(trace_mark(&t4, &a, buf, sizeof(buf)), "!N", "IPv4 net unreachable: !N");
	a.code = 2;
	CHECK_STR(trace_mark(&t4, &a, buf, sizeof(buf)), "!P", "IPv4 protocol unreachable: !P");
	a.code = 4;
	a.info = 1400;
	CHECK_STR(trace_mark(&t4, &a, buf, sizeof(buf)), "!F-1400", "IPv4 frag needed: !F-MTU");
	a.code = 200;
	CHECK_STR(trace_mark(&t4, &a, buf, sizeof(buf)), "!<200>", "an unknown code: !<N>");
	a.type = 1;
	a.code = 1;
	CHECK_STR(trace_mark(&t6, &a, buf, sizeof(buf)), "!X", "IPv6 admin-prohibited: !X");
	a.code = 3;
	CHECK_STR(trace_mark(&t6, &a, buf, sizeof(buf)), "!H", "IPv6 address unreachable: !H");
	a.result = TRACE_HOP;
	CHECK_STR(trace_mark(&t6, &a, buf, sizeof(buf)), "", "time exceeded: no mark");
	CHECK_STR(trace_result_name(TRACE_NONE), "no-reply", "result names");
	memset(&x, 0, sizeof(x));
	memset(&y, 0xff, sizeof(y));
	memcpy(&x, &sin, sizeof(sin));
	memcpy(&y, &sin, sizeof(sin));
	((struct sockaddr_in *)&y)->sin_port = htons(1234);
	CHECK(trace_same_addr(&x, &y), "same address, other port and padding: the same host");
	((struct sockaddr_in *)&y)->sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
	CHECK(!trace_same_addr(&x, &y), "another address: another host");
	trace_free(&t4);
	trace_free(&t6);
	cfg.first_ttl = 6;
	CHECK(trace_init(&t4, &cfg, (struct sockaddr *)&sin, sizeof(sin), NULL, NULL, &e) &&
		      e.status == EXIT_USAGE, "first TTL past the last: refused");
	trace_free(&t4);
}

/* A UDP trace to a closed loopback port: reached at hop 1 (port unreachable). */
static void udp_loopback(int fixed)
{
	/* a port nothing listens on: bound here, never read */
	int hold = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin = loopback(0);
	socklen_t len = sizeof(sin);
	struct trace_config cfg;
	volatile sig_atomic_t stop = 0;
	struct trace t;
	struct err e = { 0 };

	bind(hold, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(hold, (struct sockaddr *)&sin, &len);
	close(hold); /* closed again: a probe to it draws port unreachable */
	cfg = config(TRACE_UDP, ntohs(sin.sin_port));
	cfg.port_fixed = fixed;
	cfg.max_ttl = 1; /* ports upward from a closed one may reach a listener */
	nhops = nrounds = 0;
	CHECK(!trace_init(&t, &cfg, (struct sockaddr *)&sin, sizeof(sin), on_event, NULL, &e) &&
		      !trace_run(&t, &stop, &e), "udp%s trace on loopback runs", fixed ? " (fixed port)" : "");
	CHECK(t.reached && t.end_ttl == 1 && nhops == 1 && nrounds == 1,
	      "udp: reached at hop 1, one hop and one round reported");
	CHECK(t.hops[0].result == TRACE_REACHED && t.hops[0].received == 2 &&
		      t.hops[0].sent == 2 && t.hops[0].decisive->type == 3 &&
		      t.hops[0].decisive->code == 3,
	      "udp: both probes answered by port unreachable");
	trace_free(&t);
}

/* UDP ports upward near 65535: they wrap to the first port again, round after round. */
static void udp_wrap(void)
{
	struct sockaddr_in sin = loopback(65534);
	struct trace_config cfg = config(TRACE_UDP, 65534);
	volatile sig_atomic_t stop = 0;
	struct trace t;
	struct err e = { 0 };

	cfg.max_ttl = 1;
	cfg.cycles = 3;
	cfg.cycle_interval = 0;
	CHECK(!trace_init(&t, &cfg, (struct sockaddr *)&sin, sizeof(sin), NULL, NULL, &e) &&
		      !trace_run(&t, &stop, &e), "udp trace from port 65534, 3 rounds");
	CHECK(t.rounds == 3 && t.hops[0].sent == 6 && t.hops[0].received == 6,
	      "every probe answered and matched: 6 of 6 (ports 65534, 65535, 65534...)");
	trace_free(&t);
}

/* A TCP trace to a listening loopback port: reached (open) at hop 1. */
static void tcp_loopback(void)
{
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = loopback(0);
	socklen_t len = sizeof(sin);
	struct trace_config cfg;
	volatile sig_atomic_t stop = 0;
	struct trace t;
	struct err e = { 0 };

	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	listen(l, 16);
	getsockname(l, (struct sockaddr *)&sin, &len);
	cfg = config(TRACE_TCP, ntohs(sin.sin_port));
	nhops = nrounds = 0;
	CHECK(!trace_init(&t, &cfg, (struct sockaddr *)&sin, sizeof(sin), on_event, NULL, &e) &&
		      !trace_run(&t, &stop, &e), "tcp trace on loopback runs");
	CHECK(t.reached && t.end_ttl == 1 && nhops == 1 && t.hops[0].received == 2 &&
		      t.hops[0].decisive->errnum == 0,
	      "tcp: reached at hop 1, the port open");
	trace_free(&t);
	close(l);
}

int main(void)
{
	marks();
	udp_loopback(0);
	udp_loopback(1);
	udp_wrap();
	tcp_loopback();
	return UNIT_DONE();
}
