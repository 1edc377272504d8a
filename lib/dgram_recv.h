/* SPDX-License-Identifier: MIT */
/*
 * The datagram receive engine, shared by udp-recv and listen -u: recvmmsg
 * batches, UDP GRO (a coalesced read is split back into its datagrams, each
 * handled on its own), truncation to a per-datagram size, -c accounting
 * across coalesced reads, kernel receive timestamps, and echo: sendmmsg
 * batches behind the guards of lib/dgram_guard (loop check, per-source
 * rate).  It never prints: every datagram and every warning goes to the
 * caller's hook, which decides what a datagram is worth (counted, ignored,
 * or the end of the run).
 *
 * The caller owns the sockets (bound, options set) and the wait for them
 * (poll, epoll): when one is readable it calls dgram_rx_drain.
 */
#ifndef SOCKCTL_DGRAM_RECV_H
#define SOCKCTL_DGRAM_RECV_H

#include <stdint.h>
#include <sys/socket.h>

#include "dgram.h"
#include "dgram_guard.h"
#include "err.h"
#include "sock_rxq.h"

#define DGRAM_RX_MAXFDS 16
#define DGRAM_RX_BATCH 64 /* datagrams (or GRO trains) per recvmmsg */
#define DGRAM_RX_ECHO 256 /* echo replies per sendmmsg */

enum dgram_rx_ev_type {
	DGRAM_RX_DATAGRAM,    /* one datagram: the hook returns a verdict */
	DGRAM_RX_TRUNCATED,   /* warning: longer than opts.size (len, cap) */
	DGRAM_RX_NOT_ECHOED,  /* warning: echo_refusal says why */
	DGRAM_RX_ECHO_FAILED, /* warning: the echo to from could not go (errnum) */
	DGRAM_RX_BATCH_END,   /* a recvmmsg batch was handled (flush output here) */
};

/* What the hook makes of a DGRAM_RX_DATAGRAM. */
enum dgram_rx_verdict {
	DGRAM_RX_COUNT,  /* counts toward opts.count, and is echoed (with echo) */
	DGRAM_RX_IGNORE, /* neither counted nor echoed (an end marker, a refused sender) */
	DGRAM_RX_STOP,   /* neither, and the engine stops: dgram_rx_done() */
};

struct dgram_rx_event {
	enum dgram_rx_ev_type type;
	int fd; /* the socket it came in on */
	const struct sockaddr *from;
	socklen_t fromlen;
	const unsigned char *data;
	size_t len, cap;  /* the datagram's real size, the bytes kept (<= opts.size) */
	int64_t ts_ns;    /* kernel receive time (CLOCK_REALTIME), or real_ns */
	int64_t real_ns;  /* CLOCK_REALTIME when the batch was read */
	/*
	 * With echo: why this datagram will not be echoed (the loop check, or
	 * "over --echo-rate"), NULL if it will be; over_rate tells the two apart.
	 */
	const char *echo_refusal;
	int over_rate;
	int errnum;          /* DGRAM_RX_ECHO_FAILED */
	uint64_t suppressed; /* warnings: how many were left out before this one */
};

/*
 * Returns an enum dgram_rx_verdict for DGRAM_RX_DATAGRAM and
 * DGRAM_RX_BATCH_END (DGRAM_RX_STOP ends the run, e.g. when output failed);
 * ignored otherwise.
 */
typedef int (*dgram_rx_fn)(void *ctx, const struct dgram_rx_event *ev);

struct dgram_rx_opts {
	size_t size;        /* bytes kept per datagram, 1..DGRAM_BUFSIZE */
	int gro;            /* 1: turn UDP_GRO on where the kernel has it; 0: off */
	int echo;           /* send each counted datagram back to its sender */
	unsigned echo_rate; /* replies/s per source address, 0 = no limit */
	uint64_t count;     /* done after this many counted datagrams, 0 = never */
	dgram_rx_fn on_event;
	void *ctx;
};
/* size DGRAM_BUFSIZE, gro on, echo off, echo_rate DGRAM_ECHO_RATE_DEFAULT. */
void dgram_rx_opts_init(struct dgram_rx_opts *o);

struct dgram_rx {
	struct dgram_rx_opts o;
	int nfds;
	int fds[DGRAM_RX_MAXFDS];
	struct sockaddr_storage local[DGRAM_RX_MAXFDS]; /* each socket's name */
	struct sock_rxq_drops drops[DGRAM_RX_MAXFDS]; /* each socket's kernel drop count */
	int gro;              /* UDP_GRO is on on every socket */
	char gro_off[512];    /* why not, when it was asked for */
	struct dgram_batch b;
	struct mmsghdr echo[DGRAM_RX_ECHO];
	struct iovec echo_iov[DGRAM_RX_ECHO];
	unsigned nech;
	struct dgram_echo_rate rate;
	struct dgram_warn_limit warn;
	int done;
	/* counters */
	uint64_t counted;        /* verdict DGRAM_RX_COUNT */
	uint64_t discarded;      /* read past opts.count inside a coalesced read */
	uint64_t read_datagrams; /* every datagram read */
	uint64_t gro_reads, gro_datagrams; /* coalesced reads, the datagrams in them */
	uint64_t echoed, echo_bytes, not_echoed;
};

/*
 * Take the @n bound datagram sockets @fds (read with MSG_DONTWAIT), turn on
 * SO_RXQ_OVFL (the kernel's drop count, see dgram_rx_sock_drops), SO_TIMESTAMPNS, UDP_GRO as asked (a refusal only clears rx->gro and says
 * why in rx->gro_off) and, with echo, IP_PKTINFO for the loop check.
 */
int dgram_rx_init(struct dgram_rx *rx, const int *fds, int n, const struct dgram_rx_opts *o,
		  struct err *e);
/*
 * Read @fd until it would block or the run is done, handing each datagram to
 * the hook and sending the echoes.  1 if something was read, 0 if nothing
 * was queued, -1 on error (@e).  ICMP errors queued on a connected socket
 * (an echo to a sender that left) are skipped.
 */
int dgram_rx_drain(struct dgram_rx *rx, int fd, struct err *e);
/* The run is done: opts.count reached, or a hook said DGRAM_RX_STOP. */
static inline int dgram_rx_done(const struct dgram_rx *rx)
{
	return rx->done;
}
/* Warnings left out since the last one that went to the hook. */
static inline uint64_t dgram_rx_suppressed(const struct dgram_rx *rx)
{
	return rx->warn.suppressed;
}
/*
 * Datagrams the kernel dropped at the sockets since dgram_rx_init because
 * their receive buffers were full (SO_RXQ_OVFL, and SO_MEMINFO for the
 * drops after the last read): loss inside this host, not on the path.
 */
uint64_t dgram_rx_sock_drops(const struct dgram_rx *rx);
void dgram_rx_free(struct dgram_rx *rx);

#endif
