/* SPDX-License-Identifier: MIT */
/* raw-icmp's two halves: the recipe (raw_icmp.c) and its output (raw_icmp_show.c). */
#ifndef SOCKCTL_RAW_ICMP_H
#define SOCKCTL_RAW_ICMP_H

#include <limits.h>
#include <signal.h>

#include "addr.h"
#include "ping.h"
#include "sock.h"

#define NAME "raw-icmp"

#define SIZE_UNSET ULLONG_MAX

struct icmp_opts {
	int family;
	long long count, code, preload;
	unsigned long long size; /* SIZE_UNSET: not given */
	int64_t interval, timeout, deadline;
	int quiet, flood, mode, json, verbose, numeric, numeric_host, stamps, no_sandbox;
	const char *type;
	struct sockopts so;
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
	volatile sig_atomic_t *stop; /* set to end the run (stdout failed) */
	struct err out_err;          /* stdout failed mid-run: reported at the end */
	int out_failed;
};


/* PING ... bytes of data: the line before the first probe. */
void raw_icmp_header(const struct ctx *c);
/* The engine's hook (@ctx: struct ctx): each reply, error and status as it happens. */
void raw_icmp_on_event(void *ctx, const struct ping_event *ev);
/* The statistics at the end. */
void raw_icmp_summary(const struct ctx *c);

#endif
