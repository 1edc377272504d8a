/* SPDX-License-Identifier: MIT */
/* sockctl listen: the options against each other, before any socket is opened. */
#include <sys/socket.h>

#include "addr.h"
#include "err.h"
#include "listen.h"

struct rule {
	int bad;
	const char *msg;
};

int listen_check_opts(const struct listen_opts *o, const struct endpoint *ep, struct err *e)
{
	const struct relay_eof_opts *eof = &o->eof;
	int relay_opt = eof->nc_shutdown || eof->no_shutdown || eof->quit_after_eof >= 0;
	/* @ep NULL: an inherited or activated socket, whatever it is */
	int unix_ep = ep && ep->kind == EP_UNIX, inet_ep = ep && ep->kind == EP_INET;
	int unix_file = unix_ep && ep->path[0] != '@';
	const struct rule rules[] = {
		{ inet_ep && o->type, "--type needs a Unix socket (-U PATH or unix:PATH)" },
		{ unix_ep && (o->source || o->port),
		  "a Unix socket (-U PATH, unix:PATH) cannot be used with -s or -p" },
		{ unix_ep && o->family, "-4/-6 cannot be used with a Unix socket (-U, unix:)" },
		{ unix_ep && (o->allow.n || o->deny.n),
		  "--allow/--deny need an IP listener, not a Unix socket (-U, unix:)" },
		{ unix_ep && (o->so.ttl >= 0 || o->so.tos >= 0 || o->so.nodelay > 0 ||
			      o->so.keepalive > 0),
		  "--ttl, --tos, --nodelay and --keepalive need an IP listener, not a Unix socket" },
		{ o->mode >= 0 && !unix_file,
		  "--mode needs a Unix socket file (-U PATH; an abstract @name has no "
		  "permissions)" },
		{ eof->exit_on_peer_eof && (o->udp || o->echo),
		  "--exit-on-peer-eof applies to streams with stdin (not -u or --echo)" },
		{ o->max_conns > 0 && !o->keep_open, "-m/--max-conns needs -k" },
		{ o->stall_timeout >= 0 && (!o->keep_open || o->udp || o->echo),
		  "--stall-timeout needs -k with a stream (not -u or --echo)" },
		{ o->echo && (relay_opt || eof->recv_only || eof->send_only),
		  "--echo cannot be used with -N, --no-shutdown, -q, -d or --send-only" },
		{ eof->recv_only && eof->send_only,
		  "-d/--recv-only and --send-only exclude each other" },
		{ o->keep_open && relay_opt,
		  "-N, --no-shutdown and -q apply to one client (not -k)" },
		{ o->udp && relay_opt, "-N, --no-shutdown and -q apply to TCP and Unix streams" },
		{ o->udp && o->backlog >= 0, "--backlog needs a stream socket (not -u)" },
		{ o->tls.tls && o->udp, "--tls needs a stream socket (not -u)" },
		{ o->nonblock && (o->keep_open || o->udp),
		  "--nonblock needs a single TCP or Unix client" },
		{ o->line_buffered && !o->udp, "--line-buffered applies to datagrams (-u)" },
		{ o->exec && o->sh_exec, "-e/--exec and -c/--sh-exec exclude each other" },
		{ o->forward && (o->exec || o->sh_exec || o->echo || o->sock_type == SOCK_SEQPACKET),
		  "--forward cannot be used with -e, -c, --echo or seqpacket" },
		{ o->forward && (relay_opt || eof->recv_only || eof->send_only ||
				 eof->exit_on_peer_eof || o->stall_timeout >= 0),
		  "--forward: the clients talk to the target; relay options do not apply" },
		{ o->connect_timeout >= 0 && !o->forward, "--connect-timeout needs --forward" },
		{ (o->broker || o->chat) && (!o->keep_open || o->udp || o->echo || o->forward ||
					     o->exec || o->sh_exec || o->sock_type == SOCK_SEQPACKET),
		  "--broker and --chat need -k with a stream (not -u, --echo, --forward, -e or "
		  "-c)" },
		{ (o->see.delay > 0 || o->see.output || o->see.hex_dump) &&
		  (o->udp || o->echo || o->forward),
		  "--delay, -o and --hex-dump need stream clients (not -u, --echo or --forward)" },
		{ o->see.delay > 0 && o->keep_open && o->sock_type == SOCK_SEQPACKET,
		  "--delay with -k splits stdin at lines: not with seqpacket (messages)" },
		{ o->see.crlf && (o->udp || o->echo || o->forward),
		  "-C/--crlf needs stdin going to stream clients (not -u, --echo or --forward)" },
		{ (o->exec || o->sh_exec) && (o->udp || o->echo || o->sock_type == SOCK_SEQPACKET),
		  "-e/-c need a stream listener (not -u, --echo or seqpacket)" },
		{ (o->exec || o->sh_exec) && (relay_opt || eof->recv_only || eof->send_only ||
					      eof->exit_on_peer_eof || o->stall_timeout >= 0),
		  "-e/-c: the program has the connection; relay options do not apply" },
		{ eof->progress && (o->keep_open || o->udp || o->echo || o->tls.tls || o->forward ||
				    o->exec || o->sh_exec || o->px.type),
		  "--progress shows one relayed client: not with -k, -u, --echo, --tls, --forward, "
		  "-e, -c or --proxy-server" },
		{ eof->size && !eof->progress, "--size needs --progress" },
		{ o->px.type && (o->forward || o->exec || o->sh_exec || o->broker || o->chat ||
				 o->tls.tls || session_opts_any(&o->see)),
		  "--proxy-server cannot be used with --forward, -e, -c, --broker, --chat, --tls, "
		  "-C, --delay, -o or --hex-dump" },
		{ o->tls.tls && (o->broker || o->chat),
		  "--tls does not combine with --broker or --chat in this version" },
	};
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].bad)
			return err_set(e, EXIT_USAGE, "%s", rules[i].msg);
	if (listen_proxy_check(&o->px, o->udp || o->echo || unix_ep, e) ||
	    listen_ftls_check(o, e))
		return -1;
	if (o->numeric && inet_ep && addr_check_numeric(ep->host, e))
		return -1;
	/* an inherited socket (@ep NULL): adopt_sockets() checks against it */
	if (ep && sock_check_opts(&o->so, unix_ep ? AF_UNIX : o->family,
				  o->udp ? SOCK_DGRAM : SOCK_STREAM, e))
		return -1;
	return relay_eof_opts_check(eof, e) || tls_opts_check(&o->tls, 1, e) ? -1 : 0;
}
