/* SPDX-License-Identifier: MIT */
/*
 * The datagram engines driven through loopback sockets: lib/dgram_send sends
 * probes (with GSO where the kernel has it) and reads replies, lib/dgram_recv
 * receives them (with GRO), counts, truncates and echoes, all in one process.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dgram_recv.h"
#include "dgram_send.h"
#include "unit.h"

struct seen {
	uint64_t datagrams, probes, ends, truncated, not_echoed, batches;
	size_t last_len, last_cap;
	int ignore_ends;
};

static int on_rx(void *ctx, const struct dgram_rx_event *ev)
{
	struct seen *s = ctx;
	struct dgram_probe p;

	switch (ev->type) {
	case DGRAM_RX_DATAGRAM:
		if (dgram_probe_decode(ev->data, ev->cap, &p) && (p.flags & DGRAM_PROBE_END)) {
			s->ends++;
			return DGRAM_RX_IGNORE;
		}
		s->datagrams++;
		s->probes += dgram_probe_decode(ev->data, ev->cap, &p);
		s->last_len = ev->len;
		s->last_cap = ev->cap;
		return DGRAM_RX_COUNT;
	case DGRAM_RX_TRUNCATED:
		s->truncated++;
		break;
	case DGRAM_RX_NOT_ECHOED:
		s->not_echoed++;
		break;
	case DGRAM_RX_BATCH_END:
		s->batches++;
		break;
	default:
		break;
	}
	return DGRAM_RX_COUNT;
}

static uint64_t replies_seen;

static int on_tx(void *ctx, const struct dgram_tx_event *ev)
{
	(void)ctx;
	if (ev->type == DGRAM_TX_REPLY)
		replies_seen++;
	return 0;
}

/* A UDP socket on 127.0.0.1, port 0; its address in @sa. */
static int udp_socket(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) ||
	    getsockname(fd, (struct sockaddr *)sa, &len))
		return -1;
	return fd;
}

/* Drain @fd into @rx until @want datagrams were counted or 5 s passed. */
static void drain_until(struct dgram_rx *rx, int fd, uint64_t want)
{
	int64_t end = clock_mono_ns() + 5 * NS_PER_SEC;
	struct err e = { 0 };

	while (rx->counted < want && !dgram_rx_done(rx) && clock_mono_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 100) > 0 && dgram_rx_drain(rx, fd, &e) < 0)
			break;
	}
}

static size_t fill_probe(void *ctx, struct dgram_tx *tx, unsigned slot, uint64_t k,
			 int64_t real_ns)
{
	(void)ctx;
	return dgram_tx_probe(tx, slot, k, real_ns, 64);
}

/* 200 probes out, counted, echoed and back; then the end marker. */
static void send_and_receive(void)
{
	struct sockaddr_in rsa, ssa;
	int rfd = udp_socket(&rsa), sfd = udp_socket(&ssa);
	struct dgram_rx_opts ro;
	struct dgram_tx_opts to;
	struct dgram_rx rx;
	struct dgram_tx tx;
	struct seen s;
	struct err e = { 0 };
	char name[] = "127.0.0.1";

	CHECK(rfd >= 0 && sfd >= 0, "loopback sockets");
	CHECK(!connect(sfd, (struct sockaddr *)&rsa, sizeof(rsa)), "connect the sender");
	memset(&s, 0, sizeof(s));
	dgram_rx_opts_init(&ro);
	ro.on_event = on_rx;
	ro.ctx = &s;
	ro.echo = 1;
	ro.echo_rate = 0;
	CHECK(dgram_rx_init(&rx, &rfd, 1, &ro, &e) == 0, "receive engine: %s", e.msg);
	memset(&to, 0, sizeof(to));
	to.limit = 200;
	to.slot = 64;
	to.replies = 1;
	to.on_event = on_tx;
	CHECK(dgram_tx_init(&tx, sfd, (struct sockaddr *)&rsa, sizeof(rsa), 1, name, &to, &e) == 0,
	      "send engine: %s", e.msg);
	CHECK(dgram_tx_generate(&tx, fill_probe, NULL, &e) == 0, "200 probes sent: %s", e.msg);
	CHECK(tx.sent == 200 && tx.bytes == 200 * 64, "sent and bytes counted");
	drain_until(&rx, rfd, 200);
	CHECK(s.datagrams == 200 && s.probes == 200 && rx.counted == 200,
	      "every probe handed over one by one (%llu)", (unsigned long long)s.datagrams);
	CHECK(rx.gro == 0 || rx.read_datagrams == 200, "GRO trains split back");
	CHECK(rx.echoed == 200 && rx.echo_bytes == 200 * 64, "every probe echoed");
	CHECK(dgram_tx_pause_until(&tx, clock_mono_ns() + 5 * NS_PER_SEC, 1, &e) == 0 &&
		      tx.replies == 200 && replies_seen == 200 && tx.rtt.n == 200,
	      "every reply read, with its rtt (%llu)", (unsigned long long)tx.replies);
	CHECK(dgram_tx_end(&tx, &e) == 0 && tx.markers == 3 && tx.sent == 200,
	      "three end markers, not counted as sent");
	drain_until(&rx, rfd, 201);
	CHECK(s.ends == 3 && rx.counted == 200, "end markers ignored by the hook's verdict");
	dgram_tx_free(&tx);
	dgram_rx_free(&rx);
	close(rfd);
	close(sfd);
}

/* -c inside a train, truncation, and no echo to ourselves. */
static void count_truncate_loop(void)
{
	struct sockaddr_in rsa, ssa;
	int rfd = udp_socket(&rsa), sfd = udp_socket(&ssa);
	struct dgram_rx_opts ro;
	struct dgram_rx rx;
	struct seen s;
	struct err e = { 0 };
	char big[100];
	int i;

	memset(big, 'x', sizeof(big));
	memset(&s, 0, sizeof(s));
	dgram_rx_opts_init(&ro);
	ro.on_event = on_rx;
	ro.ctx = &s;
	ro.size = 10;
	ro.count = 3;
	ro.echo = 1;
	CHECK(dgram_rx_init(&rx, &rfd, 1, &ro, &e) == 0, "receive engine: %s", e.msg);
	for (i = 0; i < 5; i++)
		sendto(sfd, big, sizeof(big), 0, (struct sockaddr *)&rsa, sizeof(rsa));
	drain_until(&rx, rfd, 3);
	CHECK(rx.counted == 3 && dgram_rx_done(&rx), "-c 3: done after 3");
	CHECK(s.last_len == 100 && s.last_cap == 10 && s.truncated == 3,
	      "each one truncated to 10 bytes, its real size kept, a warning each");
	CHECK(rx.echoed == 3, "the three echoed");
	dgram_rx_free(&rx);
	/* a datagram from the socket itself: no echo */
	memset(&s, 0, sizeof(s));
	ro.count = 1;
	ro.size = DGRAM_BUFSIZE;
	CHECK(dgram_rx_init(&rx, &rfd, 1, &ro, &e) == 0, "again: %s", e.msg);
	while (recv(rfd, big, sizeof(big), MSG_DONTWAIT) > 0)
		; /* what -c left queued */
	sendto(rfd, "self", 4, 0, (struct sockaddr *)&rsa, sizeof(rsa));
	drain_until(&rx, rfd, 1);
	CHECK(rx.counted == 1 && rx.echoed == 0 && rx.not_echoed == 1 && s.not_echoed == 1,
	      "from our own address and port: counted, not echoed, said");
	dgram_rx_free(&rx);
	close(rfd);
	close(sfd);
}

int main(void)
{
	send_and_receive();
	count_truncate_loop();
	return UNIT_DONE();
}
