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
#include "listen.h"
#include "dgram_server.h"
#include "dgram_guard.h"
#include "err.h"
#include "exec_show.h"
#include "inherit.h"
#include "listen_proxy.h"
#include "listen_forward.h"
#include "opt.h"
#include "parse.h"
#include "relay.h"
#include "server.h"
#include "server_show.h"
#include "session_log.h"
#include "sock.h"
#include "tls_show.h"

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

static int relay_one(struct listen_opts *o, const struct server_opts *so, int *fds, int n,
		     struct tls_ctx *tls, struct err *e)
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
	session_log_apply(&o->log, &o->see, &ro);
	ro.dgram = o->sock_type == SOCK_SEQPACKET; /* one stdin read = one message */
	memset(&rs, 0, sizeof(rs));
	cmd_progress_attach(&ro, &o->eof, o->json, 0);
	if (len)
		addr_format((struct sockaddr *)&ss, len, who, sizeof(who));
	else
		snprintf(who, sizeof(who), "the client");
	if (tls)
		rc = listen_tls_serve(&(struct tls_show){ "listen", o->verbose, o->json }, tls, fd,
				      who, &ro, &rs, e);
	else
		rc = relay_run(fd, ro.recv_only ? -1 : 0, ro.send_only ? -1 : 1, &ro, &rs, e);
	if (rc && rs.out_errno == EPIPE) {
		sock_unix_cleanup();
		cmd_end_by_sigpipe(); /* the kernel closes fd */
	}
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
	so->line_buffered = o->line_buffered;
	so->broker = o->broker || o->chat;
	so->crlf = o->see.crlf;
	so->chat = o->chat;
	so->on_event = server_show_event;
	so->ctx = ctx;
}

/* --tls: one client relayed, or the server with TLS as its layer (-k, --echo). */
static int serve_tls(struct listen_opts *o, const struct server_opts *so,
		     int *fds, int n, struct err *e)
{
	struct tls_ctx *tls = NULL;
	struct server_layer layer;
	struct server_opts lso = *so;
	struct server_stats st;
	int rc;

	if (listen_tls_ctx(&(struct tls_show){ "listen", o->verbose, o->json }, &o->tls, fds, n,
			   &tls, e) || listen_sandbox(o, e)) {
		tls_ctx_free(tls);
		sock_close_all(fds, n);
		return -1;
	}
	if (!o->keep_open && !o->echo) {
		rc = relay_one(o, so, fds, n, tls, e);
	} else {
		tls_layer_init(&layer, tls, listen_tls_ready);
		lso.layer = &layer;
		rc = server_run_stream(fds, n, &lso, &st, e);
		sock_close_all(fds, n);
	}
	tls_ctx_free(tls);
	return rc;
}

static int serve_sockets(struct listen_opts *o, struct server_show *ctx, int *fds, int n,
			 struct err *e)
{
	struct server_opts so;
	struct server_stats st = { 0 };
	int rc;

	server_show_listening(ctx, fds, n, o->udp, o->unix_path);
	if (o->nonblock && sock_set_nonblock_all(fds, n, e)) {
		sock_close_all(fds, n);
		return -1;
	}
	server_setup(o, ctx, &so);
	session_log_server(&o->log, &o->see, &so);
	/* --tls, --forward: after their contexts (serve_tls, listen_forward_serve);
	 * -e/-c over TLS: no filter */
	if (!o->forward && (!o->tls.tls || o->xcmd.argv) && listen_sandbox(o, e)) {
		sock_close_all(fds, n);
		return -1;
	}
	if (o->forward) /* with --tls too: TLS termination */
		return listen_forward_serve(o, ctx, &so, fds, n, e);
	if (o->tls.tls && !o->xcmd.argv)
		return serve_tls(o, &so, fds, n, e);
	if (o->xcmd.argv) {
		struct relay_opts ro;

		relay_opts_init(&ro);
		session_log_apply(&o->log, &o->see, &ro);
		return listen_exec_serve(&o->xcmd, ctx, &so, o->nonblock, fds, n,
					 &(struct exec_serve_how){
						 session_opts_any(&o->see) || o->tls.tls ? &ro : NULL,
						 o->tls.tls ? &o->tls : NULL, &o->log },
					 &o->status, e);
	}
	if (o->px.type)
		rc = listen_proxy_serve(&o->px, &so, o->family, o->verbose, o->json, fds, n, e);
	else if (!o->keep_open && !o->echo && !o->udp)
		return relay_one(o, &so, fds, n, NULL, e);
	else if (!o->udp) {
		rc = server_run_stream(fds, n, &so, &st, e);
	} else if (!(rc = server_show_rcvbuf(ctx, fds, n, o->so.rcvbuf, e))) {
		rc = server_run_dgram(fds, n, &so, &st, e);
		server_show_drops(ctx, &st);
	}
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
	if ((o->exec || o->sh_exec) && !(o->exec && o->sh_exec) &&
	    exec_cmd_parse(o->exec ? o->exec : o->sh_exec, !o->exec, &o->xcmd, e))
		return -1;
	if (o->forward && addr_parse_endpoint(1, (char *const *)&o->forward, 0,
							 o->udp ? "udp" : "tcp", &o->fwd, e))
		return -1;
	if ((o->fpx.url || o->fpx.addr) && !o->forward)
		return err_set(e, EXIT_USAGE, "--proxy and -x need --forward (the outbound leg)");
	o->fpx.cmd = "listen";
	if (connect_proxy_prepare(&o->fpx, o->udp || (o->forward && o->fwd.kind == EP_UNIX),
				  o->verbose, o->json, e))
		return -1;
	if (nact || o->fd >= 0) {
		if (adopt_sockets(o, pos, nact, s, &n, e) || listen_check_opts(o, NULL, e) ||
		    inherit_prepare(s, n, &o->so, (int)o->backlog, fds, e))
			return -1;
		if (session_log_open(&o->log, &o->see, e))
			return -1;
		plan_clients(o);
		return serve_sockets(o, &ctx, fds, n, e);
	}
	if (addr_parse_passive(pos->argc, pos->argv, o->unix_sock, o->source, o->port,
			       o->udp ? "udp" : "tcp", &ep, e) || listen_check_opts(o, &ep, e))
		return -1;
	/* TCP servers restart onto their port at once, past TIME_WAIT */
	if (o->so.reuseaddr == SOCKOPT_UNSET && !o->udp)
		o->so.reuseaddr = 1;
	if (session_log_open(&o->log, &o->see, e))
		return -1;
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
		OPT_FLAG(0, "broker", &o.broker, "with -k: each client's bytes go to every other client"),
		OPT_FLAG(0, "chat", &o.chat,
			 "--broker with \"<userN> \" before each line, control characters dropped"),
		OPT_STRING(0, "forward", &o.forward, "HOST:PORT",
			   "connect each client to HOST:PORT (or unix:PATH) and relay both ways"),
		OPT_DURATION(0, "connect-timeout", &o.connect_timeout,
			     "--forward: give up connecting to the target after DUR (default 10s)"),
		OPT_FORWARD_TLS(&o.ftls),
		OPT_PROXY_CLIENT(&o.fpx),
		OPT_GROUP("Programs"),
		OPT_STRING('e', "exec", &o.exec, "'PROG ARGS'",
			   "run PROG per client, the connection as its stdin/stdout (no shell)"),
		OPT_STRING('c', "sh-exec", &o.sh_exec, "'CMD'",
			   "run CMD by /bin/sh -c per client, as -e does"),
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
		OPT_PROXY_SERVER(&o.px),
		OPT_SESSION(&o.see),
		OPT_GROUP("End of stdin, idle peers"),
		OPT_RELAY_EOF(&o.eof),
		/* --reuseaddr is on for TCP unless --no-reuseaddr: see run() */
		OPT_SOCKOPTS(&o.so, SOCKOPT_TCP | SOCKOPT_UDP),
		OPT_TLS(&o.tls, 1),
		OPT_GROUP("Output"),
		OPT_NONBLOCK(&o.nonblock),
		OPT_JSON(&o.json),
		OPT_FLAG(0, "line-buffered", &o.line_buffered,
			 "-u: write each datagram as it comes (default: once per batch read, "
			 "unless stdout is a terminal)"),
		OPT_NO_SANDBOX(&o.no_sandbox),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct err e = { 0 };

	memset(&o, 0, sizeof(o));
	o.timeout = o.stall_timeout = o.connect_timeout = -1;
	relay_eof_opts_init(&o.eof);
	o.backlog = o.mode = o.fd = -1;
	o.echo_rate = DGRAM_ECHO_RATE_DEFAULT;
	sock_opts_init(&o.so);
	tls_opts_init(&o.tls);
	session_opts_init(&o.see);
	o.log.fd = o.log.hex = -1;
	if (opt_run(&cmd_listen_desc, opts, argc, argv, &pos, &status))
		return status;
	status = run(&o, &pos, &e);
	exec_cmd_free(&o.xcmd);
	session_log_close(&o.log);
	if (status)
		return err_report("listen", &e);
	return o.status;
}
