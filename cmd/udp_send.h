/* SPDX-License-Identifier: MIT */
/* sockctl udp-send: its options and state, shared by its recipe (udp_send.c) and output (udp_send_show.c). */
#ifndef SOCKCTL_CMD_UDP_SEND_H
#define SOCKCTL_CMD_UDP_SEND_H

#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "dgram_send.h"
#include "dgram_show.h"
#include "err.h"
#include "sock.h"

enum send_mode { MODE_ARGS, MODE_PROBES, MODE_LINES, MODE_RAW };

struct send_opts {
	int family, verbose, json, nonblock, quiet, raw, no_gso, numeric, line_buffered, no_sandbox;
	long long count, rate, mcast_ttl;
	int mcast_loop;
	int64_t interval, wait;
	unsigned long long size;
	const char *mcast_if;
	const char *openmetrics; /* only a trace takes it */
	struct sockopts so;
};

struct send_ctx {
	const struct send_opts *o;
	enum send_mode mode;
	int fd, connected;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	char dstname[ADDR_STRLEN];
	size_t maxlen;  /* the largest datagram the family carries */
	uint64_t limit; /* datagrams to send, 0: until interrupted */
	int64_t interval;
	char **msgs;    /* MODE_ARGS */
	int nmsg;
	struct dgram_tx tx;
	struct err out_err; /* stdout failed: why */
	int out_failed;     /* stdout failed: nothing more goes there */
	int utf8;           /* the locale's charset is UTF-8: replies show it as is */
	struct dgram_out out; /* the replies of one batch (-W) */
	int live;             /* --line-buffered, or a terminal: each reply as it comes */
};

/* The send engine's hook: replies to stdout (-W), notes to stderr. */
int udp_send_on_tx(void *ctx, const struct dgram_tx_event *ev);
/* What was sent (and answered), at the end. */
void udp_send_summary(const struct send_ctx *c);

#endif
