/* SPDX-License-Identifier: MIT */
/*
 * Port forwarding (listen --forward): every client handed off by lib/server
 * gets its own outbound connection (Happy Eyeballs, connect timeout and
 * socket options through lib/sock_connect), and bytes move socket to socket
 * through a kernel pipe with splice(2), in the server's epoll loop.  Each
 * direction ends on its own: the EOF of one side becomes a shutdown(SHUT_WR)
 * of the other once what was read is delivered, and the pair is closed when
 * both directions are done.  A reset on either side resets the other.  A
 * target that refuses or cannot be reached: the client is reset (RST) and
 * the event says why; the server keeps running.
 *
 * The outbound leg of a HOST:PORT target is connected with lib/sock_connect's
 * race in steps (sock_race_*), watched in the loop: a slow target stalls
 * nobody (the getaddrinfo of a name is still waited for).  Setting
 * forward_server.open_target replaces that with a blocking hook: where a
 * proxy (--proxy) or another way in can be put.  It must return a
 * connected stream socket whose bytes can be spliced.
 */
#ifndef SOCKCTL_FORWARD_H
#define SOCKCTL_FORWARD_H

#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "err.h"
#include "server.h"
#include "sock_connect.h"
#include "tls.h"

/* What a TLS leg's handshake gave, for the forward event. */
struct forward_tls_leg {
	char version[16], cipher[64];
	int verify_done;  /* a peer certificate was checked */
	char verify[128]; /* "ok", or OpenSSL's reason */
};

/* One client's forwarding ended (or never began: @error). */
struct forward_event {
	uint64_t id;
	const struct sockaddr *client; /* the client's address */
	socklen_t clientlen;
	const struct sockaddr *target; /* the connected target (NULL if none) */
	socklen_t targetlen;
	uint64_t bytes_up, bytes_down; /* client -> target, target -> client */
	int64_t duration_ns;
	const char *reason; /* "eof", "reset", "error", "connect-failed", and with TLS
			     * "tls-failed", "handshake-timeout", "truncated" */
	const char *side;   /* "client" or "target": whose failure (reset, error, ...) */
	int errnum;
	const char *error;  /* connect-failed, tls-failed: the error's message */
	/* the TLS legs whose handshake is done (NULL: plain, or not that far) */
	const struct forward_tls_leg *tls_client, *tls_target;
};
typedef void (*forward_event_fn)(void *ctx, const struct forward_event *ev);

struct forward_server;
/* Open the outbound leg for one client: a connected non-blocking socket in *@fd. */
typedef int (*forward_open_fn)(const struct forward_server *f, int *fd, struct err *e);

struct forward_server {
	struct endpoint target;      /* HOST:PORT or unix:PATH */
	struct sock_connect_opts co; /* family, timeout, attempt delay, socket options */
	forward_open_fn open_target; /* NULL: forward_open_default */
	void *open_ctx;              /* for a replacement open_target */
	forward_event_fn on_event;   /* may be NULL */
	void *ctx;
	struct server_handoff handoff; /* for server_opts.handoff */
	/*
	 * TLS legs (lib/forward_tls): @tls_client, a server context, makes
	 * the clients' leg TLS (termination); @tls_target, a client context,
	 * the target's, with @tls_host the name sent as SNI and checked (NULL:
	 * none; an IP address: checked against the certificate's IP names).
	 * Either moves the pair's bytes through buffers instead of splice.
	 * @on_tls_client reports each client's handshake (may be NULL), with
	 * @tls_hook_ctx.
	 */
	struct tls_ctx *tls_client, *tls_target;
	const char *tls_host;
	void (*on_tls_client)(void *ctx, uint64_t id, const struct sockaddr *client,
			      socklen_t clientlen, const struct tls_report *r);
	void *tls_hook_ctx;
};

/* @target is copied; co from sock_connect_opts_init (type SOCK_STREAM). */
void forward_server_init(struct forward_server *f, const struct endpoint *target,
			 forward_event_fn fn, void *ctx);
/* The plain outbound connect: sock_connect, or sock_connect_unix. */
int forward_open_default(const struct forward_server *f, int *fd, struct err *e);

/*
 * The client context of the target's leg (--forward-tls): tls_client_ctx()
 * of @o, except that without o->ca the system's CA bundle file is loaded
 * now, whole, rather than looked up in its directory at each handshake.
 */
int forward_tls_target_ctx(const struct tls_opts *o, struct tls_ctx **out, struct err *e);

/*
 * lib/forward_tls: the pair of client @cfd and connected target @tfd, one of
 * them (or both) TLS as @f says, from now on; it owns both descriptors and
 * calls server_release() once it ends, after its forward event.  @client
 * and @target (targetlen 0: unknown) are copied; @start is the job's start.
 */
void forward_tls_start(struct server_loop *l, struct forward_server *f, int cfd, int tfd,
		       uint64_t id, int64_t start, const struct sockaddr *client,
		       socklen_t clientlen, const struct sockaddr *target, socklen_t targetlen);

/*
 * listen -u --forward: datagrams from each client address go out through
 * that address's own connected UDP socket to the target (opened through
 * f->co, type SOCK_DGRAM), and the target's replies come back from the
 * listening socket the client used.  A session ends after o->idle_timeout
 * without a datagram either way (-1: FORWARD_UDP_IDLE) or when the target
 * is unreachable (ICMP: ECONNREFUSED), with a forward event; allow/deny
 * and max_conns (sessions at once) apply per datagram of a new address,
 * SERVER_EV_CONNECTION and SERVER_EV_REFUSED go to o->on_event.  Without
 * o->keep_open the first session is the only one and ends the run.
 * -1 with @e on failure (epoll, a listening socket's error).
 */
int forward_udp_run(const int *fds, int n, struct forward_server *f,
		    const struct server_opts *o, struct err *e);
#define FORWARD_UDP_IDLE (60 * INT64_C(1000000000))

#endif
