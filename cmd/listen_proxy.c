/* SPDX-License-Identifier: MIT */
/* listen --proxy-server: the recipe and its output; lib/proxy_server is the engine. */
#include "listen_proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "out.h"
#include "parse.h"
#include "proxy_server.h"

/* A client gets this long from accept to its tunnel (--idle-timeout if shorter). */
#define HANDSHAKE_TIMEOUT (10 * NS_PER_SEC)

const char *const listen_proxy_types[] = { "socks5", "http", NULL };

static enum proxy_kind kind_of(const char *type)
{
	if (!type)
		return PROXY_NONE;
	if (!strcmp(type, "socks5"))
		return PROXY_SOCKS5;
	if (!strcmp(type, "http"))
		return PROXY_HTTP;
	return PROXY_NONE;
}

int listen_proxy_check(const struct listen_proxy *p, int not_tcp, struct err *e)
{
	if (!p->type) {
		if (p->auth)
			return err_set(e, EXIT_USAGE, "--proxy-auth needs --proxy-server");
		return 0;
	}
	if (kind_of(p->type) == PROXY_NONE)
		return err_set(e, EXIT_USAGE, "--proxy-server '%.16s': give socks5 or http", p->type);
	if (not_tcp)
		return err_set(e, EXIT_USAGE, "--proxy-server needs a TCP listener (not -u, --echo, "
			       "-U or unix:)");
	return 0;
}

struct show {
	int verbose, json;
};

static void show_json(const struct proxy_server_event *ev)
{
	static const char *const names[] = { "tunnel", "proxy", "refused" };
	struct jsonw w;

	json_begin(&w, stderr);
	json_str(&w, "event", names[ev->type]);
	json_uint(&w, "id", ev->id);
	json_sockaddr(&w, ev->peer, ev->peerlen);
	if (ev->type != PROXY_SEV_REFUSED) {
		json_str(&w, "target", ev->target);
		json_uint(&w, "target_port", ev->port);
	}
	if (ev->type == PROXY_SEV_END) {
		json_uint(&w, "bytes_up", ev->up);
		json_uint(&w, "bytes_down", ev->down);
		json_num(&w, "duration_ms", (double)ev->duration_ns / 1e6, 3);
		json_bool(&w, "ok", ev->ok);
	}
	if (ev->reason)
		json_str(&w, "reason", ev->reason);
	if (ev->detail)
		json_str(&w, "detail", ev->detail);
	json_end(&w);
	fflush(stderr);
}

static void show_event(void *ctx, const struct proxy_server_event *ev)
{
	const struct show *sh = ctx;
	char peer[ADDR_STRLEN], dur[32];

	if (sh->json) {
		show_json(ev);
		return;
	}
	if (!sh->verbose)
		return;
	addr_format(ev->peer, ev->peerlen, peer, sizeof(peer));
	if (ev->type == PROXY_SEV_REFUSED)
		err_msg("listen", "refused %s: %s", peer, ev->reason);
	else if (ev->type == PROXY_SEV_TUNNEL)
		err_msg("listen", "proxy client %s: tunnel to %s port %u", peer, ev->target,
			ev->port);
	else
		err_msg("listen", "proxy client %s%s%s%s%.0u: %llu bytes up, %llu down, %s (%s%s%s)",
			peer, ev->target[0] ? " to " : "", ev->target,
			ev->target[0] ? " port " : "", ev->target[0] ? ev->port : 0,
			(unsigned long long)ev->up, (unsigned long long)ev->down,
			parse_format_duration(ev->duration_ns, dur, sizeof(dur)), ev->reason,
			ev->detail ? ": " : "", ev->detail ? ev->detail : "");
}

int listen_proxy_serve(const struct listen_proxy *p, const struct server_opts *so, int family,
		       int verbose, int json, const int *fds, int n, struct err *e)
{
	struct proxy_server_opts po;
	struct show sh = { verbose, json };
	struct proxy_cred *creds = NULL;
	int rc;

	memset(&po, 0, sizeof(po));
	if (p->auth && proxy_creds_load(p->auth, &creds, &po.ncreds, e))
		return -1;
	po.kind = kind_of(p->type);
	po.creds = creds;
	po.so = so;
	po.family = family;
	po.handshake_timeout = HANDSHAKE_TIMEOUT;
	if (so->idle_timeout >= 0 && so->idle_timeout < HANDSHAKE_TIMEOUT)
		po.handshake_timeout = so->idle_timeout;
	po.on_event = show_event;
	po.ctx = &sh;
	rc = proxy_server_run(fds, n, &po, e);
	if (creds) {
		memset(creds, 0, po.ncreds * sizeof(*creds));
		free(creds);
	}
	return rc;
}
