/* SPDX-License-Identifier: MIT */
/*
 * A growable output buffer and hand-written formatters for the hot output
 * paths (a line per datagram or reply in a flood): integers, fixed-point
 * times, addresses, and the escapes of lib/out (out_text_escape,
 * out_json_string) by table lookup, byte for byte the same output.  No
 * printf per field: a line costs a few hundred nanoseconds.
 *
 * Allocation failure is sticky: every append after it is a no-op and
 * outbuf_failed() says so; the caller reports it when it writes the buffer.
 */
#ifndef SOCKCTL_OUTBUF_H
#define SOCKCTL_OUTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "addr.h"

struct outbuf {
	char *p;
	size_t len, cap;
	int failed; /* an allocation failed: the contents are incomplete */
};

/* Room for @n more bytes; 0, or -1 (and failed) when memory ran out. */
int outbuf_reserve(struct outbuf *b, size_t n);
void outbuf_free(struct outbuf *b);
static inline void outbuf_reset(struct outbuf *b)
{
	b->len = 0;
	b->failed = 0;
}
static inline int outbuf_failed(const struct outbuf *b)
{
	return b->failed;
}
void outbuf_put(struct outbuf *b, const void *s, size_t n);
void outbuf_puts(struct outbuf *b, const char *s);
void outbuf_putc(struct outbuf *b, char c);
void outbuf_u64(struct outbuf *b, uint64_t v);
void outbuf_i64(struct outbuf *b, int64_t v);
/* @v in at least @width (<= 20) digits, zeros in front: printf("%06llu"). */
void outbuf_u64_pad(struct outbuf *b, uint64_t v, unsigned width);
/*
 * @v / 10^@scale (@scale <= 9) with @decimals (<= @scale) decimals, rounded
 * half away from zero: printf("%.6f", ns / 1e9) is outbuf_fixed(b, ns, 9, 6),
 * without the double.
 */
void outbuf_fixed(struct outbuf *b, int64_t v, unsigned scale, unsigned decimals);
/* @n bytes as lower-case hex. */
void outbuf_hex(struct outbuf *b, const void *s, size_t n);
/* out_text_escape(), into @b. */
void outbuf_text_escape(struct outbuf *b, const void *s, size_t n, unsigned flags);
/* out_json_string(), quotes included, into @b. */
void outbuf_json_string(struct outbuf *b, const void *s, size_t n);
/* out_hexdump(), into @b. */
void outbuf_hexdump(struct outbuf *b, const void *s, size_t n);

/*
 * The numeric address of a datagram's source, as addr_ntop() writes it,
 * remembered: a flood comes from one source or a few, and the last one is
 * formatted once.
 */
struct outbuf_addr_cache {
	struct sockaddr_storage sa;
	socklen_t len; /* 0: empty */
	char host[ADDR_STRLEN];
	size_t hostlen;
};
/* The text, from the cache or made (c->hostlen bytes). */
const char *outbuf_addr_text(struct outbuf_addr_cache *c, const struct sockaddr *sa,
			     socklen_t len);
void outbuf_addr(struct outbuf *b, struct outbuf_addr_cache *c, const struct sockaddr *sa,
		 socklen_t len);

/*
 * Write the buffer to @f and empty it: 0, or -1 with the buffer's failure
 * (ENOMEM) or the stream's error left for the caller's flush to report.
 */
int outbuf_flush_to(struct outbuf *b, FILE *f);

#endif
