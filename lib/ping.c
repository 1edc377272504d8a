/* SPDX-License-Identifier: MIT */
/* The ICMP probe engine: schedules, matching, statistics; events, never prints. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "clock.h"
#include "ping.h"

enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_REPLIED, SLOT_ERROR, SLOT_LATE };

#define RBUF_BYTES (65536 + 128) /* the largest IPv4 packet, IP header included */
#define RECV_EVERY 32 /* probes sent in a row before the replies are read */
#define ICMP4_ECHO_REQUEST_TYPE 8
#define ICMP6_ECHO_REQUEST_TYPE 128

static int64_t now_on(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static void emit(const struct ping *p, const struct ping_event *ev)
{
	if (p->fn)
		p->fn(p->fn_ctx, ev);
}

int ping_init(struct ping *p, const struct ping_config *cfg, ping_event_fn fn, void *ctx,
	      struct err *e)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->fn = fn;
	p->fn_ctx = ctx;
	p->socks[0].fd = p->socks[1].fd = -1;
	p->clk = CLOCK_MONOTONIC;
	p->rbuf_len = RBUF_BYTES;
	p->rbuf = malloc(p->rbuf_len);
	if (!p->rbuf)
		return err_set(e, EXIT_FAIL, "out of memory");
	if (getrandom(&p->ident, sizeof(p->ident), 0) != sizeof(p->ident))
		p->ident = (uint16_t)getpid();
	return 0;
}

static struct ping_sock *sock_of(struct ping *p, int family)
{
	return &p->socks[family == AF_INET6];
}

const struct ping_sock *ping_socket(const struct ping *p, int family)
{
	const struct ping_sock *s = &p->socks[family == AF_INET6];

	return s->fd >= 0 ? s : NULL;
}

int ping_add_socket(struct ping *p, int fd, int raw, const struct icmp_family *f, int ttl,
		    int tos, struct err *e)
{
	struct ping_sock *s = sock_of(p, f->family);
	int on = 1;
	int rt;
	size_t cap = ICMP_HDRLEN + f->max_payload + 64;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = fd;
	s->raw = raw;
	s->f = f;
	/* an echo request of either family means echo in both (a run over both) */
	s->qtype = p->cfg.type == ICMP4_ECHO_REQUEST_TYPE || p->cfg.type == ICMP6_ECHO_REQUEST_TYPE
			   ? f->echo_request
			   : p->cfg.type;
	rt = f->reply_type(s->qtype);
	/* no reply is expected to other queries: errors only */
	s->rtype = rt < 0 && s->qtype != f->echo_request ? 0xff : (uint8_t)rt;
	if (cap > p->sbuf_len) {
		uint8_t *b = realloc(p->sbuf, cap);

		if (!b)
			return err_set(e, EXIT_FAIL, "out of memory");
		p->sbuf = b;
		p->sbuf_len = cap;
	}
	s->kernel_ts = setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == 0;
	/* replies to a flood or a preload come in bursts: the datagram receivers' default */
	if (sock_rxq_flood_default(fd, &s->rcvbuf, e) || sock_rxq_ovfl_on(fd, e))
		return -1;
	sock_rxq_drops_start(&s->drops, fd);
	if (f->recv_ttl(fd, e))
		return -1;
	if (raw && f->filter(fd, s->qtype, e))
		return -1;
	if (!raw && f->recv_err(fd, e))
		return -1;
	if (ttl >= 0 && f->set_ttl(fd, ttl, e))
		return -1;
	if (tos >= 0 && f->set_tos(fd, tos, e))
		return -1;
	return 0;
}

/* Slots for @count probes (a power of two), or the whole 16-bit space. */
static uint32_t slots_for(long long count)
{
	uint32_t n = 16;

	if (count < 0 || count >= PING_SEQ_SPACE / 2)
		return PING_SEQ_SPACE;
	while (n <= (uint32_t)count)
		n <<= 1;
	return n;
}

struct ping_target *ping_add_target(struct ping *p, const struct sockaddr *sa, socklen_t len,
				    struct err *e)
{
	const struct icmp_family *f = icmp_family_of(sa->sa_family);
	struct ping_target *t, **tt;
	uint32_t n;

	if (!f || len > sizeof(t->addr) || len < f->addrlen)
		return err_set(e, EXIT_FAIL, "not an IPv4 or IPv6 address"), NULL;
	if (!ping_socket(p, f->family))
		return err_set(e, EXIT_FAIL, "no %s socket", f->name), NULL;
	tt = realloc(p->targets, (p->ntargets + 1) * sizeof(struct ping_target *));
	if (!tt)
		return err_set(e, EXIT_FAIL, "out of memory"), NULL;
	p->targets = tt;
	t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(e, EXIT_FAIL, "out of memory"), NULL;
	p->targets[p->ntargets++] = t;
	memcpy(&t->addr, sa, len);
	t->f = f;
	addr_ntop(sa, len, t->addr_str, sizeof(t->addr_str));
	n = slots_for(p->cfg.count);
	if (p->cfg.max_slots && n > p->cfg.max_slots)
		n = p->cfg.max_slots; /* a power of two too: see ping_add_target's caller */
	t->slots = calloc(n, sizeof(*t->slots));
	if (!t->slots)
		return err_set(e, EXIT_FAIL, "out of memory"), NULL;
	t->slot_mask = n - 1;
	rtt_init(&t->rtt);
	return t;
}

/* ---- opening sockets ---- */

static void group_range(char *buf, size_t n)
{
	FILE *fp = fopen("/proc/sys/net/ipv4/ping_group_range", "re");

	snprintf(buf, n, "?");
	if (!fp)
		return;
	if (fgets(buf, (int)n, fp))
		buf[strcspn(buf, "\n")] = '\0';
	for (char *q = buf; *q; q++)
		if (*q == '\t')
			*q = ' ';
	fclose(fp);
}

static int open_dgram(const struct icmp_family *f, char *why, size_t n)
{
	char range[64], eb[ERR_DESC_LEN];
	int fd = socket(f->family, SOCK_DGRAM | SOCK_CLOEXEC, f->proto);

	if (fd >= 0)
		return fd;
	if (errno == EACCES) {
		group_range(range, sizeof(range));
		snprintf(why, n, "datagram socket: gid %u is not in net.ipv4.ping_group_range "
			 "(%s)", (unsigned)getgid(), range);
	} else if (errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT) {
		snprintf(why, n, "datagram socket: this kernel has no ICMP datagram sockets");
	} else {
		snprintf(why, n, "datagram socket: %s", err_errno_desc(errno, eb, sizeof(eb)));
	}
	return -1;
}

static int open_raw(const struct icmp_family *f, char *why, size_t n)
{
	char eb[ERR_DESC_LEN];
	int fd = socket(f->family, SOCK_RAW | SOCK_CLOEXEC, f->proto);
	int saved = errno;

	if (fd >= 0)
		return fd;
	if (saved == EPERM || saved == EACCES)
		snprintf(why, n, "raw socket: CAP_NET_RAW is missing (run as root, or "
			 "'setcap cap_net_raw+p' on the binary)");
	else
		snprintf(why, n, "raw socket: %s", err_errno_desc(saved, eb, sizeof(eb)));
	return -1;
}

void ping_socks_open(struct ping_socks *s, int type)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	int i;

	for (i = 0; i < 2; i++) {
		struct ping_fam_socks *fs = &s->fam[i];
		const struct icmp_family *f = icmp_family_of(fams[i]);

		if (type == SOCK_RAW) {
			fs->why_raw[0] = '\0';
			fs->raw = open_raw(f, fs->why_raw, sizeof(fs->why_raw));
		} else {
			fs->why_dgram[0] = '\0';
			fs->raw = -1; /* the datagram sockets come first */
			fs->dgram = open_dgram(f, fs->why_dgram, sizeof(fs->why_dgram));
		}
	}
}

struct ping_fam_socks *ping_socks_of(struct ping_socks *s, int family)
{
	return &s->fam[family == AF_INET6];
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void ping_socks_close(struct ping_socks *s, int keep_family)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (keep_family && &s->fam[i] == ping_socks_of(s, keep_family))
			continue;
		close_fd(&s->fam[i].dgram);
		close_fd(&s->fam[i].raw);
	}
}

/* ---- sending ---- */

/* -O: the last probe to @t is still unanswered as the next goes out (or the run ends). */
static void report_timeout(struct ping *p, struct ping_target *t, struct ping_slot *s)
{
	struct ping_event ev = { .type = PING_EV_TIMEOUT, .target = t, .seq = s->seq };

	if (!p->cfg.report_timeouts || s->state != SLOT_PENDING || !s->counter || s->reported)
		return;
	s->reported = 1;
	emit(p, &ev);
}

/* 0 sent (or failed for good, counted), 1 try again later (buffers full). */
static int send_probe(struct ping *p, struct ping_target *t)
{
	struct ping_sock *so = sock_of(p, t->f->family);
	uint64_t counter = t->ntx + 1;
	struct icmp_probe pr = {
		.type = so->qtype,
		.code = p->cfg.code,
		.id = p->ident,
		.seq = (uint16_t)counter,
		.counter = counter,
		.size = p->cfg.size,
		.pattern = p->cfg.pattern,
		.pattern_len = p->cfg.pattern_len,
	};
	struct ping_slot *s = &t->slots[pr.seq & t->slot_mask];
	struct ping_event ev = { .type = PING_EV_SEND_ERROR, .target = t, .seq = pr.seq };
	size_t len;
	ssize_t n;

	if (t->ntx)
		report_timeout(p, t, &t->slots[(uint16_t)t->last_seq & t->slot_mask]);
	if (so->qtype == ICMP4_TIMESTAMP && t->f->family == AF_INET)
		pr.tstamp_ms = icmp_tstamp_now();
	len = icmp_build(t->f, &pr, p->sbuf, ICMP_HDRLEN + t->f->max_payload);
	if (s->state == SLOT_PENDING) /* wrapped before its reply came: lost */
		t->outstanding--;
	s->sent = now_on(p->clk);
	n = sendto(so->fd, p->sbuf, len, MSG_DONTWAIT, (struct sockaddr *)&t->addr, t->f->addrlen);
	if (n < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)) {
		s->state = SLOT_FREE;
		return 1;
	}
	ev.errnum = errno;
	s->counter = counter;
	s->reported = 0;
	s->seq = pr.seq;
	t->ntx++;
	t->last_send = clock_mono_ns();
	t->last_seq = counter;
	if (n < 0) {
		s->state = SLOT_ERROR;
		t->nerr++;
		emit(p, &ev);
		return 0;
	}
	s->state = SLOT_PENDING;
	t->outstanding++;
	return 0;
}

/* ---- receiving ---- */

struct rx {
	struct sockaddr_storage from;
	socklen_t fromlen;
	int64_t when; /* on p->clk */
	struct icmp_cmsgs cm;
};

static const unsigned char *addr_bytes(const struct sockaddr_storage *ss)
{
	const struct sockaddr *sa = (const struct sockaddr *)ss;

	return sa->sa_family == AF_INET ?
		       (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr :
		       (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
}

/* Order of the lookup index: family, then address bytes. */
static int cmp_key(const struct icmp_family *f, const unsigned char *a, const struct ping_target *t)
{
	if (f->family != t->f->family)
		return f->family < t->f->family ? -1 : 1;
	return memcmp(a, addr_bytes(&t->addr), f->addr_bytes);
}

static int cmp_targets(const void *a, const void *b)
{
	const struct ping_target *x = *(const struct ping_target *const *)a;
	const struct ping_target *y = *(const struct ping_target *const *)b;

	return cmp_key(x->f, addr_bytes(&x->addr), y);
}

/*
 * Many targets: an index sorted by address, so that a reply from a /16
 * finds its target in 16 steps, not 65536.  Built once, when the run
 * starts (no target is added after); without memory, the linear search.
 */
static void build_index(struct ping *p)
{
	free(p->index);
	p->index = NULL;
	if (p->ntargets < 8)
		return;
	p->index = malloc(p->ntargets * sizeof(struct ping_target *));
	if (!p->index)
		return;
	memcpy(p->index, p->targets, p->ntargets * sizeof(struct ping_target *));
	qsort(p->index, p->ntargets, sizeof(struct ping_target *), cmp_targets);
}

/* The target with address @a (@f's family); with one target, that one if @any. */
static struct ping_target *target_at(struct ping *p, const struct icmp_family *f,
				     const unsigned char *a, int any)
{
	size_t i, lo = 0, hi = p->ntargets;

	if (p->ntargets == 1 && any)
		return p->targets[0]->f == f ? p->targets[0] : NULL;
	if (!p->index) {
		for (i = 0; i < p->ntargets; i++)
			if (!cmp_key(f, a, p->targets[i]))
				return p->targets[i];
		return NULL;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key(f, a, p->index[mid]);

		if (!c)
			return p->index[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The slot @seq names, if a probe with that sequence number was sent. */
static struct ping_slot *slot_of(struct ping_target *t, uint16_t seq)
{
	struct ping_slot *s = &t->slots[seq & t->slot_mask];

	return s->state == SLOT_FREE || s->seq != seq ? NULL : s;
}

static void on_reply(struct ping *p, struct ping_target *t, const struct icmp_pkt *pkt,
		     const struct rx *r, const char *from)
{
	struct ping_slot *s = slot_of(t, pkt->seq);
	struct ping_event ev = { .type = PING_EV_REPLY, .target = t, .pkt = pkt, .from = from,
				 .seq = pkt->seq };
	uint64_t counter;

	if (!s) {
		ev.type = PING_EV_UNSENT;
		ev.target = NULL;
		emit(p, &ev);
		return;
	}
	ev.rtt_ns = r->when - s->sent;
	if (!icmp_payload_counter(pkt, &counter) && pkt->type == t->f->echo_reply &&
	    counter != s->counter) {
		/* a reply to the probe that used this sequence number 65536 sends ago */
		t->nlate++;
		ev.late = 1;
	} else if (s->state == SLOT_REPLIED || s->state == SLOT_LATE) {
		t->ndup++;
		ev.dup = 1;
	} else if (p->cfg.timeout >= 0 && ev.rtt_ns > p->cfg.timeout) {
		t->nlate++;
		t->outstanding -= s->state == SLOT_PENDING;
		s->state = SLOT_LATE;
		ev.late = 1;
	} else {
		t->outstanding -= s->state == SLOT_PENDING;
		s->state = SLOT_REPLIED;
		t->nrx++;
		rtt_add(&t->rtt, ev.rtt_ns);
		if (s->counter == t->last_seq && p->cfg.flood)
			t->next_send = 0; /* flood: answered, send the next one now */
		if (s->counter == t->last_seq && p->cfg.adaptive) {
			int64_t now = clock_mono_ns(), at = t->last_send + p->cfg.adaptive_min;

			/* -A: answered, the next one goes now (but not before the minimum) */
			if (at < t->next_send)
				t->next_send = at > now ? at : now;
		}
	}
	if (p->cfg.check_payload && pkt->type == t->f->echo_reply)
		ev.mismatch = icmp_payload_mismatch_pat(pkt, p->cfg.pattern, p->cfg.pattern_len);
	if (ev.rtt_ns < 0)
		ev.rtt_ns = 0;
	emit(p, &ev);
}

static void on_error(struct ping *p, struct ping_target *t, const struct icmp_pkt *pkt,
		     const char *from, uint16_t seq)
{
	struct ping_slot *s = t ? slot_of(t, seq) : NULL;
	struct ping_event ev = { .type = PING_EV_ERROR, .target = t, .pkt = pkt, .from = from,
				 .seq = seq };

	if (!s)
		return;
	t->nerr++;
	if (s->state == SLOT_PENDING) {
		t->outstanding--;
		s->state = SLOT_ERROR;
	}
	emit(p, &ev);
}

static void on_packet(struct ping *p, struct ping_sock *so, size_t len, const struct rx *r)
{
	const struct icmp_family *f = so->f;
	struct icmp_pkt pkt;
	struct ping_target *t;
	char from[ADDR_STRLEN];
	struct ping_event ev = { .type = PING_EV_IGNORED, .len = len };

	/* raw IPv4 sockets see the IP header; the others see ICMP only */
	if (f->parse(p->rbuf, len, so->raw && f->family == AF_INET, &pkt)) {
		ev.reason = pkt.reject;
		emit(p, &ev);
		return;
	}
	if (pkt.ttl < 0)
		pkt.ttl = r->cm.ttl;
	addr_ntop((const struct sockaddr *)&r->from, f->addrlen, from, sizeof(from));
	if (pkt.bad_csum) {
		t = target_at(p, f, addr_bytes(&r->from), 1);
		if (t)
			t->nbad++;
		ev.type = PING_EV_BAD_CSUM;
		ev.target = t;
		ev.pkt = &pkt;
		ev.from = from;
		emit(p, &ev);
		return;
	}
	if (pkt.kind == ICMP_K_REPLY) {
		if (pkt.type != so->rtype || (so->raw && pkt.id != p->ident))
			return; /* someone else's */
		t = target_at(p, f, addr_bytes(&r->from), 1);
		if (t)
			on_reply(p, t, &pkt, r, from);
	} else if (pkt.kind == ICMP_K_ERROR && pkt.orig_has_icmp && pkt.orig_type == so->qtype &&
		   pkt.orig_id == p->ident) {
		on_error(p, target_at(p, f, pkt.orig_dst, 0), &pkt, from, pkt.orig_seq);
	}
}

/* Datagram sockets: an ICMP error comes through the error queue, quoting our probe. */
static void on_errqueue(struct ping *p, struct ping_sock *so, size_t len, const struct rx *r)
{
	const struct icmp_family *f = so->f;
	const struct sock_extended_err *ee = &r->cm.ee;
	const struct sockaddr *off = (const struct sockaddr *)&r->cm.offender;
	/* msg_name is the original destination */
	struct ping_target *t = r->fromlen >= f->addrlen ?
					target_at(p, f, addr_bytes(&r->from), 1) : NULL;
	struct icmp_pkt pkt = { 0 };
	char from[ADDR_STRLEN] = "?";
	uint16_t seq;

	if (!r->cm.has_ee || len < ICMP_HDRLEN || !t)
		return;
	seq = be_get16(p->rbuf + 6);
	if (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6) {
		struct ping_event ev = { .type = PING_EV_LOCAL_ERROR, .target = t, .seq = seq,
					 .errnum = (int)ee->ee_errno };

		t->nerr++;
		emit(p, &ev);
		return;
	}
	if (r->cm.has_offender && off->sa_family == f->family)
		addr_ntop(off, f->addrlen, from, sizeof(from));
	pkt.type = ee->ee_type;
	pkt.code = ee->ee_code;
	pkt.mtu = ee->ee_info;
	pkt.pointer = ee->ee_info;
	on_error(p, t, &pkt, from, seq);
}

int ping_recv_one(struct ping *p, struct ping_sock *so, int errqueue)
{
	union icmp_cbuf cbuf;
	struct iovec iov = { p->rbuf, p->rbuf_len };
	struct rx r;
	struct msghdr m = {
		.msg_name = &r.from, .msg_namelen = sizeof(r.from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;

	memset(&r.from, 0, sizeof(r.from));
	n = recvmsg(so->fd, &m, (errqueue ? MSG_ERRQUEUE : 0) | MSG_DONTWAIT);
	if (n < 0) {
		/* datagram sockets report an ICMP error once as errno: read the queue */
		if (!errqueue && errno != EAGAIN && errno != EINTR && !so->raw)
			return ping_recv_one(p, so, 1);
		return 0;
	}
	r.fromlen = m.msg_namelen;
	if (!errqueue)
		sock_rxq_drops_note(&so->drops, &m);
	icmp_read_cmsgs(&m, &r.cm);
	r.when = r.cm.when_ns >= 0 && p->clk == CLOCK_REALTIME ? r.cm.when_ns : now_on(p->clk);
	if (m.msg_flags & MSG_TRUNC)
		n = (ssize_t)p->rbuf_len;
	if (errqueue)
		on_errqueue(p, so, (size_t)n, &r);
	else
		on_packet(p, so, (size_t)n, &r);
	return 1;
}

uint64_t ping_sock_drops(const struct ping *p)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < 2; i++)
		if (p->socks[i].fd >= 0)
			n += sock_rxq_drops_total(&p->socks[i].drops, p->socks[i].fd);
	return n;
}

/* Every socket once: 1 something was handled. */
static int recv_any(struct ping *p)
{
	int i, got = 0;

	for (i = 0; i < 2; i++)
		if (p->socks[i].fd >= 0)
			got |= ping_recv_one(p, &p->socks[i], 0);
	return got;
}

/* ---- the loop ---- */

static int more_to_send(const struct ping *p, const struct ping_target *t)
{
	if (p->cfg.count < 0)
		return 1;
	/* with a deadline, ping keeps going until COUNT replies or the deadline */
	if (p->cfg.deadline >= 0)
		return t->nrx < (uint64_t)p->cfg.count;
	return t->ntx < (uint64_t)p->cfg.count;
}

/* How long to wait for replies once the last probe to @t is out. */
static int64_t linger(const struct ping *p, const struct ping_target *t)
{
	if (p->cfg.timeout >= 0)
		return p->cfg.timeout;
	if (t->nrx)
		return 2 * t->rtt.max > NS_PER_SEC ? 2 * t->rtt.max : NS_PER_SEC;
	return 10 * NS_PER_SEC;
}

static void wait_io(struct ping *p, int64_t until, const volatile sig_atomic_t *stop,
		    const volatile sig_atomic_t *status, const sigset_t *block, const sigset_t *mask)
{
	struct pollfd pfd[2];
	int64_t left = until - clock_mono_ns();
	struct timespec ts;
	nfds_t n = 0;
	int i;

	for (i = 0; i < 2; i++)
		if (p->socks[i].fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = p->socks[i].fd, .events = POLLIN };
	if (left < 0)
		left = 0;
	ts.tv_sec = left / NS_PER_SEC;
	ts.tv_nsec = left % NS_PER_SEC;
	/*
	 * Signals stay deliverable while the loop runs (a flood on loopback may
	 * never wait); around the wait they are blocked so that one arriving
	 * after the check is delivered inside ppoll instead of being slept through.
	 */
	sigprocmask(SIG_BLOCK, block, NULL);
	if (!*stop && !*status && ppoll(pfd, n, until < 0 ? NULL : &ts, mask) > 0)
		for (i = 0; i < (int)n; i++)
			if (pfd[i].revents & POLLERR)
				ping_recv_one(p, sock_of(p, p->socks[1].fd == pfd[i].fd ?
							     AF_INET6 : AF_INET), 1);
	sigprocmask(SIG_SETMASK, mask, NULL);
}

static int64_t interval_of(const struct ping *p)
{
	if (p->cfg.interval >= 0)
		return p->cfg.interval;
	return p->cfg.flood ? PING_FLOOD_INTERVAL : PING_DEFAULT_INTERVAL;
}

static void schedule_next(const struct ping *p, struct ping_target *t, int64_t now)
{
	int64_t iv = interval_of(p);

	if (t->preload_left > 0) {
		t->preload_left--;
		t->next_send = now;
		return;
	}
	/* keep the long-run rate, but never try to catch up a backlog in a burst */
	t->next_send = t->next_send + iv < now ? now + iv : t->next_send + iv;
	if (p->cfg.flood)
		t->next_send = now + iv;
}

/* Send what is due; the earliest next send time of those still sending, or -1. */
static int64_t send_due(struct ping *p, int64_t now, int *sending)
{
	int64_t next = -1;
	size_t i, sent = 0;

	*sending = 0;
	for (i = 0; i < p->ntargets; i++) {
		struct ping_target *t = p->targets[i];

		if (!more_to_send(p, t))
			continue;
		if (now >= t->next_send && p->cfg.rate_gap && now < p->next_any) {
			/* --rate: due, but the global cap says not yet */
			*sending = 1;
			next = clock_earliest(next, p->next_any);
			continue;
		}
		if (now >= t->next_send) {
			/* many targets at once: read the replies between the sends, or
			 * the first ones fill the receive buffer and the rest are lost */
			if (++sent % RECV_EVERY == 0)
				while (recv_any(p))
					;
			if (send_probe(p, t)) {
				t->next_send = now + NS_PER_MS;
			} else {
				schedule_next(p, t, now);
				/* keep the long-run rate without bursts after a stall */
				p->next_any = p->next_any + p->cfg.rate_gap < now
						      ? now + p->cfg.rate_gap
						      : p->next_any + p->cfg.rate_gap;
			}
		}
		/* the wait for the last replies starts at the last probe */
		if (more_to_send(p, t)) {
			*sending = 1;
			next = clock_earliest(next, t->next_send);
		}
	}
	return next;
}

static int all_replied(const struct ping *p)
{
	size_t i;

	if (p->cfg.deadline < 0 || p->cfg.count < 0)
		return 0;
	for (i = 0; i < p->ntargets; i++)
		if (p->targets[i]->nrx < (uint64_t)p->cfg.count)
			return 0;
	return 1;
}

static int done_lingering(const struct ping *p, int64_t now, int64_t *linger_end)
{
	uint64_t outstanding = 0;
	size_t i;

	if (*linger_end < 0) {
		int64_t longest = 0;

		for (i = 0; i < p->ntargets; i++)
			if (linger(p, p->targets[i]) > longest)
				longest = linger(p, p->targets[i]);
		*linger_end = now + longest;
	}
	for (i = 0; i < p->ntargets; i++)
		outstanding += p->targets[i]->outstanding;
	return !outstanding || now >= *linger_end;
}

void ping_run(struct ping *p, volatile sig_atomic_t *stop, volatile sig_atomic_t *status,
	      const sigset_t *block, const sigset_t *mask)
{
	int64_t deadline, linger_end = -1;
	int kernel_ts = 1, i;
	size_t k;

	for (i = 0; i < 2; i++)
		if (p->socks[i].fd >= 0 && !p->socks[i].kernel_ts)
			kernel_ts = 0;
	/* kernel stamps are CLOCK_REALTIME, so send times must be too */
	p->clk = kernel_ts ? CLOCK_REALTIME : CLOCK_MONOTONIC;
	build_index(p);
	p->start = clock_mono_ns();
	deadline = p->cfg.deadline >= 0 ? p->start + p->cfg.deadline : -1;
	for (k = 0; k < p->ntargets; k++) {
		p->targets[k]->next_send = p->start;
		p->targets[k]->preload_left = p->cfg.preload > 1 ? p->cfg.preload - 1 : 0;
	}
	while (!*stop) {
		int64_t now = clock_mono_ns(), next;
		int sending;

		if (*status) {
			struct ping_event ev = { .type = PING_EV_STATUS };

			*status = 0;
			emit(p, &ev);
		}
		if ((deadline >= 0 && now >= deadline) || all_replied(p))
			break;
		next = send_due(p, now, &sending);
		if (recv_any(p))
			continue;
		now = clock_mono_ns();
		if (!sending && done_lingering(p, now, &linger_end))
			break;
		if (recv_any(p))
			continue;
		{
			struct ping_event ev = { .type = PING_EV_IDLE };

			emit(p, &ev);
		}
		wait_io(p, clock_earliest(sending ? next : linger_end, deadline), stop, status,
			block, mask);
	}
	for (k = 0; k < p->ntargets && !*stop && p->cfg.report_timeouts; k++) {
		struct ping_target *t = p->targets[k];
		uint32_t j;

		for (j = 0; j <= t->slot_mask; j++) /* the unanswered, in the order sent */
			report_timeout(p, t, &t->slots[(uint16_t)(t->last_seq + 1 + j) & t->slot_mask]);
	}
}

int64_t ping_time_spent(const struct ping *p, const struct ping_target *t)
{
	return t->ntx ? t->last_send - p->start : 0;
}

void ping_free(struct ping *p)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (p->socks[i].fd >= 0)
			close(p->socks[i].fd);
	for (i = 0; i < p->ntargets; i++) {
		free(p->targets[i]->slots);
		free(p->targets[i]);
	}
	free(p->targets);
	free(p->index);
	free(p->sbuf);
	free(p->rbuf);
	memset(p, 0, sizeof(*p));
	p->socks[0].fd = p->socks[1].fd = -1;
}
