/* SPDX-License-Identifier: MIT */
/*
 * The traceroute engine: probes with growing TTLs (hop limits) over ICMP
 * echo, UDP or TCP SYN, every hop's probes of a round sent at once as Linux
 * traceroute does, the answers matched back to their probe, and per-hop
 * statistics over rounds (mtr's report).  It never prints: hops are reported
 * through a hook.
 *
 * UDP and TCP need no privilege: each probe is an ordinary socket of its own
 * with IP_RECVERR / IPV6_RECVERR and its own TTL, and a router's
 * time-exceeded comes back through that socket's error queue
 * (SO_EE_ORIGIN_ICMP/ICMP6, the router in SO_EE_OFFENDER).  ICMP uses the one
 * socket the caller opened (datagram or raw; privileges are the caller's
 * business) with the TTL set before each probe.
 *
 * Ordering contract: trace_init(), for ICMP trace_icmp_socket(), then
 * trace_run() (once), then read the hops, then trace_free().
 */
#ifndef SOCKCTL_TRACE_H
#define SOCKCTL_TRACE_H

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "icmp.h"
#include "rtt.h"
#include "sock.h"

#define TRACE_MAX_TTL 30         /* traceroute's -m */
#define TRACE_QUERIES 3          /* traceroute's -q */
#define TRACE_UDP_PORT 33434     /* traceroute's first UDP port */
#define TRACE_WAIT (3 * INT64_C(1000000000))          /* per probe */
#define TRACE_CYCLE_INTERVAL INT64_C(1000000000)      /* between rounds, as mtr */
#define TRACE_HOP_ADDRS 8        /* distinct answering addresses kept per hop */
#define TRACE_PAYLOAD 32         /* UDP payload, as traceroute (60-byte IPv4 packets) */

enum trace_proto { TRACE_ICMP, TRACE_UDP, TRACE_TCP };

struct trace_config {
	enum trace_proto proto;
	int first_ttl, max_ttl, queries;
	long long cycles;       /* rounds, at least 1 */
	int64_t wait;           /* ns to wait for each probe's answer */
	int64_t cycle_interval; /* ns from one round's start to the next */
	uint16_t port;          /* UDP/TCP destination port */
	int port_fixed;         /* UDP: every probe to @port (else port + probe index) */
	const struct sockopts *so; /* UDP/TCP: for each probe socket; may be NULL */
};

/* What answered one probe. */
enum trace_result {
	TRACE_NONE,    /* nothing (yet): "*" */
	TRACE_HOP,     /* time exceeded: a router on the way */
	TRACE_REACHED, /* the destination, as the protocol expects (echo reply,
			* UDP port unreachable or a reply, TCP SYN-ACK or reset) */
	TRACE_UNREACH, /* destination unreachable & co: ends the trace, with a mark */
	TRACE_LOCAL,   /* a local error (send failed, EMSGSIZE): errnum */
};

struct trace_answer {
	enum trace_result result;
	int64_t rtt_ns;
	struct sockaddr_storage from; /* AF_UNSPEC when nothing answered */
	uint8_t type, code;           /* the ICMP message, when one came */
	uint32_t info;                /* its MTU, when it carries one */
	int errnum;                   /* TCP: 0 open, ECONNREFUSED closed; LOCAL: why */
};

struct trace_hop {
	int ttl;
	/* over every round */
	uint64_t sent, received;
	struct rtt_stats rtt;
	int64_t last_ns; /* the last answer's RTT, -1: none yet */
	struct sockaddr_storage addrs[TRACE_HOP_ADDRS];
	size_t naddrs;
	/* the last round: one answer per query, and the hop's outcome */
	struct trace_answer *answers;
	enum trace_result result; /* REACHED > UNREACH > HOP > LOCAL > NONE */
	const struct trace_answer *decisive; /* the answer behind @result, or NULL */
};

enum trace_ev_type {
	TRACE_EV_HOP,   /* @hop's probes of this round are all settled */
	TRACE_EV_ROUND, /* round @cycle is over */
};

struct trace_event {
	enum trace_ev_type type;
	const struct trace_hop *hop;
	long long cycle; /* from 1 */
};

typedef void (*trace_event_fn)(void *ctx, const struct trace_event *ev);

struct trace_probe;

struct trace {
	struct trace_config cfg;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	const struct icmp_family *f;
	trace_event_fn fn;
	void *fn_ctx;
	struct trace_hop *hops; /* index ttl - first_ttl */
	int nhops;
	struct trace_probe *probes; /* one round's */
	size_t nprobes;
	int icmp_fd, icmp_raw;
	int udp_fd;        /* UDP to ports upward: one socket for every probe */
	uint8_t *pkts;     /* one round's probe messages, PKT_SLOT bytes each */
	uint16_t ident, seq_base;
	uint8_t *buf;
	size_t buflen;
	int end_ttl;       /* the last round: the first TTL that ended it, 0 none */
	int last_ttl;      /* the last round: the last TTL reported, 0 none yet */
	int reached;       /* some round reached the destination */
	long long rounds;  /* rounds run */
	int64_t start_ns;  /* clock_mono_ns() at the start */
	int64_t end_ns;
};

/* A fresh engine for @dst (AF_INET or AF_INET6); nothing is sent yet. */
int trace_init(struct trace *t, const struct trace_config *cfg, const struct sockaddr *dst,
	       socklen_t dstlen, trace_event_fn fn, void *ctx, struct err *e);
/* ICMP: hand over the open ICMP socket of @dst's family (the engine owns it now). */
int trace_icmp_socket(struct trace *t, int fd, int raw, struct err *e);
/*
 * Run the rounds, reporting each hop in TTL order as its probes settle and
 * stopping a round at the first TTL that ended it (reached or a mark).
 * *@stop set ends the run early.  -1 with @e only when nothing could be
 * sent at all (e.g. out of descriptors).
 */
int trace_run(struct trace *t, const volatile sig_atomic_t *stop, struct err *e);
/*
 * Hops to show: up to the TTL that ended the last round, else every one (a
 * run stopped early: up to the last hop that answered).
 */
int trace_shown_hops(const struct trace *t);
/* traceroute's mark for an answer: "!H", "!X", "!N", "!P", "!F", "!<code>"; "" none. */
const char *trace_mark(const struct trace *t, const struct trace_answer *a, char *buf,
		       size_t n);
/* "time-exceeded", "reached", "unreachable", "local-error", "no-reply". */
const char *trace_result_name(enum trace_result r);
/* The same host address (family and address; ports and the rest ignored). */
int trace_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
void trace_free(struct trace *t);

/*
 * --resolve: the names of @n addresses, looked up in parallel (getnameinfo
 * with NI_NAMEREQD, one thread per address, at most 16 at a time).
 * names[i] is malloc'd, or NULL when the address has no name.
 */
void trace_names(const struct sockaddr_storage *addrs, size_t n, char **names);

#endif
