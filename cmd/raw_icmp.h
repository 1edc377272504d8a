/* SPDX-License-Identifier: MIT */
/* raw-icmp's two halves: the recipe (raw_icmp.c) and its output (raw_icmp_show.c). */
#ifndef SOCKCTL_RAW_ICMP_H
#define SOCKCTL_RAW_ICMP_H

#include <limits.h>
#include <signal.h>

#include "addr.h"
#include "outbuf.h"
#include "ping.h"
#include "priv.h"
#include "sock.h"

#define NAME "raw-icmp"

#define SIZE_UNSET ULLONG_MAX

struct icmp_opts {
	int family;
	long long count, code, preload;
	unsigned long long size; /* SIZE_UNSET: not given */
	int64_t interval, timeout, deadline;
	int quiet, flood, mode, json, verbose, numeric, numeric_host, stamps, line_buffered;
	int no_sandbox;
	const char *type;
	struct sockopts so;
	/* many targets (cmd/raw_icmp_multi*.c), ping's other options (raw_icmp_opts.c) */
	const char *targets, *openmetrics;
	long long rate;               /* --rate: probes/s over all targets; -1: no cap */
	int alive, unreachable;       /* -a, -u */
	int report_outstanding, adaptive; /* -O, -A */
	int stamp_format;             /* RAW_ICMP_TS_* */
	uint8_t pattern[16];          /* -p */
	size_t pattern_len;
};

enum { RAW_ICMP_TS_UNIX, RAW_ICMP_TS_ISO, RAW_ICMP_TS_CTIME };
extern const char *const raw_icmp_ts_names[];


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
	volatile sig_atomic_t *status; /* SIGQUIT seen */
	const sigset_t *signals;       /* those the handlers catch */
	struct err out_err;          /* stdout failed mid-run: reported at the end */
	int out_failed;
	struct outbuf line;          /* a reply line, formatted by hand */
	int live;                    /* each line flushed as it is made (a terminal, --line-buffered) */
	int unflushed;               /* lines written since the last flush */
};


/* PING ... bytes of data: the line before the first probe. */
void raw_icmp_header(const struct ctx *c);
/* The engine's hook (@ctx: struct ctx): each reply, error and status as it happens. */
void raw_icmp_on_event(void *ctx, const struct ping_event *ev);
/* -v: the socket's effective receive buffer, and whether --rcvbuf or the default set it. */
void raw_icmp_show_rcvbuf(const struct ctx *c);
/* The statistics at the end. */
void raw_icmp_summary(const struct ctx *c);
/* -D: "[1700000000.123456] ", "[2026-12-01T17:55:45.123456Z] " or ctime's, or nothing. */
void raw_icmp_stamp(const struct icmp_opts *o);
/* Catch SIGINT, SIGTERM (stop) and SIGQUIT (status); the mask before in *@old. */
void raw_icmp_catch_signals(sigset_t *old);
/* After the socket, its options and the privilege drop (cmd/sandbox_tables.c). */
int raw_icmp_sandbox(const struct icmp_opts *o, struct err *e);

/* ---- cmd/raw_icmp_opts.c (ping's other options), cmd/raw_icmp_multi*.c ---- */
struct opt;
/* -p PATTERN: up to 16 bytes in hex, as ping takes them (@o->value: struct icmp_opts). */
int raw_icmp_opt_pattern(const struct opt *o, const char *arg, struct err *e);
/* -O, -A, -p, --rate into the engine's configuration. */
void raw_icmp_more_config(const struct icmp_opts *o, int root, struct ping_config *cfg);
/* Whether the run is one of many targets (several, --targets, a CIDR, -a, -u). */
int raw_icmp_is_multi(const struct icmp_opts *o, int argc, char **argv);
/* Several targets: resolve, probe, report; the exit status (or -1 with @e). */
int raw_icmp_multi(struct ctx *c, struct ping_socks *s, struct priv *pv, int argc, char **argv,
		   struct err *e);
/* --openmetrics after a one-target run. */
int raw_icmp_metrics_one(const struct ctx *c, struct err *e);

#endif
