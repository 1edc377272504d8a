/* SPDX-License-Identifier: MIT */
/* sockctl connect: a TCP, UDP or Unix client that relays stdin/stdout; -z checks ports. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <linux/tcp.h> /* glibc's struct tcp_info lacks tcpi_delivery_rate */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "cmd_sandbox.h"
#include "err.h"
#include "inherit.h"
#include "opt.h"
#include "out.h"
#include "parse.h"
#include "relay.h"
#include "scan.h"
#include "sock.h"
#include "sock_connect.h"

#define SCAN_PARALLEL 1024
#define SCAN_TIMEOUT NS_PER_SEC

struct connect_opts {
	int family, udp, unix_sock, verbose, json, nonblock, numeric;
	const char *type;
	int64_t timeout, connect_timeout, attempt_delay;
	struct relay_eof_opts eof;
	struct sockopts so;
	int tcp_info;
	long long parallel, fd;
	int scan, no_sandbox;
};

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
		   "--fd N relays a socket that is already connected, inherited as fd N.",
	.min_args = 0,
	.max_args = 2,
};

struct ctx {
	const struct connect_opts *o;
};

/* Each connect attempt, for -v, --json and --nonblock. */
static void on_attempt(void *p, const struct sock_attempt *a)
{
	const struct ctx *c = p;
	char where[ADDR_STRLEN], dur[32], why[ERR_DESC_LEN];
	struct jsonw w;

	addr_format(a->addr, a->addrlen, where, sizeof(where));
	parse_format_duration(a->ns, dur, sizeof(dur));
	if (c->o->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", a->ev == SOCK_EV_START ? "attempt" : "result");
		json_sockaddr(&w, a->addr, a->addrlen);
		json_str(&w, a->ev == SOCK_EV_START ? "connect" : "so_error",
			 a->err ? err_errno_name(a->err) : "0");
		json_int(&w, "errno", a->err);
		json_num(&w, "ms", (double)a->ns / 1e6, 3);
		json_num(&w, "start_ms", (double)a->at_ns / 1e6, 3);
		json_end(&w);
		return;
	}
	if (c->o->nonblock) {
		if (a->ev == SOCK_EV_START)
			err_msg("connect", "connect(%s) = %s (%s %d)", where, a->err ? "-1" : "0",
				a->err ? err_errno_name(a->err) : "OK", a->err);
		else
			err_msg("connect", "%s: SO_ERROR = %s (%d) after %s", where,
				a->err ? err_errno_name(a->err) : "0", a->err, dur);
		return;
	}
	if (!c->o->verbose)
		return;
	if (a->ev == SOCK_EV_START && (!a->err || a->err == EINPROGRESS))
		err_msg("connect", "trying %s at +%.3fs", where, (double)a->at_ns / 1e9);
	else if (a->ev == SOCK_EV_RESULT && !a->err)
		err_msg("connect", "connected to %s in %s", where, dur);
	else if (a->ev == SOCK_EV_RESULT || a->err != EINPROGRESS)
		err_msg("connect", "%s: %s after %s", where,
			a->timed_out ? "timed out" : err_errno_desc(a->err, why, sizeof(why)), dur);
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
	};
	size_t i;

	if (relay_eof_opts_check(eof, e))
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

/* ---- -z: port checks ---- */

struct scan_ctx {
	const struct connect_opts *o;
	long hits; /* open, or for UDP open|filtered */
	char host[ADDR_STRLEN];
};

static void on_scan(void *p, const struct scan_result *r)
{
	struct scan_ctx *c = p;
	struct jsonw w;
	int show;

	if (r->state == SCAN_OPEN || r->state == SCAN_OPEN_FILTERED)
		c->hits++;
	show = r->state == SCAN_OPEN || c->o->verbose ||
		   (c->o->udp && r->state == SCAN_OPEN_FILTERED);
	if (!show)
		return;
	if (c->o->json) {
		json_begin(&w, stdout);
		json_str(&w, "event", "scan");
		json_str(&w, "address", c->host);
		json_uint(&w, "port", r->port);
		json_str(&w, "state", scan_state_name(r->state));
		json_num(&w, "ms", (double)r->ns / 1e6, 3);
		if (r->err)
			json_str(&w, "error", err_errno_name(r->err));
		json_end(&w);
		return;
	}
	printf("%s %u %s\n", c->host, r->port, scan_state_name(r->state));
}

/* The address of @host for -z; a failure names the port list as given. */
static int resolve_one(const char *host, const char *ports, int family, int type,
		       struct sockaddr_storage *ss, socklen_t *len, struct err *e)
{
	struct addrinfo hints;
	char why[sizeof(e->msg)];
	size_t hl = strlen(host);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = type;
	if (!sock_resolve_first(host, NULL, &hints, ss, len, e))
		return 0;
	/* "HOST: EAI_...: text" -> "HOST port LIST: EAI_...: text" */
	snprintf(why, sizeof(why), "%s",
		 !strncmp(e->msg, host, hl) && !strncmp(e->msg + hl, ": ", 2) ? e->msg + hl + 2
									       : e->msg);
	return err_set(e, e->status, "%.64s port %.64s: %s", host, ports, why);
}

static int run_scan(const struct connect_opts *o, const struct endpoint *ep, struct err *e)
{
	struct port_list pl;
	struct sockaddr_storage ss, src;
	socklen_t len, srclen = 0;
	struct scan_opts so_scan;
	struct scan_ctx c;
	long limit, open;
	size_t nports;
	int type = o->udp ? SOCK_DGRAM : SOCK_STREAM;

	if (addr_parse_port_list(ep->service, o->udp ? "udp" : "tcp", &pl, e))
		return -1;
	if (resolve_one(ep->host, ep->service, o->family, type, &ss, &len, e) ||
	    sock_source_addr(&o->so, ss.ss_family, type, &src, &srclen, e)) {
		addr_port_list_free(&pl);
		return -1;
	}
	memset(&so_scan, 0, sizeof(so_scan));
	so_scan.parallel = o->parallel > 0 ? (int)o->parallel : SCAN_PARALLEL;
	/* every check holds a descriptor: stay under the limit, keep some spare */
	limit = sock_raise_nofile() - 16;
	if (limit < 1)
		limit = 1;
	if (so_scan.parallel > limit)
		so_scan.parallel = (int)limit;
	so_scan.timeout = o->connect_timeout >= 0 ? o->connect_timeout
			  : o->timeout >= 0	  ? o->timeout
						  : SCAN_TIMEOUT;
	so_scan.udp = o->udp;
	so_scan.so = &o->so;
	so_scan.src = srclen ? (struct sockaddr *)&src : NULL;
	so_scan.srclen = srclen;
	memset(&c, 0, sizeof(c));
	c.o = o;
	addr_ntop((struct sockaddr *)&ss, len, c.host, sizeof(c.host));
	if (cmd_sandbox_plain("connect", o->no_sandbox, o->verbose, &sb_connect_scan, e)) {
		addr_port_list_free(&pl);
		return -1;
	}
	open = scan_run((struct sockaddr *)&ss, len, &pl, &so_scan, on_scan, &c, e);
	nports = pl.count;
	addr_port_list_free(&pl);
	if (open < 0)
		return -1;
	if (c.hits == 0)
		return err_set(e, EXIT_FAIL, "%s: no open port among %zu checked", c.host,
			       nports);
	return 0;
}

/* ---- the connection ---- */

static void show_tcp_info(const struct connect_opts *o, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct jsonw w;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return;
	if (o->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", "tcp_info");
		json_num(&w, "rtt_ms", ti.tcpi_rtt / 1e3, 3);
		json_num(&w, "rttvar_ms", ti.tcpi_rttvar / 1e3, 3);
		json_uint(&w, "retransmits", ti.tcpi_total_retrans);
		json_uint(&w, "cwnd", ti.tcpi_snd_cwnd);
		json_uint(&w, "pmtu", ti.tcpi_pmtu);
		json_uint(&w, "mss", ti.tcpi_snd_mss);
		json_uint(&w, "delivery_rate", ti.tcpi_delivery_rate);
		json_end(&w);
		return;
	}
	err_msg("connect", "tcp_info: rtt %.3fms rttvar %.3fms retransmits %u cwnd %u pmtu %u "
			   "mss %u delivery_rate %llu B/s",
		ti.tcpi_rtt / 1e3, ti.tcpi_rttvar / 1e3, ti.tcpi_total_retrans, ti.tcpi_snd_cwnd,
		ti.tcpi_pmtu, ti.tcpi_snd_mss, (unsigned long long)ti.tcpi_delivery_rate);
}

/* Show both ends (-v, --json); the peer's name goes to @pb for later messages. */
static void show_ends(const struct connect_opts *o, int fd, char *pb)
{
	struct sockaddr_storage l, p;
	socklen_t ll = sizeof(l), pl = sizeof(p);
	char lb[ADDR_STRLEN];
	struct jsonw w;

	if (getsockname(fd, (struct sockaddr *)&l, &ll) ||
	    getpeername(fd, (struct sockaddr *)&p, &pl))
		return;
	addr_format((struct sockaddr *)&p, pl, pb, ADDR_STRLEN);
	if (o->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", "connected");
		json_str(&w, "local", addr_format((struct sockaddr *)&l, ll, lb, sizeof(lb)));
		json_str(&w, "peer", pb);
		json_end(&w);
	} else if (o->verbose) {
		err_msg("connect", "local %s, peer %s",
			addr_format((struct sockaddr *)&l, ll, lb, sizeof(lb)),
			pb);
	}
}

static void show_end(const struct connect_opts *o, const struct relay_stats *st, int rc)
{
	char dur[32];
	struct jsonw w;
	int64_t took = st->end_ns - st->start_ns;
	int errnum = relay_end_errno(rc, st);

	if (o->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", "closed");
		json_uint(&w, "sent", st->to_sock);
		json_uint(&w, "received", st->to_out);
		json_num(&w, "ms", (double)took / 1e6, 3);
		json_bool(&w, "peer_closed", st->peer_eof);
		json_bool(&w, "ok", rc == 0);
		json_str(&w, "reason", relay_end_reason(rc, st));
		if (errnum)
			json_str(&w, "errno", err_errno_name(errnum));
		if (st->undelivered)
			json_uint(&w, "undelivered", st->undelivered);
		json_end(&w);
	} else if (o->verbose) {
		err_msg("connect", "%llu bytes sent, %llu received in %s%s",
			(unsigned long long)st->to_sock, (unsigned long long)st->to_out,
			parse_format_duration(took, dur, sizeof(dur)),
			st->peer_eof ? " (peer closed)" : "");
	}
}

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

static int open_socket(const struct connect_opts *o, const struct endpoint *ep, struct ctx *c,
		       int *fd, struct err *e)
{
	struct sock_connect_opts co;

	if (o->fd >= 0)
		return adopt_socket(o, fd, e);
	sock_connect_opts_init(&co);
	co.family = o->family;
	co.timeout = o->connect_timeout >= 0 ? o->connect_timeout : o->timeout;
	co.attempt_delay = o->attempt_delay;
	co.so = &o->so;
	co.trace = on_attempt;
	co.ctx = c;
	if (ep->kind == EP_UNIX) {
		co.type = o->udp ? SOCK_DGRAM : SOCK_STREAM;
		if (o->type && addr_socktype_parse(o->type, &co.type, e))
			return -1;
		return sock_connect_unix(ep->path, &co, fd, e);
	}
	co.type = o->udp ? SOCK_DGRAM : SOCK_STREAM;
	return sock_connect(ep->host, ep->service, &co, fd, e);
}

static int run_connect(const struct connect_opts *o, const struct endpoint *ep, struct err *e)
{
	struct ctx c = { o };
	struct relay_opts ro;
	struct relay_stats st;
	int fd, rc, type = SOCK_STREAM;
	socklen_t tl = sizeof(type);
	char peer[ADDR_STRLEN], msg[sizeof(e->msg)];

	if (open_socket(o, ep, &c, &fd, e))
		return -1;
	if (cmd_sandbox_plain("connect", o->no_sandbox, o->verbose, &sb_connect_relay, e)) {
		close(fd);
		return -1;
	}
	if (o->fd >= 0)
		snprintf(peer, sizeof(peer), "the peer of --fd %d", (int)o->fd);
	else if (ep->kind == EP_UNIX)
		snprintf(peer, sizeof(peer), "unix:%s", ep->path);
	else
		snprintf(peer, sizeof(peer), "%.64s port %.64s", ep->host, ep->service);
	show_ends(o, fd, peer);
	getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
	relay_opts_from_eof(&ro, &o->eof, o->timeout);
	ro.dgram = type != SOCK_STREAM;
	/* UDP has no end of its own: going quiet is how it ends */
	ro.idle_ok = type == SOCK_DGRAM;
	rc = relay_run(fd, STDIN_FILENO, STDOUT_FILENO, &ro, &st, e);
	if (o->tcp_info)
		show_tcp_info(o, fd);
	show_end(o, &st, rc);
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
	/* lists always parse, so that one without -z gets check()'s message */
	return addr_parse_endpoint(pos->argc, pos->argv,
				   ADDR_EP_PORT_LIST | (o->unix_sock ? ADDR_EP_UNIX : 0),
				   o->udp ? "udp" : "tcp", ep, e);
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
		OPT_GROUP("End of stdin, idle peers"),
		OPT_RELAY_EOF(&o.eof),
		OPT_SOCKOPTS(&o.so, SOCKOPT_TCP | SOCKOPT_UDP | SOCKOPT_CLIENT),
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

	o.timeout = o.connect_timeout = o.attempt_delay = -1;
	relay_eof_opts_init(&o.eof);
	o.parallel = o.fd = -1;
	sock_opts_init(&o.so);
	if (opt_run(&cmd_connect_desc, opts, argc, argv, &pos, &status))
		return status;
	if (parse_target(&o, &pos, &ep, &e))
		return err_report("connect", &e);
	if (o.so.flowlabel >= 0 && !o.family && o.fd < 0 && ep.kind != EP_UNIX)
		o.family = AF_INET6; /* a flow label is IPv6's */
	if (check(&o, &ep, &e))
		return err_report("connect", &e);
	if (o.scan ? run_scan(&o, &ep, &e) : run_connect(&o, &ep, &e))
		return err_report("connect", &e);
	return EXIT_OK;
}
