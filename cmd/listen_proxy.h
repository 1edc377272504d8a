/* SPDX-License-Identifier: MIT */
/*
 * listen --proxy-server socks5|http: the options, their checks and the
 * output of lib/proxy_server's events (text with -v, JSON Lines).
 */
#ifndef SOCKCTL_LISTEN_PROXY_H
#define SOCKCTL_LISTEN_PROXY_H

#include "err.h"
#include "server.h"

struct listen_proxy {
	const char *type; /* --proxy-server socks5|http; NULL: not a proxy */
	const char *auth; /* --proxy-auth FILE */
};

extern const char *const listen_proxy_types[];

#define OPT_PROXY_SERVER(p)                                                               \
	OPT_GROUP("Proxy server"),                                                         \
	OPT_STRINGV(0, "proxy-server", &(p)->type, "PROTO", listen_proxy_types,            \
		    "be a SOCKS5 or HTTP CONNECT proxy: socks5 or http"),                  \
	OPT_STRING(0, "proxy-auth", &(p)->auth, "FILE",                                    \
		   "--proxy-server: accept only the USER:PASSWORD lines of FILE")

/* The options against each other; @not_tcp: -u, --echo or a Unix socket. */
int listen_proxy_check(const struct listen_proxy *p, int not_tcp, struct err *e);

/*
 * Serve the @n listening sockets @fds as a proxy, under @so (allow, deny,
 * -m, -k, -w, --idle-timeout); events shown with @verbose / @json.
 */
int listen_proxy_serve(const struct listen_proxy *p, const struct server_opts *so, int family,
		       int verbose, int json, const int *fds, int n, struct err *e);

#endif
