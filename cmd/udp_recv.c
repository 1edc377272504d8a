/* SPDX-License-Identifier: MIT */
/*
 * sockctl udp-recv: show every datagram with its source and size.  The
 * receive engine (lib/dgram_recv: recvmmsg, GRO, truncation, echo and its
 * guards) hands each datagram to on_datagram, which decodes probes, keeps
 * the statistics and shows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "cmd_sandbox.h"
#include "dgram.h"
#include "dgram_recv.h"
#include "dgram_show.h"
#include "err.h"
#include "inherit.h"
#include "opt.h"
#include "out.h"
#include "parse.h"
#include "sock.h"
#include "sock_rxq.h"

#define RECV_MAXFDS 2

struct recv_opts {
	int family, verbose, json, nonblock, numeric, no_sandbox;
	long long count, fd_ll, echo_rate;
	int64_t timeout;
	int fd, echo, raw, hex, quiet, stats, until_end, no_gro, line_buffered;
	unsigned long long size;
	const char *join, *mcast_if;
	struct sockopts so;
};

struct recv_ctx {
	const struct recv_opts *o;
	enum dgram_fmt fmt;
	int utf8; /* the locale's charset is UTF-8: text shows it as is */
	struct dgram_rx rx;
	struct dgram_stats st;
	struct dgram_out out; /* the lines of one recvmmsg batch */
	int live;             /* a line is written as soon as it is made */
	struct err out_err; /* stdout failed: why */
	int out_failed;     /* stdout failed: nothing more goes there */
};

static volatile sig_atomic_t recv_signal;

static void on_signal(int sig)
{
	recv_signal = sig;
}

const struct opt_cmd cmd_udp_recv_desc = {
	.name = "udp-recv",
	.args = "[ADDR] PORT  |  --fd N",
	.summary = "receive datagrams: source, size, payload; --echo, --stats",
	.details = "Without ADDR, binds the IPv4 and IPv6 wildcards on one port (0: the\n"
		   "kernel picks; -v shows it).  Each datagram is a line\n"
		   "'ADDR PORT LEN: payload' with control and invalid bytes escaped (UTF-8\n"
		   "text as is in a UTF-8 locale).  Probes from\n"
		   "'udp-send --size' are counted: --stats (and SIGINT/SIGTERM) adds loss,\n"
		   "duplicates, reordering and one-way latency.  With UDP GRO (the default\n"
		   "where the kernel has it) coalesced datagrams are split back, one by one.",
	.min_args = 0,
	.max_args = 2,
};

static int check_opts(const struct recv_opts *o, struct err *e)
{
	/* -q --json is allowed: no datagrams, the statistics as JSON */
	if (o->raw + o->hex + o->json + o->quiet > 1 &&
	    !(o->quiet && o->json && !o->raw && !o->hex))
		return err_set(e, EXIT_USAGE,
			       "--raw, --hex, --json and --quiet choose one output format: "
			       "use one of them (--json -q: JSON stats only)");
	if (o->mcast_if && !o->join)
		return err_set(e, EXIT_USAGE, "--mcast-if needs --join GROUP");
	if (o->join && !dgram_is_multicast(o->join, o->family))
		return err_set(e, EXIT_USAGE, "--join: '%.64s' is not a multicast address%s",
			       o->join, o->family ? " of the chosen family" : "");
	if (o->nonblock && o->timeout >= 0)
		return err_set(e, EXIT_USAGE, "--nonblock cannot be used with -w/--timeout "
					      "(it never waits)");
	if (o->size < 1)
		return err_set(e, EXIT_USAGE, "--size: must be at least 1 byte");
	if (o->so.rcvbuf > INT32_MAX / 2)
		return err_set(e, EXIT_USAGE, "--rcvbuf: at most 1G");
	return 0;
}

/* --fd N: a bound datagram socket inherited from the parent (socket activation). */
static int adopt_fd(const struct recv_opts *o, int *fds, int *n, struct err *e)
{
	struct inherit_want w = { .role = INHERIT_PASSIVE, .family = o->family,
				  .type = SOCK_DGRAM };
	struct inherit_sock s;
	char what[32];

	snprintf(what, sizeof(what), "--fd %d", o->fd);
	if (inherit_check(o->fd, what, &w, &s, e))
		return -1;
	fds[0] = o->fd;
	*n = 1;
	return 0;
}

static int open_socks(const struct recv_opts *o, const struct endpoint *ep, int *fds, int *n,
		      struct err *e)
{
	int i;

	if (o->fd >= 0 ? adopt_fd(o, fds, n, e)
		       : sock_bind_passive(ep->host, ep->service, o->family, SOCK_DGRAM, &o->so,
					   fds, RECV_MAXFDS, n, e))
		return -1;
	for (i = 0; i < *n; i++) {
		struct sockaddr_storage ss = { 0 };
		socklen_t len = sizeof(ss);
		char where[ADDR_STRLEN];
		struct sock_rxq_buf rb;
		char d[160];

		if (getsockname(fds[i], (struct sockaddr *)&ss, &len))
			return err_sys(e, EXIT_FAIL, errno, "getsockname");
		/* an inherited socket gets the options too (set after its bind) */
		if (o->fd >= 0 && sock_apply_opts(fds[i], ss.ss_family, SOCK_DGRAM, &o->so, e))
			return -1;
		if (o->so.rcvbuf < 0 && sock_rxq_flood_default(fds[i], &rb, e))
			return -1;
		if (o->join && ss.ss_family == (dgram_is_multicast(o->join, AF_INET) ? AF_INET
										      : AF_INET6) &&
		    dgram_join(fds[i], ss.ss_family, o->join, o->mcast_if, e))
			return -1;
		if (o->nonblock && sock_set_nonblock(fds[i], e))
			return -1;
		if (!o->verbose)
			continue;
		err_msg("udp-recv", "bound %s", addr_format((struct sockaddr *)&ss, len, where,
							      sizeof(where)));
		err_msg("udp-recv", "%s", sock_rxq_describe(fds[i], o->so.rcvbuf, &rb, d, sizeof(d)));
		if (o->join && ss.ss_family == (dgram_is_multicast(o->join, AF_INET) ? AF_INET
										      : AF_INET6))
			err_msg("udp-recv", "joined %s%s%s", o->join, o->mcast_if ? " on " : "",
				o->mcast_if ? o->mcast_if : "");
	}
	return 0;
}

/* The end marker of udp-send's probes: counted apart, never shown or echoed. */
static int end_marker(struct recv_ctx *c, const struct dgram_probe *p)
{
	dgram_stats_end(&c->st, p);
	if (c->o->verbose)
		err_msg("udp-recv", "end marker: the sender sent %llu probes",
			(unsigned long long)p->total);
	return c->o->until_end ? DGRAM_RX_STOP : DGRAM_RX_IGNORE;
}

/* Write the lines made so far: 0, or -1 when stdout failed (and out_err says why). */
static int flush_out(struct recv_ctx *c)
{
	if (c->out_failed)
		return -1;
	if (!cmd_dgram_flush(&c->out, &c->out_err))
		return 0;
	c->out_failed = 1;
	return -1;
}

/* One datagram: decode a probe, count it, show it. */
static int on_datagram(struct recv_ctx *c, const struct dgram_rx_event *ev)
{
	struct dgram_probe p;
	struct dgram_shown sh;

	if (dgram_probe_decode(ev->data, ev->cap, &p)) {
		if (p.flags & DGRAM_PROBE_END)
			return end_marker(c, &p);
		dgram_stats_probe(&c->st, &p, ev->real_ns);
	}
	dgram_stats_datagram(&c->st, ev->len, ev->ts_ns);
	if (ev->cap < ev->len)
		c->st.truncated++;
	dgram_shown_set(&sh, ev->from, ev->fromlen, ev->data, ev->len, ev->cap, ev->real_ns, -1,
			c->utf8);
	dgram_out_add(&c->out, c->fmt, &sh);
	if (c->live && flush_out(c))
		return DGRAM_RX_STOP;
	return DGRAM_RX_COUNT;
}

/* The engine's warnings about single datagrams (already rate-limited). */
static void on_warning(const struct dgram_rx_event *ev)
{
	char where[ADDR_STRLEN], more[80] = "", why[128];

	addr_format(ev->from, ev->fromlen, where, sizeof(where));
	if (ev->suppressed)
		snprintf(more, sizeof(more), " (%llu similar warnings left out before this one)",
			 (unsigned long long)ev->suppressed);
	switch (ev->type) {
	case DGRAM_RX_TRUNCATED:
		err_warn("udp-recv", "datagram from %s truncated: %zu bytes, buffer %zu "
				    "(see --size)%s", where, ev->len, ev->cap, more);
		break;
	case DGRAM_RX_NOT_ECHOED:
		err_warn("udp-recv", "not echoed to %s: %s%s", where, ev->echo_refusal, more);
		break;
	case DGRAM_RX_ECHO_FAILED:
		err_warn("udp-recv", "echo to %s: %s%s", where,
			 err_strerror(ev->errnum, why, sizeof(why)), more);
		break;
	default:
		break;
	}
}

static int on_rx(void *ctx, const struct dgram_rx_event *ev)
{
	struct recv_ctx *c = ctx;

	if (ev->type == DGRAM_RX_DATAGRAM)
		return on_datagram(c, ev);
	if (ev->type != DGRAM_RX_BATCH_END) {
		on_warning(ev);
		return 0;
	}
	/* prompt output for pipes; one write per batch in a flood */
	if (c->fmt != DGRAM_QUIET && flush_out(c))
		return DGRAM_RX_STOP;
	return DGRAM_RX_COUNT;
}

/* Drain @fd; -1 on error (a read error, or stdout failed). */
static int drain(struct recv_ctx *c, int fd, struct err *e)
{
	int r = dgram_rx_drain(&c->rx, fd, e);

	if (c->out_failed) {
		*e = c->out_err;
		return -1;
	}
	/* it read until the queue was empty, unless the run is done */
	if (r >= 0 && !dgram_rx_done(&c->rx) && c->o->nonblock && c->o->verbose) {
		char d[ERR_DESC_LEN];

		err_msg("udp-recv", "recvmmsg: %s (queue empty)",
			err_errno_desc(EAGAIN, d, sizeof(d)));
	}
	return r;
}

static int run(struct recv_ctx *c, const int *fds, int nfds, struct err *e)
{
	const struct recv_opts *o = c->o;
	struct pollfd pfd[RECV_MAXFDS];
	int64_t deadline = clock_deadline(o->timeout);
	int i;

	for (i = 0; i < nfds; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	if (o->nonblock) {
		for (i = 0; i < nfds && !dgram_rx_done(&c->rx); i++)
			if (drain(c, fds[i], e) < 0)
				return -1;
		if (!c->rx.counted)
			return err_set(e, EXIT_FAIL, "no datagram queued (--nonblock: EAGAIN)");
		return 0;
	}
	while (!dgram_rx_done(&c->rx) && !recv_signal) {
		int r = poll(pfd, (nfds_t)nfds, clock_ms_until(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys(e, EXIT_FAIL, errno, "poll");
		if (r == 0)
			break;
		for (i = 0; i < nfds && !dgram_rx_done(&c->rx); i++)
			if ((pfd[i].revents & (POLLIN | POLLERR)) && drain(c, fds[i], e) < 0)
				return -1;
		deadline = clock_deadline(o->timeout);
	}
	if (dgram_rx_done(&c->rx) || recv_signal)
		return c->rx.counted || c->st.end_seen ? 0 : err_set(e, EXIT_FAIL, "no datagram");
	/* the idle timeout */
	if (!c->rx.counted) {
		char d[32];

		return err_set(e, EXIT_FAIL, "no datagram within %s",
			       parse_format_duration(o->timeout, d, sizeof(d)));
	}
	if (o->count) {
		char d[32];

		return err_set(e, EXIT_FAIL, "only %llu of %lld datagrams, then none for %s",
			       (unsigned long long)c->rx.counted, o->count,
			       parse_format_duration(o->timeout, d, sizeof(d)));
	}
	return 0;
}

/* -v: which read path the engine took. */
static void report_rx_mode(const struct recv_ctx *c)
{
	if (!c->o->verbose)
		return;
	if (c->o->no_gro)
		err_msg("udp-recv", "--no-gro: recvmmsg, one datagram per message");
	else if (!c->rx.gro)
		err_msg("udp-recv", "%s: recvmmsg, one datagram per message", c->rx.gro_off);
	else
		err_msg("udp-recv", "UDP_GRO on: recvmmsg, coalesced datagrams split back "
				    "one by one");
}

static void report_stats(struct recv_ctx *c)
{
	c->st.sock_drops = dgram_rx_sock_drops(&c->rx);
	/* a sender's GSO trains show as coalesced reads; without any, drops are datagrams */
	c->st.drops_are_reads = c->rx.gro && c->rx.gro_reads > 0;
	if (c->o->json) {
		dgram_stats_print(&c->st, stdout, 1);
		return;
	}
	fflush(stdout);
	fputs("sockctl udp-recv: ", stderr);
	dgram_stats_print(&c->st, stderr, 0);
	fputc('\n', stderr);
	if (c->st.sock_drops)
		err_msg("udp-recv", "hint: %llu %s were dropped here, at this socket, its "
				    "receive buffer (%d bytes) full: raise --rcvbuf, or show less "
				    "(-q, --json to a file)",
			(unsigned long long)c->st.sock_drops,
			dgram_stats_path_known(&c->st) ? "datagrams" : "coalesced reads",
			c->st.rcvbuf);
}

static void report_end(const struct recv_ctx *c)
{
	const struct dgram_rx *rx = &c->rx;

	if (rx->discarded)
		err_msg("udp-recv", "-c %lld reached inside a coalesced (GRO) read: %llu more "
				    "datagrams were read and discarded (--no-gro leaves them queued)",
			c->o->count, (unsigned long long)rx->discarded);
	if (c->o->verbose && rx->gro)
		err_msg("udp-recv", "UDP_GRO: %llu datagrams arrived in %llu coalesced reads, "
				    "%llu one by one",
			(unsigned long long)rx->gro_datagrams, (unsigned long long)rx->gro_reads,
			(unsigned long long)(rx->read_datagrams - rx->gro_datagrams));
	if (dgram_rx_suppressed(rx))
		err_msg("udp-recv", "%llu more warnings like the above were left out",
			(unsigned long long)dgram_rx_suppressed(rx));
	if (c->o->echo && rx->not_echoed && c->o->verbose)
		err_msg("udp-recv", "%llu datagrams not echoed (loop check, --echo-rate)",
			(unsigned long long)rx->not_echoed);
}

/* The engine, as the options ask; -v says which read path it took. */
static int start_rx(struct recv_ctx *c, const int *fds, int nfds, struct err *e)
{
	struct dgram_rx_opts ro;

	dgram_rx_opts_init(&ro);
	ro.size = (size_t)c->o->size;
	ro.gro = !c->o->no_gro;
	ro.echo = c->o->echo;
	ro.echo_rate = (unsigned)c->o->echo_rate;
	ro.count = (uint64_t)c->o->count;
	ro.on_event = on_rx;
	ro.ctx = c;
	if (dgram_rx_init(&c->rx, fds, nfds, &ro, e))
		return -1;
	report_rx_mode(c);
	return cmd_sandbox_plain("udp-recv", c->o->no_sandbox, c->o->verbose, &sb_udp_recv, e);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cmd_udp_recv(int argc, char **argv)
{
	struct recv_opts o = { .fd_ll = -1, .timeout = -1, .size = DGRAM_BUFSIZE,
			       .echo_rate = DGRAM_ECHO_RATE_DEFAULT };
	struct opt opts[] = {
		OPT_IPV4(&o.family),
		OPT_IPV6(&o.family),
		OPT_NUMERIC_HOST('n', &o.numeric),
		OPT_INT('c', "count", &o.count, "N", 1, INT64_MAX,
			"exit 0 after N datagrams (end markers not counted)"),
		OPT_DURATION('w', "timeout", &o.timeout,
			     "idle timeout: stop when nothing arrives for DUR (status 1 if "
			     "nothing came, or fewer than -c N)"),
		OPT_FLAG(0, "echo", &o.echo, "send each datagram back to its sender"),
		OPT_INT(0, "echo-rate", &o.echo_rate, "N", 0, 1000000,
			"with --echo: at most N replies a second to one source address "
			"(0: no limit; default 1000)"),
		OPT_FLAG(0, "raw", &o.raw, "write the payload bytes only"),
		OPT_FLAG('x', "hex", &o.hex, "show each payload as a hex dump"),
		OPT_FLAG('q', "quiet", &o.quiet, "show no datagrams (with --stats: counting only)"),
		OPT_FLAG(0, "stats", &o.stats,
			 "at exit: datagrams, bytes, rate; for probes loss, duplicates, "
			 "reordering, latency"),
		OPT_FLAG(0, "until-end", &o.until_end,
			 "exit 0 when udp-send's end marker arrives (after --size probes)"),
		OPT_STRING(0, "join", &o.join, "GROUP", "join multicast GROUP (IPv4 or IPv6)"),
		OPT_STRING(0, "mcast-if", &o.mcast_if, "IFACE",
			   "with --join: the interface (name or IPv4 address)"),
		OPT_SIZE_D(0, "size", &o.size, DGRAM_BUFSIZE, DGRAM_BUFSIZE,
			   "receive buffer per datagram; longer ones are reported truncated"),
		OPT_FLAG(0, "no-gro", &o.no_gro,
			 "no UDP GRO: one datagram per read (with -c, what is left stays queued)"),
		OPT_FD(&o.fd_ll, "use the bound datagram socket inherited as fd N (no ADDR PORT)"),
		OPT_SOCKOPTS(&o.so, SOCKOPT_UDP),
		OPT_GROUP("Output"),
		OPT_NONBLOCK(&o.nonblock),
		OPT_JSON(&o.json),
		OPT_FLAG(0, "line-buffered", &o.line_buffered,
			 "write each datagram as it comes (default: once per batch read, "
			 "unless stdout is a terminal)"),
		OPT_NO_SANDBOX(&o.no_sandbox),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct endpoint ep;
	struct err e = { 0 };
	struct recv_ctx c;
	int fds[RECV_MAXFDS], nfds = 0, rc, i;

	sock_opts_init(&o.so);
	if (opt_run(&cmd_udp_recv_desc, opts, argc, argv, &pos, &status))
		return status;
	o.fd = (int)o.fd_ll;
	/* members of a group share its port */
	if (o.so.reuseaddr == SOCKOPT_UNSET && o.join)
		o.so.reuseaddr = 1;
	memset(&ep, 0, sizeof(ep));
	if (check_opts(&o, &e) || sock_check_opts(&o.so, o.family, SOCK_DGRAM, &e) ||
	    (o.fd < 0 && addr_parse_endpoint(pos.argc, pos.argv,
					ADDR_EP_HOST_OPTIONAL | ADDR_EP_PORT_ZERO, "udp", &ep, &e)))
		return err_report("udp-recv", &e);
	if ((o.fd >= 0) == (pos.argc > 0)) {
		err_set(&e, EXIT_USAGE, o.fd >= 0 ? "--fd takes no ADDR or PORT"
						  : "need a PORT (or --fd N)");
		return err_report("udp-recv", &e);
	}
	if (ep.kind != EP_INET) {
		err_set(&e, EXIT_USAGE, "%s: unix sockets are not supported (use listen -U)",
			ep.path);
		return err_report("udp-recv", &e);
	}
	if (o.numeric && addr_check_numeric(ep.host, &e))
		return err_report("udp-recv", &e);
	memset(&c, 0, sizeof(c));
	c.o = &o;
	c.fmt = o.quiet ? DGRAM_QUIET : o.json ? DGRAM_JSON : o.raw ? DGRAM_RAW
				: o.hex ? DGRAM_HEX : DGRAM_TEXT;
	c.utf8 = c.fmt == DGRAM_TEXT && out_locale_utf8();
	c.live = o.line_buffered || isatty(STDOUT_FILENO);
	if (c.fmt != DGRAM_QUIET && (i = cmd_stdout_pipe_grow()) > 0 && o.verbose)
		err_msg("udp-recv", "stdout is a pipe of %d bytes", i);
	dgram_stats_init(&c.st);
	c.st.res_ns = clock_res_ns();
	install_signals();
	rc = open_socks(&o, &ep, fds, &nfds, &e);
	if (!rc)
		rc = start_rx(&c, fds, nfds, &e);
	if (!rc && nfds > 0)
		c.st.rcvbuf = sock_rxq_rcvbuf(fds[0]);
	if (!rc)
		rc = run(&c, fds, nfds, &e);
	c.st.discarded = c.rx.discarded;
	if (!c.out_failed && c.out.b.len)
		flush_out(&c); /* what a stop (a signal) left in the buffer */
	report_end(&c);
	if ((o.stats || recv_signal) && !(o.json && c.out_failed))
		report_stats(&c);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	dgram_rx_free(&c.rx);
	dgram_stats_free(&c.st);
	dgram_out_free(&c.out);
	return rc ? err_report("udp-recv", &e) : EXIT_OK;
}
