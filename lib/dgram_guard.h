/* SPDX-License-Identifier: MIT */
/*
 * Guards for datagram echo services (udp-recv --echo, listen -u --echo) and
 * for their per-datagram warnings: pure functions and small tables, no I/O
 * but the socket options that feed them.
 *
 * An echo service can be made to talk to itself or to another reflector with
 * one spoofed datagram, and the two then bounce it forever.  Three guards:
 * - a loop check, as BSD inetd's: no echo to port 0, to a well-known
 *   reflecting service, or to the very address and port the datagram came to;
 * - a per-source reply rate (--echo-rate): a bouncing datagram exceeds it
 *   within a second, is dropped, and the bouncing ends;
 * - warnings about single datagrams are rate-limited, with a count of the
 *   ones left out, so a flood cannot flood stderr too.
 */
#ifndef SOCKCTL_DGRAM_GUARD_H
#define SOCKCTL_DGRAM_GUARD_H

#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

/* Replies per second per source address when --echo-rate is not given. */
#define DGRAM_ECHO_RATE_DEFAULT 1000
/* Sources tracked at once; more share slots (a shared slot starts afresh). */
#define DGRAM_ECHO_SOURCES 256

/* IP_PKTINFO / IPV6_RECVPKTINFO: each read says which local address it came to. */
int dgram_pktinfo_on(int fd, int family, struct err *e);

/*
 * Why a datagram from @h->msg_name must not be echoed, or NULL if it may:
 * source port 0, a reflecting service's port (echo, daytime, chargen, time,
 * DNS, NTP, ...), or our own address and port (@local, the socket's name; the
 * datagram's destination from IP_PKTINFO when the socket is bound to a
 * wildcard).
 */
const char *dgram_loop_reason(const struct msghdr *h, const struct sockaddr *local);
/* 1 if @port is one of the reflecting services' ports. */
int dgram_reflect_port(unsigned port);

/* A token bucket per source address: at most @rate replies a second, @rate in a burst. */
struct dgram_echo_rate {
	unsigned rate; /* 0: no limit */
	struct {
		unsigned char addr[16];
		int family;
		int64_t stamp_ns; /* when tokens were last counted */
		uint64_t tokens;  /* in units of 1/rate s, scaled by NS: see the .c */
	} slot[DGRAM_ECHO_SOURCES];
};
void dgram_echo_rate_init(struct dgram_echo_rate *t, unsigned rate);
/* 1 if a reply to @src may go at @now_ns (and count it), 0 if over the rate. */
int dgram_echo_rate_ok(struct dgram_echo_rate *t, const struct sockaddr *src, int64_t now_ns);

/* Warnings about single datagrams: DGRAM_WARN_BURST at once, then one a second. */
#define DGRAM_WARN_BURST 10
struct dgram_warn_limit {
	int64_t stamp_ns;
	unsigned tokens;
	int started;
	uint64_t suppressed; /* left out since the last one that went out */
};
/*
 * 1 if a warning may go out at @now_ns; then *@skipped is how many were left
 * out before it (say so), and the count starts again.  0: left out, counted.
 */
int dgram_warn_ok(struct dgram_warn_limit *w, int64_t now_ns, uint64_t *skipped);

#endif
