/* SPDX-License-Identifier: MIT */
/* sockctl raw-icmp's output: replies, errors and statistics, as ping prints them, or JSON. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "cmd.h"
#include "err.h"
#include "icmp.h"
#include "out.h"
#include "raw_icmp.h"
#include "sock_rxq.h"

/* -D's "[...] " prefix in --timestamp-format's form, into @buf (empty without -D). */
static size_t stamp_format(const struct icmp_opts *o, char *buf, size_t n)
{
	int64_t t = clock_real_ns();
	time_t sec = (time_t)(t / NS_PER_SEC);
	long long us = (long long)(t % NS_PER_SEC / 1000);
	struct tm tm;
	char when[64];
	int len;

	buf[0] = '\0';
	if (!o->stamps)
		return 0;
	switch (o->stamp_format) {
	case RAW_ICMP_TS_ISO:
		gmtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		len = snprintf(buf, n, "[%s.%06lldZ] ", when, us);
		break;
	case RAW_ICMP_TS_CTIME:
		localtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
		len = snprintf(buf, n, "[%s] ", when);
		break;
	default:
		len = snprintf(buf, n, "[%lld.%06lld] ", (long long)sec, us);
	}
	return len > 0 && (size_t)len < n ? (size_t)len : 0;
}

void raw_icmp_stamp(const struct icmp_opts *o)
{
	char buf[96];

	if (stamp_format(o, buf, sizeof(buf)))
		fputs(buf, stdout);
}

static void print_stamp(const struct ctx *c)
{
	raw_icmp_stamp(c->o);
}

static int text_out(const struct ctx *c)
{
	return !c->o->json && !c->o->quiet && !c->o->flood;
}

static void flush_now(struct ctx *c)
{
	c->unflushed = 0;
	if (c->out_failed || !cmd_stdout_flush(&c->out_err))
		return;
	c->out_failed = 1;
	*c->stop = 1;
}

/*
 * Each line as it happens on a terminal or with --line-buffered, as ping
 * does; else the lines of a burst together, when the engine waits
 * (PING_EV_IDLE); flooding, at exit.
 */
static void line_done(struct ctx *c)
{
	c->unflushed++;
	if (c->live && !c->o->flood)
		flush_now(c);
}

/* The line formatted in c->line to stdout, in order with the printf lines. */
static void line_put(struct ctx *c)
{
	if (!outbuf_failed(&c->line))
		fwrite(c->line.p, 1, c->line.len, stdout);
	outbuf_reset(&c->line);
}

/* ping's "time=": 3 significant decimals below 1 ms, fewer above (icmp_format_ms). */
static void put_ms(struct outbuf *b, int64_t ns)
{
	unsigned dec = ns < 1000000 ? 3 : ns < 10000000 ? 2 : ns < 100000000 ? 1 : 0;

	outbuf_fixed(b, ns, 6, dec);
}

#define PUTK(b, k) outbuf_put((b), k, sizeof(k) - 1)

static void reply_json(struct ctx *c, const struct icmp_pkt *p, const char *from, int64_t rtt,
		       int dup, int late, const uint32_t *ts)
{
	struct outbuf *b = &c->line;

	PUTK(b, "{\"event\":\"reply\",\"seq\":");
	outbuf_u64(b, p->seq);
	PUTK(b, ",\"from\":");
	outbuf_json_string(b, from, strlen(from));
	PUTK(b, ",\"bytes\":");
	outbuf_u64(b, p->icmp_len);
	PUTK(b, ",\"ttl\":");
	if (p->ttl >= 0)
		outbuf_i64(b, p->ttl);
	else
		PUTK(b, "null");
	PUTK(b, ",\"time_ms\":");
	outbuf_fixed(b, rtt, 6, 3);
	outbuf_puts(b, dup ? ",\"dup\":true" : ",\"dup\":false");
	outbuf_puts(b, late ? ",\"late\":true" : ",\"late\":false");
	if (ts) {
		PUTK(b, ",\"originate\":");
		outbuf_u64(b, ts[0]);
		PUTK(b, ",\"receive\":");
		outbuf_u64(b, ts[1]);
		PUTK(b, ",\"transmit\":");
		outbuf_u64(b, ts[2]);
	}
	if (c->o->stamps) {
		PUTK(b, ",\"timestamp\":");
		outbuf_fixed(b, clock_real_ns(), 9, 6);
	}
	PUTK(b, "}\n");
}

static void reply_text(struct ctx *c, const struct icmp_pkt *p, const char *from, int64_t rtt,
		       const char *note, const uint32_t *ts)
{
	struct outbuf *b = &c->line;

	if (c->o->stamps) {
		char stamp[96];

		outbuf_put(b, stamp, stamp_format(c->o, stamp, sizeof(stamp)));
	}
	outbuf_u64(b, p->icmp_len);
	PUTK(b, " bytes from ");
	outbuf_puts(b, from);
	PUTK(b, ": icmp_seq=");
	outbuf_u64(b, p->seq);
	if (p->ttl >= 0) {
		PUTK(b, " ttl=");
		outbuf_i64(b, p->ttl);
	}
	PUTK(b, " time=");
	put_ms(b, rtt);
	PUTK(b, " ms");
	outbuf_puts(b, note);
	if (ts) {
		PUTK(b, " originate=");
		outbuf_u64(b, ts[0]);
		PUTK(b, " receive=");
		outbuf_u64(b, ts[1]);
		PUTK(b, " transmit=");
		outbuf_u64(b, ts[2]);
	}
	outbuf_putc(b, '\n');
}

/* -O: ping's "no answer yet for icmp_seq=N"; JSON: a timeout object. */
static void show_timeout(struct ctx *c, uint16_t seq)
{
	if (c->o->json) {
		struct jsonw w;

		json_begin(&w, stdout);
		json_str(&w, "event", "timeout");
		json_str(&w, "host", c->host);
		json_str(&w, "address", c->addr);
		json_uint(&w, "seq", seq);
		json_end(&w);
		line_done(c);
		return;
	}
	if (!text_out(c))
		return;
	print_stamp(c);
	printf("no answer yet for icmp_seq=%u\n", seq);
	line_done(c);
}

static void show_reply(struct ctx *c, const struct icmp_pkt *p, const char *from,
		       int64_t rtt, int dup, int late)
{
	const char *note = dup ? " (DUP!)" : late ? " (late)" : "";
	uint32_t ts[3];
	int has_ts = p->type == ICMP4_TIMESTAMP_REPLY && c->f->family == AF_INET && !icmp_tstamp_fields(p, ts);

	if (c->o->json)
		reply_json(c, p, from, rtt, dup, late, has_ts ? ts : NULL);
	else if (text_out(c))
		reply_text(c, p, from, rtt, note, has_ts ? ts : NULL);
	else
		return;
	line_put(c);
	line_done(c);
}

static void show_error(struct ctx *c, const struct icmp_pkt *p, const char *from,
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

/* Lost probes (sent, not answered) that the socket's own drops do not explain. */
static uint64_t lost_path(const struct ctx *c, uint64_t drops)
{
	uint64_t lost = c->t->ntx > c->t->nrx ? c->t->ntx - c->t->nrx : 0;

	return lost > drops ? lost - drops : 0;
}

void raw_icmp_show_rcvbuf(const struct ctx *c)
{
	const struct ping_sock *ps = ping_socket(&c->eng, c->f->family);

	char d[160];

	if (c->o->verbose && ps)
		err_msg(NAME, "%s", sock_rxq_describe(ps->fd, c->o->so.rcvbuf, &ps->rcvbuf, d,
						      sizeof(d)));
}

static void summary_json(const struct ctx *c, int64_t elapsed, uint64_t drops)
{
	struct jsonw w;

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
	json_uint(&w, "dropped_at_socket", drops);
	json_uint(&w, "lost_before_host", lost_path(c, drops));
	json_num(&w, "time_ms", (double)elapsed / 1e6, 3);
	json_rtt(&w, &c->t->rtt);
	json_end(&w);
}

/* ping's "time": from the start to the last probe sent, not to the end of waiting. */
void raw_icmp_summary(const struct ctx *c)
{
	int64_t elapsed = ping_time_spent(&c->eng, c->t);
	uint64_t drops = ping_sock_drops(&c->eng);
	double mn, av, mx, md;

	if (c->o->json) {
		summary_json(c, elapsed, drops);
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
	/* where the loss happened: here, or before the replies reached this host */
	if (drops || c->t->ntx > c->t->nrx)
		printf("dropped at this socket (receive buffer full): %llu, lost before reaching "
		       "this host: %llu\n",
		       (unsigned long long)drops, (unsigned long long)lost_path(c, drops));
	if (drops) {
		fflush(stdout);
		err_msg(NAME, "hint: %llu replies were dropped at this socket, its receive buffer "
			      "(%d bytes) full: raise --rcvbuf",
			(unsigned long long)drops,
			sock_rxq_rcvbuf(ping_socket(&c->eng, c->f->family)->fd));
	}
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

void raw_icmp_header(const struct ctx *c)
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


void raw_icmp_on_event(void *ctx, const struct ping_event *ev)
{
	struct ctx *c = ctx;
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
	case PING_EV_TIMEOUT:
		show_timeout(c, ev->seq);
		break;
	case PING_EV_IDLE:
		/* the burst is over: its lines go out together */
		if (c->unflushed && !c->o->flood)
			flush_now(c);
		break;
	}
}

/* The engine, given the socket picked and the one target. */
