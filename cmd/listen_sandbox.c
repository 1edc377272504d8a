/* SPDX-License-Identifier: MIT */
/* listen's mode -> its seccomp program and Landlock paths (cmd/sandbox_tables.c). */
#include <netdb.h>
#include <string.h>

#include "cmd_sandbox.h"
#include "listen.h"
#include "sock.h"

/*
 * --forward resolves its target for each client (and --proxy its proxy):
 * one lookup now, its result unused, loads whatever NSS needs (a module is
 * a dlopen, which the filter refuses) before the filter; /etc stays
 * readable for hosts, resolv.conf, nsswitch.conf, services.
 */
static void warm_resolver(const struct listen_opts *o)
{
	struct addrinfo hints, *res = NULL;
	struct err e = { 0 };

	if (o->fwd.kind == EP_UNIX)
		return;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = o->family;
	hints.ai_socktype = o->udp ? SOCK_DGRAM : SOCK_STREAM;
	if (!sock_getaddrinfo(o->fwd.host, o->fwd.service, &hints, &res, &e))
		freeaddrinfo(res);
}

int listen_sandbox(const struct listen_opts *o, struct err *e)
{
	struct cmd_sandbox sb = { .cmd = "listen", .off = o->no_sandbox, .verbose = o->verbose };
	const struct sandbox_prog *p;

	sb.unix_remove = o->unix_path;
	if (o->xcmd.argv) {
		sb.no_filter_why = "-e/-c: the programs would inherit the filter";
		return cmd_sandbox_enter(&sb, &sb_listen_one, e);
	}
	if (o->forward || o->px.type) {
		if (o->forward && !o->no_sandbox)
			warm_resolver(o);
		sb.paths[sb.npaths++] = (struct sandbox_path){ "/etc", SB_FS_READ };
		/* --proxy-auth FILE is read when the server starts */
		if (o->px.type && o->px.auth)
			sb.paths[sb.npaths++] = (struct sandbox_path){ o->px.auth, SB_FS_READ };
		p = o->forward ? &sb_listen_forward : &sb_listen_proxy;
		if (o->forward && (o->tls.tls || o->ftls.on)) {
			if (o->tls.tls && o->tls.ca)
				sb.paths[sb.npaths++] = (struct sandbox_path){ o->tls.ca, SB_FS_READ };
			if (o->ftls.on && o->ftls.ca)
				sb.paths[sb.npaths++] = (struct sandbox_path){ o->ftls.ca, SB_FS_READ };
			p = &sb_listen_forward_tls;
		}
	} else if (o->tls.tls && o->tls.ca) {
		/* --verify-client --ca DIR: a hashed directory is read per handshake */
		sb.paths[sb.npaths++] = (struct sandbox_path){ o->tls.ca, SB_FS_READ };
		p = &sb_listen_tls_ca;
	} else if (o->tls.tls) {
		p = &sb_listen_tls;
	} else if (o->udp) {
		p = &sb_listen_dgram;
	} else {
		p = o->keep_open || o->echo ? &sb_listen_stream : &sb_listen_one;
	}
	return cmd_sandbox_enter(&sb, p, e);
}
