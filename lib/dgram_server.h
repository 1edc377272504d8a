/* SPDX-License-Identifier: MIT */
/*
 * The datagram server behind listen -u: the receive engine (lib/dgram_recv:
 * GRO, echo and its guards) plus what a server adds: --allow/--deny per
 * datagram, peers and their events, stdin to the last sender, timeouts.
 * Options, events and statistics are the stream server's (lib/server.h).
 */
#ifndef SOCKCTL_DGRAM_SERVER_H
#define SOCKCTL_DGRAM_SERVER_H

#include "server.h"

/*
 * Serve datagrams arriving on the @n bound sockets @fds: each datagram to
 * out_fd (or back to its sender with echo); each read of in_fd is sent as one
 * datagram to the last sender.  Without keep_open the first sender is the
 * only peer (the socket is connected to it).  A sender refused by allow/deny
 * (or, with echo, by the loop check or echo_rate) is a SERVER_EV_REFUSED
 * event, rate-limited, and never becomes the peer.  Returns -1 with @e on
 * failure (an output write error, no datagram before accept_timeout); 0 when
 * the peer has been idle for idle_timeout (without keep_open).
 */
int server_run_dgram(const int *fds, int n, const struct server_opts *o,
		     struct server_stats *st, struct err *e);

#endif
