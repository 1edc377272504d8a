/* SPDX-License-Identifier: MIT */
/*
 * A receiving socket's queue, for every datagram receiver (udp-recv,
 * listen -u, raw-icmp): how large its receive buffer is by default, and
 * how many datagrams the kernel dropped at it because that buffer was full.
 *
 * Why a default for floods: the kernel's default receive buffer (about
 * 208 KiB, net.core.rmem_default) holds some 200 small datagrams queued on
 * loopback; a receiver that stops to write a batch of output overflows it
 * at a few hundred thousand datagrams a second, and the loss looks like
 * the network's.  The default asked for is the larger of SOCK_RXQ_FLOOD
 * (4 MiB) and what the socket already has, with SO_RCVBUFFORCE when the
 * process may (CAP_NET_ADMIN), else SO_RCVBUF, which the kernel caps at
 * net.core.rmem_max.  The kernel doubles what is asked for (its own
 * bookkeeping): the effective size is what getsockopt reads back.
 */
#ifndef SOCKCTL_SOCK_RXQ_H
#define SOCKCTL_SOCK_RXQ_H

#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

#define SOCK_RXQ_FLOOD (4 << 20)

struct sock_rxq_buf {
	int before;  /* SO_RCVBUF before: the kernel default (or an inherited socket's) */
	int asked;   /* what was asked for, 0 if nothing was */
	int granted; /* SO_RCVBUF read back: the effective size */
	int forced;  /* SO_RCVBUFFORCE was allowed (past net.core.rmem_max) */
};

/*
 * The flood default on @fd (see above); the sizes in @r.  Never fails for
 * a refusal: the socket keeps what it has.  -1 only if getsockopt fails.
 */
int sock_rxq_flood_default(int fd, struct sock_rxq_buf *r, struct err *e);
/* The effective receive buffer of @fd (SO_RCVBUF read back), -1 if unknown. */
int sock_rxq_rcvbuf(int fd);
/*
 * What -v says of @fd's receive buffer, in @buf: with --rcvbuf (@requested
 * >= 0) "SO_RCVBUF R requested, G granted ...", else the flood default @r
 * "receive buffer G bytes (default for floods: ...)".
 */
const char *sock_rxq_describe(int fd, int requested, const struct sock_rxq_buf *r, char *buf,
			      size_t n);

/*
 * SO_RXQ_OVFL on: every read carries the socket's count of datagrams
 * dropped so far (sock_rxq_ovfl_of).  -1 with @e if refused.
 */
int sock_rxq_ovfl_on(int fd, struct err *e);
/* The SO_RXQ_OVFL count in a read's control messages, -1 if it has none. */
int64_t sock_rxq_ovfl_of(const struct msghdr *h);
/*
 * The socket's drop count now (SO_MEMINFO, Linux 4.12), -1 if the kernel
 * does not say.  Counts what no read has reported yet: drops after the last
 * datagram read.
 */
int64_t sock_rxq_drops_now(int fd);

/* Drops at one socket, from a start: what SO_RXQ_OVFL and SO_MEMINFO said. */
struct sock_rxq_drops {
	int64_t base; /* the count when the run started (an inherited socket's past) */
	int64_t seen; /* the last count a read carried, -1 none */
};
void sock_rxq_drops_start(struct sock_rxq_drops *d, int fd);
/* A read's control messages @h: note its count. */
void sock_rxq_drops_note(struct sock_rxq_drops *d, const struct msghdr *h);
/* Datagrams dropped at @fd since the start (a last look with SO_MEMINFO). */
uint64_t sock_rxq_drops_total(const struct sock_rxq_drops *d, int fd);

#endif
