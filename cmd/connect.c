/* SPDX-License-Identifier: MIT */
/* sockctl connect: a TCP, UDP or Unix client that relays stdin/stdout; -z checks ports. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "cmd_sandbox.h"
#include "connect.h"
#include "connect_probe.h"
#include "connect_proxy.h"
#include "err.h"
#include "exec_show.h"
#include "inherit.h"
#include "opt.h"
#include "out.h"
#include "parse.h"
#include "relay.h"
#include "session_log.h"
#include "sock.h"
#include "sock_connect.h"
#include "trace_cmd.h"
#include "tls_show.h"

const struct opt_cmd cmd_connect_desc = {
	.name = "connect",
	.args = "HOST PORT  |  HOST:PORT  |  [V6ADDR]:PORT  |  -U PATH  |  unix:PATH  |  --fd N",
	.summary = "TCP/UDP/Unix client: relay stdin/stdout; -z checks ports",
	.details = "On stdin EOF the socket is shut down for writing and the replies are read\n"
		   "until the peer closes.  The peer's EOF ends only its direction: stdin is\n"
		   "still sent to its EOF (a terminal excepted; --exit-on-peer-eof stops).\n"
		   "-w sets both the connect and the idle timeout.\n"
		   "With -z, PORT may be a list of ranges (20-25,80,443); open ports are printed\n"
		   "one per line (with -v also closed and filtered ones); status 0 if any is open.\n"
		   "--fd N relays a socket that is already connected, inherited as fd N.\n"
		   "--count N pings HOST PORT (or several HOST:PORT) with timed connects\n"
		   "closed by a reset; status 0 if every target answered (open or closed).",
	.min_args = 0,
	.max_args = -1,
};

void connect_fill_co(const struct connect_opts *o, struct connect_ctx *c,
		     struct sock_connect_opts *co)
{
	sock_connect_opts_init(co);
	co->family = o->family;
	co->timeout = o->connect_timeout >= 0 ? o->connect_timeout : o->timeout;
	co->attempt_delay = o->attempt_delay;
	co->so = &o->so;
	co->trace = connect_on_attempt;
	co->ctx = c;
}

/* The options against each other and against the endpoint's kind: once. */
static int check(const struct connect_opts *o, const struct endpoint *ep, struct err *e)
{
	const struct relay_eof_opts *eof = &o->eof;
	int unix_ep = ep->kind == EP_UNIX, inherited = o->fd >= 0;
	const struct {
		int bad;
		const char *msg;
	} rules[] = {
		{ eof->recv_only && eof->send_only, "-d/--recv-only conflicts with --send-only" },
		{ unix_ep && (o->family || o->so.source || o->so.source_port >= 0),
		  "a Unix socket (-U PATH, unix:PATH) cannot be used with -4/-6/-s/-p" },
		{ o->type && o->udp, "--type conflicts with -u/--udp" },
		{ o->type && !unix_ep && !inherited, "--type needs a Unix socket (-U PATH or unix:PATH)" },
		{ o->scan && unix_ep, "-z/--scan checks TCP or UDP ports, not a Unix socket" },
		{ o->scan && (eof->recv_only || eof->send_only || eof->quit_after_eof >= 0 ||
			      o->tcp_info || o->nonblock || eof->no_shutdown || eof->keep_sending ||
			      eof->exit_on_peer_eof),
		  "-z/--scan sends no data: relay options do not apply" },
		{ o->timeout == 0, "-w/--timeout 0: give a duration greater than 0" },
		{ o->connect_timeout == 0, "--connect-timeout 0: give a duration greater than 0" },
		{ !o->scan && o->parallel >= 0, "--parallel needs -z/--scan" },
		{ o->tcp_info && (o->udp || unix_ep), "--tcp-info needs a TCP connection" },
		{ o->probe.interval >= 0 || o->probe.openmetrics || o->probe.targets,
		  "--interval, --targets and --openmetrics need --count" },
		{ o->tls.tls && (o->udp || unix_ep), "--tls needs a TCP connection" },
		{ o->tls.tls && inherited && !o->tls.verify_name && !o->tls.no_verify,
		  "--tls with --fd has no HOST to check: give --verify-name NAME or --no-verify" },
		{ o->exec && o->sh_exec, "-e/--exec and -c/--sh-exec exclude each other" },
		{ (o->exec || o->sh_exec) && (o->scan || o->tcp_info || eof->recv_only ||
					      eof->send_only || eof->quit_after_eof >= 0 ||
					      eof->no_shutdown || eof->exit_on_peer_eof),
		  "-e/-c: the program has the connection; -z and relay options do not apply" },
		{ eof->progress && (o->scan || o->udp || o->tls.tls || o->exec || o->sh_exec),
		  "--progress shows one TCP or Unix relay: not with -z, -u, --tls, -e or -c" },
		{ eof->size && !eof->progress, "--size needs --progress" },
		{ o->scan && session_opts_any(&o->see),
		  "-z/--scan sends no data: -C, --delay, -o and --hex-dump do not apply" },
	};
	size_t i;

	if (relay_eof_opts_check(eof, e) || tls_opts_check(&o->tls, 0, e))
		return -1;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].bad)
			return err_set(e, EXIT_USAGE, "%s", rules[i].msg);
	if (inherited)
		return 0; /* no endpoint: adopt_socket() checks against the socket itself */
	if (sock_check_opts(&o->so, unix_ep ? AF_UNIX : o->family,
			    o->udp ? SOCK_DGRAM : SOCK_STREAM, e))
		return -1;
	if (!unix_ep && !o->scan && ep->nports != 1)
		return err_set(e, EXIT_USAGE, "a port list (%.64s) needs -z/--scan", ep->service);
	if (o->numeric && !unix_ep &&
	    (addr_check_numeric(ep->host, e) ||
	     (o->so.source && addr_check_numeric(o->so.source, e))))
		return -1;
	return 0;
}

/* ---- the connection ---- */

/* --fd N: a connected socket of the kind the options say (if they say). */
static int adopt_socket(const struct connect_opts *o, int *fd, struct err *e)
{
	struct inherit_want w = { .role = INHERIT_CONNECTED, .family = o->family,
				  .type = o->udp ? SOCK_DGRAM : 0, .no_stdio = 1 };
	struct inherit_sock s;
	char what[32], msg[sizeof(e->msg)];

	snprintf(what, sizeof(what), "--fd %d", (int)o->fd);
	if (o->type && addr_socktype_parse(o->type, &w.type, e))
		return -1;
	if (inherit_check((int)o->fd, what, &w, &s, e))
		return -1;
	if (o->type && s.family != AF_UNIX)
		return err_set(e, EXIT_USAGE, "%s: --type needs a Unix socket", what);
	if ((o->tcp_info || o->so.nodelay > 0) && (s.family == AF_UNIX || s.type != SOCK_STREAM))
		return err_set(e, EXIT_USAGE, "%s: --tcp-info/--nodelay need a TCP connection",
			       what);
	if (sock_check_opts(&o->so, s.family, s.type, e)) {
		snprintf(msg, sizeof(msg), "%s", e->msg);
		return err_set(e, EXIT_USAGE, "%s: %s", what, msg);
	}
	if (sock_apply_opts(s.fd, s.family, s.type, &o->so, e))
		return -1;
	*fd = s.fd;
	return 0;
}

static int open_socket(const struct connect_opts *o, const struct endpoint *ep, struct connect_ctx *c,
		       int *fd, struct err *e)
{
	struct sock_connect_opts co;

	if (o->fd >= 0)
		return adopt_socket(o, fd, e);
	connect_fill_co(o, c, &co);
	if (o->px.on)
		return connect_proxy_open(&o->px, ep, &co, fd, e);
	if (ep->kind == EP_UNIX) {
		co.type = o->udp ? SOCK_DGRAM : SOCK_STREAM;
		if (o->type && addr_socktype_parse(o->type, &co.type, e))
			return -1;
		return sock_connect_unix(ep->path, &co, fd, e);
	}
	co.type = o->udp ? SOCK_DGRAM : SOCK_STREAM;
	return sock_connect(ep->host, ep->service, &co, fd, e);
}

/*
 * Confined once connected (cmd/sandbox_tables.c): --tls after its handshake
 * (tls_client_run), -e/-c with no_new_privs only (their programs would
 * inherit a filter).  --session's file: Landlock lets its directory be written.
 */
static int connect_sandbox(const struct connect_opts *o, struct cmd_sandbox *sb, struct err *e)
{
	sb->cmd = "connect";
	sb->off = o->no_sandbox;
	sb->verbose = o->verbose;
	if (o->xcmd.argv) {
		sb->no_filter_why = "-e/-c: the program would inherit the filter";
		return cmd_sandbox_enter(sb, &sb_connect_relay, e);
	}
	if (o->tls.tls)
		return o->tls.session ? cmd_sandbox_dir_of(sb, o->tls.session, SB_FS_WRITE |
							   SB_FS_CREATE, e) : 0;
	return cmd_sandbox_enter(sb, &sb_connect_relay, e);
}

static int run_connect(const struct connect_opts *o, const struct endpoint *ep, struct err *e)
{
	struct cmd_sandbox sb = { 0 };
	struct connect_ctx c = { o };
	struct relay_opts ro;
	struct relay_stats st;
	int fd, rc, type = SOCK_STREAM;
	socklen_t tl = sizeof(type);
	char peer[ADDR_STRLEN], msg[sizeof(e->msg)];
	int64_t t0 = clock_mono_ns();

	if (open_socket(o, ep, &c, &fd, e))
		return -1;
	if (o->fd >= 0)
		snprintf(peer, sizeof(peer), "the peer of --fd %d", (int)o->fd);
	else if (ep->kind == EP_UNIX)
		snprintf(peer, sizeof(peer), "unix:%s", ep->path);
	else
		snprintf(peer, sizeof(peer), "%.64s port %.64s", ep->host, ep->service);
	connect_show_ends(o, fd, peer);
	relay_opts_from_eof(&ro, &o->eof, o->timeout);
	session_log_apply(o->log, &o->see, &ro);
	if (connect_sandbox(o, &sb, e)) {
		close(fd);
		return -1;
	}
	if (o->xcmd.argv) /* the program's status is ours */
		return exec_show_connect(&o->xcmd, o->verbose, o->json, fd,
					 session_opts_any(&o->see) || o->tls.tls ? &ro : NULL,
					 o->tls.tls ? &o->tls : NULL, ep->host, peer,
					 clock_mono_ns() - t0, e);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
	ro.dgram = type != SOCK_STREAM;
	/* UDP has no end of its own: going quiet is how it ends */
	ro.idle_ok = type == SOCK_DGRAM;
	cmd_progress_attach(&ro, &o->eof, o->json, STDIN_FILENO);
	if (o->tls.tls)
		rc = tls_client_run(&(struct tls_show){ "connect", o->verbose, o->json }, &sb, &o->tls,
				    fd, ep->host, peer, clock_mono_ns() - t0, &ro, &st, e);
	else
		rc = relay_run(fd, STDIN_FILENO, STDOUT_FILENO, &ro, &st, e);
	if (o->tcp_info)
		connect_show_tcp_info(o, fd);
	connect_show_end(o, &st, rc);
	/* not silent about data left behind (--exit-on-peer-eof) */
	if (!rc && relay_cut_notice(&st, msg, sizeof(msg)))
		err_warn("connect", "%s %s", peer, msg);
	if (rc && st.out_errno == EPIPE) {
		cmd_end_by_sigpipe(); /* the kernel closes fd */
	}
	if (rc && st.sock_error) {
		snprintf(msg, sizeof(msg), "%s", e->msg);
		err_set(e, EXIT_FAIL, "%s: %s", peer, msg);
	}
	close(fd);
	return rc;
}

static int parse_target(const struct connect_opts *o, const struct opt_args *pos,
			struct endpoint *ep, struct err *e)
{
	memset(ep, 0, sizeof(*ep));
	if (o->fd >= 0) {
		if (pos->argc || o->unix_sock || o->scan || o->so.source || o->so.source_port >= 0 ||
		    o->connect_timeout >= 0 || o->attempt_delay >= 0 || o->nonblock)
			return err_set(e, EXIT_USAGE, "--fd gives a connected socket: no HOST PORT, "
				       "-U, -z, -s, -p, --connect-timeout, --attempt-delay or "
				       "--nonblock");
		return 0;
	}
	if (!pos->argc)
		return err_set(e, EXIT_USAGE, "missing arguments (usage: sockctl connect [OPTIONS] "
			       "%s)", cmd_connect_desc.args);
	if (pos->argc > 2)
		return err_set(e, EXIT_USAGE, "too many arguments: several HOST:PORT targets need "
			       "--count");
	/* lists always parse, so that one without -z gets check()'s message */
	return addr_parse_endpoint(pos->argc, pos->argv,
				   ADDR_EP_PORT_LIST | (o->unix_sock ? ADDR_EP_UNIX : 0),
				   o->udp ? "udp" : "tcp", ep, e);
}

/* --count: connect's own options that TCP ping uses, and whether others were given. */
static int connect_probe_from(struct connect_opts *o, const struct opt_args *pos)
{
	struct connect_probe_opts *p = &o->probe;
	const struct relay_eof_opts *f = &o->eof;

	p->family = o->family, p->json = o->json, p->verbose = o->verbose;
	p->tcp_info = o->tcp_info, p->numeric = o->numeric, p->so = &o->so;
	p->tls = &o->tls, p->no_sandbox = o->no_sandbox;
	p->timeout = o->connect_timeout >= 0 ? o->connect_timeout : o->timeout;
	p->conflict = o->udp || o->unix_sock || o->fd >= 0 || o->type || o->nonblock ||
		      o->exec || o->sh_exec || session_opts_any(&o->see) || o->px.url || o->px.addr ||
		      o->parallel >= 0 || f->recv_only || f->send_only || f->quit_after_eof >= 0 ||
		      f->no_shutdown || f->keep_sending || f->exit_on_peer_eof || f->idle_timeout >= 0 ||
		      f->progress;
	return connect_probe(p, pos->argc, pos->argv);
}

int cmd_connect(int argc, char **argv)
{
	struct connect_opts o = { 0 };
	struct opt opts[] = {
		OPT_IPV4(&o.family),
		OPT_IPV6(&o.family),
		OPT_FLAG('u', "udp", &o.udp, "UDP (connected); with -U: a Unix datagram socket"),
		OPT_FLAG('U', "unix", &o.unix_sock, "the argument is the PATH of a Unix socket"),
		OPT_UNIX_TYPE(&o.type),
		OPT_FLAG('z', "scan", &o.scan,
			 "check ports (a list of ranges) without sending data"),
		OPT_INT_D(0, "parallel", &o.parallel, "N", 1, 65536, SCAN_PARALLEL,
			  "-z: checks in flight at once"),
		OPT_DURATION('w', "timeout", &o.timeout,
			     "connect and idle timeout (-z: per port, default 1s)"),
		OPT_DURATION(0, "connect-timeout", &o.connect_timeout,
			     "give up connecting after DUR"),
		OPT_DURATION_D(0, "attempt-delay", &o.attempt_delay, SOCK_ATTEMPT_DELAY,
			       "Happy Eyeballs: start the next address after DUR"),
		OPT_NUMERIC_HOST('n', &o.numeric),
		OPT_GROUP("TCP ping"),
		OPT_INT(0, "count", &o.probe.count, "N", 0, LLONG_MAX,
			"TCP ping: N timed connects per target (0: until interrupted)"),
		OPT_DURATION_D(0, "interval", &o.probe.interval, TCPPING_DEFAULT_INTERVAL,
			       "--count: from one probe's start to the next's"),
		OPT_STRING(0, "targets", &o.probe.targets, "FILE",
			   "--count: also each HOST:PORT of FILE, one a line ('-': stdin)"),
		OPT_STRING(0, "openmetrics", &o.probe.openmetrics, "FILE",
			   "--count: write the summary to FILE in the OpenMetrics format"),
		OPT_STRING('e', "exec", &o.exec, "'PROG ARGS'",
			   "run PROG with the connection as its stdin/stdout (no shell)"),
		OPT_STRING('c', "sh-exec", &o.sh_exec, "'CMD'", "run CMD by /bin/sh -c, as -e does"),
		OPT_SESSION(&o.see),
		OPT_GROUP("End of stdin, idle peers"),
		OPT_RELAY_EOF(&o.eof),
		OPT_SOCKOPTS(&o.so, SOCKOPT_TCP | SOCKOPT_UDP | SOCKOPT_CLIENT),
		OPT_TRACE(&(struct trace_opts){ 0 }, "TCP SYN"),
		OPT_TLS(&o.tls, 0),
		OPT_PROXY_CLIENT(&o.px),
		OPT_GROUP("Output"),
		OPT_FLAG(0, "tcp-info", &o.tcp_info, "at the end show the kernel's TCP_INFO"),
		OPT_FD(&o.fd, "relay the connected socket inherited as fd N"),
		OPT_NONBLOCK(&o.nonblock),
		OPT_JSON(&o.json),
		OPT_NO_SANDBOX(&o.no_sandbox),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct endpoint ep;
	struct err e = { 0 };
	struct session_log log;

	if (trace_asked(argc, argv))
		return cmd_trace(TRACE_TCP, opts, argc, argv);
	o.timeout = o.connect_timeout = o.attempt_delay = -1;
	relay_eof_opts_init(&o.eof);
	o.parallel = o.fd = o.probe.count = o.probe.interval = -1;
	sock_opts_init(&o.so);
	tls_opts_init(&o.tls);
	session_opts_init(&o.see);
	o.log = &log;
	if (opt_run(&cmd_connect_desc, opts, argc, argv, &pos, &status))
		return status;
	if (o.probe.count >= 0)
		return connect_probe_from(&o, &pos);
	if (parse_target(&o, &pos, &ep, &e))
		return err_report("connect", &e);
	if (o.so.flowlabel >= 0 && !o.family && o.fd < 0 && ep.kind != EP_UNIX)
		o.family = AF_INET6; /* a flow label is IPv6's */
	if (connect_proxy_prepare(&o.px, o.udp || o.nonblock || o.fd >= 0 || ep.kind == EP_UNIX,
				  o.verbose, o.json, &e) || check(&o, &ep, &e))
		return err_report("connect", &e);
	if ((o.exec || o.sh_exec) &&
	    exec_cmd_parse(o.exec ? o.exec : o.sh_exec, !o.exec, &o.xcmd, &e))
		return err_report("connect", &e);
	if (session_log_open(&log, &o.see, &e))
		return err_report("connect", &e);
	if (o.scan && o.tls.tls)
		status = tls_client_scan(&(struct tls_show){ "connect", o.verbose, o.json },
					 &(struct cmd_sandbox){ .cmd = "connect", .off = o.no_sandbox,
								.verbose = o.verbose }, &o.tls,
					 ep.host, ep.service, o.family, o.connect_timeout >= 0
					 ? o.connect_timeout : o.timeout, &o.so, &e);
	else
		status = o.scan ? connect_run_scan(&o, &ep, &e) : run_connect(&o, &ep, &e);
	exec_cmd_free(&o.xcmd);
	session_log_close(&log);
	return status < 0 ? err_report("connect", &e) : status;
}
