/* SPDX-License-Identifier: MIT */
/*
 * How datagrams are shown (udp-recv's datagrams, udp-send -W's replies),
 * fast: each line is formatted by hand into one buffer (lib/outbuf), which
 * the caller writes once per recvmmsg batch, or once per line when output
 * must be live (a terminal, --line-buffered).  Lines are whole and in
 * arrival order.  At 64-byte datagrams a line costs well under a
 * microsecond, so the printing never makes the socket overflow.
 *
 *	text  "ADDR PORT LEN: payload"  (escaped as out_text_escape does)
 *	hex   "ADDR PORT LEN:" and a hexdump -C of the payload
 *	raw   the payload bytes only
 *	json  {"event":"datagram","from":..,"port":..,"len":..,"data":..
 *	       or "data_hex":..,"ts":..[,"truncated":true,"captured":..][,"rtt_ms":..]}
 */
#ifndef SOCKCTL_DGRAM_SHOW_H
#define SOCKCTL_DGRAM_SHOW_H

#include <stdio.h>

#include "dgram.h"
#include "outbuf.h"

struct dgram_out {
	struct outbuf b;
	struct outbuf_addr_cache from;
	unsigned lines; /* lines in b since the last flush */
};

/* Append @d as @fmt (DGRAM_QUIET: nothing). */
void dgram_out_add(struct dgram_out *o, enum dgram_fmt fmt, const struct dgram_shown *d);
/*
 * Write what is buffered to @f and empty the buffer (the caller then flushes
 * @f and checks it): 0, or -1 if memory ran out while formatting or @f has
 * an error.
 */
int dgram_out_write(struct dgram_out *o, FILE *f);
void dgram_out_free(struct dgram_out *o);

#endif
