/* SPDX-License-Identifier: MIT */
/*
 * sockctl udp-recv: show every datagram with its source and size; recvmmsg
 * batches, and UDP GRO where the kernel has it: a coalesced read is split back
 * into its datagrams, each counted, decoded, shown and echoed on its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "dgram.h"
#include "err.h"
#include "inherit.h"
#include "opt.h"
#include "out.h"
#include "parse.h"
#include "sock.h"

#define RECV_BATCH 64
#define RECV_MAXFDS 2
#define RECV_ECHO 256 /* echo replies per sendmmsg */

struct recv_opts {
	int family, verbose, json, nonblock, numeric;
	long long count, fd_ll;
	int64_t timeout;
	int fd, echo, raw, hex, quiet, stats, until_end, no_gro;
	unsigned long long size;
	const char *join, *mcast_if;
	struct sockopts so;
};

struct recv_ctx {
	const struct recv_opts *o;
	enum dgram_fmt fmt;
	struct dgram_batch b;
	struct mmsghdr echo[RECV_ECHO];
	struct iovec echo_iov[RECV_ECHO];
	unsigned nech;
	struct dgram_stats st;
	uint64_t counted; /* datagrams toward -c (end markers excluded) */
	int gro;          /* UDP_GRO on every socket */
	uint64_t gro_reads, gro_datagrams; /* coalesced reads, datagrams in them */
	uint64_t read_datagrams;           /* every datagram read, markers included */
	int done;
	int out_failed; /* stdout failed: nothing more goes there */
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
		   "'ADDR PORT LEN: payload' with non-printable bytes escaped.  Probes from\n"
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
		int got = 0;
		socklen_t gl = sizeof(got);

		if (getsockname(fds[i], (struct sockaddr *)&ss, &len))
			return err_sys(e, EXIT_FAIL, errno, "getsockname");
		/* an inherited socket gets the options too (set after its bind) */
		if (o->fd >= 0 && sock_apply_opts(fds[i], ss.ss_family, SOCK_DGRAM, &o->so, e))
			return -1;
		if (o->so.rcvbuf >= 0)
			getsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &got, &gl);
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
		if (o->so.rcvbuf >= 0)
			err_msg("udp-recv", "SO_RCVBUF %d requested, %d granted", o->so.rcvbuf, got);
		if (o->join && ss.ss_family == (dgram_is_multicast(o->join, AF_INET) ? AF_INET
										      : AF_INET6))
			err_msg("udp-recv", "joined %s%s%s", o->join, o->mcast_if ? " on " : "",
				o->mcast_if ? o->mcast_if : "");
	}
	return 0;
}

/*
 * UDP_GRO on every socket, or on none (a refusal, e.g. an old kernel, means
 * plain recvmmsg; -v says which).  Datagrams queued before it are single anyway.
 */
static void enable_gro(struct recv_ctx *c, const int *fds, int n)
{
	struct err ge = { 0 };
	int i;

	c->gro = 0;
	if (c->o->no_gro) {
		struct err ignored = { 0 };

		/* an inherited --fd socket may have it on */
		for (i = 0; i < n; i++)
			(void)dgram_gro_set(fds[i], 0, &ignored);
		if (c->o->verbose)
			err_msg("udp-recv", "--no-gro: recvmmsg, one datagram per message");
		return;
	}
	for (i = 0; i < n; i++)
		if (dgram_gro_set(fds[i], 1, &ge))
			break;
	if (i < n) {
		struct err ignored = { 0 };

		for (i = 0; i < n; i++)
			(void)dgram_gro_set(fds[i], 0, &ignored);
		if (c->o->verbose)
			err_msg("udp-recv", "%s: recvmmsg, one datagram per message", ge.msg);
		return;
	}
	c->gro = 1;
	if (c->o->verbose)
		err_msg("udp-recv", "UDP_GRO on: recvmmsg, coalesced datagrams split back "
				    "one by one");
}

static int echo_back(struct recv_ctx *c, int fd, unsigned n, struct err *e)
{
	unsigned done = 0;

	while (done < n) {
		int r = sendmmsg(fd, c->echo + done, n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			char where[ADDR_STRLEN], why[ERR_DESC_LEN];

			/* one unreachable sender must not stop an echo server */
			const struct msghdr *h = &c->echo[done].msg_hdr;

			err_warn("udp-recv", "echo to %s: %s",
				 addr_format(h->msg_name, h->msg_namelen, where, sizeof(where)),
				 err_strerror(errno, why, sizeof(why)));
			done++;
			continue;
		}
		done += (unsigned)r;
	}
	(void)e;
	return 0;
}

/* One datagram in the read buffer, and how much of it was kept. */
struct recv_dgram {
	const struct msghdr *h;
	unsigned char *data;
	size_t len, cap; /* its real size, bytes kept (at most --size) */
};

/* Queue an echo of @d; sends the queue when it is full. */
static void queue_echo(struct recv_ctx *c, int fd, const struct recv_dgram *d, struct err *e)
{
	struct mmsghdr *m = &c->echo[c->nech];

	c->echo_iov[c->nech].iov_base = d->data;
	c->echo_iov[c->nech].iov_len = d->cap;
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_name = d->h->msg_name;
	m->msg_hdr.msg_namelen = d->h->msg_namelen;
	m->msg_hdr.msg_iov = &c->echo_iov[c->nech];
	m->msg_hdr.msg_iovlen = 1;
	if (++c->nech == RECV_ECHO) {
		echo_back(c, fd, c->nech, e);
		c->nech = 0;
	}
}

/* Account for, show and echo one datagram. */
static void handle_one(struct recv_ctx *c, int fd, const struct recv_dgram *d, int64_t mono,
		       int64_t real, struct err *e)
{
	struct dgram_probe p;
	struct dgram_shown sh;

	if (dgram_probe_decode(d->data, d->cap, &p)) {
		if (p.flags & DGRAM_PROBE_END) {
			dgram_stats_end(&c->st, &p);
			if (c->o->verbose)
				err_msg("udp-recv", "end marker: the sender sent %llu probes",
					(unsigned long long)p.total);
			if (c->o->until_end)
				c->done = 1;
			return;
		}
		dgram_stats_probe(&c->st, &p, real);
	}
	dgram_stats_datagram(&c->st, d->len, mono);
	c->counted++;
	if (c->o->count && c->counted >= (uint64_t)c->o->count)
		c->done = 1;
	if (d->cap < d->len) {
		char where[ADDR_STRLEN];

		c->st.truncated++;
		err_msg("udp-recv",
			"datagram from %s truncated: %zu bytes, buffer %zu (see --size)",
			addr_format(d->h->msg_name, d->h->msg_namelen, where, sizeof(where)),
			d->len, d->cap);
	}
	sh.from = d->h->msg_name;
	sh.fromlen = d->h->msg_namelen;
	sh.data = d->data;
	sh.caplen = d->cap;
	sh.len = d->len;
	sh.real_ns = real;
	sh.rtt_ns = -1;
	dgram_show(stdout, c->fmt, &sh);
	if (c->o->echo)
		queue_echo(c, fd, d, e);
}

/*
 * Slot @i: one datagram, or with GRO a train of segments that all came from
 * the same source, each a datagram of its own.  Once -c N is reached, the
 * rest of a train is counted as discarded (not shown, not echoed, not in the
 * statistics): it was read from the socket and cannot go back.
 */
static void handle_slot(struct recv_ctx *c, int fd, unsigned i, int64_t mono, int64_t real,
			struct err *e)
{
	/* even without c->gro: a train queued before --no-gro turned UDP_GRO off */
	size_t len = c->b.msgs[i].msg_len, seg = dgram_gro_size(&c->b.msgs[i].msg_hdr);
	size_t got = len < c->b.size ? len : c->b.size; /* bytes in the buffer */
	size_t nseg = dgram_gro_count(len, seg), k;
	struct recv_dgram d;

	c->read_datagrams += nseg;
	if (nseg == 1)
		seg = len;
	else {
		c->gro_reads++;
		c->gro_datagrams += nseg;
	}
	d.h = &c->b.msgs[i].msg_hdr;
	for (k = 0; k < nseg; k++) {
		size_t off = k * seg, avail = off < got ? got - off : 0;

		if (c->o->count && c->counted >= (uint64_t)c->o->count) {
			c->st.discarded += nseg - k;
			return;
		}
		d.data = dgram_slot(&c->b, i) + off;
		d.len = len - off < seg ? len - off : seg;
		d.cap = d.len < avail ? d.len : avail;
		if (d.cap > c->o->size)
			d.cap = (size_t)c->o->size;
		handle_one(c, fd, &d, mono, real, e);
	}
}

/*
 * Drain @fd with recvmmsg until it would block.  1 if something was read,
 * 0 if the queue was empty, -1 on error.
 */
static int drain(struct recv_ctx *c, int fd, struct err *e)
{
	int any = 0;

	while (!c->done) {
		unsigned vlen = RECV_BATCH, i;
		int64_t mono, real;
		int r;

		/* leave what -c does not ask for in the queue (GRO trains: see handle_slot) */
		if (c->o->count && (uint64_t)c->o->count - c->counted < vlen)
			vlen = (unsigned)((uint64_t)c->o->count - c->counted);
		for (i = 0; i < vlen; i++)
			dgram_batch_reset(&c->b, i);
		r = recvmmsg(fd, c->b.msgs, vlen, MSG_DONTWAIT | MSG_TRUNC, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (c->o->nonblock && c->o->verbose) {
					char d[ERR_DESC_LEN];

					err_msg("udp-recv", "recvmmsg: %s (queue empty)",
						err_errno_desc(errno, d, sizeof(d)));
				}
				return any;
			}
			return err_sys(e, EXIT_FAIL, errno, "recvmmsg");
		}
		any = 1;
		mono = clock_mono_ns();
		real = clock_real_ns();
		for (i = 0; i < (unsigned)r; i++)
			handle_slot(c, fd, i, mono, real, e);
		/* prompt output for pipes; one write per batch in a flood */
		if (c->fmt != DGRAM_QUIET && cmd_stdout_flush(e)) {
			c->out_failed = 1;
			return -1;
		}
		if (c->nech)
			echo_back(c, fd, c->nech, e);
		c->nech = 0;
	}
	return any;
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
		for (i = 0; i < nfds && !c->done; i++)
			if (drain(c, fds[i], e) < 0)
				return -1;
		if (!c->counted)
			return err_set(e, EXIT_FAIL, "no datagram queued (--nonblock: EAGAIN)");
		return 0;
	}
	while (!c->done && !recv_signal) {
		int r = poll(pfd, (nfds_t)nfds, clock_ms_until(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys(e, EXIT_FAIL, errno, "poll");
		if (r == 0)
			break;
		for (i = 0; i < nfds && !c->done; i++)
			if ((pfd[i].revents & (POLLIN | POLLERR)) && drain(c, fds[i], e) < 0)
				return -1;
		deadline = clock_deadline(o->timeout);
	}
	if (c->done || recv_signal)
		return c->counted || c->st.end_seen ? 0 : err_set(e, EXIT_FAIL, "no datagram");
	/* the idle timeout */
	if (!c->counted) {
		char d[32];

		return err_set(e, EXIT_FAIL, "no datagram within %s",
			       parse_format_duration(o->timeout, d, sizeof(d)));
	}
	if (o->count) {
		char d[32];

		return err_set(e, EXIT_FAIL, "only %llu of %lld datagrams, then none for %s",
			       (unsigned long long)c->counted, o->count,
			       parse_format_duration(o->timeout, d, sizeof(d)));
	}
	return 0;
}

static void report_stats(const struct recv_ctx *c)
{
	if (c->o->json) {
		dgram_stats_print(&c->st, stdout, 1);
		return;
	}
	fflush(stdout);
	fputs("sockctl udp-recv: ", stderr);
	dgram_stats_print(&c->st, stderr, 0);
	fputc('\n', stderr);
}

static void report_gro(const struct recv_ctx *c)
{
	if (c->st.discarded)
		err_msg("udp-recv", "-c %lld reached inside a coalesced (GRO) read: %llu more "
				    "datagrams were read and discarded (--no-gro leaves them queued)",
			c->o->count, (unsigned long long)c->st.discarded);
	if (c->o->verbose && c->gro)
		err_msg("udp-recv", "UDP_GRO: %llu datagrams arrived in %llu coalesced reads, "
				    "%llu one by one",
			(unsigned long long)c->gro_datagrams, (unsigned long long)c->gro_reads,
			(unsigned long long)(c->read_datagrams - c->gro_datagrams));
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
	struct recv_opts o = { .fd_ll = -1, .timeout = -1, .size = DGRAM_BUFSIZE };
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
	dgram_stats_init(&c.st);
	install_signals();
	rc = open_socks(&o, &ep, fds, &nfds, &e);
	if (!rc)
		enable_gro(&c, fds, nfds);
	/* a coalesced read must fit whole: GRO reads take 64k, --size still caps each datagram */
	if (!rc && (dgram_batch_init(&c.b, RECV_BATCH,
				     c.gro && o.size < DGRAM_BUFSIZE ? DGRAM_BUFSIZE : (size_t)o.size,
				     &e) ||
		    dgram_batch_ctrl(&c.b, &e)))
		rc = -1;
	if (!rc)
		rc = run(&c, fds, nfds, &e);
	report_gro(&c);
	if ((o.stats || recv_signal) && !(o.json && c.out_failed))
		report_stats(&c);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	dgram_batch_free(&c.b);
	dgram_stats_free(&c.st);
	return rc ? err_report("udp-recv", &e) : EXIT_OK;
}
