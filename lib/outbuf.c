/* SPDX-License-Identifier: MIT */
#include "outbuf.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"

static const char hexd[] = "0123456789abcdef";

int outbuf_reserve(struct outbuf *b, size_t n)
{
	size_t want;
	char *p;

	if (b->failed)
		return -1;
	if (b->cap - b->len >= n)
		return 0;
	want = b->cap ? b->cap : 65536;
	while (want - b->len < n) {
		if (want > SIZE_MAX / 2) {
			b->failed = 1;
			return -1;
		}
		want *= 2;
	}
	p = realloc(b->p, want);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = want;
	return 0;
}

void outbuf_free(struct outbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void outbuf_put(struct outbuf *b, const void *s, size_t n)
{
	if (outbuf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void outbuf_puts(struct outbuf *b, const char *s)
{
	outbuf_put(b, s, strlen(s));
}

void outbuf_putc(struct outbuf *b, char c)
{
	if (outbuf_reserve(b, 1))
		return;
	b->p[b->len++] = c;
}

void outbuf_u64_pad(struct outbuf *b, uint64_t v, unsigned width)
{
	char t[20];
	size_t i = sizeof(t);

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i > 0 && sizeof(t) - i < width)
		t[--i] = '0';
	outbuf_put(b, t + i, sizeof(t) - i);
}

void outbuf_u64(struct outbuf *b, uint64_t v)
{
	outbuf_u64_pad(b, v, 1);
}

void outbuf_i64(struct outbuf *b, int64_t v)
{
	if (v < 0) {
		outbuf_putc(b, '-');
		outbuf_u64(b, (uint64_t)0 - (uint64_t)v);
		return;
	}
	outbuf_u64(b, (uint64_t)v);
}

void outbuf_fixed(struct outbuf *b, int64_t v, unsigned scale, unsigned decimals)
{
	static const uint64_t pow10[] = { 1,	     10,	 100,	      1000,	 10000,
					  100000,    1000000,	 10000000,    100000000, 1000000000 };
	uint64_t a, unit, q;
	char t[9];
	unsigned i;

	if (scale > 9)
		scale = 9;
	if (decimals > scale)
		decimals = scale;
	if (v < 0)
		outbuf_putc(b, '-');
	a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	unit = pow10[scale - decimals];
	q = a / unit + (unit > 1 && a % unit >= (unit + 1) / 2 ? 1 : 0); /* half up */
	outbuf_u64(b, q / pow10[decimals]);
	if (!decimals)
		return;
	q %= pow10[decimals];
	for (i = decimals; i-- > 0; q /= 10)
		t[i] = (char)('0' + q % 10);
	outbuf_putc(b, '.');
	outbuf_put(b, t, decimals);
}

void outbuf_hex(struct outbuf *b, const void *s, size_t n)
{
	const unsigned char *p = s;
	char *o;
	size_t i;

	if (n > SIZE_MAX / 2 || outbuf_reserve(b, 2 * n))
		return;
	o = b->p + b->len;
	for (i = 0; i < n; i++, o += 2) {
		o[0] = hexd[p[i] >> 4];
		o[1] = hexd[p[i] & 15];
	}
	b->len += 2 * n;
}

/* What each byte becomes, in text and in JSON. */
enum { AS_IS, BACKSLASH, SHORT_ESC, CTRL, HIGH };

/* One letter per class, to keep the tables readable: 16 bytes a row. */
#define A AS_IS
#define B BACKSLASH
#define T SHORT_ESC
#define C CTRL
#define H HIGH
/* Text (out_text_escape): the class of each byte. */
static const unsigned char text_class[256] = {
	C, C, C, C, C, C, C, C, C, T, T, C, C, T, C, C,
	C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,
	A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,
	A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,
	A, A, A, A, A, A, A, A, A, A, A, A, B, A, A, A,
	A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,
	A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, C,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
};
/* JSON (out_json_string): '"' takes a backslash too. */
static const unsigned char json_class[256] = {
	C, C, C, C, C, C, C, C, C, T, T, C, C, T, C, C,
	C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	A, A, B, A, A, A, A, A, A, A, A, A, A, A, A, A,
	A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,
	A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,
	A, A, A, A, A, A, A, A, A, A, A, A, B, A, A, A,
	A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,
	A, A, A, A, A, A, A, A, A, A, A, A, A, A, A, C,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
	H, H, H, H, H, H, H, H, H, H, H, H, H, H, H, H,
};
#undef A
#undef B
#undef T
#undef C
#undef H

static char short_esc(unsigned c)
{
	return c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
}

/* Unchecked appends: the caller reserved the room. */
static inline void raw_hex_esc(struct outbuf *b, unsigned c)
{
	char *o = b->p + b->len;

	o[0] = '\\';
	o[1] = 'x';
	o[2] = hexd[c >> 4];
	o[3] = hexd[c & 15];
	b->len += 4;
}

static inline void raw_u_esc(struct outbuf *b, uint32_t cp)
{
	char *o = b->p + b->len;

	o[0] = '\\';
	o[1] = 'u';
	o[2] = hexd[cp >> 12 & 15];
	o[3] = hexd[cp >> 8 & 15];
	o[4] = hexd[cp >> 4 & 15];
	o[5] = hexd[cp & 15];
	b->len += 6;
}

/* A run of bytes that go as they are: copied at once. */
static size_t run_as_is(struct outbuf *b, const unsigned char *cls, const unsigned char *p,
			size_t i, size_t n)
{
	size_t j = i;

	while (j < n && cls[p[j]] == AS_IS)
		j++;
	memcpy(b->p + b->len, p + i, j - i);
	b->len += j - i;
	return j;
}

void outbuf_text_escape(struct outbuf *b, const void *s, size_t n, unsigned flags)
{
	const unsigned char *p = s;
	size_t i = 0, len;
	uint32_t cp;

	/* the worst case, every byte as \xNN */
	if (n > SIZE_MAX / 4 || outbuf_reserve(b, 4 * n))
		return;
	while (i < n) {
		unsigned c = p[i];

		switch (text_class[c]) {
		case AS_IS:
			i = run_as_is(b, text_class, p, i, n);
			continue;
		case BACKSLASH:
			b->p[b->len++] = '\\';
			if (!(flags & OUT_KEEP_BACKSLASH))
				b->p[b->len++] = '\\';
			break;
		case SHORT_ESC:
			b->p[b->len++] = '\\';
			b->p[b->len++] = short_esc(c);
			break;
		case CTRL:
			raw_hex_esc(b, c);
			break;
		default: /* HIGH */
			if (!(flags & OUT_UTF8) || !(len = out_utf8_decode(p + i, n - i, &cp))) {
				raw_hex_esc(b, c);
				break;
			}
			if (out_cp_unsafe(cp)) {
				size_t k;

				for (k = 0; k < len; k++)
					raw_hex_esc(b, p[i + k]);
			} else {
				memcpy(b->p + b->len, p + i, len);
				b->len += len;
			}
			i += len;
			continue;
		}
		i++;
	}
}

void outbuf_json_string(struct outbuf *b, const void *s, size_t n)
{
	const unsigned char *p = s;
	size_t i = 0, len;
	uint32_t cp;

	/* the worst case, every byte as \uXXXX, and the quotes */
	if (n > SIZE_MAX / 6 - 2 || outbuf_reserve(b, 6 * n + 2))
		return;
	b->p[b->len++] = '"';
	while (i < n) {
		unsigned c = p[i];

		switch (json_class[c]) {
		case AS_IS:
			i = run_as_is(b, json_class, p, i, n);
			continue;
		case BACKSLASH:
			b->p[b->len++] = '\\';
			b->p[b->len++] = (char)c;
			break;
		case SHORT_ESC:
			b->p[b->len++] = '\\';
			b->p[b->len++] = short_esc(c);
			break;
		case CTRL:
			raw_u_esc(b, c);
			break;
		default: /* HIGH */
			if (!(len = out_utf8_decode(p + i, n - i, &cp))) {
				raw_u_esc(b, 0xfffd);
				break;
			}
			/* valid JSON either way, but a terminal showing it acts on these */
			if (out_cp_unsafe(cp)) {
				raw_u_esc(b, cp);
			} else {
				memcpy(b->p + b->len, p + i, len);
				b->len += len;
			}
			i += len;
			continue;
		}
		i++;
	}
	b->p[b->len++] = '"';
}

void outbuf_hexdump(struct outbuf *b, const void *s, size_t n)
{
	const unsigned char *p = s;
	size_t i, j;

	for (i = 0; i < n; i += 16) {
		char *o;

		/* "%08zx " + 16 x " xx" + 1 + "  |" + 16 + "|\n", and room for a long offset */
		if (outbuf_reserve(b, 96))
			return;
		o = b->p + b->len;
		for (j = 0; j < 8; j++)
			o[j] = hexd[i >> (4 * (7 - j)) & 15];
		if (i >> 32) { /* wider than 8 digits: as %08zx would */
			char t[20];
			size_t k = sizeof(t), v = i;

			do {
				t[--k] = hexd[v & 15];
				v >>= 4;
			} while (v);
			memcpy(o, t + k, sizeof(t) - k);
			o += sizeof(t) - k;
		} else {
			o += 8;
		}
		*o++ = ' ';
		for (j = 0; j < 16; j++) {
			if (j == 8)
				*o++ = ' ';
			*o++ = ' ';
			*o++ = i + j < n ? hexd[p[i + j] >> 4] : ' ';
			*o++ = i + j < n ? hexd[p[i + j] & 15] : ' ';
		}
		memcpy(o, "  |", 3);
		o += 3;
		for (j = 0; j < 16 && i + j < n; j++)
			*o++ = p[i + j] >= 0x20 && p[i + j] < 0x7f ? (char)p[i + j] : '.';
		*o++ = '|';
		*o++ = '\n';
		b->len = (size_t)(o - b->p);
	}
}

/* IPv4 as dotted quad, by hand (what getnameinfo(NI_NUMERICHOST) gives). */
static size_t ipv4_text(const struct sockaddr_in *sin, char *o)
{
	const unsigned char *a = (const unsigned char *)&sin->sin_addr;
	size_t n = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned v = a[i];

		if (i)
			o[n++] = '.';
		if (v >= 100)
			o[n++] = (char)('0' + v / 100);
		if (v >= 10)
			o[n++] = (char)('0' + v / 10 % 10);
		o[n++] = (char)('0' + v % 10);
	}
	o[n] = '\0';
	return n;
}

const char *outbuf_addr_text(struct outbuf_addr_cache *c, const struct sockaddr *sa,
			     socklen_t len)
{
	if (!c->len || c->len != len || len > sizeof(c->sa) ||
	    memcmp(&c->sa, sa, len) != 0) {
		if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
			c->hostlen = ipv4_text((const struct sockaddr_in *)sa, c->host);
		else
			c->hostlen = strlen(addr_ntop(sa, len, c->host, sizeof(c->host)));
		c->len = 0;
		if (len <= sizeof(c->sa)) {
			memcpy(&c->sa, sa, len);
			c->len = len;
		}
	}
	return c->host;
}

void outbuf_addr(struct outbuf *b, struct outbuf_addr_cache *c, const struct sockaddr *sa,
		 socklen_t len)
{
	outbuf_addr_text(c, sa, len);
	outbuf_put(b, c->host, c->hostlen);
}

int outbuf_flush_to(struct outbuf *b, FILE *f)
{
	int failed = b->failed;

	if (b->len && !failed)
		fwrite(b->p, 1, b->len, f);
	outbuf_reset(b);
	return failed || ferror(f) ? -1 : 0;
}
