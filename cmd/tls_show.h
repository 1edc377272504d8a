/* SPDX-License-Identifier: MIT */
/* TLS for connect and listen: the handshake report (-v, --json) and the recipes. */
#ifndef SOCKCTL_TLS_SHOW_H
#define SOCKCTL_TLS_SHOW_H

#include <stdint.h>

#include "tls.h"

struct relay_opts;
struct relay_stats;
struct sockopts;

struct cmd_sandbox;

struct tls_show {
	const char *cmd; /* "connect", "listen" */
	int verbose, json;
};

/*
 * The report of one handshake with @peer: a "tls" JSON event on @f (stderr
 * for a relay, stdout for -z, where it is the result), or with -v lines on
 * stderr.  A certificate that did not verify under --no-verify is a warning
 * either way.  @port 0: none (a relay).
 */
void tls_show_report(const struct tls_show *s, FILE *f, const struct tls_report *r,
		     const char *peer, unsigned port);

/*
 * connect --tls up to the relay: STARTTLS if asked, the handshake on
 * connected socket @fd to @host, the report.  0 with *@ctx and *@conn (the
 * caller frees both), or -1 with @e naming @peer.
 */
int tls_client_start(const struct tls_show *s, const struct tls_opts *t, int fd,
		     const char *host, const char *peer, int64_t tcp_ns, struct tls_ctx **ctx,
		     struct tls_conn **conn, struct err *e);

/*
 * connect --tls: STARTTLS if asked, the handshake on connected socket @fd
 * to @host (as given), the report, the sandbox @sb (NULL: none; see
 * cmd/sandbox_tables.c), then the relay under @ro.  Fills @st.
 */
int tls_client_run(const struct tls_show *s, const struct cmd_sandbox *sb,
		   const struct tls_opts *t, int fd,
		   const char *host, const char *peer, int64_t tcp_ns, const struct relay_opts *ro,
		   struct relay_stats *st, struct err *e);

/*
 * connect -z --tls: for each port of @ports on @host in turn, connect
 * (within @timeout), handshake, report, close: one row each (a "tls" event
 * or a failure).  Status 0 if any handshake verified.  @sb (NULL: none) is
 * entered once the context is loaded: each port is resolved, connected and
 * verified under it.
 */
int tls_client_scan(const struct tls_show *s, struct cmd_sandbox *sb,
		    const struct tls_opts *t, const char *host,
		    const char *ports, int family, int64_t timeout, const struct sockopts *so,
		    struct err *e);

/*
 * listen --tls: the server context for the listening sockets @fds (an
 * ephemeral certificate names the host and their addresses; its
 * fingerprint and pin go to stderr), made before the first client.
 */
int listen_tls_ctx(const struct tls_show *s, const struct tls_opts *t, const int *fds, int n,
		   struct tls_ctx **out, struct err *e);
/* One accepted client @fd (@who): handshake, report, relay under @ro. */
int listen_tls_serve(const struct tls_show *s, struct tls_ctx *c, int fd, const char *who,
		     const struct relay_opts *ro, struct relay_stats *st,
		     struct err *e);
/*
 * listen -k --tls (and --echo): the server_layer hook for a client whose
 * handshake is done; @ctx is listen's struct server_show.
 */
struct server_event;
void listen_tls_ready(void *ctx, void *conn, const struct server_event *ev);

#endif
