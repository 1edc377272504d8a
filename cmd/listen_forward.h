/* SPDX-License-Identifier: MIT */
/* listen --forward: the recipe around lib/forward and its events on stderr. */
#ifndef SOCKCTL_LISTEN_FORWARD_H
#define SOCKCTL_LISTEN_FORWARD_H

#include "connect_proxy.h"
#include "forward.h"
#include "server_show.h"

struct listen_opts;

/* --forward-tls and its options (cmd/listen_forward_tls.c). */
struct listen_ftls {
	int on, insecure;
	const char *ca, *sni;
};
#define OPT_FORWARD_TLS(t)                                                                     \
	OPT_FLAG(0, "forward-tls", &(t)->on,                                                   \
		 "--forward: TLS to the target, verified against the system's CAs and HOST"),  \
	OPT_STRING(0, "forward-ca", &(t)->ca, "FILE",                                          \
		   "--forward-tls: trust these CA certificates (PEM) instead of the system's"), \
	OPT_STRING(0, "forward-sni", &(t)->sni, "NAME",                                        \
		   "--forward-tls: send NAME as SNI and check the certificate against it"),    \
	OPT_FLAG(0, "forward-insecure", &(t)->insecure,                                        \
		 "--forward-tls: do not verify the target's certificate (warned once)")

/* --forward-tls and its options against the others (status 2). */
int listen_ftls_check(const struct listen_opts *o, struct err *e);
/*
 * The TLS legs of @f: --tls (the clients', with the ephemeral certificate's
 * notice) and --forward-tls (the target's).  -1 with @e.
 */
int listen_ftls_setup(const struct listen_opts *o, struct server_show *show, const int *fds,
		      int n, struct forward_server *f, struct err *e);
void listen_ftls_free(struct forward_server *f);
/* The TLS legs' facts of a forward event: JSON keys, and -v's line. */
struct jsonw;
void listen_ftls_json(struct jsonw *w, const struct forward_event *ev);
void listen_ftls_text(const struct server_show *c, const struct forward_event *ev);

/* The forward_event_fn hook (-v text, JSON "forward"; a failed connect always). */
void forward_show_event(void *ctx, const struct forward_event *ev);

/*
 * Forward every client of the @n listening sockets @fds to o->fwd, each
 * outbound socket with the options o->so, connecting for at most
 * o->connect_timeout (-1: FORWARD_CONNECT_TIMEOUT), through o->fpx, with
 * TLS on the legs that o->tls and o->ftls ask for.
 */
int listen_forward_serve(const struct listen_opts *o, struct server_show *show,
			 const struct server_opts *so, int *fds, int n, struct err *e);

/* The outbound connect's timeout unless --connect-timeout says otherwise. */
#define FORWARD_CONNECT_TIMEOUT (10 * NS_PER_SEC)

#endif
