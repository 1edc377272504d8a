/* SPDX-License-Identifier: MIT */
/* sockctl raw-icmp: ICMP/ICMPv6 echo (ping); sockets first, then no privilege; lib/ping probes. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "err.h"
#include "icmp.h"
#include "opt.h"
#include "ping.h"
#include "out.h"
#include "parse.h"
#include "priv.h"
#include "sock.h"

#define NAME "raw-icmp"

#define SIZE_UNSET ULLONG_MAX

struct icmp_opts {
	int family;
	long long count, code, preload;
	unsigned long long size; /* SIZE_UNSET: not given */
	int64_t interval, timeout, deadline;
	int quiet, flood, mode, json, verbose, numeric, numeric_host, stamps;
	const char *type;
	struct sockopts so;
};

/* PING_MODE_AUTO, PING_MODE_DGRAM, PING_MODE_RAW */
static const char *const mode_names[] = { "auto", "dgram", "raw", NULL };
static const char *const type_names[] = { "echo", "timestamp", NULL };

const struct opt_cmd cmd_raw_icmp_desc = {
	.name = NAME,
	.args = "HOST",
	.summary = "ICMP/ICMPv6 echo like ping, privileges dropped after socket()",
	.details = "The socket is an unprivileged ICMP datagram socket when\n"
		   "net.ipv4.ping_group_range allows it, else a raw socket (CAP_NET_RAW);\n"
		   "opened before the options are read; then every capability is dropped.\n"
		   "Without -i a probe goes out every second (with -f: every 10ms).\n"
		   "Exit status: 0 a reply came, 1 none came, 2 bad usage or no socket.",
	.min_args = 1,
	.max_args = 1,
};

struct ctx {
	const struct icmp_opts *o;
	const struct icmp_family *f;
	const char *host;
	char addr[ADDR_STRLEN];
	struct sockaddr_storage dst;
	socklen_t dstlen;
	int fd, raw;     /* the socket picked, until the engine owns it */
	int root;        /* run by root: privileges go after the socket options */
	uint8_t qtype;
	struct ping eng;
	int eng_ready;
	const struct ping_target *t;
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
		       int64_t rtt, int dup, int late)
{
	const char *note = dup ? " (DUP!)" : late ? " (late)" : "";
	char ms[32];
	uint32_t ts[3];
	int has_ts = p->type == ICMP4_TIMESTAMP_REPLY && c->f->family == AF_INET && !icmp_tstamp_fields(p, ts);

	if (c->o->json) {
		struct jsonw w;

		json_begin(&w, stdout);
		json_str(&w, "event", "reply");
		json_uint(&w, "seq", p->seq);
		json_str(&w, "from", from);
		json_uint(&w, "bytes", p->icmp_len);
		if (p->ttl >= 0)
			json_int(&w, "ttl", p->ttl);
		else
			json_null(&w, "ttl");
		json_num(&w, "time_ms", (double)rtt / 1e6, 3);
		json_bool(&w, "dup", dup);
		json_bool(&w, "late", late);
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
		json_str(&w, "event", "error");
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
	const struct ping_sock *ps = ping_socket(&c->eng, c->f->family);
	int mtu = errnum == EMSGSIZE && ps ? sock_path_mtu(ps->fd, (const struct sockaddr *)&c->dst,
							   c->f->addrlen)
					   : -1;
	char eb[96];
	size_t n;

	err_strerror(errnum, eb, sizeof(eb));
	n = strlen(eb);
	/* --pmtu do, as ping's "local error: message too long, mtu=1400" */
	if (mtu > 0)
		snprintf(eb + n, sizeof(eb) - n, ", path MTU %d", mtu);
	if (c->o->json) {
		struct jsonw w;

		json_begin(&w, stdout);
		json_str(&w, "event", "send_error");
		json_uint(&w, "seq", seq);
		json_str(&w, "errno", err_errno_name(errnum));
		json_str(&w, "message", eb);
		json_end(&w);
		return;
	}
	/* a flood must not flood the terminal: the first failure, then every 1000th */
	if (c->o->flood && c->t->nerr > 1 && c->t->nerr % 1000)
		return;
	err_msg(NAME, "%s: sendto icmp_seq=%u: %s", c->addr, seq, eb);
}

static void summary_json(const struct ctx *c, int64_t elapsed)
{
	double mn, av, mx, md;
	struct jsonw w;
	int have = !rtt_ms(&c->t->rtt, &mn, &av, &mx, &md);

	json_begin(&w, stdout);
	json_str(&w, "event", "summary");
	json_str(&w, "host", c->host);
	json_str(&w, "address", c->addr);
	json_str(&w, "socket", c->raw ? "raw" : "dgram");
	json_uint(&w, "transmitted", c->t->ntx);
	json_uint(&w, "received", c->t->nrx);
	json_uint(&w, "duplicates", c->t->ndup);
	json_uint(&w, "late", c->t->nlate);
	json_uint(&w, "errors", c->t->nerr);
	json_uint(&w, "bad_checksums", c->t->nbad);
	json_num(&w, "loss_pct", ping_loss_pct(c->t), 3);
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

/* ping's "time": from the start to the last probe sent, not to the end of waiting. */
static void summary(const struct ctx *c)
{
	int64_t elapsed = ping_time_spent(&c->eng, c->t);
	double mn, av, mx, md;

	if (c->o->json) {
		summary_json(c, elapsed);
		return;
	}
	printf("\n--- %s ping statistics ---\n", c->host);
	printf("%llu packets transmitted, %llu received", (unsigned long long)c->t->ntx,
	       (unsigned long long)c->t->nrx);
	if (c->t->ndup)
		printf(", +%llu duplicates", (unsigned long long)c->t->ndup);
	if (c->t->nerr)
		printf(", +%llu errors", (unsigned long long)c->t->nerr);
	if (c->t->nlate)
		printf(", +%llu late", (unsigned long long)c->t->nlate);
	if (c->t->nbad)
		printf(", +%llu bad checksums", (unsigned long long)c->t->nbad);
	printf(", %g%% packet loss, time %lldms\n", ping_loss_pct(c->t),
	       (long long)(elapsed / NS_PER_MS));
	if (!rtt_ms(&c->t->rtt, &mn, &av, &mx, &md))
		printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", mn, av, mx, md);
}

/* SIGQUIT, as ping: a one-line status on stderr, and carry on. */
static void status_line(const struct ctx *c)
{
	double mn, av, mx, md;

	if (rtt_ms(&c->t->rtt, &mn, &av, &mx, &md))
		mn = av = mx = 0;
	if (err_diag_is_json()) {
		err_msg(NAME, "%llu/%llu packets, %g%% loss, min/avg/max = %.3f/%.3f/%.3f ms",
			(unsigned long long)c->t->nrx, (unsigned long long)c->t->ntx, ping_loss_pct(c->t), mn,
			av, mx);
		return;
	}
	fprintf(stderr, "%llu/%llu packets, %g%% loss, min/avg/max = %.3f/%.3f/%.3f ms\n",
		(unsigned long long)c->t->nrx, (unsigned long long)c->t->ntx, ping_loss_pct(c->t), mn, av, mx);
}

static int prepare(struct ctx *c, struct err *e)
{
	struct ping_request r = request(c->o);

	if (ping_resolve(c->host, c->o->family, &c->dst, &c->dstlen, &c->f, e))
		return -1;
	addr_ntop((struct sockaddr *)&c->dst, c->dstlen, c->addr, sizeof(c->addr));
	return ping_request_type(&r, c->f, &c->qtype, e);
}

static void header(const struct ctx *c)
{
	size_t size = c->o->size != SIZE_UNSET ? (size_t)c->o->size : ICMP_DEFAULT_PAYLOAD;

	if (c->o->json)
		return;
	if (c->qtype == ICMP4_TIMESTAMP && c->f->family == AF_INET)
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

/* The engine reports; this prints. */
static void on_event(void *ctx, const struct ping_event *ev)
{
	const struct ctx *c = ctx;
	char eb[96];

	switch (ev->type) {
	case PING_EV_REPLY:
		if (c->o->verbose && ev->mismatch)
			err_msg(NAME, "icmp_seq=%u: %zu payload bytes differ from what was sent",
				ev->seq, ev->mismatch);
		show_reply(c, ev->pkt, ev->from, ev->rtt_ns, ev->dup, ev->late);
		break;
	case PING_EV_ERROR:
		show_error(c, ev->pkt, ev->from, ev->seq);
		break;
	case PING_EV_SEND_ERROR:
		show_send_error(c, ev->seq, ev->errnum);
		break;
	case PING_EV_LOCAL_ERROR:
		err_msg(NAME, "%s: icmp_seq=%u: %s", c->addr, ev->seq,
			err_strerror(ev->errnum, eb, sizeof(eb)));
		break;
	case PING_EV_IGNORED:
		if (c->o->verbose)
			err_msg(NAME, "ignored a %zu-byte packet: %s", ev->len, ev->reason);
		break;
	case PING_EV_BAD_CSUM:
		if (c->o->verbose)
			err_msg(NAME, "bad ICMP checksum in a packet from %s (type %u)", ev->from,
				ev->pkt->type);
		break;
	case PING_EV_UNSENT:
		if (c->o->verbose)
			err_msg(NAME, "reply for icmp_seq=%u, which was never sent", ev->seq);
		break;
	case PING_EV_STATUS:
		status_line(c);
		break;
	}
}

/* The engine, given the socket picked and the one target. */
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

	if (ping_init(&c->eng, &cfg, on_event, c, e))
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
	catch_signals(&old);
	header(c);
	ping_run(&c->eng, &got_stop, &got_status, &stop_signals, &old);
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
		.count = -1, .size = SIZE_UNSET, .code = -1, .preload = -1,
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
		OPT_SIZE_D('s', "size", &o.size, 65527, ICMP_DEFAULT_PAYLOAD,
			   "payload bytes (1k and the like too)"),
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
		OPT_NUMERIC_HOST(0, &o.numeric_host),
		OPT_JSON(&o.json),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct err e = { 0 };
	struct priv pv;
	struct ping_socks s;
	struct ctx c = { .o = &o, .fd = -1 };
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
	sock_opts_init(&o.so);
	if (rc || opt_run(&cmd_raw_icmp_desc, opts, argc, argv, &pos, &status)) {
		ping_socks_close(&s, 0);
		return rc ? err_report(NAME, &e) : status;
	}
	if (o.so.flowlabel >= 0 && !o.family)
		o.family = AF_INET6; /* a flow label is IPv6's */
	c.host = pos.argv[0];
	r = request(&o);
	if (ping_check_request(&r, &e) || addr_check_host_family(c.host, o.family, &e) ||
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
	return status;
}
