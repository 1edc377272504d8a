/* SPDX-License-Identifier: MIT */
/*
 * Port checks: many non-blocking connects at once under epoll, each with its
 * own timeout.  TCP: open (handshake done), closed (refused), filtered (no
 * answer in time, or unreachable).  UDP: an empty datagram per port; closed
 * only when an ICMP port-unreachable says so, open when a reply comes, else
 * open|filtered.
 */
#ifndef SOCKCTL_SCAN_H
#define SOCKCTL_SCAN_H

#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "err.h"
#include "sock.h"

enum scan_state { SCAN_OPEN, SCAN_CLOSED, SCAN_FILTERED, SCAN_OPEN_FILTERED };

struct scan_result {
	uint16_t port;
	enum scan_state state;
	int err;    /* errno behind closed/filtered; 0 otherwise */
	int64_t ns; /* from connect() to the answer or the timeout */
};

typedef void (*scan_cb)(void *ctx, const struct scan_result *r);

struct scan_opts {
	int parallel;     /* checks in flight at most */
	int64_t timeout;  /* ns per port */
	int udp;
	const struct sockopts *so;
	const struct sockaddr *src; /* bind here first (-s/-p); NULL: any */
	socklen_t srclen;
};

/* "open", "closed", "filtered", "open|filtered". */
const char *scan_state_name(enum scan_state s);

/*
 * Check every port of @pl on @addr (its port is ignored).  @cb gets one
 * result per port, in the order of @pl, as soon as that order allows.
 * Returns the number of open ports, or -1 with @e on a local failure.
 */
long scan_run(const struct sockaddr *addr, socklen_t len, const struct port_list *pl,
	      const struct scan_opts *o, scan_cb cb, void *ctx, struct err *e);

#endif
