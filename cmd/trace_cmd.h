/* SPDX-License-Identifier: MIT */
/*
 * --trace on connect (TCP SYN), udp-send (UDP) and raw-icmp (ICMP echo): the
 * recipe (trace.c) and its output (trace_show.c), shared by the three.
 *
 * A command hands its whole argv to the trace recipe before parsing it
 * (trace_asked): the trace has its own option table per protocol, the
 * command's options that do not apply being bad input there.  The command's
 * own table lists the trace options too (OPT_TRACE with a scratch struct),
 * so --help, the completion and the docs test see them.
 */
#ifndef SOCKCTL_CMD_TRACE_H
#define SOCKCTL_CMD_TRACE_H

#include <signal.h>

#include "addr.h"
#include "err.h"
#include "opt.h"
#include "ping.h"
#include "priv.h"
#include "sock.h"
#include "trace.h"

struct trace_opts {
	int trace, family, numeric, numeric_host, json, verbose, resolve, mode, no_sandbox;
	long long max_ttl, first_ttl, queries, cycles;
	int64_t wait, cycle_interval;
	const char *openmetrics; /* --openmetrics FILE: the hops at the end */
	struct sockopts so;
};

/*
 * The trace options, for the trace tables (@t: struct trace_opts *) and,
 * with a scratch (struct trace_opts){ 0 }, for each command's own table.
 * @what names the probes in --help.
 */
#define OPT_TRACE(t, what)                                                                   \
	OPT_GROUP("Traceroute"),                                                             \
	OPT_FLAG(0, "trace", &(t)->trace, "trace the route with " what " probes"),          \
	OPT_INT_D(0, "max-ttl", &(t)->max_ttl, "N", 1, 255, TRACE_MAX_TTL,                  \
		  "--trace: the last TTL (hop limit) probed"),                               \
	OPT_INT_D(0, "first-ttl", &(t)->first_ttl, "N", 1, 255, 1,                          \
		  "--trace: the first TTL probed"),                                          \
	OPT_INT_D(0, "queries", &(t)->queries, "N", 1, 10, TRACE_QUERIES,                   \
		  "--trace: probes per hop and round (--cycles: 1)"),                        \
	OPT_INT(0, "cycles", &(t)->cycles, "N", 1, 1000000,                                 \
		"--trace: N rounds, then loss and RTT per hop (mtr --report)"),             \
	OPT_DURATION_D(0, "cycle-interval", &(t)->cycle_interval, TRACE_CYCLE_INTERVAL,    \
		       "--cycles: from one round's start to the next"),                      \
	OPT_FLAG(0, "resolve", &(t)->resolve, "--trace: show the hops' names (looked up in parallel)")

/* --openmetrics in the trace tables; @t as for OPT_TRACE. */
#define OPT_TRACE_OPENMETRICS(t)                                                             \
	OPT_STRING(0, "openmetrics", &(t)->openmetrics, "FILE",                              \
		   "--trace: write each hop's figures to FILE in the OpenMetrics format")

/* The trace option @w names ("--max-ttl=5" -> "max-ttl"), or NULL. */
const char *trace_word(const char *w);
/* Is this run a trace?  A trace option among the words before "--". */
int trace_asked(int argc, char **argv);
/* connect --trace (TRACE_TCP) and udp-send --trace (TRACE_UDP); @cmd_opts: the command's table. */
int cmd_trace(enum trace_proto proto, const struct opt *cmd_opts, int argc, char **argv);
/*
 * raw-icmp --trace, with the ICMP sockets raw-icmp opened before reading
 * argv (@open_failed: it could not drop its privileges, @open_err says why).
 */
int cmd_trace_icmp(const struct opt *cmd_opts, int argc, char **argv, struct ping_socks *s,
		   struct priv *pv, int open_failed, const struct err *open_err);

/* ---- trace_show.c ---- */
struct trace_ctx {
	const char *cmd; /* "connect", "udp-send", "raw-icmp" */
	const struct trace_opts *o;
	const char *host;
	char addr[ADDR_STRLEN];
	uint16_t port;
	struct trace t;
	int raw; /* ICMP: a raw socket */
	volatile sig_atomic_t *stop;
	struct err out_err; /* stdout failed mid-run: reported at the end */
	int out_failed;
};

void trace_show_header(struct trace_ctx *c);
/* The engine's hook (@ctx: struct trace_ctx). */
void trace_show_event(void *ctx, const struct trace_event *ev);
/* The report (--cycles) and the final trace object. */
void trace_show_end(struct trace_ctx *c);
/* --openmetrics FILE: each hop shown, as lib/openmetrics's probe rows with hop and address. */
int trace_write_openmetrics(const struct trace_ctx *c, struct err *e);

#endif
