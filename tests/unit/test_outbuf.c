/* SPDX-License-Identifier: MIT */
/*
 * lib/outbuf and lib/dgram_show: the hand-written formatters give, byte for
 * byte, what the stdio ones of lib/out give (escapes, hex dumps, numbers);
 * lib/sock_rxq: the kernel's drop count of an overflowing socket.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "dgram_show.h"
#include "out.h"
#include "outbuf.h"
#include "sock_rxq.h"
#include "unit.h"

static char *mbuf;
static size_t mlen;

/* What a stdio formatter of lib/out writes for @s, as a string. */
static const char *stdio_of(int kind, const void *s, size_t n, unsigned flags)
{
	FILE *f;

	free(mbuf);
	mbuf = NULL;
	f = open_memstream(&mbuf, &mlen);
	if (kind == 0)
		out_text_escape(f, s, n, flags);
	else if (kind == 1)
		out_json_string(f, s, n);
	else
		out_hexdump(f, s, n, 0);
	fclose(f);
	return mbuf;
}

/* The same from lib/outbuf, NUL-terminated. */
static const char *buf_of(struct outbuf *b, int kind, const void *s, size_t n, unsigned flags)
{
	outbuf_reset(b);
	if (kind == 0)
		outbuf_text_escape(b, s, n, flags);
	else if (kind == 1)
		outbuf_json_string(b, s, n);
	else
		outbuf_hexdump(b, s, n);
	outbuf_putc(b, '\0');
	return b->p;
}

static int same(struct outbuf *b, int kind, const void *s, size_t n, unsigned flags)
{
	const char *want = stdio_of(kind, s, n, flags), *got = buf_of(b, kind, s, n, flags);

	if (strcmp(want, got))
		printf("#   kind %d flags %u: got '%s', want '%s'\n", kind, flags, got, want);
	return !strcmp(want, got);
}

static const char *fixed(struct outbuf *b, int64_t v, unsigned scale, unsigned dec)
{
	outbuf_reset(b);
	outbuf_fixed(b, v, scale, dec);
	outbuf_putc(b, '\0');
	return b->p;
}

static void escapes(struct outbuf *b)
{
	static const unsigned flags[] = { 0, OUT_UTF8, OUT_KEEP_BACKSLASH,
					  OUT_UTF8 | OUT_KEEP_BACKSLASH };
	static const char *const samples[] = {
		"plain", "tab\there\nnl\rcr\\bs\"q", "h\xc3\xa9llo", "\xe2\x80\xae" "bidi",
		"\xc2\x9b" "csi", "bad \xff\xfe utf8", "\xc0\xaf overlong", "\xed\xa0\x80 surrogate",
		"\xf0\x9f\x98\x80 emoji", "cut \xe2\x82", "\x7f\x01\x1b[31m",
	};
	unsigned char all[256], one;
	unsigned ok = 1, i, k, f;

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	/* every byte alone, in each format and with each flag */
	for (k = 0; k < 3; k++)
		for (f = 0; f < 4; f++)
			for (i = 0; i < 256; i++) {
				one = (unsigned char)i;
				ok &= (unsigned)same(b, (int)k, &one, 1, flags[f]);
			}
	CHECK(ok, "each of the 256 bytes: text (every flag), JSON and hex dump as lib/out");
	ok = 1;
	for (k = 0; k < 3; k++)
		for (f = 0; f < 4; f++) {
			ok &= (unsigned)same(b, (int)k, all, sizeof(all), flags[f]);
			for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
				ok &= (unsigned)same(b, (int)k, samples[i], strlen(samples[i]),
						     flags[f]);
		}
	CHECK(ok, "all bytes at once and UTF-8 samples (bidi, C1, invalid, cut): as lib/out");
	ok = 1;
	srand(14);
	for (i = 0; i < 2000; i++) {
		unsigned char r[80];
		size_t n = (size_t)(rand() % 80), j;

		for (j = 0; j < n; j++)
			r[j] = (unsigned char)(rand() % 3 ? 0x20 + rand() % 0x60 : rand() % 256);
		for (k = 0; k < 3; k++)
			ok &= (unsigned)same(b, (int)k, r, n, k ? 0 : flags[i % 4]);
	}
	CHECK(ok, "2000 random strings: as lib/out");
}

static void numbers(struct outbuf *b)
{
	/* no ties: on a tie printf rounds the (inexact) binary value, outbuf_fixed half up */
	static const int64_t v[] = { 0, 1, 499, 501, 499999, 500001, 999999499, 999999501,
				     1796147892027292123, -1501, -1499, 123456789012 };
	char want[64];
	unsigned i, ok = 1;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* exact in a long double (64-bit mantissa): the rounding printf would do */
		snprintf(want, sizeof(want), "%.6Lf", (long double)v[i] / 1e9L);
		if (strcmp(fixed(b, v[i], 9, 6), want)) {
			printf("#   %lld: got %s, want %s\n", (long long)v[i], b->p, want);
			ok = 0;
		}
	}
	CHECK(ok, "outbuf_fixed(ns, 9, 6) is printf's %%.6f of the seconds");
	CHECK_STR(fixed(b, 1234567, 6, 3), "1.235", "ms with 3 decimals, rounded half up");
	CHECK_STR(fixed(b, 45000, 6, 3), "0.045", "a small rtt");
	CHECK_STR(fixed(b, 99950000, 6, 1), "100.0", "rounding carries into the integer part");
	CHECK_STR(fixed(b, 7, 0, 0), "7", "scale 0");
	CHECK_STR(fixed(b, 999999500, 9, 6), "1.000000", "a tie rounds half up");
	CHECK_STR(fixed(b, -1500, 9, 6), "-0.000002", "and away from zero below it");
	outbuf_reset(b);
	outbuf_u64(b, UINT64_MAX);
	outbuf_putc(b, ' ');
	outbuf_i64(b, INT64_MIN);
	outbuf_putc(b, ' ');
	outbuf_u64_pad(b, 42, 6);
	outbuf_putc(b, '\0');
	CHECK_STR(b->p, "18446744073709551615 -9223372036854775808 000042", "integers");
}

static void addresses(struct outbuf *b)
{
	struct outbuf_addr_cache c = { 0 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	static const char *const v4[] = { "0.0.0.0", "127.0.0.1", "198.18.0.255", "10.20.100.9" };
	char want[ADDR_STRLEN];
	unsigned i, ok = 1;

	for (i = 0; i < 4; i++) {
		inet_pton(AF_INET, v4[i], &a4.sin_addr);
		outbuf_reset(b);
		outbuf_addr(b, &c, (struct sockaddr *)&a4, sizeof(a4));
		outbuf_putc(b, '\0');
		addr_ntop((struct sockaddr *)&a4, sizeof(a4), want, sizeof(want));
		ok &= !strcmp(b->p, want) && !strcmp(b->p, v4[i]);
	}
	inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
	outbuf_reset(b);
	outbuf_addr(b, &c, (struct sockaddr *)&a6, sizeof(a6));
	outbuf_addr(b, &c, (struct sockaddr *)&a6, sizeof(a6)); /* from the cache */
	outbuf_putc(b, '\0');
	ok &= !strcmp(b->p, "2001:db8::12001:db8::1");
	CHECK(ok, "addresses as addr_ntop writes them, IPv4 by hand, the last one cached");
}

static void lines(void)
{
	struct dgram_out o = { 0 };
	struct dgram_shown d;
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(4242) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(53) };
	int64_t t = INT64_C(1796147892027292499);

	inet_pton(AF_INET, "198.18.0.1", &a4.sin_addr);
	inet_pton(AF_INET6, "2001:db8::2", &a6.sin6_addr);
	dgram_shown_set(&d, (struct sockaddr *)&a4, sizeof(a4), "h\xc3\xa9\t\"", 5, 5, t, -1, 1);
	dgram_out_add(&o, DGRAM_TEXT, &d);
	dgram_out_add(&o, DGRAM_JSON, &d);
	dgram_shown_set(&d, (struct sockaddr *)&a6, sizeof(a6), "\xff\x01", 3, 2, t, 1234567, 0);
	d.event = "reply";
	dgram_out_add(&o, DGRAM_TEXT, &d);
	dgram_out_add(&o, DGRAM_JSON, &d);
	dgram_out_add(&o, DGRAM_HEX, &d);
	dgram_out_add(&o, DGRAM_RAW, &d);
	dgram_out_add(&o, DGRAM_QUIET, &d);
	outbuf_putc(&o.b, '\0');
	CHECK_STR(o.b.p,
		  "198.18.0.1 4242 5: h\xc3\xa9\\t\"\n"
		  "{\"event\":\"datagram\",\"from\":\"198.18.0.1\",\"port\":4242,\"len\":5,"
		  "\"data\":\"h\xc3\xa9\\t\\\"\",\"ts\":1796147892.027292}\n"
		  "2001:db8::2 53 3: \\xff\\x01\n"
		  "{\"event\":\"reply\",\"from\":\"2001:db8::2\",\"port\":53,\"len\":3,"
		  "\"data_hex\":\"ff01\",\"ts\":1796147892.027292,\"truncated\":true,"
		  "\"captured\":2,\"rtt_ms\":1.235}\n"
		  "2001:db8::2 53 3:\n"
		  "00000000  ff 01                                             |..|\n"
		  "\xff\x01",
		  "datagram lines: text, JSON (truncated, rtt), hex, raw, quiet");
	CHECK(o.lines == 6, "lines counted (quiet makes none): %u", o.lines);
	dgram_out_free(&o);
}

/* Fill a socket that nobody reads: the kernel counts what it drops. */
static void drops(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0), one = 1, i;
	struct sock_rxq_drops d;
	struct sock_rxq_buf rb;
	struct err e = { 0 };
	char buf[64] = "x", ctrl[128];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
			    .msg_controllen = sizeof(ctrl) };
	int64_t now, seen;
	uint64_t total;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(!sock_rxq_flood_default(r, &rb, &e), "the flood default applies");
	CHECK(rb.granted >= rb.before && rb.asked >= SOCK_RXQ_FLOOD, "granted %d, before %d",
	      rb.granted, rb.before);
	setsockopt(r, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)); /* the kernel's minimum */
	bind(r, (struct sockaddr *)&a, sizeof(a));
	getsockname(r, (struct sockaddr *)&a, &len);
	CHECK(!sock_rxq_ovfl_on(r, &e), "SO_RXQ_OVFL on");
	sock_rxq_drops_start(&d, r);
	for (i = 0; i < 500; i++)
		sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&a, len);
	now = sock_rxq_drops_now(r);
	CHECK(now > 0 && now < 500, "SO_MEMINFO: %lld of 500 dropped", (long long)now);
	CHECK(recvmsg(r, &m, MSG_DONTWAIT) == (ssize_t)sizeof(buf), "a datagram queued");
	sock_rxq_drops_note(&d, &m);
	seen = d.seen;
	total = sock_rxq_drops_total(&d, r);
	/* the first datagram queued before any drop: its count may be 0 (no cmsg then) */
	CHECK(seen == -1 || seen == 0, "the first datagram carries the count at its arrival");
	CHECK(total == (uint64_t)now, "the total is the kernel's count: %llu",
	      (unsigned long long)total);
	close(r);
	close(s);
}

int main(void)
{
	struct outbuf b = { 0 };

	escapes(&b);
	numbers(&b);
	addresses(&b);
	lines();
	drops();
	outbuf_free(&b);
	free(mbuf);
	return UNIT_DONE();
}
