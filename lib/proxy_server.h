/* SPDX-License-Identifier: MIT */
/*
 * A minimal SOCKS5 (RFC 1928 CONNECT; no auth, or RFC 1929 user/password)
 * and HTTP CONNECT (Basic auth) proxy: one thread, epoll, a non-blocking
 * handshake state per client, then splice(2) both ways through a pipe per
 * direction, with half-close carried across (a side's EOF becomes
 * shutdown(SHUT_WR) on the other once its pipe is empty).
 *
 * Clients are filtered by the server_opts of lib/server (allow, deny,
 * max_conns), which also give keep_open, accept_timeout and idle_timeout.
 * Target names are resolved with getaddrinfo(3), which blocks the loop
 * while it runs: fine for loopback and a LAN, this is not a busy proxy.
 */
#ifndef SOCKCTL_PROXY_SERVER_H
#define SOCKCTL_PROXY_SERVER_H

#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "proxy.h"
#include "server.h"

/* A user the proxy accepts. */
struct proxy_cred {
	char user[PROXY_FIELD_MAX + 1], pass[PROXY_FIELD_MAX + 1];
};

/*
 * Load "USER:PASSWORD" lines from @path ('#' comments and blank lines
 * skipped) into a new array *@creds (free it), *@n users.  Status 2 on a
 * bad file, naming its line.
 */
int proxy_creds_load(const char *path, struct proxy_cred **creds, size_t *n, struct err *e);

enum proxy_sev_type {
	PROXY_SEV_TUNNEL,  /* the target answered: the relay starts */
	PROXY_SEV_END,     /* a client is gone: target, bytes, reason */
	PROXY_SEV_REFUSED, /* turned away at accept (denied, max-conns) */
};

struct proxy_server_event {
	enum proxy_sev_type type;
	uint64_t id;
	const struct sockaddr *peer;
	socklen_t peerlen;
	const char *target; /* host as the client named it; "" before the request */
	uint16_t port;
	uint64_t up, down;  /* bytes client -> target, target -> client */
	int64_t duration_ns;
	const char *reason; /* "eof", "reset", "idle", "auth-failed", "refused", ... */
	const char *detail; /* words for a failed handshake, or NULL */
	int ok;             /* a tunnel was open and ended normally */
};
typedef void (*proxy_server_fn)(void *ctx, const struct proxy_server_event *ev);

struct proxy_server_opts {
	enum proxy_kind kind; /* PROXY_SOCKS5 or PROXY_HTTP */
	const struct proxy_cred *creds; /* NULL/0: no authentication */
	size_t ncreds;
	const struct server_opts *so;
	int family;              /* of outbound connections: 0, AF_INET, AF_INET6 */
	int64_t handshake_timeout; /* ns from accept to the tunnel (connect included) */
	proxy_server_fn on_event;
	void *ctx;
};

/*
 * Serve proxy clients on the @nl listening sockets @lfds.  Without
 * so->keep_open it returns after the first client: 0 if its tunnel was open
 * and ended normally, else -1 with @e naming why (status 1).  With keep_open
 * it returns only on failure (epoll, accept_timeout).
 */
int proxy_server_run(const int *lfds, int nl, const struct proxy_server_opts *o, struct err *e);

#endif
