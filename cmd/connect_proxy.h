/* SPDX-License-Identifier: MIT */
/*
 * connect through a proxy (--proxy URL, nc's -x/-X/-P): the options, their
 * checks, the tunnel and -z through it.  lib/proxy speaks the protocols;
 * this file decides what to print.
 *
 * For TLS through the tunnel (--tls): connect_proxy_open() returns a socket
 * whose next byte is the target's, so TLS is started on it exactly as on a
 * direct connection; the server name (SNI) is the target's, @ep->host, never
 * the proxy's.
 */
#ifndef SOCKCTL_CONNECT_PROXY_H
#define SOCKCTL_CONNECT_PROXY_H

#include <stdint.h>

#include "addr.h"
#include "err.h"
#include "proxy.h"
#include "scan.h"
#include "sock_connect.h"

/* What the user typed; connect_proxy_check() fills .u. */
struct connect_proxy {
	const char *url;               /* --proxy URL */
	const char *addr, *type, *user; /* nc's -x HOST:PORT, -X 5|4|connect, -P USER */
	int on;                        /* a proxy is in use */
	int verbose, json;
	const char *cmd;               /* whose messages: "connect" unless set */
	struct proxy_url u;
};

/* The completion's values for -X. */
extern const char *const connect_proxy_types[];

/* The option rows, in a group of their own. */
#define OPT_PROXY_CLIENT(p)                                                                 \
	OPT_GROUP("Through a proxy"),                                                        \
	OPT_STRING(0, "proxy", &(p)->url, "URL",                                            \
		   "socks5|socks5h|socks4|socks4a|http://[USER[:PASS]@]HOST:PORT"),        \
	OPT_STRING('x', "proxy-addr", &(p)->addr, "HOST:PORT", "nc: the proxy to go through"), \
	OPT_STRINGV('X', "proxy-type", &(p)->type, "PROTO", connect_proxy_types,            \
		    "nc: with -x: 5 (SOCKS5, the default), 4 (SOCKS4) or connect (HTTP)"),  \
	OPT_STRING('P', "proxy-user", &(p)->user, "USER",                                   \
		   "proxy user (password: $SOCKCTL_PROXY_PASSWORD or a prompt)")

/*
 * The proxy options against each other and the rest (@not_tcp: -u, -U,
 * unix:, --fd or --nonblock was given): status 2 on bad input.  Then, for a
 * SOCKS5 or HTTP user without a password in the URL, the password from
 * $SOCKCTL_PROXY_PASSWORD or a prompt on /dev/tty (never from argv).
 */
int connect_proxy_prepare(struct connect_proxy *p, int not_tcp, int verbose, int json,
			  struct err *e);

/*
 * Connect to the proxy with @co (its timeout bounds the handshake too;
 * none: 30 s) and open a tunnel to @ep's host and port: the tunnel's
 * socket goes to @fd.
 */
int connect_proxy_open(const struct connect_proxy *p, const struct endpoint *ep,
		       const struct sock_connect_opts *co, int *fd, struct err *e);

/*
 * -z through the proxy: each port of @ep's list, one after the other, a
 * tunnel opened and closed: open, closed (the proxy says refused) or
 * filtered (unreachable, or no answer in @timeout).  @cb gets one result per
 * port.  The number of open ports, or -1 with @e when the proxy itself fails.
 */
long connect_proxy_scan(const struct connect_proxy *p, const struct endpoint *ep,
			const struct sock_connect_opts *co, int64_t timeout, scan_cb cb,
			void *ctx, size_t *nports, struct err *e);

#endif
