/* SPDX-License-Identifier: MIT */
/*
 * lib/ping, driven over loopback with raw sockets (root; skipped without
 * CAP_NET_RAW): the kernel answers the echo requests, and the event hook
 * injects duplicates, late replies, replies never asked for and bad
 * checksums from a second raw socket, to check the matching and statistics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "icmp.h"
#include "ping.h"
#include "unit.h"

struct seen {
	int replies, dups, lates, unsent, bad, errors, other;
	int inject; /* on the first reply, send the hostile copies */
	int injector;
	const struct ping *p;
};

static volatile sig_atomic_t no_stop, no_status;

static struct sockaddr_in lo4(const char *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	inet_pton(AF_INET, a, &sin.sin_addr);
	return sin;
}

/* An echo reply as a peer would send it, to 127.0.0.1. */
static void send_reply(int fd, uint16_t id, uint16_t seq, uint64_t counter, int bad_csum)
{
	const struct icmp_family *f = icmp_family_of(AF_INET);
	struct icmp_probe pr = { .type = f->echo_reply, .id = id, .seq = seq,
				 .counter = counter, .size = ICMP_DEFAULT_PAYLOAD };
	struct sockaddr_in to = lo4("127.0.0.1");
	uint8_t buf[256];
	size_t n = icmp_build(f, &pr, buf, sizeof(buf));

	if (bad_csum)
		buf[2] ^= 0x5a;
	(void)!sendto(fd, buf, n, 0, (struct sockaddr *)&to, sizeof(to));
}

static void hook(void *ctx, const struct ping_event *ev)
{
	struct seen *s = ctx;

	switch (ev->type) {
	case PING_EV_REPLY:
		s->replies++;
		s->dups += ev->dup;
		s->lates += ev->late;
		if (s->inject && s->replies == 1) {
			s->inject = 0;
			/* a duplicate of this one, a probe never sent, a wrapped
			 * sequence number (same seq, other counter), a bad checksum */
			send_reply(s->injector, s->p->ident, ev->seq, 1, 0);
			send_reply(s->injector, s->p->ident, 999, 999, 0);
			send_reply(s->injector, s->p->ident, ev->seq, 1 + 65536, 0);
			send_reply(s->injector, s->p->ident, ev->seq, 1, 1);
		}
		break;
	case PING_EV_UNSENT:
		s->unsent++;
		break;
	case PING_EV_BAD_CSUM:
		s->bad++;
		break;
	case PING_EV_ERROR:
	case PING_EV_LOCAL_ERROR:
	case PING_EV_SEND_ERROR:
		s->errors++;
		break;
	default:
		s->other++;
		break;
	}
}

static int raw4(void)
{
	return socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
}

static void run(struct ping *p)
{
	sigset_t none, mask;

	sigemptyset(&none);
	sigprocmask(SIG_BLOCK, NULL, &mask);
	ping_run(p, &no_stop, &no_status, &none, &mask);
}

static void test_matching(void)
{
	const struct icmp_family *f = icmp_family_of(AF_INET);
	struct ping_config cfg = { .type = f->echo_request, .size = ICMP_DEFAULT_PAYLOAD,
				   .count = 3, .interval = 100 * NS_PER_MS,
				   .timeout = 2 * NS_PER_SEC, .deadline = -1 };
	struct seen s = { .inject = 1 };
	struct sockaddr_in a = lo4("127.0.0.1");
	struct ping p;
	struct err e = { 0 };
	const struct ping_target *t;
	int fd = raw4();

	s.injector = raw4();
	CHECK(!ping_init(&p, &cfg, hook, &s, &e), "init");
	s.p = &p;
	CHECK(!ping_add_socket(&p, fd, 1, f, -1, -1, &e), "socket: %s", e.msg);
	t = ping_add_target(&p, (struct sockaddr *)&a, sizeof(a), &e);
	CHECK(t != NULL, "target");
	if (!t)
		return;
	run(&p);
	CHECK(t->ntx == 3 && t->nrx == 3, "3 sent, 3 answered (%llu, %llu)",
	      (unsigned long long)t->ntx, (unsigned long long)t->nrx);
	CHECK(t->ndup == 1 && s.dups == 1, "the copy is a duplicate");
	CHECK(t->nlate == 1 && s.lates == 1, "the other counter is late, not a reply");
	CHECK(s.unsent == 1, "a sequence number never sent is reported, not counted");
	CHECK(t->nbad == 1 && s.bad == 1, "the bad checksum is counted");
	CHECK(t->rtt.n == 3 && t->rtt.min <= t->rtt.max, "3 RTT samples");
	CHECK(!s.errors, "no errors");
	/* ping's time: the last send, about 2 intervals after the start */
	CHECK(ping_time_spent(&p, t) >= 200 * NS_PER_MS && ping_time_spent(&p, t) < NS_PER_SEC,
	      "time spent sending: %lld ns", (long long)ping_time_spent(&p, t));
	ping_free(&p);
	close(s.injector);
}

static void test_two_targets(void)
{
	const struct icmp_family *f = icmp_family_of(AF_INET);
	struct ping_config cfg = { .type = f->echo_request, .size = 100, .count = 4,
				   .interval = 20 * NS_PER_MS, .timeout = 2 * NS_PER_SEC,
				   .deadline = 10 * NS_PER_SEC };
	struct seen s = { 0 };
	struct sockaddr_in a = lo4("127.0.0.1"), b = lo4("127.0.0.2");
	struct ping p;
	struct err e = { 0 };
	const struct ping_target *ta, *tb;

	CHECK(!ping_init(&p, &cfg, hook, &s, &e), "init");
	CHECK(!ping_add_socket(&p, raw4(), 1, f, -1, -1, &e), "socket");
	ta = ping_add_target(&p, (struct sockaddr *)&a, sizeof(a), &e);
	tb = ping_add_target(&p, (struct sockaddr *)&b, sizeof(b), &e);
	CHECK(ta && tb, "two targets on one socket");
	run(&p);
	CHECK(ta->ntx == 4 && ta->nrx == 4 && tb->ntx == 4 && tb->nrx == 4,
	      "each target: its own 4 probes and 4 replies (%llu/%llu, %llu/%llu)",
	      (unsigned long long)ta->ntx, (unsigned long long)ta->nrx,
	      (unsigned long long)tb->ntx, (unsigned long long)tb->nrx);
	CHECK(s.replies == 8 && !s.dups && !s.lates, "8 replies, matched by address");
	/* with a deadline and COUNT replies each, the run ends early */
	CHECK(ping_time_spent(&p, ta) < 5 * NS_PER_SEC, "ends once every target answered");
	ping_free(&p);
}

static void test_no_target_socket(void)
{
	const struct icmp_family *f6 = icmp_family_of(AF_INET6);
	struct ping_config cfg = { .type = f6->echo_request, .count = 1, .interval = -1,
				   .timeout = -1, .deadline = -1 };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct ping p;
	struct err e = { 0 };

	CHECK(!ping_init(&p, &cfg, NULL, NULL, &e), "init");
	CHECK(!ping_add_target(&p, (struct sockaddr *)&a6, sizeof(a6), &e) &&
	      strstr(e.msg, "no icmp6 socket"), "a target needs its family's socket: %s", e.msg);
	ping_free(&p);
}

int main(void)
{
	int fd = raw4();

	test_no_target_socket();
	if (fd < 0) {
		printf("# skipped: no raw socket (%s); run as root\n", strerror(errno));
		return UNIT_DONE();
	}
	close(fd);
	test_matching();
	test_two_targets();
	return UNIT_DONE();
}
