/* SPDX-License-Identifier: MIT */
/* sockctl raw-icmp: ICMP/ICMPv6 echo (ping); sockets first, then no privilege; lib/ping probes. */
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "cmd.h"
#include "err.h"
#include "icmp.h"
#include "opt.h"
#include "ping.h"
#include "priv.h"
#include "raw_icmp.h"
#include "sock.h"
#include "trace_cmd.h"

/* PING_MODE_AUTO, PING_MODE_DGRAM, PING_MODE_RAW */
static const char *const mode_names[] = { "auto", "dgram", "raw", NULL };
static const char *const type_names[] = { "echo", "timestamp", NULL };

const struct opt_cmd cmd_raw_icmp_desc = {
	.name = NAME,
	.args = "HOST...",
	.summary = "ICMP/ICMPv6 echo like ping, privileges dropped after socket()",
	.details = "The socket is an unprivileged ICMP datagram socket when\n"
		   "net.ipv4.ping_group_range allows it, else a raw socket (CAP_NET_RAW);\n"
		   "opened before the options are read; then every capability is dropped.\n"
		   "Without -i a probe goes out every second (with -f: every 10ms).\n"
		   "Several HOSTs, --targets or a CIDR (198.18.0.0/28) probe many hosts from one\n"
		   "socket per family, as fping does, with a summary table per host.\n"
		   "Exit status: 0 a reply came (several hosts: from every one), 1 none came\n"
		   "(several: from some), 2 bad usage or no socket.",
	.min_args = 0,
	.max_args = -1,
};

static volatile sig_atomic_t got_stop, got_status;
static sigset_t stop_signals; /* SIGINT, SIGTERM, SIGQUIT */

static void on_signal(int sig)
{
	if (sig == SIGQUIT)
		got_status = 1;
	else
		got_stop = 1;
}

/* The options as lib/ping checks them. */
static struct ping_request request(const struct icmp_opts *o)
{
	struct ping_request r = {
		.type = o->type, .code = o->code, .preload = o->preload,
		.interval = o->interval, .flood = o->flood, .mode = o->mode,
		.size = o->size != SIZE_UNSET ? (size_t)o->size : ICMP_DEFAULT_PAYLOAD,
		.size_given = o->size != SIZE_UNSET, .root = getuid() == 0,
	};

	return r;
}

/* ---- opening the socket ---- */

static const char *sockname(int type)
{
	return type == SOCK_RAW ? "SOCK_RAW" : "SOCK_DGRAM";
}

/*
 * Every socket first, CAP_NET_RAW effective only around the raw ones, then
 * every capability dropped: whatever happens, none is held when this returns
 * (or the error says so).  Nothing here reads argv, names or the network.
 */
static int socks_open(struct ping_socks *s, struct priv *pv, int root, struct err *e)
{
	int rc = 0;

	ping_socks_open(s, SOCK_DGRAM);
	if (priv_raise(pv, e))
		rc = -1;
	else
		ping_socks_open(s, SOCK_RAW);
	/* root gives up nothing by keeping its own rights a little longer:
	 * --mark (SO_MARK) needs them; ping() drops them after the options */
	if ((!root || rc) && priv_drop(pv, e))
		rc = -1;
	return rc;
}

/*
 * The socket options (-I, -t, -Q, --mark, --pmtu, --flowlabel, ...), on the
 * socket the engine now owns, before any probe: they run after every
 * privilege is gone, so they parse numerically only (no NSS).  -I ADDR is a
 * source address (SOCK_DGRAM only for its lookup); -I NAME is
 * SO_BINDTODEVICE, which Linux 5.7 and later allow without CAP_NET_RAW on a
 * socket not yet bound to a device.  --flowlabel writes its label into
 * c->dst, so this comes before the target is added.
 */
static int apply_sockopts(struct ctx *c, int fd, struct err *e)
{
	const struct sockopts *so = &c->o->so;

	return sock_apply_opts(fd, c->f->family, c->raw ? SOCK_RAW : SOCK_DGRAM, so, e) ||
			       sock_bind_source(fd, c->f->family, SOCK_DGRAM, so, e) ||
			       sock_flowlabel(fd, so, (struct sockaddr *)&c->dst, e)
		       ? -1
		       : 0;
}

/*
 * The socket for this run, out of those socks_open() got: auto means the
 * datagram socket when it opened and fits the --type, else the raw one.
 */
static int pick_socket(struct ctx *c, struct ping_socks *s, const struct priv *pv, struct err *e)
{
	const struct icmp_opts *o = c->o;
	int want_dgram = o->mode != PING_MODE_RAW && c->qtype == c->f->echo_request;
	const char *why_d;

	c->fd = ping_socks_take(s, c->f, o->mode, want_dgram, &c->raw, &why_d, e);
	if (c->fd < 0)
		return -1;
	if (o->verbose) {
		const char *because = c->raw ? (o->mode == PING_MODE_RAW ? "--mode raw" :
						!want_dgram ? "the --type needs it" : why_d)
					     : (o->mode == PING_MODE_DGRAM ? "--mode dgram" :
						"unprivileged ICMP datagram sockets are allowed");
		err_msg(NAME, "socket(%s, %s, %s) = %d, because %s", c->f->family == AF_INET ?
			"AF_INET" : "AF_INET6", sockname(c->raw ? SOCK_RAW : SOCK_DGRAM),
			c->f->proto == IPPROTO_ICMP ? "IPPROTO_ICMP" : "IPPROTO_ICMPV6", c->fd,
			because);
		if (c->root)
			err_msg(NAME, "run by root: capabilities are dropped once the socket "
				"options are set");
		else
			err_msg(NAME, "capabilities dropped before options were read: none "
				"effective, none permitted%s%s",
				pv->bounding ? ", bounding set cleared" : "",
				pv->setuid ? ", setuid-root uid given up" : "");
	}
	return 0;
}

static int prepare(struct ctx *c, struct err *e)
{
	struct ping_request r = request(c->o);

	if (ping_resolve(c->host, c->o->family, &c->dst, &c->dstlen, &c->f, e))
		return -1;
	addr_ntop((struct sockaddr *)&c->dst, c->dstlen, c->addr, sizeof(c->addr));
	return ping_request_type(&r, c->f, &c->qtype, e);
}

void raw_icmp_catch_signals(sigset_t *old)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = on_signal; /* no SA_RESTART: ppoll must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGQUIT);
	sigprocmask(SIG_BLOCK, NULL, old);
}

/* The engine reports; this prints. */
static int engine(struct ctx *c, struct err *e)
{
	const struct icmp_opts *o = c->o;
	struct ping_config cfg = {
		.type = c->qtype,
		.code = o->code >= 0 ? (uint8_t)o->code : 0,
		.size = o->size != SIZE_UNSET ? (size_t)o->size : ICMP_DEFAULT_PAYLOAD,
		.count = o->count,
		.preload = o->preload,
		.interval = o->interval,
		.timeout = o->timeout,
		.deadline = o->deadline,
		.flood = o->flood,
		.check_payload = o->verbose > 0,
	};
	int fd = c->fd;

	raw_icmp_more_config(o, c->root, &cfg);
	if (ping_init(&c->eng, &cfg, raw_icmp_on_event, c, e))
		return -1;
	c->eng_ready = 1;
	c->fd = -1; /* the engine's now */
	/* -t and -Q are in the group: sock_apply_opts sets them */
	if (ping_add_socket(&c->eng, fd, c->raw, c->f, -1, -1, e) ||
	    apply_sockopts(c, ping_socket(&c->eng, c->f->family)->fd, e))
		return -1;
	if (!(c->t = ping_add_target(&c->eng, (const struct sockaddr *)&c->dst, c->dstlen, e)))
		return -1;
	if (o->verbose)
		err_msg(NAME, "RTT from %s", ping_socket(&c->eng, c->f->family)->kernel_ts ?
			"kernel receive timestamps (SO_TIMESTAMPNS)" :
			"the monotonic clock (no SO_TIMESTAMPNS)");
	raw_icmp_show_rcvbuf(c);
	return 0;
}

static int ping(struct ctx *c, struct ping_socks *s, struct priv *pv, struct err *e)
{
	sigset_t old;

	if (c->o->family)
		ping_socks_close(s, c->o->family);
	if (prepare(c, e) || pick_socket(c, s, pv, e) || engine(c, e))
		return -1;
	if (c->root && priv_drop(pv, e)) /* the options are set: root's rights go too */
		return -1;
	if (raw_icmp_sandbox(c->o, e))
		return -1;
	raw_icmp_catch_signals(&old);
	raw_icmp_header(c);
	ping_run(&c->eng, &got_stop, &got_status, &stop_signals, &old);
	if (c->out_failed) {
		*e = c->out_err;
		return -1;
	}
	raw_icmp_summary(c);
	return c->o->openmetrics ? raw_icmp_metrics_one(c, e) : 0;
}

int cmd_raw_icmp(int argc, char **argv)
{
	struct icmp_opts o = {
		.count = -1, .size = SIZE_UNSET, .code = -1, .preload = -1,
		.interval = -1, .timeout = -1, .deadline = -1, .rate = -1, .stamp_format = -1,
	};
	struct opt opts[] = {
		OPT_IPV4(&o.family),
		OPT_IPV6(&o.family),
		OPT_INT('c', "count", &o.count, "N", 1, LLONG_MAX, "stop after sending N probes"),
		OPT_INTERVAL(&o.interval),
		OPT_DURATION('W', "timeout", &o.timeout,
			     "wait DUR for each reply; later ones are counted as late"),
		OPT_DURATION('w', "deadline", &o.deadline, "stop after DUR, whatever happened"),
		OPT_SIZE_D('s', "size", &o.size, 65527, ICMP_DEFAULT_PAYLOAD,
			   "payload bytes (1k and the like too)"),
		OPT_FLAG('q', "quiet", &o.quiet, "print the summary only"),
		OPT_FLAG('f', "flood", &o.flood,
			 "send on each reply or every 10ms (-i), print the summary only"),
		OPT_INT('l', "preload", &o.preload, "N", 1, 65536,
			"send N probes at once, then one per interval"),
		OPT_CALLBACK('p', "pattern", &o, "HEX", raw_icmp_opt_pattern,
			     "fill the payload with these bytes (up to 16, in hex)"),
		OPT_FLAG('A', "adaptive", &o.adaptive,
			 "send the next probe on each reply (users: 200ms apart at least)"),
		OPT_CHOICE(0, "mode", &o.mode, "MODE", mode_names,
			   "socket: auto (dgram, then raw), dgram or raw"),
		OPT_STRINGV(0, "type", &o.type, "TYPE", type_names,
			    "ICMP type to send: echo, timestamp or 0-255 (raw)"),
		OPT_INT(0, "code", &o.code, "N", 0, 255, "ICMP code to send (default 0)"),
		OPT_SOCKOPTS(&o.so, SOCKOPT_ICMP),
		OPT_TRACE(&(struct trace_opts){ 0 }, "ICMP echo"),
		OPT_GROUP("Many targets"),
		OPT_STRING(0, "targets", &o.targets, "FILE",
			   "also probe each host (or CIDR) of FILE, one a line ('-': stdin)"),
		OPT_INT(0, "rate", &o.rate, "N", 1, 1000000,
			"send at most N probes a second, all targets together"),
		OPT_FLAG('a', "alive", &o.alive, "list only the hosts that answered"),
		OPT_FLAG('u', "unreachable", &o.unreachable,
			 "list only the hosts that did not answer"),
		OPT_STRING(0, "openmetrics", &o.openmetrics, "FILE",
			   "write the summary to FILE in the OpenMetrics format"),
		OPT_GROUP("Output"),
		OPT_FLAG('D', "timestamps", &o.stamps, "prefix each line with the time"),
		OPT_CHOICE(0, "timestamp-format", &o.stamp_format, "FMT", raw_icmp_ts_names,
			   "-D's format: unix, iso or ctime (implies -D)"),
		OPT_FLAG('O', "report-outstanding", &o.report_outstanding,
			 "report each probe left unanswered when the next is sent"),
		OPT_FLAG('n', "numeric", &o.numeric, "numeric addresses only (always so)"),
		OPT_NUMERIC_HOST(0, &o.numeric_host),
		OPT_JSON(&o.json),
		OPT_FLAG(0, "line-buffered", &o.line_buffered,
			 "write each reply as it comes (default: a burst's lines together, "
			 "unless stdout is a terminal)"),
		OPT_NO_SANDBOX(&o.no_sandbox),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct err e = { 0 };
	struct priv pv;
	struct ping_socks s;
	struct ctx c = { .o = &o, .fd = -1, .stop = &got_stop, .status = &got_status,
			 .signals = &stop_signals };
	struct ping_request r;
	int rc;

	/*
	 * First of all, with CAP_NET_RAW still permitted (main() kept it and
	 * nothing else): every socket we may need, then no privilege at all.
	 * Only then are argv, names and -I read.
	 */
	priv_current(&pv);
	c.root = getuid() == 0;
	rc = socks_open(&s, &pv, c.root, &e);
	if (trace_asked(argc, argv))
		return cmd_trace_icmp(opts, argc, argv, &s, &pv, rc, &e);
	sock_opts_init(&o.so);
	if (rc || opt_run(&cmd_raw_icmp_desc, opts, argc, argv, &pos, &status)) {
		ping_socks_close(&s, 0);
		return rc ? err_report(NAME, &e) : status;
	}
	if (o.so.flowlabel >= 0 && !o.family)
		o.family = AF_INET6; /* a flow label is IPv6's */
	if (o.stamp_format >= 0)
		o.stamps = 1;
	c.live = o.line_buffered || isatty(STDOUT_FILENO);
	r = request(&o);
	if (!ping_check_request(&r, &e) && raw_icmp_is_multi(&o, pos.argc, pos.argv)) {
		rc = raw_icmp_multi(&c, &s, &pv, pos.argc, pos.argv, &e);
		ping_socks_close(&s, 0);
		return rc < 0 ? err_report(NAME, &e) : rc;
	}
	c.host = pos.argv[0];
	if (e.status || addr_check_host_family(c.host, o.family, &e) ||
	    (o.numeric_host && addr_check_numeric(c.host, &e))) {
		ping_socks_close(&s, 0);
		return err_report(NAME, &e);
	}
	rc = ping(&c, &s, &pv, &e);
	ping_socks_close(&s, 0);
	if (c.fd >= 0)
		close(c.fd);
	status = rc ? err_report(NAME, &e) : ping_target_met(&c.eng, c.t) ? EXIT_OK : EXIT_FAIL;
	if (c.eng_ready)
		ping_free(&c.eng);
	outbuf_free(&c.line);
	return status;
}
