/* SPDX-License-Identifier: MIT */
/*
 * raw-icmp over many targets: the target table (cmd/raw_icmp_multi.c) and
 * its output (cmd/raw_icmp_multi_show.c).
 */
#ifndef SOCKCTL_RAW_ICMP_MULTI_H
#define SOCKCTL_RAW_ICMP_MULTI_H

#include "raw_icmp.h"

/* A target: its name as given (or the address, from a prefix) and the engine's entry. */
struct mhost {
	char name[256];
	struct sockaddr_storage ss;
	socklen_t len;
	struct ping_target *t;
};

/* A run over many targets (the engine's hook context). */
struct mctx {
	struct ctx *c;
	struct mhost *h;
	size_t n, cap;
	int namew;    /* the widest name, for the columns */
	int unknown;  /* names that did not resolve */
	int families; /* 1: IPv4, 2: IPv6 */
	unsigned long errors_said; /* send errors said so far (once, without -v) */
};

/* The engine's hook (@ctx: struct mctx). */
void multi_on_event(void *ctx, const struct ping_event *ev);
/* The table, or the -a/-u list, and the --openmetrics file, at the end. */
int multi_report(const struct mctx *m, struct err *e);

#endif
