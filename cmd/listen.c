/* SPDX-License-Identifier: MIT */
/* sockctl listen: a TCP, UDP or Unix server that relays stdin/stdout, or echoes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "dgram_server.h"
#include "dgram_guard.h"
#include "err.h"
#include "inherit.h"
#include "opt.h"
#include "out.h"
#include "parse.h"
#include "relay.h"
#include "server.h"
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
	const char *unix_path, *source, *port, *type;
	int sock_type;      /* from --type, or the inherited socket's */
	long long max_conns, backlog, mode, fd, echo_rate;
	int max_serving; /* without -m: from the open-file limit; more wait */
	int64_t timeout, stall_timeout;
	struct relay_eof_opts eof;
	struct sockopts so;
	struct cidr_list allow, deny;
};

/* What the event hook needs to print. */
struct listen_ctx {
	int verbose, json, warned;
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

/* ---- reporting ---- */

static void json_peer(struct jsonw *w, const struct sockaddr *sa, socklen_t len)
{
	char host[ADDR_STRLEN];

	json_str(w, "address", addr_ntop(sa, len, host, sizeof(host)));
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		json_uint(w, "port", addr_port(sa));
}

/* One format in every command: 127.0.0.1:80, [::1]:80, unix:PATH, unix:(unnamed). */
static const char *peer_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t n)
{
	return addr_format(sa, len, buf, n);
}

static void event_json(const struct server_event *ev)
{
	static const char *const names[] = { "connection", "closed", "refused", "paused",
					     "resumed" };
	struct jsonw w;

	json_begin(&w, stderr);
	json_str(&w, "event", names[ev->type]);
	if (ev->id)
		json_uint(&w, "id", ev->id);
	if (ev->peer)
		json_peer(&w, ev->peer, ev->peerlen);
	if (ev->type == SERVER_EV_CLOSED) {
		json_uint(&w, "bytes_in", ev->bytes_in);
		json_uint(&w, "bytes_out", ev->bytes_out);
		json_num(&w, "duration_ms", (double)ev->duration_ns / 1e6, 3);
	}
	if (ev->reason)
		json_str(&w, "reason", ev->reason);
	if (ev->errnum)
		json_str(&w, "errno", err_errno_name(ev->errnum));
	if (ev->undelivered)
		json_uint(&w, "undelivered", ev->undelivered);
	if (ev->suppressed)
		json_uint(&w, "suppressed", ev->suppressed);
	json_end(&w);
	fflush(stderr);
}

static void on_event(void *ctx, const struct server_event *ev)
{
	struct listen_ctx *c = ctx;
	char peer[ADDR_STRLEN + 16], dur[32], why[128];

	if (c->json) {
		event_json(ev);
		return;
	}
	if (ev->type == SERVER_EV_PAUSED && (c->verbose || !c->warned)) {
		c->warned = 1;
		err_msg("listen", "accept: %s; not accepting until a descriptor is free",
			err_errno_desc(ev->errnum, why, sizeof(why)));
		return;
	}
	if (!c->verbose)
		return;
	if (ev->peer)
		peer_text(ev->peer, ev->peerlen, peer, sizeof(peer));
	switch (ev->type) {
	case SERVER_EV_CONNECTION:
		err_msg("listen", "connection from %s", peer);
		break;
	case SERVER_EV_CLOSED:
		if (ev->errnum)
			snprintf(why, sizeof(why), "%s, %s", ev->reason,
				 err_errno_name(ev->errnum));
		else
			snprintf(why, sizeof(why), "%s", ev->reason);
		if (ev->undelivered)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "; %llu bytes of stdin not delivered",
				 (unsigned long long)ev->undelivered);
		err_msg("listen", "closed %s: %llu bytes in, %llu bytes out, %s (%s)", peer,
			(unsigned long long)ev->bytes_in, (unsigned long long)ev->bytes_out,
			parse_format_duration(ev->duration_ns, dur, sizeof(dur)), why);
		break;
	case SERVER_EV_REFUSED:
		if (ev->suppressed)
			err_msg("listen", "refused %s: %s (%llu more refusals not shown before this one)",
				peer, ev->reason, (unsigned long long)ev->suppressed);
		else
			err_msg("listen", "refused %s: %s", peer, ev->reason);
		break;
	case SERVER_EV_RESUMED:
		err_msg("listen", "accepting again");
		break;
	case SERVER_EV_PAUSED:
		break;
	}
}

static void report_listening(const struct listen_opts *o, const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct sockaddr_storage ss = { 0 };
		socklen_t len = sizeof(ss);
		char buf[ADDR_STRLEN + 16];
		struct jsonw w;

		if (getsockname(fds[i], (struct sockaddr *)&ss, &len))
			continue;
		if (o->json) {
			json_begin(&w, stderr);
			json_str(&w, "event", "listening");
			json_str(&w, "protocol", ss.ss_family == AF_UNIX ? "unix"
						 : o->udp	       ? "udp"
									: "tcp");
			if (ss.ss_family == AF_UNIX && o->unix_path)
				json_str(&w, "address", o->unix_path);
			else
				json_peer(&w, (struct sockaddr *)&ss, len);
			json_end(&w);
		} else if (o->verbose) {
			if (ss.ss_family == AF_UNIX && o->unix_path)
				snprintf(buf, sizeof(buf), "unix:%s", o->unix_path);
			else
				peer_text((struct sockaddr *)&ss, len, buf, sizeof(buf));
			err_msg("listen", "listening on %s", buf);
		}
	}
	fflush(stderr);
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

/* [ADDR] PORT, or -s ADDR / -p PORT as traditional nc spells them. */
static int parse_endpoint(const struct listen_opts *o, const struct opt_args *pos,
			  struct endpoint *ep, struct err *e)
{
	const char *proto = o->udp ? "udp" : "tcp";
	int unix_arg = pos->argc == 1 && !strncmp(pos->argv[0], "unix:", 5);
	uint16_t port;

	if (o->unix_sock || unix_arg)
		return addr_parse_endpoint(pos->argc, pos->argv, o->unix_sock ? ADDR_EP_UNIX : 0,
					   proto, ep, e);
	if (o->port) {
		if (pos->argc > 1 || (pos->argc == 1 && o->source))
			return err_set(e, EXIT_USAGE, "-p PORT given: expected at most an ADDR");
		if (addr_parse_port(o->port, proto, &port, e))
			return -1;
		memset(ep, 0, sizeof(*ep));
		ep->kind = EP_INET;
		ep->nports = 1;
		snprintf(ep->service, sizeof(ep->service), "%u", port);
		snprintf(ep->host, sizeof(ep->host), "%s",
			 o->source ? o->source : pos->argc ? pos->argv[0] : "");
		return addr_check_host(ep->host, e);
	}
	if (!pos->argc)
		return err_set(e, EXIT_USAGE,
			"expected [ADDR] PORT or -U PATH (see 'sockctl listen --help')");
	if (o->source && pos->argc > 1)
		return err_set(e, EXIT_USAGE, "-s ADDR given: expected only a PORT");
	if (addr_parse_endpoint(pos->argc, pos->argv, ADDR_EP_HOST_OPTIONAL | ADDR_EP_PORT_ZERO,
				proto, ep, e))
		return -1;
	if (o->source) {
		snprintf(ep->host, sizeof(ep->host), "%s", o->source);
		return addr_check_host(ep->host, e);
	}
	return 0;
}

/* ---- removing our unix socket file on the way out, even on ^C ---- */

static struct sock_unix_name unix_cleanup_name = { .dirfd = -1 };

static void unix_cleanup(void)
{
	/* also runs from on_signal(): it only calls fstatat(2) and unlinkat(2),
	 * both async-signal-safe */
	// NOLINTNEXTLINE(bugprone-signal-handler,cert-sig30-c)
	sock_unix_unlink(&unix_cleanup_name);
}

static void on_signal(int sig)
{
	/* only fstatat(2) and unlinkat(2) run here: both async-signal-safe */
	unix_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm_unix_cleanup(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
}

/* ---- opening ---- */

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
	struct inherit_want w = { .role = INHERIT_PASSIVE, .family = o->family,
				  .type = o->udp ? SOCK_DGRAM : o->sock_type, .no_stdio = 1 };
	const char *src = nact ? "LISTEN_FDS" : "--fd";
	int i;

	if (nact && o->fd >= 0)
		return err_set(e, EXIT_USAGE,
			       "--fd cannot be used with the sockets passed in LISTEN_FDS");
	if (pos->argc || o->unix_sock || o->source || o->port)
		return err_set(e, EXIT_USAGE, "%s gives the socket: no ADDR, PORT, -U, -s or -p",
			       src);
	*n = nact ? nact : 1;
	if (inherit_check_all(nact ? INHERIT_FDS_START : (int)o->fd, *n, nact > 0, &w, s, e))
		return -1;
	for (i = 0; i < *n; i++) {
		const char *bad = unfit_option(o, s[i].family == AF_UNIX);

		if (bad)
			return err_set(e, EXIT_USAGE, "%s; %s%s%d is %s", bad, src,
				       nact ? ": fd " : " ", s[i].fd,
				       s[i].family == AF_UNIX ? "Unix" : "IP");
		/* the other socket options, against what the socket is */
		if (sock_check_opts(&o->so, s[i].family, s[i].type, e)) {
			char msg[sizeof(e->msg)];

			snprintf(msg, sizeof(msg), "%s", e->msg);
			return err_set(e, EXIT_USAGE, "%s%s%d: %s", src, nact ? ": fd " : " ",
				       s[i].fd, msg);
		}
	}
	o->sock_type = s[0].type;
	o->udp = o->sock_type == SOCK_DGRAM;
	return 0;
}

/* Inherited sockets: the socket options asked for; a bound stream socket starts listening. */
static int prepare_adopted(const struct listen_opts *o, const struct inherit_sock *s, int *fds,
			   int n, struct err *e)
{
	int i;

	for (i = 0; i < n; i++) {
		if (sock_apply_opts(s[i].fd, s[i].family, s[i].type, &o->so, e) ||
		    inherit_listen(&s[i], (int)o->backlog, e))
			return -1;
		fds[i] = s[i].fd;
	}
	return 0;
}

static int open_sockets(const struct listen_opts *o, const struct endpoint *ep, int *fds,
			int *n, struct err *e)
{
	int type = o->udp ? SOCK_DGRAM : o->sock_type ? o->sock_type : SOCK_STREAM;
	int backlog = o->backlog >= 0 ? (int)o->backlog : SOMAXCONN;
	int i;

	if (ep->kind == EP_UNIX) {
		if (sock_listen_unix(ep->path, type, backlog,
				     o->mode >= 0 ? (unsigned)o->mode : SOCK_UNIX_MODE, &fds[0],
				     &unix_cleanup_name, e))
			return -1;
		*n = 1;
		arm_unix_cleanup();
		return 0;
	}
	if (sock_bind_passive(ep->host, ep->service, o->family, type, &o->so, fds, MAX_FDS, n, e))
		return -1;
	for (i = 0; i < *n && !o->udp; i++)
		if (listen(fds[i], backlog)) {
			char where[ADDR_STRLEN];
			struct sockaddr_storage ss = { 0 };
			socklen_t len = sizeof(ss);
			int err = errno; /* getsockname may change it */

			getsockname(fds[i], (struct sockaddr *)&ss, &len);
			err_sys(e, EXIT_FAIL, err, "listen %s",
				addr_format((struct sockaddr *)&ss, len, where, sizeof(where)));
			while (*n > 0)
				close(fds[--*n]);
			return -1;
		}
	return 0;
}

static void close_fds(int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
}

/* ---- one client, relayed ---- */

static int allowed(const struct listen_opts *o, const struct sockaddr *sa)
{
	size_t i;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return 1;
	for (i = 0; i < o->deny.n; i++)
		if (addr_cidr_match(&o->deny.c[i], sa))
			return 0;
	for (i = 0; i < o->allow.n; i++)
		if (addr_cidr_match(&o->allow.c[i], sa))
			return 1;
	return o->allow.n == 0;
}

/* Wait for the first allowed client on any of @fds; returns its socket. */
static int accept_one(const struct listen_opts *o, struct listen_ctx *ctx, const int *fds,
		      int n, struct sockaddr_storage *ss, socklen_t *sslen, struct err *e)
{
	int64_t deadline = clock_deadline(o->timeout);
	struct pollfd p[MAX_FDS];
	char dur[32];
	int i;

	for (i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	for (;;) {
		int rc = o->nonblock ? n : poll(p, (nfds_t)n, clock_ms_until(deadline));

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return err_sys(e, EXIT_FAIL, errno, "poll");
		if (rc == 0)
			return err_set(e, EXIT_FAIL, "no client within %s",
				       parse_format_duration(o->timeout, dur, sizeof(dur)));
		for (i = 0; i < n; i++) {
			struct server_event ev = { .type = SERVER_EV_CONNECTION };
			socklen_t len = sizeof(*ss);
			int fd;

			if (!o->nonblock && !(p[i].revents & POLLIN))
				continue;
			/* --nonblock: the listeners are non-blocking, so this may say EAGAIN */
			fd = accept4(fds[i], (struct sockaddr *)ss, &len, SOCK_CLOEXEC);
			if (fd < 0 && o->nonblock && errno == EAGAIN && i + 1 < n)
				continue;
			if (fd < 0 && o->nonblock)
				return err_sys(e, EXIT_FAIL, errno, "accept: %s",
					       err_errno_name(errno));
			if (fd < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED))
				continue;
			if (fd < 0)
				return err_sys(e, EXIT_FAIL, errno, "accept");
			if (len > sizeof(*ss))
				len = sizeof(*ss);
			*sslen = len;
			ev.peer = (struct sockaddr *)ss;
			ev.peerlen = len;
			ev.id = 1;
			if (!allowed(o, ev.peer)) {
				ev.type = SERVER_EV_REFUSED;
				ev.reason = "denied";
				ev.id = 0;
				on_event(ctx, &ev);
				server_reset_close(fd);
				continue;
			}
			on_event(ctx, &ev);
			return fd;
		}
	}
}

static int relay_one(const struct listen_opts *o, struct listen_ctx *ctx, int *fds, int n,
		     struct err *e)
{
	struct relay_opts ro;
	struct relay_stats rs;
	struct server_event ev = { .type = SERVER_EV_CLOSED, .id = 1 };
	struct sockaddr_storage ss = { 0 };
	socklen_t len = 0;
	int fd = accept_one(o, ctx, fds, n, &ss, &len, e);
	char who[ADDR_STRLEN], msg[sizeof(e->msg)];
	int rc;

	close_fds(fds, n); /* like nc: one client, then nobody else gets in */
	if (fd < 0)
		return -1;
	relay_opts_from_eof(&ro, &o->eof, o->timeout);
	ro.dgram = o->sock_type == SOCK_SEQPACKET; /* one stdin read = one message */
	memset(&rs, 0, sizeof(rs));
	rc = relay_run(fd, ro.recv_only ? -1 : 0, ro.send_only ? -1 : 1, &ro, &rs, e);
	if (rc && rs.out_errno == EPIPE) {
		unix_cleanup();
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
	ev.peer = (struct sockaddr *)&ss;
	ev.peerlen = len;
	close(fd);
	ev.bytes_in = rs.to_out;
	ev.bytes_out = rs.to_sock;
	ev.duration_ns = rs.end_ns - rs.start_ns;
	ev.reason = relay_end_reason(rc, &rs);
	ev.errnum = relay_end_errno(rc, &rs);
	ev.undelivered = rs.undelivered;
	on_event(ctx, &ev);
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


static int serve(const struct listen_opts *o, struct listen_ctx *ctx, int *fds, int n,
		 struct err *e)
{
	struct server_opts so;
	struct server_stats st;
	int rc;

	server_opts_init(&so);
	so.echo = o->echo;
	so.exit_on_peer_eof = o->eof.exit_on_peer_eof;
	so.keep_open = o->keep_open;
	so.max_conns = (int)o->max_conns;
	so.max_serving = o->max_serving;
	if (o->stall_timeout != 0 && o->keep_open && !o->udp)
		so.stall_timeout = o->stall_timeout > 0 ? o->stall_timeout : STALL_TIMEOUT_DEFAULT;
	so.accept_timeout = o->timeout;
	so.idle_timeout = o->eof.idle_timeout;
	if (!o->keep_open && o->eof.idle_timeout < 0)
		so.idle_timeout = o->timeout; /* -w is also the idle timeout, as with connect */
	so.in_fd = o->echo || o->eof.recv_only ? -1 : 0;
	so.out_fd = o->echo || o->eof.send_only ? -1 : 1;
	so.allow = o->allow.c;
	so.nallow = o->allow.n;
	so.deny = o->deny.c;
	so.ndeny = o->deny.n;
	so.echo_rate = (unsigned)o->echo_rate;
	so.on_event = on_event;
	so.ctx = ctx;
	if (o->udp)
		rc = server_run_dgram(fds, n, &so, &st, e);
	else
		rc = server_run_stream(fds, n, &so, &st, e);
	close_fds(fds, n);
	return rc;
}

static int set_nonblock(const int *fds, int n, struct err *e)
{
	int i;

	for (i = 0; i < n; i++)
		if (sock_set_nonblock(fds[i], e))
			return -1;
	return 0;
}

static int serve_sockets(const struct listen_opts *o, struct listen_ctx *ctx, int *fds, int n,
			 struct err *e)
{
	report_listening(o, fds, n);
	if (o->nonblock && set_nonblock(fds, n, e)) {
		close_fds(fds, n);
		return -1;
	}
	if (o->keep_open || o->echo || o->udp)
		return serve(o, ctx, fds, n, e);
	return relay_one(o, ctx, fds, n, e);
}

static int run(struct listen_opts *o, const struct opt_args *pos, struct err *e)
{
	struct listen_ctx ctx = { .verbose = o->verbose, .json = o->json };
	struct endpoint ep = { 0 };
	struct inherit_sock s[MAX_FDS];
	int fds[MAX_FDS], n = 0, rc, nact = inherit_listen_fds(MAX_FDS, e);

	if (nact < 0 || parse_type(o, e))
		return -1;
	if (nact || o->fd >= 0) {
		if (adopt_sockets(o, pos, nact, s, &n, e) || check_opts(o, NULL, e) ||
		    prepare_adopted(o, s, fds, n, e))
			return -1;
		plan_clients(o);
		return serve_sockets(o, &ctx, fds, n, e);
	}
	if (parse_endpoint(o, pos, &ep, e) || check_opts(o, &ep, e))
		return -1;
	/* TCP servers restart onto their port at once, past TIME_WAIT */
	if (o->so.reuseaddr == SOCKOPT_UNSET && !o->udp)
		o->so.reuseaddr = 1;
	plan_clients(o);
	if (open_sockets(o, &ep, fds, &n, e))
		return -1;
	if (ep.kind == EP_UNIX)
		o->unix_path = ep.path;
	rc = serve_sockets(o, &ctx, fds, n, e);
	unix_cleanup();
	sock_unix_release(&unix_cleanup_name);
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
