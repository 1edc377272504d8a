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
#include "err.h"
#include "opt.h"
#include "out.h"
#include "relay.h"
#include "scan.h"
#include "sock.h"
#include "sock_connect.h"

#define SCAN_PARALLEL 1024
#define SCAN_TIMEOUT NS_PER_SEC

struct connect_opts {
	int family, udp, unix_sock, verbose, json, nonblock;
	const char *type;
	int64_t timeout, connect_timeout, attempt_delay;
	struct relay_eof_opts eof;
	struct sockopts so;
	int tcp_info;
	long long parallel;
	int scan;
};

const struct opt_cmd cmd_connect_desc = {
	.name = "connect",
	.args = "HOST PORT  |  HOST:PORT  |  [V6ADDR]:PORT  |  -U PATH  |  unix:PATH",
	.summary = "TCP/UDP/Unix client: relay stdin/stdout; -z checks ports",
	.details = "On stdin EOF the socket is shut down for writing and the replies are read\n"
		   "until the peer closes.  The relay also ends when the peer closes, even if\n"
		   "stdin is still open.  -w sets both the connect and the idle timeout.\n"
		   "With -z, PORT may be a list of ranges (20-25,80,443); open ports are printed\n"
		   "one per line (with -v also closed and filtered ones); status 0 if any is open.",
	.min_args = 1,
	.max_args = 2,
};

static const char *const type_names[] = { "stream", "dgram", "seqpacket", NULL };

struct ctx {
	const struct connect_opts *o;
};

static void json_addr(struct jsonw *w, const struct sockaddr *sa, socklen_t len)
{
	char buf[ADDR_STRLEN];

	json_str(w, "address", addr_ntop(sa, len, buf, sizeof(buf)));
	if (sa->sa_family != AF_UNIX)
		json_uint(w, "port", addr_port(sa));
}

/* Each connect attempt, for -v, --json and --nonblock. */
static void on_attempt(void *p, const struct sock_attempt *a)
{
	const struct ctx *c = p;
	char where[ADDR_STRLEN], dur[32];
	struct jsonw w;

	addr_format(a->addr, a->addrlen, where, sizeof(where));
	addr_format_duration(a->ns, dur, sizeof(dur));
	if (c->o->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", a->ev == SOCK_EV_START ? "attempt" : "result");
		json_addr(&w, a->addr, a->addrlen);
		json_str(&w, a->ev == SOCK_EV_START ? "connect" : "so_error",
			 a->err ? err_errno_name(a->err) : "0");
		json_int(&w, "errno", a->err);
		json_num(&w, "ms", (double)a->ns / 1e6, 3);
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
		err_msg("connect", "trying %s", where);
	else if (a->ev == SOCK_EV_RESULT && !a->err)
		err_msg("connect", "connected to %s in %s", where, dur);
	else if (a->ev == SOCK_EV_RESULT || a->err != EINPROGRESS)
		err_msg("connect", "%s: %s after %s", where,
			a->timed_out ? "timed out" : err_errno_name(a->err), dur);
}

static int check_options(const struct connect_opts *o, struct err *e)
{
	if (o->eof.recv_only && o->eof.send_only)
		return err_set(e, EXIT_USAGE, "-d/--recv-only conflicts with --send-only");
	if (o->unix_sock && (o->family || o->so.source || o->so.source_port >= 0))
		return err_set(e, EXIT_USAGE, "-U/--unix cannot be used with -4/-6/-s/-p");
	if (o->type && o->udp)
		return err_set(e, EXIT_USAGE, "--type conflicts with -u/--udp");
	if (o->scan && o->unix_sock)
		return err_set(e, EXIT_USAGE, "-z/--scan checks TCP or UDP ports, not -U/--unix");
	if (o->scan && (o->eof.recv_only || o->eof.send_only || o->eof.quit_after_eof >= 0 ||
			o->tcp_info || o->nonblock || o->eof.no_shutdown || o->eof.keep_sending))
		return err_set(e, EXIT_USAGE,
			       "-z/--scan sends no data: relay options do not apply");
	if (!o->scan && o->parallel >= 0)
		return err_set(e, EXIT_USAGE, "--parallel needs -z/--scan");
	if (o->tcp_info && (o->udp || o->unix_sock))
		return err_set(e, EXIT_USAGE, "--tcp-info needs a TCP connection");
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

static int resolve_one(const char *host, int family, int type, struct sockaddr_storage *ss,
		       socklen_t *len, struct err *e)
{
	struct addrinfo hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = type;
	if (sock_getaddrinfo(host && *host ? host : NULL, "0", &hints, &res, e))
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
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
	if (resolve_one(ep->host, o->family, type, &ss, &len, e) ||
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

static void show_end(const struct connect_opts *o, const struct relay_stats *st, int ok)
{
	char dur[32];
	struct jsonw w;
	int64_t took = st->end_ns - st->start_ns;

	if (o->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", "closed");
		json_uint(&w, "sent", st->to_sock);
		json_uint(&w, "received", st->to_out);
		json_num(&w, "ms", (double)took / 1e6, 3);
		json_bool(&w, "peer_closed", st->peer_eof);
		json_bool(&w, "ok", ok);
		json_end(&w);
	} else if (o->verbose) {
		err_msg("connect", "%llu bytes sent, %llu received in %s%s",
			(unsigned long long)st->to_sock, (unsigned long long)st->to_out,
			addr_format_duration(took, dur, sizeof(dur)),
			st->peer_eof ? " (peer closed)" : "");
	}
}

static int open_socket(const struct connect_opts *o, const struct endpoint *ep, struct ctx *c,
		       int *fd, struct err *e)
{
	struct sock_connect_opts co;

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
	if (ep->kind == EP_UNIX)
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
	show_end(o, &st, rc == 0);
	/* not silent about data left behind; a terminal user sees it anyway */
	if (!rc && relay_input_cut(&ro, &st) && !isatty(STDIN_FILENO))
		err_msg("connect", "%s closed the connection before stdin ended: the rest of "
			"stdin was not sent (--keep-sending sends it)", peer);
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
	if (o->unix_sock) {
		if (pos->argc != 1)
			return err_set(e, EXIT_USAGE, "-U/--unix takes one PATH");
		memset(ep, 0, sizeof(*ep));
		ep->kind = EP_UNIX;
		if (!*pos->argv[0] || strlen(pos->argv[0]) >= sizeof(ep->path))
			return err_set(e, EXIT_USAGE, "unix socket path must be 1 to %zu bytes",
				       sizeof(ep->path) - 1);
		snprintf(ep->path, sizeof(ep->path), "%s", pos->argv[0]);
		return 0;
	}
	if (addr_parse_endpoint(pos->argc, pos->argv, o->scan ? ADDR_EP_PORT_LIST : 0,
				o->udp ? "udp" : "tcp", ep, e))
		return -1;
	if (ep->kind == EP_UNIX &&
	    (o->family || o->so.source || o->so.source_port >= 0 || o->scan))
		return err_set(e, EXIT_USAGE, "unix:PATH cannot be used with -4/-6/-s/-p/-z");
	if (ep->kind == EP_UNIX && o->tcp_info)
		return err_set(e, EXIT_USAGE, "--tcp-info needs a TCP connection");
	if (sock_check_opts(&o->so, ep->kind == EP_UNIX ? AF_UNIX : o->family,
			    o->udp ? SOCK_DGRAM : SOCK_STREAM, e))
		return -1;
	if (ep->kind == EP_INET && o->type)
		return err_set(e, EXIT_USAGE, "--type needs a Unix socket (-U PATH or unix:PATH)");
	if (ep->kind == EP_INET && !o->scan) {
		struct port_list pl;

		/* a list is only for -z; a single port must be one */
		size_t n;

		if (addr_parse_port_list(ep->service, o->udp ? "udp" : "tcp", &pl, e))
			return -1;
		n = pl.count;
		addr_port_list_free(&pl);
		if (n != 1)
			return err_set(e, EXIT_USAGE, "port list '%s' needs -z/--scan",
				       ep->service);
	}
	return ep->kind == EP_INET && *ep->host ? addr_check_host(ep->host, e) : 0;
}

int cmd_connect(int argc, char **argv)
{
	struct connect_opts o = { 0 };
	struct opt opts[] = {
		OPT_IPV4(&o.family),
		OPT_IPV6(&o.family),
		OPT_FLAG('u', "udp", &o.udp, "UDP (connected); with -U: a Unix datagram socket"),
		OPT_FLAG('U', "unix", &o.unix_sock, "the argument is the PATH of a Unix socket"),
		OPT_STRINGV(0, "type", &o.type, "TYPE", type_names,
			    "Unix socket type: stream, dgram or seqpacket"),
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
		OPT_GROUP("End of stdin, idle peers"),
		OPT_RELAY_EOF(&o.eof),
		OPT_SOCKOPTS(&o.so, SOCKOPT_TCP | SOCKOPT_UDP | SOCKOPT_CLIENT),
		OPT_GROUP("Output"),
		OPT_FLAG(0, "tcp-info", &o.tcp_info, "at the end show the kernel's TCP_INFO"),
		OPT_NONBLOCK(&o.nonblock),
		OPT_JSON(&o.json),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct endpoint ep;
	struct err e = { 0 };

	o.timeout = o.connect_timeout = o.attempt_delay = -1;
	relay_eof_opts_init(&o.eof);
	o.parallel = -1;
	sock_opts_init(&o.so);
	if (opt_run(&cmd_connect_desc, opts, argc, argv, &pos, &status))
		return status;
	if (o.so.flowlabel >= 0 && !o.family)
		o.family = AF_INET6; /* a flow label is IPv6's */
	if (check_options(&o, &e) || parse_target(&o, &pos, &ep, &e))
		return err_report("connect", &e);
	if (o.scan ? run_scan(&o, &ep, &e) : run_connect(&o, &ep, &e))
		return err_report("connect", &e);
	return EXIT_OK;
}
