/* SPDX-License-Identifier: MIT */
/* connect --count: TCP ping (cmd/connect_probe.c), on lib/tcpping. */
#ifndef SOCKCTL_CONNECT_PROBE_H
#define SOCKCTL_CONNECT_PROBE_H

#include <stdint.h>

#include "sock.h"
#include "tcpping.h"
#include "tls.h"

struct connect_probe_opts {
	/* from connect's option table */
	long long count;         /* -1: not given (no TCP ping); 0: until interrupted */
	int64_t interval;        /* -1: TCPPING_DEFAULT_INTERVAL */
	const char *openmetrics; /* NULL: none */
	const char *targets;     /* --targets FILE: HOST:PORT a line; NULL: none */
	/* connect's own options, copied in by connect.c */
	int family, json, verbose, tcp_info, numeric, no_sandbox;
	int64_t timeout;         /* -w or --connect-timeout; -1: TCPPING_DEFAULT_TIMEOUT */
	const struct sockopts *so;
	const struct tls_opts *tls; /* --tls: a TLS handshake after each TCP one */
	int conflict;            /* options given that --count cannot use */
};

/* Check, resolve every HOST PORT / HOST:PORT in @argv, probe, report: the exit status. */
int connect_probe(const struct connect_probe_opts *o, int argc, char **argv);

#endif
