/* SPDX-License-Identifier: MIT */
/* The traceroute engine: probe table, TTL schedule, error-queue matching, per-hop statistics. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "addr.h"
#include "bytes.h"
#include "clock.h"
#include "trace.h"

#define RBUF_BYTES (65536 + 128)
#define PKT_SLOT 64 /* bytes of one probe message (ICMP: header and payload) */
#define SEND_RETRIES 8

struct trace_probe {
	int fd;       /* UDP/TCP: the probe's own socket, -1 once settled */
	int ttl;
	size_t q;     /* query number within the hop */
	int64_t sent; /* CLOCK_REALTIME ns (kernel stamps are on that clock) */
	int64_t sent_mono;
	int settled;
};

static void emit(const struct trace *t, const struct trace_event *ev)
{
	if (t->fn)
		t->fn(t->fn_ctx, ev);
}

int trace_init(struct trace *t, const struct trace_config *cfg, const struct sockaddr *dst,
	       socklen_t dstlen, trace_event_fn fn, void *ctx, struct err *e)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->icmp_fd = t->udp_fd = -1;
	t->cfg = *cfg;
	t->fn = fn;
	t->fn_ctx = ctx;
	t->f = icmp_family_of(dst->sa_family);
	if (!t->f || dstlen > sizeof(t->dst))
		return err_set(e, EXIT_FAIL, "trace: not an IPv4 or IPv6 address");
	if (cfg->first_ttl < 1 || cfg->max_ttl < cfg->first_ttl || cfg->queries < 1)
		return err_set(e, EXIT_USAGE, "trace: bad TTL range or query count");
	memcpy(&t->dst, dst, dstlen);
	t->dstlen = dstlen;
	t->nhops = cfg->max_ttl - cfg->first_ttl + 1;
	t->nprobes = (size_t)t->nhops * (size_t)cfg->queries;
	t->hops = calloc((size_t)t->nhops, sizeof(*t->hops));
	t->probes = calloc(t->nprobes, sizeof(*t->probes));
	t->buflen = RBUF_BYTES;
	t->buf = malloc(t->buflen);
	t->pkts = calloc(t->nprobes, PKT_SLOT);
	if (!t->hops || !t->probes || !t->buf || !t->pkts)
		return err_set(e, EXIT_FAIL, "out of memory");
	for (i = 0; i < t->nhops; i++) {
		struct trace_hop *h = &t->hops[i];

		h->ttl = cfg->first_ttl + i;
		h->last_ns = -1;
		rtt_init(&h->rtt);
		h->answers = calloc((size_t)cfg->queries, sizeof(*h->answers));
		if (!h->answers)
			return err_set(e, EXIT_FAIL, "out of memory");
	}
	for (size_t k = 0; k < t->nprobes; k++)
		t->probes[k].fd = -1;
	if (getrandom(&t->ident, sizeof(t->ident), 0) != sizeof(t->ident))
		t->ident = (uint16_t)getpid();
	return 0;
}

int trace_icmp_socket(struct trace *t, int fd, int raw, struct err *e)
{
	int on = 1;

	if (t->icmp_fd >= 0)
		close(t->icmp_fd);
	t->icmp_fd = fd;
	t->icmp_raw = raw;
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (raw)
		return t->f->filter(fd, t->f->echo_request, e);
	return t->f->recv_err(fd, e);
}

/* ---- answers ---- */

static int is_time_exceeded(const struct trace *t, uint8_t type)
{
	return type == (t->f->family == AF_INET ? 11 : 3);
}

static int is_dest_unreach(const struct trace *t, uint8_t type)
{
	return type == (t->f->family == AF_INET ? 3 : 1);
}

static int is_port_unreach(const struct trace *t, uint8_t type, uint8_t code)
{
	return is_dest_unreach(t, type) && code == (t->f->family == AF_INET ? 3 : 4);
}

const char *trace_mark(const struct trace *t, const struct trace_answer *a, char *buf, size_t n)
{
	static const char *const v4[16] = { "!N", "!H", "!P", "!", "!F", "!S", "!N", "!H",
					    "!H", "!X", "!X", "!N", "!H", "!X", "!V", "!C" };
	static const char *const v6[8] = { "!N", "!X", "!S", "!H", "!", "!X", "!X", NULL };
	const char *m = NULL;

	buf[0] = '\0';
	if (a->result != TRACE_UNREACH)
		return buf;
	if (is_dest_unreach(t, a->type))
		m = t->f->family == AF_INET ? (a->code < 16 ? v4[a->code] : NULL)
					    : (a->code < 8 ? v6[a->code] : NULL);
	else if (t->f->family == AF_INET6 && a->type == 2) /* packet too big */
		m = "!F";
	if (m && !strcmp(m, "!F") && a->info)
		snprintf(buf, n, "!F-%u", (unsigned)a->info);
	else if (m)
		snprintf(buf, n, "%s", m);
	else
		snprintf(buf, n, "!<%u>", (unsigned)(is_dest_unreach(t, a->type) ? a->code : a->type));
	return buf;
}

const char *trace_result_name(enum trace_result r)
{
	switch (r) {
	case TRACE_HOP:
		return "time-exceeded";
	case TRACE_REACHED:
		return "reached";
	case TRACE_UNREACH:
		return "unreachable";
	case TRACE_LOCAL:
		return "local-error";
	case TRACE_NONE:
		break;
	}
	return "no-reply";
}

static int rank(enum trace_result r)
{
	static const int ranks[] = { [TRACE_NONE] = 0, [TRACE_LOCAL] = 1, [TRACE_HOP] = 2,
				     [TRACE_UNREACH] = 3, [TRACE_REACHED] = 4 };

	return ranks[r];
}

static struct trace_hop *hop_of(struct trace *t, int ttl)
{
	return &t->hops[ttl - t->cfg.first_ttl];
}

int trace_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

/* Probe @p got answer @a: settle it, count it for its hop. */
static void settle(struct trace *t, struct trace_probe *p, const struct trace_answer *a)
{
	struct trace_hop *h = hop_of(t, p->ttl);
	struct trace_answer *slot = &h->answers[p->q];
	size_t i;

	if (p->settled)
		return;
	p->settled = 1;
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	*slot = *a;
	if (a->rtt_ns < 0)
		slot->rtt_ns = 0;
	if (a->result == TRACE_NONE || a->result == TRACE_LOCAL) {
		if (rank(a->result) > rank(h->result)) {
			h->result = a->result;
			h->decisive = slot;
		}
		return;
	}
	h->received++;
	rtt_add(&h->rtt, slot->rtt_ns);
	h->last_ns = slot->rtt_ns;
	for (i = 0; i < h->naddrs && !trace_same_addr(&h->addrs[i], &a->from); i++)
		;
	if (i == h->naddrs && h->naddrs < TRACE_HOP_ADDRS)
		h->addrs[h->naddrs++] = a->from;
	if (rank(a->result) > rank(h->result)) {
		h->result = a->result;
		h->decisive = slot;
	}
	if ((a->result == TRACE_REACHED || a->result == TRACE_UNREACH) &&
	    (!t->end_ttl || p->ttl < t->end_ttl))
		t->end_ttl = p->ttl;
	if (a->result == TRACE_REACHED)
		t->reached = 1;
}

/* An ICMP message (type, code, info) from @from about probe @p. */
static void icmp_answer(struct trace *t, struct trace_probe *p, uint8_t type, uint8_t code,
			uint32_t info, const struct sockaddr_storage *from, int64_t when)
{
	struct trace_answer a = { .type = type, .code = code, .info = info,
				  .rtt_ns = when - p->sent, .from = *from };

	if (is_time_exceeded(t, type))
		a.result = TRACE_HOP;
	else if ((t->cfg.proto == TRACE_UDP && is_port_unreach(t, type, code)) ||
		 (t->cfg.proto == TRACE_ICMP && type == t->f->echo_reply))
		a.result = TRACE_REACHED;
	else
		a.result = TRACE_UNREACH;
	settle(t, p, &a);
}

/* ---- receiving ---- */

struct rx {
	struct sockaddr_storage name;
	socklen_t namelen;
	struct icmp_cmsgs cm;
	int64_t when;
	size_t len;
};

static int recv_msg(struct trace *t, int fd, int flags, struct rx *r)
{
	union icmp_cbuf cbuf;
	struct iovec iov = { t->buf, t->buflen };
	struct msghdr m = {
		.msg_name = &r->name, .msg_namelen = sizeof(r->name),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;

	memset(&r->name, 0, sizeof(r->name));
	n = recvmsg(fd, &m, flags | MSG_DONTWAIT);
	if (n < 0)
		return -1;
	r->namelen = m.msg_namelen;
	r->len = (size_t)n;
	icmp_read_cmsgs(&m, &r->cm);
	r->when = r->cm.when_ns >= 0 ? r->cm.when_ns : clock_real_ns();
	return 0;
}

/* An error-queue entry about @p (UDP, TCP, ICMP datagram sockets). */
static void errqueue_answer(struct trace *t, struct trace_probe *p, const struct rx *r)
{
	const struct sock_extended_err *ee = &r->cm.ee;
	struct sockaddr_storage from;

	if (!r->cm.has_ee)
		return;
	if (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6) {
		struct trace_answer a = { .result = TRACE_LOCAL, .errnum = (int)ee->ee_errno,
					  .rtt_ns = r->when - p->sent };

		settle(t, p, &a);
		return;
	}
	memset(&from, 0, sizeof(from));
	if (r->cm.has_offender && r->cm.offender.ss_family == t->f->family)
		from = r->cm.offender;
	icmp_answer(t, p, ee->ee_type, ee->ee_code, ee->ee_info, &from, r->when);
}

/* The probe an ICMP sequence number names, this round. */
static struct trace_probe *probe_of_seq(struct trace *t, uint16_t seq)
{
	uint16_t i = (uint16_t)(seq - t->seq_base);

	return i < t->nprobes ? &t->probes[i] : NULL;
}

static void icmp_recv(struct trace *t)
{
	struct rx r;
	struct icmp_pkt pkt;
	struct trace_probe *p;

	while (!recv_msg(t, t->icmp_fd, 0, &r)) {
		if (t->f->parse(t->buf, r.len, t->icmp_raw && t->f->family == AF_INET, &pkt) ||
		    pkt.bad_csum)
			continue;
		if (pkt.kind == ICMP_K_REPLY && pkt.type == t->f->echo_reply &&
		    (!t->icmp_raw || pkt.id == t->ident) && (p = probe_of_seq(t, pkt.seq)))
			icmp_answer(t, p, pkt.type, pkt.code, 0, &r.name, r.when);
		else if (pkt.kind == ICMP_K_ERROR && pkt.orig_has_icmp &&
			 pkt.orig_type == t->f->echo_request &&
			 (!t->icmp_raw || pkt.orig_id == t->ident) &&
			 (p = probe_of_seq(t, pkt.orig_seq)))
			icmp_answer(t, p, pkt.type, pkt.code, pkt.mtu, &r.name, r.when);
	}
	if (t->icmp_raw)
		return;
	/* datagram sockets: the quoted probe is the payload, its sequence at byte 6 */
	while (!recv_msg(t, t->icmp_fd, MSG_ERRQUEUE, &r))
		if (r.len >= ICMP_HDRLEN && (p = probe_of_seq(t, be_get16(t->buf + 6))))
			errqueue_answer(t, p, &r);
}

/* A UDP or TCP probe's socket has news. */
static void sock_recv(struct trace *t, struct trace_probe *p, short revents)
{
	struct rx r;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	while (!p->settled && !recv_msg(t, p->fd, MSG_ERRQUEUE, &r))
		errqueue_answer(t, p, &r);
	if (p->settled)
		return;
	if (t->cfg.proto == TRACE_UDP) {
		if ((revents & POLLIN) && !recv_msg(t, p->fd, 0, &r)) {
			struct trace_answer a = { .result = TRACE_REACHED, .from = t->dst,
						  .rtt_ns = r.when - p->sent };

			settle(t, p, &a);
		}
		return;
	}
	if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
		return;
	getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (!soerr || soerr == ECONNREFUSED) {
		struct trace_answer a = { .result = TRACE_REACHED, .from = t->dst, .errnum = soerr,
					  .rtt_ns = clock_real_ns() - p->sent };
		struct linger lg = { 1, 0 };

		struct tcp_info ti;
		socklen_t tl = sizeof(ti);

		/* connected: the kernel's own sample of the SYN's round trip, in us */
		memset(&ti, 0, sizeof(ti));
		if (!soerr && !getsockopt(p->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) && ti.tcpi_rtt)
			a.rtt_ns = (int64_t)ti.tcpi_rtt * 1000;
		/* a reset, not a FIN: no TIME_WAIT left on either side */
		setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		settle(t, p, &a);
	} else if (soerr != EINPROGRESS) {
		struct trace_answer a = { .result = TRACE_LOCAL, .errnum = soerr,
					  .rtt_ns = clock_real_ns() - p->sent };

		settle(t, p, &a);
	}
}

/* ---- sending ---- */

/*
 * UDP to ports upward: the ports from the first one to 65535, used in turn
 * round after round (probe offsets wrap within them, never onto port 0).
 */
static size_t port_span(const struct trace *t)
{
	return (size_t)65536 - t->cfg.port;
}

static void dst_port(struct trace *t, struct sockaddr_storage *ss, size_t i)
{
	uint16_t port = t->cfg.port;

	if (t->cfg.proto == TRACE_UDP && !t->cfg.port_fixed)
		port = (uint16_t)(port + (t->seq_base + i) % port_span(t));
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static size_t build(struct trace *t, size_t i);

/* A UDP or TCP probe: its own socket, its TTL, the error queue on. */
static int open_probe(struct trace *t, struct trace_probe *p, size_t i, struct err *e)
{
	int type = t->cfg.proto == TRACE_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fam = t->f->family, fd, on = 1;
	struct sockaddr_storage ss = t->dst;

	fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, EXIT_FAIL, errno, "socket(%s)", type == SOCK_STREAM ? "tcp" : "udp");
	p->fd = fd;
	if ((t->cfg.so && (sock_apply_opts(fd, fam, type, t->cfg.so, e) ||
			   sock_bind_source(fd, fam, type, t->cfg.so, e))) ||
	    t->f->recv_err(fd, e) || t->f->set_ttl(fd, p->ttl, e))
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	dst_port(t, &ss, i);
	p->sent = clock_real_ns();
	p->sent_mono = clock_mono_ns();
	if (connect(fd, (struct sockaddr *)&ss, t->dstlen) && errno != EINPROGRESS) {
		struct trace_answer a = { .result = TRACE_LOCAL, .errnum = errno };

		if (errno == ECONNREFUSED) {
			a.result = TRACE_REACHED;
			a.from = t->dst;
			a.errnum = ECONNREFUSED;
		}
		settle(t, p, &a);
		return 0;
	}
	if (type == SOCK_DGRAM && send(fd, t->pkts + i * PKT_SLOT, build(t, i), 0) < 0 &&
	    errno != EAGAIN) {
		struct trace_answer a = { .result = TRACE_LOCAL, .errnum = errno };

		settle(t, p, &a);
	}
	return 0;
}

/* An errno that an earlier probe's ICMP error leaves on a socket. */
static int pending_error(int errnum)
{
	return errnum == EHOSTUNREACH || errnum == ENETUNREACH || errnum == ECONNREFUSED ||
	       errnum == EHOSTDOWN || errnum == EPROTO || errnum == EACCES || errnum == EMSGSIZE;
}

/* The one socket every probe goes out of (ICMP; UDP to ports upward), or -1. */
static int shared_fd(const struct trace *t)
{
	return t->cfg.proto == TRACE_ICMP ? t->icmp_fd
	       : t->cfg.proto == TRACE_UDP && !t->cfg.port_fixed ? t->udp_fd : -1;
}

/* Probe @i's message into its slot; its length. */
static size_t build(struct trace *t, size_t i)
{
	uint8_t *b = t->pkts + i * PKT_SLOT;

	if (t->cfg.proto == TRACE_ICMP) {
		struct icmp_probe pr = { .type = t->f->echo_request, .id = t->ident,
					 .seq = (uint16_t)(t->seq_base + i), .counter = i + 1,
					 .size = PKT_SLOT - ICMP_HDRLEN };

		return icmp_build(t->f, &pr, b, PKT_SLOT);
	}
	for (size_t j = 0; j < TRACE_PAYLOAD; j++)
		b[j] = (uint8_t)(0x40 + j); /* traceroute's payload */
	return TRACE_PAYLOAD;
}

/*
 * One hop's probes (@n from @k) out of the shared socket in one sendmmsg,
 * each with its TTL as ancillary data.  A datagram socket with IP_RECVERR
 * also keeps the last ICMP error (an earlier probe's time exceeded) as the
 * socket's error, which the next send returns and clears: that message is
 * sent again.
 */
static void send_hop(struct trace *t, int fd, size_t k, size_t n)
{
	struct mmsghdr mm[10];
	struct iovec iov[10];
	/* one int of ancillary data each (CMSG_SPACE keeps every one aligned) */
	_Alignas(struct cmsghdr) char cb[10][CMSG_SPACE(sizeof(int))];
	struct sockaddr_storage to[10];
	size_t i, done = 0;
	int tries = 0;
	int64_t real, mono;

	memset(mm, 0, sizeof(mm));
	memset(cb, 0, sizeof(cb));
	for (i = 0; i < n; i++) {
		struct cmsghdr *cm;
		int ttl = t->probes[k + i].ttl;

		iov[i].iov_base = t->pkts + (k + i) * PKT_SLOT;
		iov[i].iov_len = build(t, k + i);
		to[i] = t->dst;
		if (t->cfg.proto == TRACE_UDP)
			dst_port(t, &to[i], k + i);
		mm[i].msg_hdr.msg_name = &to[i];
		mm[i].msg_hdr.msg_namelen = t->dstlen;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_control = cb[i];
		mm[i].msg_hdr.msg_controllen = sizeof(cb[i]);
		cm = CMSG_FIRSTHDR(&mm[i].msg_hdr);
		cm->cmsg_level = t->f->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
		cm->cmsg_type = t->f->family == AF_INET ? IP_TTL : IPV6_HOPLIMIT;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &ttl, sizeof(int));
	}
	real = clock_real_ns();
	mono = clock_mono_ns();
	for (i = 0; i < n; i++) {
		t->probes[k + i].sent = real;
		t->probes[k + i].sent_mono = mono;
	}
	while (done < n) {
		int r = sendmmsg(fd, mm + done, (unsigned)(n - done), 0);

		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (errno == EINTR || (pending_error(errno) && ++tries < SEND_RETRIES))
			continue;
		{
			struct trace_answer a = { .result = TRACE_LOCAL, .errnum = errno };

			settle(t, &t->probes[k + done], &a);
		}
		done++;
	}
}

static void reset_round(struct trace *t)
{
	size_t k;
	int i;

	for (i = 0; i < t->nhops; i++) {
		struct trace_hop *h = &t->hops[i];

		memset(h->answers, 0, (size_t)t->cfg.queries * sizeof(*h->answers));
		h->result = TRACE_NONE;
		h->decisive = NULL;
	}
	for (k = 0; k < t->nprobes; k++) {
		struct trace_probe *p = &t->probes[k];

		p->ttl = t->cfg.first_ttl + (int)(k / (size_t)t->cfg.queries);
		p->q = k % (size_t)t->cfg.queries;
		p->settled = 0;
		p->fd = -1;
	}
	t->end_ttl = 0;
}

/* Probes from @k on are not sent: no answer, not counted as sent. */
static void give_up(struct trace *t, size_t k)
{
	struct trace_answer none = { .result = TRACE_NONE };

	for (; k < t->nprobes; k++)
		if (!t->probes[k].settled && t->probes[k].fd < 0)
			settle(t, &t->probes[k], &none);
}

static void wait_io(struct trace *t, struct pollfd *pfd, int64_t until);

/*
 * Every probe of the round, hop by hop without waiting.  The answers that
 * are already in are read after each hop: once the destination (or a mark)
 * has answered, the hops past it are not probed, which on a near
 * destination saves the probes that would all reach it again.
 * -1 only when the first probe could not go out.
 */
static int send_round(struct trace *t, struct pollfd *pfd, struct err *e)
{
	size_t k, i, q = (size_t)t->cfg.queries;
	int fd = shared_fd(t);

	for (k = 0; k < t->nprobes; k += q) {
		struct trace_hop *h = hop_of(t, t->probes[k].ttl);

		if (t->end_ttl && h->ttl > t->end_ttl) {
			give_up(t, k);
			return 0;
		}
		if (fd >= 0) {
			send_hop(t, fd, k, q);
			h->sent += q;
		}
		for (i = k; fd < 0 && i < k + q; i++) {
			if (!open_probe(t, &t->probes[i], i, e)) {
				h->sent++;
				continue;
			}
			if (t->probes[i].fd >= 0)
				close(t->probes[i].fd);
			t->probes[i].fd = -1;
			if (!i)
				return -1;
			/* out of descriptors or the like: the rest of the round is lost */
			give_up(t, i);
			return 0;
		}
		wait_io(t, pfd, clock_mono_ns());
	}
	return 0;
}

/* UDP to ports upward: the one socket, its error queue on. */
static int open_udp(struct trace *t, struct err *e)
{
	int fam = t->f->family, on = 1;

	t->udp_fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->udp_fd < 0)
		return err_sys(e, EXIT_FAIL, errno, "socket(udp)");
	if ((t->cfg.so && (sock_apply_opts(t->udp_fd, fam, SOCK_DGRAM, t->cfg.so, e) ||
			   sock_bind_source(t->udp_fd, fam, SOCK_DGRAM, t->cfg.so, e))) ||
	    t->f->recv_err(t->udp_fd, e))
		return -1;
	setsockopt(t->udp_fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	return 0;
}

/* The probe a UDP destination port names, this round. */
static struct trace_probe *probe_of_port(struct trace *t, const struct sockaddr_storage *ss)
{
	size_t port = addr_port((const struct sockaddr *)ss), span = port_span(t), i;

	if (ss->ss_family != t->f->family || port < t->cfg.port)
		return NULL;
	i = (port - t->cfg.port + span - t->seq_base % span) % span;
	return i < t->nprobes ? &t->probes[i] : NULL;
}

static void udp_recv(struct trace *t)
{
	struct rx r;
	struct trace_probe *p;

	while (!recv_msg(t, t->udp_fd, MSG_ERRQUEUE, &r))
		if ((p = probe_of_port(t, &r.name)))
			errqueue_answer(t, p, &r);
	/* a reply from the destination: from the port the probe went to */
	while (!recv_msg(t, t->udp_fd, 0, &r))
		if ((p = probe_of_port(t, &r.name))) {
			struct trace_answer a = { .result = TRACE_REACHED, .from = r.name,
						  .rtt_ns = r.when - p->sent };

			settle(t, p, &a);
		}
}

/* ---- the round ---- */

static int hop_settled(const struct trace *t, int ttl)
{
	size_t q, base = (size_t)(ttl - t->cfg.first_ttl) * (size_t)t->cfg.queries;

	for (q = 0; q < (size_t)t->cfg.queries; q++)
		if (!t->probes[base + q].settled)
			return 0;
	return 1;
}

/* Report the hops now settled, in order; 1 when the round is complete. */
static int report(struct trace *t, int *next, long long cycle)
{
	int last = t->end_ttl ? t->end_ttl : t->cfg.max_ttl;

	while (*next <= last && hop_settled(t, *next)) {
		struct trace_event ev = { .type = TRACE_EV_HOP, .hop = hop_of(t, *next),
					  .cycle = cycle };

		emit(t, &ev);
		(*next)++;
		last = t->end_ttl ? t->end_ttl : t->cfg.max_ttl;
	}
	return *next > last;
}

/*
 * Probes past their wait at @now get no answer; the earliest wait still
 * running is returned (-1 none).  INT64_MIN: only that, nothing expires.
 */
static int64_t expire(struct trace *t, int64_t now)
{
	int64_t next = -1;
	size_t k;

	for (k = 0; k < t->nprobes; k++) {
		struct trace_probe *p = &t->probes[k];
		int64_t until = p->sent_mono + t->cfg.wait;

		if (p->settled)
			continue;
		if (now >= until) {
			struct trace_answer a = { .result = TRACE_NONE };

			settle(t, p, &a);
		} else {
			next = clock_earliest(next, until);
		}
	}
	return next;
}

static void wait_io(struct trace *t, struct pollfd *pfd, int64_t until)
{
	size_t n = 0, k;
	int ms = until < 0 ? 0 : clock_ms_until(until); /* never without an end */

	if (shared_fd(t) >= 0) {
		pfd[0] = (struct pollfd){ .fd = shared_fd(t), .events = POLLIN };
		if (poll(pfd, 1, ms) <= 0)
			return;
		if (t->cfg.proto == TRACE_ICMP)
			icmp_recv(t);
		else
			udp_recv(t);
		return;
	}
	for (k = 0; k < t->nprobes; k++)
		if (!t->probes[k].settled && t->probes[k].fd >= 0)
			pfd[n++] = (struct pollfd){
				.fd = t->probes[k].fd,
				.events = (short)(POLLIN | (t->cfg.proto == TRACE_TCP ? POLLOUT : 0)) };
	if (poll(pfd, n, ms) <= 0)
		return;
	for (k = 0; k < n; k++) {
		size_t j;

		if (!pfd[k].revents)
			continue;
		for (j = 0; j < t->nprobes && t->probes[j].fd != pfd[k].fd; j++)
			;
		if (j < t->nprobes)
			sock_recv(t, &t->probes[j], pfd[k].revents);
	}
}

/*
 * Stopped before the round was over: the probes still out get no answer, and
 * the hops are reported up to the last one that answered.
 */
static void report_stopped(struct trace *t, int next, long long cycle)
{
	struct trace_answer none = { .result = TRACE_NONE };
	size_t k;
	int ttl;

	for (k = 0; k < t->nprobes; k++)
		settle(t, &t->probes[k], &none); /* the settled ones stay as they are */
	t->last_ttl = t->cfg.first_ttl - 1;
	for (ttl = t->cfg.first_ttl; ttl <= t->cfg.max_ttl; ttl++)
		if (hop_of(t, ttl)->result != TRACE_NONE)
			t->last_ttl = ttl;
	for (; next <= t->last_ttl; next++) {
		struct trace_event ev = { .type = TRACE_EV_HOP, .hop = hop_of(t, next),
					  .cycle = cycle };

		emit(t, &ev);
	}
}

static int run_round(struct trace *t, struct pollfd *pfd, const volatile sig_atomic_t *stop,
		     long long cycle, struct err *e)
{
	int next = t->cfg.first_ttl;
	size_t k;

	reset_round(t);
	if (send_round(t, pfd, e))
		return -1;
	while (!*stop && !report(t, &next, cycle)) {
		/*
		 * Read what is there (or wait for it) before giving up on
		 * probes: a process that was not scheduled for a while must
		 * not call "*" what is already queued for it.
		 */
		wait_io(t, pfd, expire(t, INT64_MIN));
		expire(t, clock_mono_ns());
	}
	t->last_ttl = t->end_ttl ? t->end_ttl : t->cfg.max_ttl;
	if (*stop && !t->end_ttl)
		report_stopped(t, next, cycle);
	/* the probes past the end (or all, when stopped) are given up */
	for (k = 0; k < t->nprobes; k++)
		if (t->probes[k].fd >= 0) {
			close(t->probes[k].fd);
			t->probes[k].fd = -1;
		}
	t->seq_base = (uint16_t)(t->seq_base + t->nprobes);
	if (t->cfg.proto == TRACE_UDP)
		t->seq_base = (uint16_t)(t->seq_base % port_span(t));
	return 0;
}

int trace_run(struct trace *t, const volatile sig_atomic_t *stop, struct err *e)
{
	struct pollfd *pfd = calloc(t->nprobes, sizeof(*pfd));
	long long c;
	int rc = 0;

	if (!pfd)
		return err_set(e, EXIT_FAIL, "out of memory");
	if (t->cfg.proto == TRACE_ICMP && t->icmp_fd < 0) {
		free(pfd);
		return err_set(e, EXIT_FAIL, "trace: no ICMP socket");
	}
	if (t->cfg.proto == TRACE_UDP && !t->cfg.port_fixed && open_udp(t, e)) {
		free(pfd);
		return -1;
	}
	t->start_ns = clock_mono_ns();
	for (c = 1; c <= t->cfg.cycles && !*stop; c++) {
		int64_t round_start = clock_mono_ns();
		struct trace_event ev = { .type = TRACE_EV_ROUND, .cycle = c };

		if (run_round(t, pfd, stop, c, e)) {
			rc = -1;
			break;
		}
		t->rounds = c;
		emit(t, &ev);
		/* the pause between rounds, unless stopped (a signal ends poll early) */
		while (c < t->cfg.cycles && !*stop) {
			int ms = clock_ms_until(round_start + t->cfg.cycle_interval);

			if (ms <= 0)
				break;
			poll(NULL, 0, ms);
		}
	}
	t->end_ns = clock_mono_ns();
	free(pfd);
	return rc;
}

int trace_shown_hops(const struct trace *t)
{
	return t->last_ttl ? t->last_ttl - t->cfg.first_ttl + 1 : 0;
}

void trace_free(struct trace *t)
{
	size_t k;
	int i;

	for (k = 0; t->probes && k < t->nprobes; k++)
		if (t->probes[k].fd >= 0)
			close(t->probes[k].fd);
	for (i = 0; t->hops && i < t->nhops; i++)
		free(t->hops[i].answers);
	if (t->icmp_fd >= 0)
		close(t->icmp_fd);
	if (t->udp_fd >= 0)
		close(t->udp_fd);
	free(t->pkts);
	free(t->hops);
	free(t->probes);
	free(t->buf);
	memset(t, 0, sizeof(*t));
	t->icmp_fd = t->udp_fd = -1;
}
