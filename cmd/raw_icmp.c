/* SPDX-License-Identifier: MIT */
/* sockctl raw-icmp: ICMP/ICMPv6 echo (ping), every privilege dropped once the socket is open. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "err.h"
#include "icmp.h"
#include "opt.h"
#include "out.h"
#include "priv.h"
#include "sock.h"

#define NAME "raw-icmp"
#define NSLOTS 65536
#define FLOOD_INTERVAL (10 * NS_PER_MS)

struct icmp_opts {
	int family;
	long long count, size, code, preload;
	int64_t interval, timeout, deadline;
	int quiet, flood, mode, json, verbose, numeric, stamps;
	const char *type;
	struct sockopts so;
};

enum { MODE_AUTO, MODE_DGRAM, MODE_RAW };
static const char *const mode_names[] = { "auto", "dgram", "raw", NULL };
static const char *const type_names[] = { "echo", "timestamp", NULL };

const struct opt_cmd cmd_raw_icmp_desc = {
	.name = NAME,
	.args = "HOST",
	.summary = "ICMP/ICMPv6 echo like ping, privileges dropped after socket()",
	.details = "The socket is an unprivileged ICMP datagram socket when\n"
		   "net.ipv4.ping_group_range allows it, else a raw socket (CAP_NET_RAW);\n"
		   "every capability is dropped before the first packet is sent.\n"
		   "Without -i a probe goes out every second (with -f: every 10ms).\n"
		   "Exit status: 0 a reply came, 1 none came, 2 bad usage or no socket.",
	.min_args = 1,
	.max_args = 1,
};

/* What happened to each of the 65536 sequence numbers, last time it was used. */
enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_REPLIED, SLOT_ERROR, SLOT_LATE };
struct slot {
	int64_t sent;     /* send time, on ctx->clk */
	uint64_t counter; /* the full sequence number */
	uint8_t state;
};

struct ctx {
	const struct icmp_opts *o;
	const struct icmp_family *f;
	const char *host;
	char addr[ADDR_STRLEN];
	struct sockaddr_storage dst;
	int fd, raw, kernel_ts;
	clockid_t clk;
	uint16_t ident;
	uint8_t qtype, rtype;
	struct slot *slots;
	uint8_t *sbuf, *rbuf;
	size_t rbuf_len;
	uint64_t ntx, nrx, ndup, nlate, nerr, nbad, outstanding;
	uint64_t last_seq; /* counter of the last probe sent */
	int64_t start, next_send;
	struct icmp_stats st;
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

static int64_t now_on(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* --type: a name, or a number 0-255 (IPv4 only, and raw sockets only). */
static int query_type(const struct icmp_opts *o, const struct icmp_family *f, uint8_t *t,
		      struct err *e)
{
	unsigned long long v;

	if (!o->type || !strcmp(o->type, "echo")) {
		*t = f->echo_request;
		return 0;
	}
	if (!strcmp(o->type, "timestamp")) {
		if (f->family != AF_INET)
			return err_set(e, EXIT_USAGE, "--type timestamp: IPv4 only");
		*t = 13;
		return 0;
	}
	if (addr_parse_uint(o->type, 0, 255, &v, "--type", e))
		return err_set(e, EXIT_USAGE, "--type: '%.32s' is not echo, timestamp or 0-255",
			       o->type);
	*t = (uint8_t)v;
	return 0;
}

static int check_opts(const struct icmp_opts *o, struct err *e)
{
	if (o->preload > 0 && o->flood)
		return err_set(e, EXIT_USAGE, "--preload cannot be used with --flood");
	if (o->type && strcmp(o->type, "echo") != 0 && o->mode == MODE_DGRAM)
		return err_set(e, EXIT_USAGE, "--type %.32s needs a raw socket (--mode raw)",
			       o->type);
	if (o->type && !strcmp(o->type, "timestamp") && o->size >= 0)
		return err_set(e, EXIT_USAGE, "--size cannot be used with --type timestamp");
	return 0;
}

/* A numeric HOST of the other family than -4/-6 asks for is bad input. */
static int check_host_family(const char *host, int family, struct err *e)
{
	unsigned char buf[16];

	if (addr_check_host(host, e))
		return -1;
	if (family == AF_INET6 && inet_pton(AF_INET, host, buf) == 1)
		return err_set(e, EXIT_USAGE, "%s: an IPv4 address, but -6 was given", host);
	if (family == AF_INET && inet_pton(AF_INET6, host, buf) == 1)
		return err_set(e, EXIT_USAGE, "%s: an IPv6 address, but -4 was given", host);
	return 0;
}

static int resolve(struct ctx *c, struct err *e)
{
	struct addrinfo hints = { 0 }, *res, *ai;

	hints.ai_family = c->o->family;
	hints.ai_socktype = SOCK_RAW;
	hints.ai_protocol = 0;
	if (sock_getaddrinfo(c->host, NULL, &hints, &res, e))
		return -1;
	for (ai = res; ai; ai = ai->ai_next)
		if (icmp_family_of(ai->ai_family))
			break;
	if (!ai) {
		freeaddrinfo(res);
		return err_set(e, EXIT_FAIL, "%s: no IPv4 or IPv6 address", c->host);
	}
	memcpy(&c->dst, ai->ai_addr, ai->ai_addrlen);
	c->f = icmp_family_of(ai->ai_family);
	addr_ntop(ai->ai_addr, ai->ai_addrlen, c->addr, sizeof(c->addr));
	freeaddrinfo(res);
	return 0;
}

/* ---- opening the socket ---- */

static void group_range(char *buf, size_t n)
{
	FILE *fp = fopen("/proc/sys/net/ipv4/ping_group_range", "r");

	snprintf(buf, n, "?");
	if (!fp)
		return;
	if (fgets(buf, (int)n, fp))
		buf[strcspn(buf, "\n")] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '\t')
			*p = ' ';
	fclose(fp);
}

static const char *sockname(int type)
{
	return type == SOCK_RAW ? "SOCK_RAW" : "SOCK_DGRAM";
}

static int open_dgram(struct ctx *c, char *why, size_t n)
{
	char range[64], eb[96];
	int fd = socket(c->f->family, SOCK_DGRAM | SOCK_CLOEXEC, c->f->proto);

	if (fd >= 0)
		return fd;
	if (errno == EACCES) {
		group_range(range, sizeof(range));
		snprintf(why, n, "datagram socket: gid %u is not in net.ipv4.ping_group_range "
			 "(%s)", (unsigned)getgid(), range);
	} else if (errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT) {
		snprintf(why, n, "datagram socket: this kernel has no ICMP datagram sockets");
	} else {
		snprintf(why, n, "datagram socket: %s: %s", err_errno_name(errno),
			 err_strerror(errno, eb, sizeof(eb)));
	}
	return -1;
}

static int open_raw(struct ctx *c, const struct priv *pv, char *why, size_t n, struct err *e)
{
	char eb[96];
	int fd, saved;

	if (priv_raise(pv, e))
		return -2;
	fd = socket(c->f->family, SOCK_RAW | SOCK_CLOEXEC, c->f->proto);
	saved = errno;
	if (fd >= 0)
		return fd;
	if (saved == EPERM || saved == EACCES)
		snprintf(why, n, "raw socket: CAP_NET_RAW is missing (run as root, or "
			 "'setcap cap_net_raw+p' on the binary)");
	else
		snprintf(why, n, "raw socket: %s: %s", err_errno_name(saved),
			 err_strerror(saved, eb, sizeof(eb)));
	return -1;
}

/* The socket options, -I among them, while privileges are still held. */
static int apply_sockopts(struct ctx *c, struct err *e)
{
	int type = c->raw ? SOCK_RAW : SOCK_DGRAM;

	/* -I ADDR is a source address; SOCK_DGRAM only for its lookup */
	return sock_apply_opts(c->fd, c->f->family, type, &c->o->so, e) ||
			       sock_bind_source(c->fd, c->f->family, SOCK_DGRAM, &c->o->so, e) ||
			       sock_flowlabel(c->fd, &c->o->so, (struct sockaddr *)&c->dst, e)
		       ? -1
		       : 0;
}

/*
 * auto: the datagram socket first (no privilege needed), then raw.  Every
 * capability is gone when this returns, whatever happened.
 */
static int open_socket(struct ctx *c, struct priv *pv, struct err *e)
{
	const struct icmp_opts *o = c->o;
	char why_d[256] = "", why_r[256] = "";
	int want_dgram = o->mode != MODE_RAW && c->qtype == c->f->echo_request;
	int rc = 0;

	c->fd = -1;
	if (want_dgram)
		c->fd = open_dgram(c, why_d, sizeof(why_d));
	if (c->fd < 0 && o->mode != MODE_DGRAM) {
		c->fd = open_raw(c, pv, why_r, sizeof(why_r), e);
		if (c->fd == -2)
			return -1;
		c->raw = c->fd >= 0;
	}
	if (c->fd >= 0 && apply_sockopts(c, e))
		rc = -1;
	if (priv_drop(pv, e))
		rc = -1;
	if (c->fd < 0 && !rc) {
		if (o->mode == MODE_AUTO && !want_dgram)
			snprintf(why_d, sizeof(why_d), "--type %s needs a raw socket", o->type);
		return err_set(e, EXIT_USAGE, "cannot open an %s socket: %s%s%s", c->f->name,
			       why_d, *why_d && *why_r ? "; " : "", why_r);
	}
	if (rc)
		return -1;
	if (o->verbose) {
		const char *because = c->raw ? (o->mode == MODE_RAW ? "--mode raw" :
						!want_dgram ? "the --type needs it" : why_d)
					     : (o->mode == MODE_DGRAM ? "--mode dgram" :
						"unprivileged ICMP datagram sockets are allowed");
		err_msg(NAME, "socket(%s, %s, %s) = %d, because %s", c->f->family == AF_INET ?
			"AF_INET" : "AF_INET6", sockname(c->raw ? SOCK_RAW : SOCK_DGRAM),
			c->f->proto == IPPROTO_ICMP ? "IPPROTO_ICMP" : "IPPROTO_ICMPV6", c->fd,
			because);
		err_msg(NAME, "capabilities dropped: none effective, none permitted%s%s",
			pv->bounding ? ", bounding set cleared" : "",
			pv->setuid ? ", setuid-root uid given up" : "");
	}
	return 0;
}

static int setup_socket(struct ctx *c, struct err *e)
{
	const struct icmp_opts *o = c->o;
	int on = 1;

	c->kernel_ts = setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == 0;
	/* kernel stamps are CLOCK_REALTIME, so send times must be too */
	c->clk = c->kernel_ts ? CLOCK_REALTIME : CLOCK_MONOTONIC;
	if (o->verbose)
		err_msg(NAME, "RTT from %s", c->kernel_ts ? "kernel receive timestamps "
			"(SO_TIMESTAMPNS)" : "the monotonic clock (no SO_TIMESTAMPNS)");
	if (c->f->recv_ttl(c->fd, e))
		return -1;
	if (c->raw && c->f->filter(c->fd, c->qtype, e))
		return -1;
	if (!c->raw && c->f->recv_err(c->fd, e))
		return -1;
	return 0;
}

/* ---- output ---- */

static void print_stamp(const struct ctx *c)
{
	int64_t t = clock_real_ns();

	if (c->o->stamps)
		printf("[%lld.%06lld] ", (long long)(t / NS_PER_SEC),
		       (long long)(t % NS_PER_SEC / 1000));
}

static int text_out(const struct ctx *c)
{
	return !c->o->json && !c->o->quiet && !c->o->flood;
}

/* Set when stdout failed mid-run: the run stops and this is reported. */
static struct err out_err;
static int out_failed;

/* Each line as it happens, as ping does, unless flooding (then at exit). */
static void line_done(const struct ctx *c)
{
	if (c->o->flood || out_failed || !cmd_stdout_flush(&out_err))
		return;
	out_failed = 1;
	got_stop = 1;
}

static void show_reply(const struct ctx *c, const struct icmp_pkt *p, const char *from,
		       int64_t rtt, const char *note)
{
	char ms[32];
	uint32_t ts[3];
	int has_ts = p->type == 14 && c->f->family == AF_INET && !icmp_tstamp_fields(p, ts);

	if (c->o->json) {
		struct jsonw w;

		json_begin(&w, stdout);
		json_str(&w, "type", "reply");
		json_uint(&w, "seq", p->seq);
		json_str(&w, "from", from);
		json_uint(&w, "bytes", p->icmp_len);
		if (p->ttl >= 0)
			json_int(&w, "ttl", p->ttl);
		else
			json_null(&w, "ttl");
		json_num(&w, "time_ms", (double)rtt / 1e6, 3);
		json_bool(&w, "dup", !strcmp(note, " (DUP!)"));
		json_bool(&w, "late", !strcmp(note, " (late)"));
		if (has_ts) {
			json_uint(&w, "originate", ts[0]);
			json_uint(&w, "receive", ts[1]);
			json_uint(&w, "transmit", ts[2]);
		}
		if (c->o->stamps)
			json_num(&w, "timestamp", (double)clock_real_ns() / 1e9, 6);
		json_end(&w);
		line_done(c);
		return;
	}
	if (!text_out(c))
		return;
	print_stamp(c);
	printf("%zu bytes from %s: icmp_seq=%u", p->icmp_len, from, p->seq);
	if (p->ttl >= 0)
		printf(" ttl=%d", p->ttl);
	printf(" time=%s ms%s", icmp_format_ms(rtt, ms, sizeof(ms)), note);
	if (has_ts)
		printf(" originate=%u receive=%u transmit=%u", ts[0], ts[1], ts[2]);
	putchar('\n');
	line_done(c);
}

static void show_error(const struct ctx *c, const struct icmp_pkt *p, const char *from,
		       uint16_t seq)
{
	char desc[128], os[ADDR_STRLEN] = "", od[ADDR_STRLEN] = "";
	const char *cls = c->f->error_class(p->type);
	int fam = c->f->family;

	c->f->describe(p, desc, sizeof(desc));
	if (p->orig_valid) {
		inet_ntop(fam, p->orig_src, os, sizeof(os));
		inet_ntop(fam, p->orig_dst, od, sizeof(od));
	}
	if (c->o->json) {
		struct jsonw w;

		json_begin(&w, stdout);
		json_str(&w, "type", "error");
		json_uint(&w, "seq", seq);
		json_str(&w, "from", from);
		json_uint(&w, "icmp_type", p->type);
		json_uint(&w, "icmp_code", p->code);
		json_str(&w, "error", cls ? cls : "ICMP error");
		json_str(&w, "message", desc);
		if (p->mtu)
			json_uint(&w, "mtu", p->mtu);
		if (p->orig_valid) {
			json_str(&w, "orig_src", os);
			json_str(&w, "orig_dst", od);
			json_int(&w, "orig_ttl", p->orig_ttl);
			json_int(&w, "orig_proto", p->orig_proto);
		}
		json_end(&w);
		line_done(c);
		return;
	}
	if (!text_out(c))
		return;
	print_stamp(c);
	printf("%s from %s: icmp_seq=%u %s", cls ? cls : "ICMP error", from, seq, desc);
	if (p->orig_valid)
		printf(" (original: %s > %s ttl=%d)", os, od, p->orig_ttl);
	putchar('\n');
	line_done(c);
}

static void show_send_error(const struct ctx *c, uint16_t seq, int errnum)
{
	char eb[96];
	int mtu = errnum == EMSGSIZE ? sock_path_mtu(c->fd, (struct sockaddr *)&c->dst, c->f->addrlen) : -1;
	size_t n;

	err_strerror(errnum, eb, sizeof(eb));
	n = strlen(eb);
	/* --pmtu do, as ping's "local error: message too long, mtu=1400" */
	if (mtu > 0)
		snprintf(eb + n, sizeof(eb) - n, ", path MTU %d", mtu);
	if (c->o->json) {
		struct jsonw w;

		json_begin(&w, stdout);
		json_str(&w, "type", "send_error");
		json_uint(&w, "seq", seq);
		json_str(&w, "errno", err_errno_name(errnum));
		json_str(&w, "message", eb);
		json_end(&w);
		return;
	}
	/* a flood must not flood the terminal: the first failure, then every 1000th */
	if (c->o->flood && c->nerr > 1 && c->nerr % 1000)
		return;
	err_msg(NAME, "%s: sendto icmp_seq=%u: %s", c->addr, seq, eb);
}

static double loss_pct(const struct ctx *c)
{
	return c->ntx ? (double)(c->ntx - c->nrx) * 100.0 / (double)c->ntx : 0;
}

static void summary_json(const struct ctx *c, int64_t elapsed)
{
	double mn, av, mx, md;
	struct jsonw w;
	int have = !icmp_stats_ms(&c->st, &mn, &av, &mx, &md);

	json_begin(&w, stdout);
	json_str(&w, "type", "summary");
	json_str(&w, "host", c->host);
	json_str(&w, "address", c->addr);
	json_str(&w, "socket", c->raw ? "raw" : "dgram");
	json_uint(&w, "transmitted", c->ntx);
	json_uint(&w, "received", c->nrx);
	json_uint(&w, "duplicates", c->ndup);
	json_uint(&w, "late", c->nlate);
	json_uint(&w, "errors", c->nerr);
	json_uint(&w, "bad_checksums", c->nbad);
	json_num(&w, "loss_pct", loss_pct(c), 3);
	json_num(&w, "time_ms", (double)elapsed / 1e6, 3);
	if (have) {
		json_num(&w, "rtt_min_ms", mn, 3);
		json_num(&w, "rtt_avg_ms", av, 3);
		json_num(&w, "rtt_max_ms", mx, 3);
		json_num(&w, "rtt_mdev_ms", md, 3);
	} else {
		json_null(&w, "rtt_min_ms");
		json_null(&w, "rtt_avg_ms");
		json_null(&w, "rtt_max_ms");
		json_null(&w, "rtt_mdev_ms");
	}
	json_end(&w);
}

static void summary(const struct ctx *c)
{
	int64_t elapsed = clock_mono_ns() - c->start;
	double mn, av, mx, md;

	if (c->o->json) {
		summary_json(c, elapsed);
		return;
	}
	printf("\n--- %s ping statistics ---\n", c->host);
	printf("%llu packets transmitted, %llu received", (unsigned long long)c->ntx,
	       (unsigned long long)c->nrx);
	if (c->ndup)
		printf(", +%llu duplicates", (unsigned long long)c->ndup);
	if (c->nerr)
		printf(", +%llu errors", (unsigned long long)c->nerr);
	if (c->nlate)
		printf(", +%llu late", (unsigned long long)c->nlate);
	if (c->nbad)
		printf(", +%llu bad checksums", (unsigned long long)c->nbad);
	printf(", %g%% packet loss, time %lldms\n", loss_pct(c),
	       (long long)(elapsed / NS_PER_MS));
	if (!icmp_stats_ms(&c->st, &mn, &av, &mx, &md))
		printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", mn, av, mx, md);
}

/* SIGQUIT, as ping: a one-line status on stderr, and carry on. */
static void status_line(const struct ctx *c)
{
	double mn, av, mx, md;

	if (icmp_stats_ms(&c->st, &mn, &av, &mx, &md))
		mn = av = mx = 0;
	fprintf(stderr, "%llu/%llu packets, %g%% loss, min/avg/max = %.3f/%.3f/%.3f ms\n",
		(unsigned long long)c->nrx, (unsigned long long)c->ntx, loss_pct(c), mn, av, mx);
}

/* ---- sending ---- */

/* 0 sent (or failed for good, counted), 1 try again later (buffers full). */
static int send_probe(struct ctx *c)
{
	const struct icmp_opts *o = c->o;
	uint64_t counter = c->ntx + 1;
	struct icmp_probe pr = {
		.type = c->qtype,
		.code = o->code >= 0 ? (uint8_t)o->code : 0,
		.id = c->ident,
		.seq = (uint16_t)counter,
		.counter = counter,
		.size = o->size >= 0 ? (size_t)o->size : 56,
	};
	struct slot *s = &c->slots[pr.seq];
	size_t len;
	ssize_t n;

	if (c->qtype == 13 && c->f->family == AF_INET)
		pr.tstamp_ms = icmp_tstamp_now();
	len = icmp_build(c->f, &pr, c->sbuf, ICMP_HDRLEN + c->f->max_payload);
	if (s->state == SLOT_PENDING) /* wrapped before its reply came: lost */
		c->outstanding--;
	s->sent = now_on(c->clk);
	n = sendto(c->fd, c->sbuf, len, MSG_DONTWAIT, (struct sockaddr *)&c->dst, c->f->addrlen);
	if (n < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)) {
		s->state = SLOT_FREE;
		return 1;
	}
	s->counter = counter;
	c->ntx++;
	c->last_seq = counter;
	if (n < 0) {
		s->state = SLOT_ERROR;
		c->nerr++;
		show_send_error(c, pr.seq, errno);
		return 0;
	}
	s->state = SLOT_PENDING;
	c->outstanding++;
	return 0;
}

/* ---- receiving ---- */

struct rx {
	struct sockaddr_storage from;
	int64_t when; /* on ctx->clk */
	int ttl;
	struct sock_extended_err *ee;
};

static void read_cmsgs(struct ctx *c, struct msghdr *m, struct rx *r)
{
	struct cmsghdr *cm;

	r->when = -1;
	r->ttl = -1;
	r->ee = NULL;
	for (cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			r->when = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
		} else if (((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
			    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)) &&
			   cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(&r->ttl, CMSG_DATA(cm), sizeof(int));
		} else if (((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
			    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR)) &&
			   cm->cmsg_len >= CMSG_LEN(sizeof(struct sock_extended_err))) {
			r->ee = (struct sock_extended_err *)(void *)CMSG_DATA(cm);
		}
	}
	if (r->when < 0)
		r->when = now_on(c->clk);
}

static int ours(const struct ctx *c, const unsigned char *addr)
{
	const struct sockaddr *sa = (const struct sockaddr *)&c->dst;
	const void *a = sa->sa_family == AF_INET ?
				(const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr :
				(const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

	return !memcmp(a, addr, c->f->addr_bytes);
}

static void on_reply(struct ctx *c, const struct icmp_pkt *p, const struct rx *r,
		     const char *from)
{
	struct slot *s = &c->slots[p->seq];
	uint64_t counter;
	int64_t rtt;
	const char *note = "";

	if (p->type != c->rtype || (c->raw && p->id != c->ident))
		return; /* someone else's */
	if (s->state == SLOT_FREE) {
		if (c->o->verbose > 1)
			err_msg(NAME, "reply for icmp_seq=%u, which was never sent", p->seq);
		return;
	}
	rtt = r->when - s->sent;
	if (!icmp_payload_counter(p, &counter) && p->type == c->f->echo_reply &&
	    counter != s->counter) {
		/* a reply to the probe that used this sequence number 65536 sends ago */
		c->nlate++;
		note = " (late)";
	} else if (s->state == SLOT_REPLIED || s->state == SLOT_LATE) {
		c->ndup++;
		note = " (DUP!)";
	} else if (c->o->timeout >= 0 && rtt > c->o->timeout) {
		c->nlate++;
		c->outstanding -= s->state == SLOT_PENDING;
		s->state = SLOT_LATE;
		note = " (late)";
	} else {
		c->outstanding -= s->state == SLOT_PENDING;
		s->state = SLOT_REPLIED;
		c->nrx++;
		icmp_stats_add(&c->st, rtt);
		if (s->counter == c->last_seq && c->o->flood)
			c->next_send = 0; /* flood: answered, send the next one now */
	}
	if (c->o->verbose && p->type == c->f->echo_reply && icmp_payload_mismatch(p))
		err_msg(NAME, "icmp_seq=%u: %zu payload bytes differ from what was sent",
			p->seq, icmp_payload_mismatch(p));
	show_reply(c, p, from, rtt < 0 ? 0 : rtt, note);
}

static void on_error(struct ctx *c, const struct icmp_pkt *p, const char *from, uint16_t seq)
{
	struct slot *s = &c->slots[seq];

	if (s->state == SLOT_FREE)
		return;
	c->nerr++;
	if (s->state == SLOT_PENDING) {
		c->outstanding--;
		s->state = SLOT_ERROR;
	}
	show_error(c, p, from, seq);
}

static void on_packet(struct ctx *c, const uint8_t *buf, size_t len, const struct rx *r)
{
	struct icmp_pkt p;
	char from[ADDR_STRLEN];

	/* raw IPv4 sockets see the IP header; the others see ICMP only */
	if (c->f->parse(buf, len, c->raw && c->f->family == AF_INET, &p)) {
		if (c->o->verbose)
			err_msg(NAME, "ignored a %zu-byte packet: %s", len, p.reject);
		return;
	}
	if (p.ttl < 0)
		p.ttl = r->ttl;
	addr_ntop((const struct sockaddr *)&r->from, c->f->addrlen, from, sizeof(from));
	if (p.bad_csum) {
		c->nbad++;
		if (c->o->verbose)
			err_msg(NAME, "bad ICMP checksum in a packet from %s (type %u)", from,
				p.type);
		return;
	}
	if (p.kind == ICMP_K_REPLY)
		on_reply(c, &p, r, from);
	else if (p.kind == ICMP_K_ERROR && p.orig_has_icmp && p.orig_type == c->qtype &&
		 p.orig_id == c->ident && ours(c, p.orig_dst))
		on_error(c, &p, from, p.orig_seq);
}

/* Datagram sockets: an ICMP error comes through the error queue, quoting our probe. */
static void on_errqueue(struct ctx *c, const uint8_t *buf, size_t len, const struct rx *r)
{
	const struct sock_extended_err *ee = r->ee;
	struct icmp_pkt p = { 0 };
	char from[ADDR_STRLEN] = "?";
	const struct sockaddr *off;

	if (!ee || len < ICMP_HDRLEN)
		return;
	if (ee->ee_origin != SO_EE_ORIGIN_ICMP && ee->ee_origin != SO_EE_ORIGIN_ICMP6) {
		char eb[96];

		c->nerr++;
		err_msg(NAME, "%s: icmp_seq=%u: %s", c->addr, (unsigned)(buf[6] << 8 | buf[7]),
			err_strerror((int)ee->ee_errno, eb, sizeof(eb)));
		return;
	}
	off = SO_EE_OFFENDER(ee);
	if (off->sa_family == c->f->family)
		addr_ntop(off, c->f->addrlen, from, sizeof(from));
	p.type = ee->ee_type;
	p.code = ee->ee_code;
	p.mtu = ee->ee_info;
	p.pointer = ee->ee_info;
	on_error(c, &p, from, (uint16_t)(buf[6] << 8 | buf[7]));
}

/* One message, without waiting: 1 handled, 0 nothing there. */
static int recv_one(struct ctx *c, int flags)
{
	char cbuf[512];
	struct iovec iov = { c->rbuf, c->rbuf_len };
	struct rx r;
	struct msghdr m = {
		.msg_name = &r.from, .msg_namelen = sizeof(r.from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	ssize_t n = recvmsg(c->fd, &m, flags | MSG_DONTWAIT);

	if (n < 0) {
		/* datagram sockets report an ICMP error once as errno: read the queue */
		if (!(flags & MSG_ERRQUEUE) && errno != EAGAIN && errno != EINTR && !c->raw)
			return recv_one(c, MSG_ERRQUEUE);
		return 0;
	}
	read_cmsgs(c, &m, &r);
	if (m.msg_flags & MSG_TRUNC)
		n = (ssize_t)c->rbuf_len;
	if (flags & MSG_ERRQUEUE)
		on_errqueue(c, c->rbuf, (size_t)n, &r);
	else
		on_packet(c, c->rbuf, (size_t)n, &r);
	return 1;
}

/* ---- the loop ---- */

static int more_to_send(const struct ctx *c)
{
	const struct icmp_opts *o = c->o;

	if (o->count < 0)
		return 1;
	/* with a deadline, ping keeps going until COUNT replies or the deadline */
	if (o->deadline >= 0)
		return c->nrx < (uint64_t)o->count;
	return c->ntx < (uint64_t)o->count;
}

/* How long to wait for replies once the last probe is out. */
static int64_t linger(const struct ctx *c)
{
	if (c->o->timeout >= 0)
		return c->o->timeout;
	if (c->nrx)
		return 2 * c->st.max > NS_PER_SEC ? 2 * c->st.max : NS_PER_SEC;
	return 10 * NS_PER_SEC;
}

static void wait_io(struct ctx *c, int64_t until, const sigset_t *mask)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int64_t left = until - clock_mono_ns();
	struct timespec ts;

	if (left < 0)
		left = 0;
	ts.tv_sec = left / NS_PER_SEC;
	ts.tv_nsec = left % NS_PER_SEC;
	/*
	 * Signals stay deliverable while the loop runs (a flood on loopback may
	 * never wait); around the wait they are blocked so that one arriving
	 * after the check is delivered inside ppoll instead of being slept through.
	 */
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);
	if (!got_stop && !got_status &&
	    ppoll(&pfd, 1, until < 0 ? NULL : &ts, mask) > 0 && (pfd.revents & POLLERR))
		recv_one(c, MSG_ERRQUEUE);
	sigprocmask(SIG_SETMASK, mask, NULL);
}

static void schedule_next(struct ctx *c, int64_t now, long long *preload)
{
	int64_t iv = c->o->interval >= 0 ? c->o->interval : c->o->flood ? FLOOD_INTERVAL :
									  NS_PER_SEC;

	if (*preload > 0) {
		--*preload;
		c->next_send = now;
		return;
	}
	/* keep the long-run rate, but never try to catch up a backlog in a burst */
	c->next_send = c->next_send + iv < now ? now + iv : c->next_send + iv;
	if (c->o->flood)
		c->next_send = now + iv;
}

static void run(struct ctx *c, const sigset_t *mask)
{
	const struct icmp_opts *o = c->o;
	int64_t deadline = o->deadline >= 0 ? c->start + o->deadline : -1, linger_end = -1;
	long long preload = o->preload > 1 ? o->preload - 1 : 0;

	c->next_send = c->start;
	while (!got_stop) {
		int64_t now = clock_mono_ns();
		int sending = more_to_send(c);

		if (got_status) {
			got_status = 0;
			status_line(c);
		}
		if (deadline >= 0 && now >= deadline)
			break;
		if (o->deadline >= 0 && o->count >= 0 && c->nrx >= (uint64_t)o->count)
			break;
		if (sending && now >= c->next_send) {
			if (send_probe(c))
				c->next_send = now + NS_PER_MS;
			else
				schedule_next(c, now, &preload);
			if (recv_one(c, 0))
				continue;
			now = clock_mono_ns();
		}
		if (!sending) {
			if (linger_end < 0)
				linger_end = now + linger(c);
			if (!c->outstanding || now >= linger_end)
				break;
		}
		if (recv_one(c, 0))
			continue;
		wait_io(c, clock_earliest(sending ? c->next_send : linger_end, deadline), mask);
	}
}

static int exit_status(const struct ctx *c)
{
	const struct icmp_opts *o = c->o;

	if (!c->nrx)
		return EXIT_FAIL;
	if (o->deadline >= 0 && o->count >= 0 && c->nrx < (uint64_t)o->count)
		return EXIT_FAIL;
	return EXIT_OK;
}

static int prepare(struct ctx *c, struct err *e)
{
	const struct icmp_opts *o = c->o;
	size_t size = o->size >= 0 ? (size_t)o->size : 56;
	int rt;

	if (size > c->f->max_payload)
		return err_set(e, EXIT_USAGE, "--size %zu: at most %zu for %s", size,
			       c->f->max_payload, c->f->family == AF_INET ? "IPv4" : "IPv6");
	if (query_type(o, c->f, &c->qtype, e))
		return -1;
	rt = c->f->reply_type(c->qtype);
	if (rt < 0 && c->qtype != c->f->echo_request)
		c->rtype = 0xff; /* no reply is expected: errors only */
	else
		c->rtype = (uint8_t)rt;
	c->slots = calloc(NSLOTS, sizeof(*c->slots));
	c->sbuf = malloc(ICMP_HDRLEN + c->f->max_payload + 64);
	c->rbuf_len = 65536 + 128;
	c->rbuf = malloc(c->rbuf_len);
	if (!c->slots || !c->sbuf || !c->rbuf)
		return err_set(e, EXIT_FAIL, "out of memory");
	if (getrandom(&c->ident, sizeof(c->ident), 0) != sizeof(c->ident))
		c->ident = (uint16_t)getpid();
	return 0;
}

static void header(const struct ctx *c)
{
	size_t size = c->o->size >= 0 ? (size_t)c->o->size : 56;

	if (c->o->json)
		return;
	if (c->qtype == 13 && c->f->family == AF_INET)
		size = ICMP_TSTAMP_LEN - ICMP_HDRLEN;
	printf("PING %s (%s) %zu(%zu) bytes of data.\n", c->host, c->addr, size,
	       size + ICMP_HDRLEN + c->f->ip_hdrlen);
	fflush(stdout);
}

static void catch_signals(sigset_t *old)
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

static int ping(struct ctx *c, struct priv *pv, struct err *e)
{
	sigset_t old;

	if (resolve(c, e) || prepare(c, e) || open_socket(c, pv, e) || setup_socket(c, e))
		return -1;
	catch_signals(&old);
	header(c);
	icmp_stats_init(&c->st);
	c->start = clock_mono_ns();
	run(c, &old);
	if (out_failed) {
		*e = out_err;
		return -1;
	}
	summary(c);
	return 0;
}

int cmd_raw_icmp(int argc, char **argv)
{
	struct icmp_opts o = {
		.count = -1, .size = -1, .code = -1, .preload = -1,
		.interval = -1, .timeout = -1, .deadline = -1,
	};
	struct opt opts[] = {
		OPT_IPV4(&o.family),
		OPT_IPV6(&o.family),
		OPT_INT('c', "count", &o.count, "N", 1, LLONG_MAX, "stop after sending N probes"),
		OPT_INTERVAL(&o.interval),
		OPT_DURATION('W', "timeout", &o.timeout,
			     "wait DUR for each reply; later ones are counted as late"),
		OPT_DURATION('w', "deadline", &o.deadline, "stop after DUR, whatever happened"),
		OPT_INT('s', "size", &o.size, "N", 0, 65527, "payload bytes (default 56)"),
		OPT_FLAG('q', "quiet", &o.quiet, "print the summary only"),
		OPT_FLAG('f', "flood", &o.flood,
			 "send on each reply or every 10ms (-i), print the summary only"),
		OPT_INT('l', "preload", &o.preload, "N", 1, 65536,
			"send N probes at once, then one per interval"),
		OPT_CHOICE(0, "mode", &o.mode, "MODE", mode_names,
			   "socket: auto (dgram, then raw), dgram or raw"),
		OPT_STRINGV(0, "type", &o.type, "TYPE", type_names,
			    "ICMP type to send: echo, timestamp or 0-255 (raw)"),
		OPT_INT(0, "code", &o.code, "N", 0, 255, "ICMP code to send (default 0)"),
		OPT_SOCKOPTS(&o.so, SOCKOPT_ICMP),
		OPT_GROUP("Output"),
		OPT_FLAG('D', "timestamps", &o.stamps, "prefix each line with the Unix time"),
		OPT_FLAG('n', "numeric", &o.numeric, "numeric addresses only (always so)"),
		OPT_JSON(&o.json),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct err e = { 0 };
	struct priv pv;
	struct ctx c = { .o = &o, .fd = -1 };
	int rc;

	/* first of all: keep CAP_NET_RAW permitted and nothing else */
	if (priv_init(&pv, &e))
		return err_report(NAME, &e);
	sock_opts_init(&o.so);
	if (opt_run(&cmd_raw_icmp_desc, opts, argc, argv, &pos, &status))
		return status;
	if (o.so.flowlabel >= 0 && !o.family)
		o.family = AF_INET6; /* a flow label is IPv6's */
	/* room for bursts of replies (-l, -f) */
	if (o.so.rcvbuf == SOCKOPT_UNSET)
		o.so.rcvbuf = 256 * 1024;
	c.host = pos.argv[0];
	if (check_opts(&o, &e) || check_host_family(c.host, o.family, &e))
		return err_report(NAME, &e);
	rc = ping(&c, &pv, &e);
	if (c.fd >= 0)
		close(c.fd);
	free(c.slots);
	free(c.sbuf);
	free(c.rbuf);
	if (rc)
		return err_report(NAME, &e);
	return exit_status(&c);
}
