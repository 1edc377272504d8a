/* SPDX-License-Identifier: MIT */
/*
 * sockctl udp-send: datagrams from arguments, stdin or generated probes.
 * The send engine (lib/dgram_send: sendmmsg, UDP GSO, pacing, replies, the
 * end marker) sends them; this file picks the source, opens the socket and
 * shows the replies and the summary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "cmd_sandbox.h"
#include "udp_send.h"
#include "dgram.h"
#include "dgram_send.h"
#include "dgram_show.h"
#include "err.h"
#include "opt.h"
#include "out.h"
#include "parse.h"
#include "sock.h"
#include "trace_cmd.h"

#define RAW_DEFAULT 1472 /* an Ethernet frame's UDP payload over IPv4: no fragments */

static volatile sig_atomic_t send_signal;

static void on_signal(int sig)
{
	send_signal = sig;
}

static const char *const onoff[] = { "off", "on", NULL };

const struct opt_cmd cmd_udp_send_desc = {
	.name = "udp-send",
	.args = "HOST PORT [MESSAGE...]",
	.summary = "send datagrams (args, stdin, probes); wait for replies",
	.details = "Each MESSAGE is one datagram.  Without messages, each stdin line is one\n"
		   "datagram (--raw: stdin bytes in datagrams of at most --size bytes), or with\n"
		   "--size, -c probes carry a sequence number and a send timestamp, followed by\n"
		   "an end marker with the exact count, for 'udp-recv --stats'.\n"
		   "HOST '<broadcast>' is 255.255.255.255 (implies --broadcast).",
	.min_args = 1,
	.max_args = -1,
};

static int check_opts(const struct send_opts *o, int nmsg, struct err *e)
{
	if (o->raw && nmsg)
		return err_set(e, EXIT_USAGE, "--raw reads stdin: it cannot be used with MESSAGE "
					      "arguments");
	if (o->size && nmsg)
		return err_set(e, EXIT_USAGE, "--size makes probes or --raw chunks: it cannot be "
					      "used with MESSAGE arguments");
	if (o->size && !o->raw && o->size < DGRAM_PROBE_HDR)
		return err_set(e, EXIT_USAGE, "--size: a probe needs at least %d bytes",
			       DGRAM_PROBE_HDR);
	if (o->interval >= 0 && o->rate >= 0)
		return err_set(e, EXIT_USAGE, "-i/--interval conflicts with --rate: use one");
	if (o->openmetrics)
		return err_set(e, EXIT_USAGE, "--openmetrics needs --trace");
	if (o->line_buffered && o->wait < 0)
		return err_set(e, EXIT_USAGE, "--line-buffered applies to the replies of -W");
	return 0;
}

/* HOST:PORT, [V6]:PORT and unix:PATH are one argument; HOST PORT are two. */
static int endpoint_args(int argc, char **argv)
{
	const char *a = argv[0], *colon = strchr(a, ':');

	if (argc < 2)
		return argc;
	if (a[0] == '[')
		return strstr(a, "]:") ? 1 : 2;
	return colon && colon == strrchr(a, ':') ? 1 : 2;
}

static enum send_mode pick_mode(const struct send_opts *o, int nmsg)
{
	if (nmsg)
		return MODE_ARGS;
	if (o->raw)
		return MODE_RAW;
	return o->size ? MODE_PROBES : MODE_LINES;
}

static int resolve_dst(struct send_ctx *c, const struct endpoint *ep, struct err *e)
{
	const char *host = strcmp(ep->host, "<broadcast>") ? ep->host : "255.255.255.255";
	struct addrinfo hints;
	int family = c->o->family;

	if (!family && c->o->so.source)
		family = addr_numeric_family(c->o->so.source);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	if (sock_resolve_first(*host ? host : NULL, ep->service, &hints, &c->dst, &c->dstlen, e))
		return -1;
	addr_format((struct sockaddr *)&c->dst, c->dstlen, c->dstname, sizeof(c->dstname));
	c->maxlen = c->dst.ss_family == AF_INET6 ? DGRAM_MAX_V6 : DGRAM_MAX_V4;
	return 0;
}

static int dst_is_group_or_bcast(const struct send_ctx *c)
{
	if (c->dst.ss_family == AF_INET) {
		uint32_t a = ntohl(((struct sockaddr_in *)&c->dst)->sin_addr.s_addr);

		return IN_MULTICAST(a) || a == INADDR_BROADCAST || c->o->so.broadcast > 0;
	}
	return IN6_IS_ADDR_MULTICAST(&((struct sockaddr_in6 *)&c->dst)->sin6_addr);
}

static int open_sock(struct send_ctx *c, struct err *e)
{
	const struct send_opts *o = c->o;
	int fam = c->dst.ss_family;

	c->fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC | (o->nonblock ? SOCK_NONBLOCK : 0), 0);
	if (c->fd < 0)
		return err_sys(e, EXIT_FAIL, errno, "socket(%s, dgram)", addr_family_name(fam));
	if (sock_apply_opts(c->fd, fam, SOCK_DGRAM, &o->so, e))
		return -1;
	if (o->mcast_if && dgram_mcast_if(c->fd, fam, o->mcast_if, e))
		return -1;
	if (o->mcast_ttl >= 0 && dgram_mcast_ttl(c->fd, fam, (int)o->mcast_ttl, e))
		return -1;
	if (o->mcast_loop >= 0 && dgram_mcast_loop(c->fd, fam, o->mcast_loop, e))
		return -1;
	if (sock_bind_source(c->fd, fam, SOCK_DGRAM, &o->so, e))
		return -1;
	/*
	 * A connected socket is faster (no route lookup per datagram) and hears
	 * ICMP port unreachable; replies to broadcast and multicast come from
	 * other addresses, so those stay unconnected.
	 */
	if (sock_flowlabel(c->fd, &o->so, (struct sockaddr *)&c->dst, e))
		return -1;
	if (!dst_is_group_or_bcast(c)) {
		if (connect(c->fd, (struct sockaddr *)&c->dst, c->dstlen))
			return err_sys(e, EXIT_FAIL, errno, "%s: connect%s", c->dstname,
				       errno == EACCES ? " (a broadcast address needs --broadcast)"
						       : "");
		c->connected = 1;
	}
	if (o->verbose) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char where[ADDR_STRLEN];

		getsockname(c->fd, (struct sockaddr *)&ss, &len);
		err_msg("udp-send", "%s %s from %s", c->connected ? "connected to" : "sending to",
			c->dstname, addr_format((struct sockaddr *)&ss, len, where, sizeof(where)));
	}
	return 0;
}

/* Fill slot @i with datagram number @k: a MESSAGE argument, or a probe. */
static size_t fill(void *ctx, struct dgram_tx *tx, unsigned i, uint64_t k, int64_t real)
{
	struct send_ctx *c = ctx;

	if (c->mode != MODE_ARGS)
		return dgram_tx_probe(tx, i, k, real, (size_t)c->o->size);
	if (c->nmsg <= 0) /* MODE_ARGS always has messages; keep the modulo safe */
		return 0;
	tx->out.iov[i].iov_base = c->msgs[k % (uint64_t)c->nmsg];
	return strlen(c->msgs[k % (uint64_t)c->nmsg]);
}

static int send_stdin(struct send_ctx *c, struct err *e)
{
	size_t cap = (size_t)DGRAM_MAX_V6 * 2 + 2, have = 0;
	char *buf = malloc(cap);
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = c->fd, .events = POLLIN } };
	int eof = 0, rc = 0;

	if (!buf)
		return err_set(e, EXIT_FAIL, "out of memory");
	c->tx.t0 = clock_mono_ns();
	while (!eof && !send_signal && (!c->limit || c->tx.sent < c->limit)) {
		ssize_t r;

		if (poll(p, c->o->wait >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = err_sys(e, EXIT_FAIL, errno, "poll");
			break;
		}
		if ((p[1].revents & (POLLIN | POLLERR)) && (rc = dgram_tx_drain(&c->tx, e)))
			break;
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = read(0, buf + have, cap - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = err_sys(e, EXIT_FAIL, errno, "read stdin");
			break;
		}
		eof = r == 0;
		have += (size_t)r;
		if ((rc = dgram_tx_split(&c->tx, buf, &have, eof,
					 c->mode == MODE_RAW ? (size_t)c->o->size : 0, c->maxlen, e)))
			break;
	}
	free(buf);
	return rc;
}

/* Everything about the input that can be checked before a socket opens. */
static int check_sizes(struct send_ctx *c, char **msgs, int nmsg, struct err *e)
{
	int i;

	for (i = 0; i < nmsg; i++)
		if (strlen(msgs[i]) > c->maxlen)
			return err_set(e, EXIT_USAGE,
				       "MESSAGE %d is %zu bytes: UDP over %s carries at most %zu",
				       i + 1, strlen(msgs[i]),
				       c->dst.ss_family == AF_INET6 ? "IPv6" : "IPv4", c->maxlen);
	if (c->o->size > c->maxlen)
		return err_set(e, EXIT_USAGE, "--size: %llu bytes: UDP over %s carries at most %zu",
			       c->o->size, c->dst.ss_family == AF_INET6 ? "IPv6" : "IPv4",
			       c->maxlen);
	return 0;
}

/* The engine, as the mode and options ask; -v says which send path it took. */
static int start_tx(struct send_ctx *c, struct err *e)
{
	const struct send_opts *o = c->o;
	struct dgram_tx_opts to;

	memset(&to, 0, sizeof(to));
	to.interval = c->interval;
	to.replies = o->wait >= 0;
	to.no_gso = o->no_gso;
	to.broadcast = o->so.broadcast > 0;
	to.limit = c->limit;
	to.slot = c->mode == MODE_PROBES || c->mode == MODE_RAW ? (size_t)o->size
		  : c->mode == MODE_LINES			 ? c->maxlen
								 : 1;
	to.stop = &send_signal;
	to.on_event = udp_send_on_tx;
	to.ctx = c;
	if (dgram_tx_init(&c->tx, c->fd, (struct sockaddr *)&c->dst, c->dstlen, c->connected,
			  c->dstname, &to, e))
		return -1;
	if (!o->verbose)
		return 0;
	if (c->tx.gso)
		err_msg("udp-send", "UDP_SEGMENT (GSO): runs of up to %d equal-size datagrams "
				    "per message, sendmmsg",
			DGRAM_GSO_MAX_SEGS);
	else
		err_msg("udp-send", "%s: sendmmsg, one datagram per message", c->tx.gso_off);
	return 0;
}

static int run(struct send_ctx *c, const struct endpoint *ep, struct err *e)
{
	const struct send_opts *o = c->o;
	int rc;

	if (resolve_dst(c, ep, e) || check_sizes(c, c->msgs, c->nmsg, e))
		return -1;
	if (open_sock(c, e) || start_tx(c, e) ||
	    cmd_sandbox_plain("udp-send", o->no_sandbox, o->verbose, &sb_udp_send, e))
		return -1;
	if (c->mode == MODE_ARGS || c->mode == MODE_PROBES)
		rc = dgram_tx_generate(&c->tx, fill, c, e);
	else
		rc = send_stdin(c, e);
	if (!rc && c->mode == MODE_PROBES && !send_signal)
		rc = dgram_tx_end(&c->tx, e);
	if (!rc && o->wait >= 0 && !send_signal)
		rc = dgram_tx_pause_until(&c->tx, clock_mono_ns() + o->wait, 1, e);
	if (rc && c->out_failed)
		*e = c->out_err;
	return rc;
}

int cmd_udp_send(int argc, char **argv)
{
	struct send_opts o = { .count = -1, .rate = -1, .mcast_ttl = -1, .mcast_loop = -1,
			       .interval = -1, .wait = -1 };
	struct opt opts[] = {
		OPT_IPV4(&o.family),
		OPT_IPV6(&o.family),
		OPT_NUMERIC_HOST('n', &o.numeric),
		OPT_INT('c', "count", &o.count, "N", 0, INT64_MAX,
			"send N datagrams (MESSAGEs: N rounds; 0: until interrupted)"),
		OPT_INTERVAL(&o.interval),
		OPT_INT(0, "rate", &o.rate, "PPS", 0, 1000000000,
			"datagrams per second (0: as fast as possible, the default)"),
		OPT_SIZE(0, "size", &o.size, DGRAM_MAX_V6,
			 "send probes of BYTES (>= 32); with --raw: stdin chunk size "
			 "(default 1472)"),
		OPT_FLAG(0, "raw", &o.raw, "stdin bytes, not lines, in datagrams of --size"),
		OPT_DURATION('W', "wait", &o.wait,
			     "after sending, wait up to DUR for replies (status 1 if none)"),
		OPT_INT(0, "mcast-ttl", &o.mcast_ttl, "N", 0, 255,
			"IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS"),
		OPT_STRING(0, "mcast-if", &o.mcast_if, "IFACE",
			   "send multicast out of IFACE (name, or IPv4 address)"),
		OPT_CHOICE(0, "mcast-loop", &o.mcast_loop, "on|off", onoff,
			   "IP_MULTICAST_LOOP: hear our own multicast"),
		OPT_FLAG(0, "no-gso", &o.no_gso,
			 "no UDP GSO (UDP_SEGMENT): one datagram per message to the kernel"),
		OPT_SOCKOPTS(&o.so, SOCKOPT_UDP | SOCKOPT_CLIENT),
		OPT_TRACE(&(struct trace_opts){ 0 }, "UDP"),
		OPT_STRING(0, "openmetrics", &o.openmetrics, "FILE",
			   "--trace: write each hop's figures to FILE in the OpenMetrics format"),
		OPT_GROUP("Output"),
		OPT_FLAG('q', "quiet", &o.quiet, "no summary on stderr"),
		OPT_NONBLOCK(&o.nonblock),
		OPT_JSON(&o.json),
		OPT_FLAG(0, "line-buffered", &o.line_buffered,
			 "-W: write each reply as it comes (default: once per batch read, "
			 "unless stdout is a terminal)"),
		OPT_NO_SANDBOX(&o.no_sandbox),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct endpoint ep;
	struct err e = { 0 };
	struct send_ctx c;
	struct sigaction sa;
	int nargs, nmsg, rc;

	if (trace_asked(argc, argv))
		return cmd_trace(TRACE_UDP, opts, argc, argv);
	sock_opts_init(&o.so);
	if (opt_run(&cmd_udp_send_desc, opts, argc, argv, &pos, &status))
		return status;
	if (o.so.flowlabel >= 0 && !o.family)
		o.family = AF_INET6; /* a flow label is IPv6's */
	nargs = endpoint_args(pos.argc, pos.argv);
	nmsg = pos.argc - nargs;
	if (check_opts(&o, nmsg, &e) ||
	    addr_parse_endpoint(nargs, pos.argv, 0, "udp", &ep, &e))
		return err_report("udp-send", &e);
	if (ep.kind != EP_INET) {
		err_set(&e, EXIT_USAGE, "%s: unix sockets are not supported (use connect -U)",
			ep.path);
		return err_report("udp-send", &e);
	}
	if (strcmp(ep.host, "<broadcast>") != 0 &&
	    (addr_check_host(ep.host, &e) ||
	     (o.numeric && addr_check_numeric(ep.host, &e))))
		return err_report("udp-send", &e);
	if (o.numeric && o.so.source && addr_check_numeric(o.so.source, &e))
		return err_report("udp-send", &e);
	if (!strcmp(ep.host, "<broadcast>"))
		o.so.broadcast = 1;
	if (sock_check_opts(&o.so, o.family, SOCK_DGRAM, &e))
		return err_report("udp-send", &e);
	memset(&c, 0, sizeof(c));
	c.o = &o;
	c.fd = -1;
	c.mode = pick_mode(&o, nmsg);
	c.utf8 = !o.json && out_locale_utf8();
	c.live = o.line_buffered || isatty(STDOUT_FILENO);
	if (c.mode == MODE_RAW && !o.size)
		o.size = RAW_DEFAULT;
	c.limit = o.count >= 0 ? (uint64_t)o.count
		  : c.mode == MODE_ARGS || c.mode == MODE_PROBES ? 1 : 0;
	if (c.mode == MODE_ARGS)
		c.limit *= (uint64_t)nmsg;
	c.interval = o.interval >= 0 ? o.interval : o.rate > 0 ? NS_PER_SEC / o.rate : 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	c.msgs = pos.argv + nargs;
	c.nmsg = nmsg;
	rc = run(&c, &ep, &e);
	if ((!rc || c.tx.sent) && !(o.json && c.out_failed))
		udp_send_summary(&c);
	if (c.fd >= 0)
		close(c.fd);
	if (o.verbose && c.tx.gso_sends)
		err_msg("udp-send", "UDP_SEGMENT: %llu datagrams in %llu GSO messages, %llu one "
				    "by one",
			(unsigned long long)c.tx.gso_datagrams, (unsigned long long)c.tx.gso_sends,
			(unsigned long long)(c.tx.sent - c.tx.gso_datagrams));
	dgram_tx_free(&c.tx);
	dgram_out_free(&c.out);
	if (rc)
		return err_report("udp-send", &e);
	if (o.wait >= 0 && !c.tx.replies) {
		char d[32];

		err_set(&e, EXIT_FAIL, "%s: no reply within %s", c.dstname,
			parse_format_duration(o.wait, d, sizeof(d)));
		return err_report("udp-send", &e);
	}
	return EXIT_OK;
}
