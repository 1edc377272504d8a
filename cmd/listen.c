/* SPDX-License-Identifier: MIT */
/* sockctl listen: a TCP, UDP or Unix server that relays stdin/stdout, or echoes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "cmd_sandbox.h"
#include "dgram_server.h"
#include "dgram_guard.h"
#include "err.h"
#include "inherit.h"
#include "opt.h"
#include "parse.h"
#include "relay.h"
#include "server.h"
#include "server_show.h"
#include "sock.h"

#define MAX_FDS 16
#define MAX_CIDRS 64
/* -k: a client that takes no broadcast for this long is dropped (--stall-timeout) */
#define STALL_TIMEOUT_DEFAULT (10 * NS_PER_SEC)
/* -k without -m: serve at most the open-file limit less this many (listeners,
 * stdio, epoll) at once, the others wait in the backlog: accept never hits EMFILE */
#define FD_RESERVE 32

struct cidr_list {
	struct cidr c[MAX_CIDRS];
	size_t n;
};

struct listen_opts {
	int family, keep_open, udp, unix_sock, echo, verbose, json, nonblock, numeric, nc_listen;
	int no_sandbox;
	const char *unix_path, *source, *port, *type;
	int sock_type;      /* from --type, or the inherited socket's */
	long long max_conns, backlog, mode, fd, echo_rate;
	int max_serving; /* without -m: from the open-file limit; more wait */
	int64_t timeout, stall_timeout;
	struct relay_eof_opts eof;
	struct sockopts so;
	struct cidr_list allow, deny;
};

const struct opt_cmd cmd_listen_desc = {
	.name = "listen",
	.args = "[ADDR] PORT  |  -U PATH  |  unix:PATH  |  --fd N",
	.summary = "TCP/UDP/Unix server: relay stdin/stdout; -k concurrent; --echo",
	.details = "Without ADDR both the IPv4 and IPv6 wildcards are bound; PORT 0 lets the\n"
		   "kernel choose (see -v).  Without -k the first client is relayed under the\n"
		   "same end-of-file rules as connect, then listen exits.  With -k client data\n"
		   "goes to stdout (each read of a client whole, never split), and stdin is sent\n"
		   "to every connected client.  SO_REUSEADDR is on for TCP, as with nc.\n"
		   "Started by systemd socket activation (LISTEN_FDS, LISTEN_PID), it serves\n"
		   "the sockets passed from fd 3 on and takes no address.",
	.min_args = 0,
	.max_args = 2,
};

static int add_cidr(const struct opt *o, const char *arg, struct err *e)
{
	struct cidr_list *l = o->value;

	if (l->n >= MAX_CIDRS)
		return err_set(e, EXIT_USAGE, "at most %d prefixes", MAX_CIDRS);
	if (addr_parse_cidr(arg, &l->c[l->n], e))
		return -1;
	l->n++;
	return 0;
}

/* --mode: octal permissions of a Unix socket file. */
static int set_mode(const struct opt *o, const char *arg, struct err *e)
{
	unsigned mode;

	if (parse_mode(arg, &mode, e))
		return -1;
	*(long long *)o->value = mode;
	return 0;
}

/* ---- checks before any socket is opened ---- */

struct rule {
	int bad;
	const char *msg;
};

/* The options against each other and against the endpoint's kind: once. */
static int check_opts(const struct listen_opts *o, const struct endpoint *ep, struct err *e)
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
		{ o->nonblock && (o->keep_open || o->udp),
		  "--nonblock needs a single TCP or Unix client" },
	};
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].bad)
			return err_set(e, EXIT_USAGE, "%s", rules[i].msg);
	if (o->numeric && inet_ep && addr_check_numeric(ep->host, e))
		return -1;
	/* an inherited socket (@ep NULL): adopt_sockets() checks against it */
	if (ep && sock_check_opts(&o->so, unix_ep ? AF_UNIX : o->family,
				  o->udp ? SOCK_DGRAM : SOCK_STREAM, e))
		return -1;
	return relay_eof_opts_check(eof, e);
}

/* ---- opening ---- */

/* Our Unix socket file, removed on the way out, even on ^C (sock_unix_cleanup_arm) */
static struct sock_unix_name unix_name = { .dirfd = -1 };

/* --type: stream, dgram (which is -u) or seqpacket, for a Unix socket. */
static int parse_type(struct listen_opts *o, struct err *e)
{
	if (!o->type)
		return 0;
	if (o->udp)
		return err_set(e, EXIT_USAGE, "--type conflicts with -u/--udp");
	if (addr_socktype_parse(o->type, &o->sock_type, e) ||
	    (o->sock_type != SOCK_STREAM && o->sock_type != SOCK_DGRAM &&
	     o->sock_type != SOCK_SEQPACKET))
		return err_set(e, EXIT_USAGE, "--type: '%.32s' is not stream, dgram or seqpacket",
			       o->type);
	o->udp = o->sock_type == SOCK_DGRAM;
	return 0;
}

/* An option that an inherited socket (Unix or IP) cannot have, or NULL. */
static const char *unfit_option(const struct listen_opts *o, int unix_sock)
{
	if (!unix_sock)
		return o->type ? "--type needs a Unix socket" : NULL;
	if (o->allow.n || o->deny.n)
		return "--allow/--deny need IP";
	if (o->so.ttl >= 0 || o->so.tos >= 0 || o->so.nodelay > 0 || o->so.keepalive > 0)
		return "--ttl, --tos, --nodelay and --keepalive need IP";
	return NULL;
}

/*
 * --fd N, or the @nact sockets of socket activation from fd 3 on: what they
 * are decides TCP or UDP, IP or Unix; the options may only agree.
 */
static int adopt_sockets(struct listen_opts *o, const struct opt_args *pos, int nact,
			 struct inherit_sock *s, int *n, struct err *e)
{
	struct inherit_server_want w = {
		.w = { .role = INHERIT_PASSIVE, .family = o->family,
		       .type = o->udp ? SOCK_DGRAM : o->sock_type, .no_stdio = 1 },
		.unix_unfit = unfit_option(o, 1), .ip_unfit = unfit_option(o, 0), .so = &o->so,
	};

	if (nact && o->fd >= 0)
		return err_set(e, EXIT_USAGE,
			       "--fd cannot be used with the sockets passed in LISTEN_FDS");
	if (pos->argc || o->unix_sock || o->source || o->port)
		return err_set(e, EXIT_USAGE, "%s gives the socket: no ADDR, PORT, -U, -s or -p",
			       nact ? "LISTEN_FDS" : "--fd");
	if (inherit_adopt((int)o->fd, nact, &w, s, n, e))
		return -1;
	o->sock_type = s[0].type;
	o->udp = o->sock_type == SOCK_DGRAM;
	return 0;
}

static int open_sockets(const struct listen_opts *o, const struct endpoint *ep, int *fds,
			int *n, struct sock_unix_name *un, struct err *e)
{
	int type = o->udp ? SOCK_DGRAM : o->sock_type ? o->sock_type : SOCK_STREAM;
	int backlog = o->backlog >= 0 ? (int)o->backlog : SOMAXCONN;

	if (ep->kind == EP_UNIX) {
		if (sock_listen_unix(ep->path, type, backlog,
				     o->mode >= 0 ? (unsigned)o->mode : SOCK_UNIX_MODE, &fds[0],
				     un, e))
			return -1;
		*n = 1;
		sock_unix_cleanup_arm(un);
		return 0;
	}
	if (sock_bind_passive(ep->host, ep->service, o->family, type, &o->so, fds, MAX_FDS, n, e))
		return -1;
	return o->udp ? 0 : sock_listen_all(fds, n, backlog, e);
}

/* ---- one client, relayed ---- */

static int relay_one(const struct listen_opts *o, const struct server_opts *so, int *fds, int n,
		     struct err *e)
{
	struct relay_opts ro;
	struct relay_stats rs;
	struct server_event ev;
	struct sockaddr_storage ss = { 0 };
	socklen_t len = 0;
	int fd = server_accept_first(fds, n, so, o->nonblock, &ss, &len, e);
	char who[ADDR_STRLEN], msg[sizeof(e->msg)];
	int rc;

	sock_close_all(fds, n); /* like nc: one client, then nobody else gets in */
	if (fd < 0)
		return -1;
	relay_opts_from_eof(&ro, &o->eof, o->timeout);
	ro.dgram = o->sock_type == SOCK_SEQPACKET; /* one stdin read = one message */
	memset(&rs, 0, sizeof(rs));
	rc = relay_run(fd, ro.recv_only ? -1 : 0, ro.send_only ? -1 : 1, &ro, &rs, e);
	if (rc && rs.out_errno == EPIPE) {
		sock_unix_cleanup();
		cmd_end_by_sigpipe(); /* the kernel closes fd */
	}
	if (len)
		addr_format((struct sockaddr *)&ss, len, who, sizeof(who));
	else
		snprintf(who, sizeof(who), "the client");
	/* not silent about data left behind (--exit-on-peer-eof) */
	if (!rc && relay_cut_notice(&rs, msg, sizeof(msg)))
		err_warn("listen", "%s %s", who, msg);
	if (rc && rs.sock_error) {
		snprintf(msg, sizeof(msg), "%s", e->msg);
		err_set(e, EXIT_FAIL, "%s: %s", who, msg);
	}
	close(fd);
	server_event_closed(&ev, (struct sockaddr *)&ss, len, rc, &rs);
	so->on_event(so->ctx, &ev);
	return rc;
}

/* ---- many clients, or datagrams ---- */
/* -k: every client is a descriptor; without -m, serve as many as the limit allows. */
static void plan_clients(struct listen_opts *o)
{
	long nofile;

	if (!o->keep_open)
		return;
	nofile = sock_raise_nofile();
	if (!o->max_conns && !o->udp && nofile > 0)
		o->max_serving = nofile > FD_RESERVE + 1 ? (int)(nofile - FD_RESERVE) : 1;
}


/* The server's options, also those of the single client (-w, --allow, --deny). */
static void server_setup(const struct listen_opts *o, struct server_show *ctx,
			 struct server_opts *so)
{
	server_opts_init(so);
	so->echo = o->echo;
	so->exit_on_peer_eof = o->eof.exit_on_peer_eof;
	so->keep_open = o->keep_open;
	so->max_conns = (int)o->max_conns;
	so->max_serving = o->max_serving;
	if (o->stall_timeout != 0 && o->keep_open && !o->udp)
		so->stall_timeout = o->stall_timeout > 0 ? o->stall_timeout : STALL_TIMEOUT_DEFAULT;
	so->accept_timeout = o->timeout;
	so->idle_timeout = o->eof.idle_timeout;
	if (!o->keep_open && o->eof.idle_timeout < 0)
		so->idle_timeout = o->timeout; /* -w is also the idle timeout, as with connect */
	so->in_fd = o->echo || o->eof.recv_only ? -1 : 0;
	so->out_fd = o->echo || o->eof.send_only ? -1 : 1;
	so->allow = o->allow.c;
	so->nallow = o->allow.n;
	so->deny = o->deny.c;
	so->ndeny = o->deny.n;
	so->echo_rate = (unsigned)o->echo_rate;
	so->on_event = server_show_event;
	so->ctx = ctx;
}

static int serve_sockets(const struct listen_opts *o, struct server_show *ctx, int *fds, int n,
			 struct err *e)
{
	struct server_opts so;
	struct server_stats st;
	struct cmd_sandbox sb = { .cmd = "listen", .off = o->no_sandbox, .verbose = o->verbose };
	int rc;

	server_show_listening(ctx, fds, n, o->udp, o->unix_path);
	if (o->nonblock && sock_set_nonblock_all(fds, n, e)) {
		sock_close_all(fds, n);
		return -1;
	}
	server_setup(o, ctx, &so);
	sb.unix_remove = o->unix_path;
	if (cmd_sandbox_enter(&sb, o->udp ? &sb_listen_dgram : !o->keep_open && !o->echo
							? &sb_listen_one : &sb_listen_stream, e)) {
		sock_close_all(fds, n);
		return -1;
	}
	if (!o->keep_open && !o->echo && !o->udp)
		return relay_one(o, &so, fds, n, e);
	if (o->udp)
		rc = server_run_dgram(fds, n, &so, &st, e);
	else
		rc = server_run_stream(fds, n, &so, &st, e);
	sock_close_all(fds, n);
	return rc;
}

static int run(struct listen_opts *o, const struct opt_args *pos, struct err *e)
{
	struct server_show ctx = { .cmd = "listen", .verbose = o->verbose, .json = o->json };
	struct endpoint ep = { 0 };
	struct inherit_sock s[MAX_FDS];
	int fds[MAX_FDS], n = 0, rc, nact = inherit_listen_fds(MAX_FDS, e);

	if (nact < 0 || parse_type(o, e))
		return -1;
	if (nact || o->fd >= 0) {
		if (adopt_sockets(o, pos, nact, s, &n, e) || check_opts(o, NULL, e) ||
		    inherit_prepare(s, n, &o->so, (int)o->backlog, fds, e))
			return -1;
		plan_clients(o);
		return serve_sockets(o, &ctx, fds, n, e);
	}
	if (addr_parse_passive(pos->argc, pos->argv, o->unix_sock, o->source, o->port,
			       o->udp ? "udp" : "tcp", &ep, e) || check_opts(o, &ep, e))
		return -1;
	/* TCP servers restart onto their port at once, past TIME_WAIT */
	if (o->so.reuseaddr == SOCKOPT_UNSET && !o->udp)
		o->so.reuseaddr = 1;
	plan_clients(o);
	if (open_sockets(o, &ep, fds, &n, &unix_name, e))
		return -1;
	if (ep.kind == EP_UNIX)
		o->unix_path = ep.path;
	rc = serve_sockets(o, &ctx, fds, n, e);
	sock_unix_cleanup();
	sock_unix_release(&unix_name);
	o->unix_path = NULL; /* it pointed into ep, which ends here */
	return rc;
}

int cmd_listen(int argc, char **argv)
{
	struct listen_opts o;
	struct opt opts[] = {
		OPT_IPV4(&o.family),
		OPT_IPV6(&o.family),
		OPT_FLAG('k', "keep-open", &o.keep_open,
			"keep accepting; serve clients concurrently"),
		OPT_FLAG('u', "udp", &o.udp, "UDP: datagrams to stdout, stdin to the last sender"),
		OPT_FLAG('U', "unix", &o.unix_sock,
			"the argument is the PATH of a Unix socket; with -u: datagrams"),
		OPT_UNIX_TYPE(&o.type),
		OPT_FD(&o.fd, "serve the listening (or bound) socket inherited as fd N"),
		OPT_FLAG(0, "echo", &o.echo, "send each client's bytes back to it"),
		OPT_INT(0, "echo-rate", &o.echo_rate, "N", 0, 1000000,
			"with -u --echo: at most N replies a second to one source address "
			"(0: no limit; default 1000)"),
		OPT_INT('m', "max-conns", &o.max_conns, "N", 1, 1000000,
			"with -k: at most N clients at once; more are reset at once (default: "
			"the open-file limit less 32, more wait)"),
		OPT_DURATION(0, "stall-timeout", &o.stall_timeout,
			     "with -k: drop a client that takes no broadcast for DUR (default 10s; "
			     "0: never)"),
		OPT_FLAG('l', "listen", &o.nc_listen,
			 "accepted and ignored, for nc's -l (listen always listens)"),
		OPT_NUMERIC_HOST('n', &o.numeric),
		OPT_STRING('s', "source", &o.source, "ADDR", "listen on this local address"),
		OPT_STRING('p', "port", &o.port, "PORT", "port to listen on (as nc -p)"),
		OPT_CALLBACK(0, "allow", &o.allow, "ADDR[/PREFIX]", add_cidr,
			     "accept only clients in this prefix (repeatable)"),
		OPT_CALLBACK(0, "deny", &o.deny, "ADDR[/PREFIX]", add_cidr,
			     "close clients in this prefix at once (repeatable; beats --allow)"),
		OPT_DURATION('w', "timeout", &o.timeout,
			     "fail if no client arrives within DUR; also the idle timeout"),
		OPT_CALLBACK(0, "mode", &o.mode, "OCTAL", set_mode,
			     "-U: permissions of the socket file (default 0600, not the umask)"),
		OPT_INT_D(0, "backlog", &o.backlog, "N", 0, 1 << 20, SOMAXCONN,
			  "listen(2) backlog (at most net.core.somaxconn)"),
		OPT_GROUP("End of stdin, idle peers"),
		OPT_RELAY_EOF(&o.eof),
		/* --reuseaddr is on for TCP unless --no-reuseaddr: see run() */
		OPT_SOCKOPTS(&o.so, SOCKOPT_TCP | SOCKOPT_UDP),
		OPT_GROUP("Output"),
		OPT_NONBLOCK(&o.nonblock),
		OPT_JSON(&o.json),
		OPT_NO_SANDBOX(&o.no_sandbox),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct err e = { 0 };

	memset(&o, 0, sizeof(o));
	o.timeout = o.stall_timeout = -1;
	relay_eof_opts_init(&o.eof);
	o.backlog = o.mode = o.fd = -1;
	o.echo_rate = DGRAM_ECHO_RATE_DEFAULT;
	sock_opts_init(&o.so);
	if (opt_run(&cmd_listen_desc, opts, argc, argv, &pos, &status))
		return status;
	if (run(&o, &pos, &e))
		return err_report("listen", &e);
	return EXIT_OK;
}
