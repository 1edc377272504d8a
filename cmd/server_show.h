/* SPDX-License-Identifier: MIT */
/*
 * How a serving command shows lib/server's events and its listening sockets
 * on stderr: one line each with -v (refusals to accept for want of a
 * descriptor once even without), or JSON Lines with --json.
 */
#ifndef SOCKCTL_SERVER_SHOW_H
#define SOCKCTL_SERVER_SHOW_H

#include "server.h"

struct server_show {
	const char *cmd; /* names the command in text lines */
	int verbose, json;
	int warned;      /* SERVER_EV_PAUSED said once already */
};

/* The server_event_fn hook: @ctx is a struct server_show. */
void server_show_event(void *ctx, const struct server_event *ev);
/* "listening on ADDR" for each of the @n sockets @fds; a Unix one is named @unix_path. */
void server_show_listening(const struct server_show *s, const int *fds, int n, int udp,
			   const char *unix_path);

/*
 * Datagram sockets: unless --rcvbuf set one (@rcvbuf >= 0, what it asked),
 * the receive buffer for floods (lib/sock_rxq); with -v, the effective size.
 */
int server_show_rcvbuf(const struct server_show *s, const int *fds, int n, int rcvbuf,
		       struct err *e);
/* Datagrams dropped at the sockets (@st->sock_drops): said, with the --rcvbuf hint. */
void server_show_drops(const struct server_show *s, const struct server_stats *st);

#endif
