/* SPDX-License-Identifier: MIT */
/* listen --tls: the server context (an ephemeral certificate when none is given) and a client. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "err.h"
#include "out.h"
#include "relay.h"
#include "server.h"
#include "server_show.h"
#include "tls_show.h"

#define NAMES_MAX 20

int listen_tls_ctx(const struct tls_show *s, const struct tls_opts *t, const int *fds, int n,
		   struct tls_ctx **out, struct err *e)
{
	char host[256] = "", addrs[NAMES_MAX][ADDR_STRLEN];
	const char *names[NAMES_MAX + 4];
	struct tls_cert_info eph;
	struct jsonw w;
	int i, k = 0, wild = 0;

	if (!gethostname(host, sizeof(host) - 1) && host[0])
		names[k++] = host;
	for (i = 0; i < n && i < NAMES_MAX; i++) {
		struct sockaddr_storage ss = { 0 };
		socklen_t len = sizeof(ss);

		if (getsockname(fds[i], (struct sockaddr *)&ss, &len) ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		addr_ntop((struct sockaddr *)&ss, len, addrs[i], sizeof(addrs[i]));
		if (!strcmp(addrs[i], "0.0.0.0") || !strcmp(addrs[i], "::"))
			wild = 1;
		else
			names[k++] = addrs[i];
	}
	if (wild || !k) { /* the wildcard: loopback is one of the addresses it serves */
		names[k++] = "localhost";
		names[k++] = "127.0.0.1";
		names[k++] = "::1";
	}
	names[k] = NULL;
	if (tls_server_ctx(t, names, out, &eph, e))
		return -1;
	if (!eph.sha256[0])
		return 0;
	if (s->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", "tls_certificate");
		json_str(&w, "subject", eph.subject);
		json_str(&w, "sans", eph.sans);
		json_str(&w, "not_after", eph.not_after);
		json_str(&w, "sha256", eph.sha256);
		json_str(&w, "pin", eph.pin);
		json_end(&w);
	} else {
		err_msg(s->cmd, "tls: ephemeral self-signed certificate %s (%s), valid to %s", eph.subject,
			eph.sans, eph.not_after);
		err_msg(s->cmd, "tls: sha256 fingerprint %s", eph.sha256);
		err_msg(s->cmd, "tls: pin %s", eph.pin);
	}
	return 0;
}

int listen_tls_serve(const struct tls_show *s, struct tls_ctx *c, int fd, const char *who,
		     const struct relay_opts *ro, struct relay_stats *st,
		     struct err *e)
{
	struct tls_conn *conn = NULL;
	struct tls_report r;
	char msg[sizeof(e->msg)];
	int rc;

	memset(st, 0, sizeof(*st));
	r.tcp_ns = -1;
	if (tls_accept(c, fd, &conn, &r, e)) {
		snprintf(msg, sizeof(msg), "%s", e->msg);
		return err_set(e, EXIT_FAIL, "%s: %s", who, msg);
	}
	tls_show_report(s, stderr, &r, who, 0);
	rc = tls_relay(conn, ro->recv_only ? -1 : 0, ro->send_only ? -1 : 1, ro, st, e);
	tls_conn_close(conn, rc == 0); /* a polite end: close_notify */
	return rc;
}

void listen_tls_ready(void *ctx, void *conn, const struct server_event *ev)
{
	const struct server_show *ss = ctx;
	const struct tls_show s = { ss->cmd, ss->verbose, ss->json };
	struct tls_report r;
	char who[ADDR_STRLEN];

	tls_layer_report(conn, &r);
	addr_format(ev->peer, ev->peerlen, who, sizeof(who));
	tls_show_report(&s, stderr, &r, who, 0);
}
