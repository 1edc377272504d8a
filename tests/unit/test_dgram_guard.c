/* SPDX-License-Identifier: MIT */
/* The echo guards: loop check, per-source rate, warning limit (no sockets needed). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "clock.h"
#include "dgram_guard.h"
#include "unit.h"

static struct sockaddr_in sin4(const char *a, unsigned port)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	s.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

/* A received message from @src, with an IP_PKTINFO for @dst if not NULL. */
static void msg(struct msghdr *h, struct sockaddr_in *src, unsigned char *ctrl, size_t clen,
		const char *dst)
{
	memset(h, 0, sizeof(*h));
	h->msg_name = src;
	h->msg_namelen = sizeof(*src);
	if (dst) {
		struct in_pktinfo pi;
		struct cmsghdr *cm;

		memset(ctrl, 0, clen);
		memset(&pi, 0, sizeof(pi));
		inet_pton(AF_INET, dst, &pi.ipi_addr);
		h->msg_control = ctrl;
		h->msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(h);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
}

static void loop_check(void)
{
	union {
		size_t align;
		unsigned char b[64];
	} ctrl;
	struct sockaddr_in any = sin4("0.0.0.0", 7777), lo = sin4("127.0.0.1", 7777);
	struct sockaddr_in src;
	struct msghdr h;

	src = sin4("127.0.0.1", 7777);
	msg(&h, &src, ctrl.b, sizeof(ctrl.b), "127.0.0.1");
	CHECK(dgram_loop_reason(&h, (struct sockaddr *)&any) != NULL,
	      "wildcard socket: from the address it came to, our port");
	msg(&h, &src, ctrl.b, sizeof(ctrl.b), "127.0.0.2");
	CHECK(dgram_loop_reason(&h, (struct sockaddr *)&any) == NULL,
	      "wildcard socket: same port, another local address is another socket");
	msg(&h, &src, NULL, 0, NULL);
	CHECK(dgram_loop_reason(&h, (struct sockaddr *)&lo) != NULL,
	      "bound socket, no pktinfo: its own name");
	src = sin4("127.0.0.1", 7778);
	msg(&h, &src, NULL, 0, NULL);
	CHECK(dgram_loop_reason(&h, (struct sockaddr *)&lo) == NULL, "another port: echoed");
	src = sin4("198.18.0.1", 0);
	CHECK(dgram_loop_reason(&h, (struct sockaddr *)&lo) != NULL, "port 0");
	src = sin4("198.18.0.1", 19);
	CHECK(dgram_loop_reason(&h, NULL) != NULL, "chargen");
	src = sin4("198.18.0.1", 123);
	CHECK(dgram_loop_reason(&h, NULL) != NULL, "ntp");
	src = sin4("198.18.0.1", 40000);
	CHECK(dgram_loop_reason(&h, NULL) == NULL, "an ordinary client");
	CHECK(dgram_reflect_port(7) && dgram_reflect_port(37) && !dgram_reflect_port(8),
	      "reflect ports");
}

static void echo_rate(void)
{
	static struct dgram_echo_rate t;
	struct sockaddr_in a = sin4("198.18.0.1", 1000), b = sin4("198.18.0.2", 1000);
	int64_t now = 5 * NS_PER_SEC;
	int i, ok = 0;

	dgram_echo_rate_init(&t, 10);
	for (i = 0; i < 100; i++)
		ok += dgram_echo_rate_ok(&t, (struct sockaddr *)&a, now);
	CHECK(ok == 10, "a burst of the rate, then nothing (%d)", ok);
	CHECK(dgram_echo_rate_ok(&t, (struct sockaddr *)&b, now), "another source has its own");
	CHECK(!dgram_echo_rate_ok(&t, (struct sockaddr *)&a, now + 50 * NS_PER_MS),
	      "50 ms later: half a token");
	CHECK(dgram_echo_rate_ok(&t, (struct sockaddr *)&a, now + 100 * NS_PER_MS),
	      "100 ms later: one");
	for (i = 0, ok = 0; i < 100; i++)
		ok += dgram_echo_rate_ok(&t, (struct sockaddr *)&a, now + 3600 * NS_PER_SEC);
	CHECK(ok == 10, "an hour later: one burst, not an hour's worth (%d)", ok);
	dgram_echo_rate_init(&t, 0);
	for (i = 0, ok = 0; i < 100000; i++)
		ok += dgram_echo_rate_ok(&t, (struct sockaddr *)&a, now);
	CHECK(ok == 100000, "rate 0: no limit");
}

static void warn_limit(void)
{
	struct dgram_warn_limit w;
	uint64_t skipped = 99;
	int64_t now = NS_PER_SEC;
	int i, ok = 0;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < 100; i++)
		ok += dgram_warn_ok(&w, now, &skipped);
	CHECK(ok == DGRAM_WARN_BURST && w.suppressed == 100 - DGRAM_WARN_BURST,
	      "a burst, the rest counted");
	CHECK(dgram_warn_ok(&w, now + NS_PER_SEC, &skipped) && skipped == 90 && !w.suppressed,
	      "a second later: one more, saying 90 were left out");
	CHECK(!dgram_warn_ok(&w, now + NS_PER_SEC, &skipped) && w.suppressed == 1,
	      "and then none in the same second");
}

int main(void)
{
	loop_check();
	echo_rate();
	warn_limit();
	return UNIT_DONE();
}
