/* SPDX-License-Identifier: MIT */
/* --trace: traceroute over TCP SYN (connect), UDP (udp-send) and ICMP echo (raw-icmp). */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "cmd.h"
#include "cmd_sandbox.h"
#include "err.h"
#include "opt.h"
#include "ping.h"
#include "priv.h"
#include "sock.h"
#include "trace.h"
#include "trace_cmd.h"

static const char *const mode_names[] = { "auto", "dgram", "raw", NULL };

#define TRACE_DETAILS                                                                     \
	"Every hop's probes of a round go out at once; a hop is shown when its\n"          \
	"probes are answered or their wait is over, and the trace ends at the first\n"    \
	"hop that reached the destination or answered with a ! mark.\n"                   \
	"Exit status: 0 the destination was reached, 1 it was not, 2 bad usage."

static const struct opt_cmd desc_tcp = {
	.name = "connect", .args = "--trace HOST PORT  |  HOST:PORT",
	.summary = "trace the route to HOST with TCP SYN probes to PORT (no privilege)",
	.details = TRACE_DETAILS, .min_args = 1, .max_args = 2,
};
static const struct opt_cmd desc_udp = {
	.name = "udp-send", .args = "--trace HOST [PORT]",
	.summary = "trace the route to HOST with UDP probes (port 33434 upward; no privilege)",
	.details = TRACE_DETAILS, .min_args = 1, .max_args = 2,
};
static const struct opt_cmd desc_icmp = {
	.name = "raw-icmp", .args = "--trace HOST",
	.summary = "trace the route to HOST with ICMP echo probes",
	.details = TRACE_DETAILS, .min_args = 1, .max_args = 1,
};

static volatile sig_atomic_t got_stop;

static void on_signal(int sig)
{
	(void)sig;
	got_stop = 1;
}

/*
 * A bad trace command line: when it holds an option of the command that a
 * trace does not take, say that rather than "unknown option".
 */
static void not_for_trace(const struct opt *cmd_opts, const struct opt *opts, int argc,
			  char **argv, struct err *e)
{
	char name[64], buf[48];
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *w = argv[i];
		const struct opt *o = NULL, *p;

		if (w[0] != '-' || !w[1])
			continue;
		if (w[1] == '-') {
			size_t n = strcspn(w + 2, "=");

			if (n >= sizeof(buf))
				continue;
			memcpy(buf, w + 2, n);
			buf[n] = '\0';
			o = opt_find(cmd_opts, buf);
			p = opt_find(opts, buf);
			if (o && p && !(p->flags & OPT_ABSENT))
				o = NULL;
		} else {
			for (p = cmd_opts; p->type != OPT_T_END && !o; p++)
				if (p->shortopt == w[1] && !(p->flags & OPT_ABSENT))
					o = p;
			for (p = opts; o && p->type != OPT_T_END; p++)
				if (p->shortopt == w[1] && !(p->flags & OPT_ABSENT))
					o = NULL;
		}
		if (o && !(o->flags & OPT_ABSENT) && o->type != OPT_T_GROUP) {
			err_set(e, EXIT_USAGE, "%s does not apply to --trace",
				opt_name(o, name, sizeof(name)));
			return;
		}
	}
}

static int parse(const struct opt_cmd *desc, const struct opt *cmd_opts, const struct opt *opts,
		 int argc, char **argv, struct opt_args *pos, int *status)
{
	struct err e = { 0 };

	switch (opt_parse(desc, opts, argc, argv, pos, &e)) {
	case OPT_CONTINUE:
		return 0;
	case OPT_DONE:
		*status = EXIT_OK;
		return 1;
	case OPT_ERROR:
		break;
	}
	not_for_trace(cmd_opts, opts, argc, argv, &e);
	*status = err_report(desc->name, &e);
	return 1;
}

/* The options against each other, before any lookup or socket. */
static int check(struct trace_opts *o, enum trace_proto proto, int argc, char **argv,
		 struct err *e)
{
	int i;

	if (!o->trace) {
		for (i = 1; i < argc && strcmp(argv[i], "--") != 0 && !trace_word(argv[i]); i++)
			;
		return err_set(e, EXIT_USAGE, "--%s needs --trace",
			       i < argc && trace_word(argv[i]) ? trace_word(argv[i]) : "resolve");
	}
	if (o->so.ttl >= 0)
		return err_set(e, EXIT_USAGE, "%s: --trace sets each probe's TTL (use --first-ttl "
			       "and --max-ttl)", proto == TRACE_ICMP ? "-t/--ttl" : "--ttl");
	if (o->so.source_port >= 0)
		return err_set(e, EXIT_USAGE, "-p/--source-port: each --trace probe has a socket "
			       "and a port of its own");
	if (o->so.flowlabel >= 0 && proto != TRACE_ICMP)
		return err_set(e, EXIT_USAGE, "--flowlabel does not apply to --trace over %s",
			       proto == TRACE_TCP ? "TCP" : "UDP");
	if (o->so.mptcp > 0 || o->so.fastopen > 0)
		return err_set(e, EXIT_USAGE, "--%s does not apply to --trace",
			       o->so.mptcp > 0 ? "mptcp" : "fastopen");
	if (o->first_ttl > (o->max_ttl > 0 ? o->max_ttl : TRACE_MAX_TTL))
		return err_set(e, EXIT_USAGE, "--first-ttl %lld is past --max-ttl %lld",
			       o->first_ttl, o->max_ttl > 0 ? o->max_ttl : (long long)TRACE_MAX_TTL);
	if (o->wait == 0)
		return err_set(e, EXIT_USAGE, "%s 0: give a duration greater than 0",
			       proto == TRACE_TCP ? "-w/--timeout" : proto == TRACE_UDP ?
			       "-W/--wait" : "-W/--timeout");
	if (o->cycle_interval >= 0 && o->cycles < 0)
		return err_set(e, EXIT_USAGE, "--cycle-interval needs --cycles");
	if (o->so.flowlabel >= 0 && !o->family)
		o->family = AF_INET6; /* a flow label is IPv6's */
	return 0;
}

static void defaults(struct trace_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_ttl = o->first_ttl = o->queries = o->cycles = -1;
	o->wait = o->cycle_interval = -1;
	sock_opts_init(&o->so);
}

static struct trace_config config(const struct trace_opts *o, enum trace_proto proto)
{
	struct trace_config cfg = {
		.proto = proto,
		.first_ttl = o->first_ttl > 0 ? (int)o->first_ttl : 1,
		.max_ttl = o->max_ttl > 0 ? (int)o->max_ttl : TRACE_MAX_TTL,
		.queries = o->queries > 0 ? (int)o->queries : o->cycles > 0 ? 1 : TRACE_QUERIES,
		.cycles = o->cycles > 0 ? o->cycles : 1,
		.wait = o->wait > 0 ? o->wait : TRACE_WAIT,
		.cycle_interval = o->cycle_interval >= 0 ? o->cycle_interval : TRACE_CYCLE_INTERVAL,
		.so = &o->so,
	};

	return cfg;
}

static void catch_signals(void)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = on_signal; /* no SA_RESTART: poll must return */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Sockets open, privileges dropped: --resolve's threads look names up
 * (/etc readable), --openmetrics writes its file at the end. */
static int trace_sandbox(const struct trace_ctx *c, struct err *e)
{
	const struct trace_opts *o = c->o;
	struct cmd_sandbox sb = { .cmd = c->cmd, .off = o->no_sandbox, .verbose = o->verbose };

	if ((o->resolve && cmd_sandbox_read_paths(&sb, 0, NULL, 1, e)) ||
	    (o->openmetrics && cmd_sandbox_dir_of(&sb, o->openmetrics,
						  SB_FS_WRITE | SB_FS_CREATE | SB_FS_REMOVE, e)))
		return -1;
	return cmd_sandbox_enter(&sb, o->resolve || o->openmetrics ? &sb_trace_files : &sb_trace, e);
}

/* Run the engine set up in @c; the exit status. */
static int run(struct trace_ctx *c, struct err *e)
{
	int rc;

	if (trace_sandbox(c, e))
		return err_report(c->cmd, e);

	catch_signals();
	c->stop = &got_stop;
	if (c->o->verbose && c->t.cfg.proto != TRACE_ICMP)
		err_msg(c->cmd, "%s probes, %s, the routers' answers from the error queue "
			"(IP_RECVERR)", c->t.cfg.proto == TRACE_TCP ? "TCP SYN" : "UDP",
			c->t.cfg.proto == TRACE_UDP && !c->t.cfg.port_fixed
				? "one socket, the TTL of each in its message (sendmmsg)"
				: "a socket of its own for each");
	trace_show_header(c);
	rc = trace_run(&c->t, &got_stop, e);
	if (!rc && !c->out_failed)
		trace_show_end(c);
	if (!rc && c->o->openmetrics && trace_write_openmetrics(c, e))
		rc = -1;
	if (c->out_failed) {
		*e = c->out_err;
		rc = -1;
	}
	if (rc)
		return err_report(c->cmd, e);
	return c->t.reached ? EXIT_OK : EXIT_FAIL;
}

/* HOST [PORT], HOST PORT, HOST:PORT, [V6]:PORT for UDP and TCP; @service "" when none. */
static int target(const struct opt_args *pos, enum trace_proto proto, struct endpoint *ep,
		  struct err *e)
{
	const char *a = pos->argv[0], *colon = strchr(a, ':');
	size_t n = strlen(a);
	int one = pos->argc == 1 && a[0] != '[' && (!colon || colon != strrchr(a, ':'));
	int bracketed = pos->argc == 1 && n > 2 && a[0] == '[' && a[n - 1] == ']';

	memset(ep, 0, sizeof(*ep));
	if (proto == TRACE_UDP && (one || bracketed)) {
		/* a bare host, or [V6] with no port: the probes' ports are ours to choose */
		if (bracketed) {
			a++;
			n -= 2;
		}
		if (n >= sizeof(ep->host))
			return err_set(e, EXIT_USAGE, "HOST: too long");
		snprintf(ep->host, sizeof(ep->host), "%.*s", (int)n, a);
		ep->kind = EP_INET;
		return 0;
	}
	if (addr_parse_endpoint(pos->argc, pos->argv, 0, proto == TRACE_TCP ? "tcp" : "udp", ep, e))
		return -1;
	if (ep->kind != EP_INET)
		return err_set(e, EXIT_USAGE, "%s: --trace needs an IP host", ep->path);
	return 0;
}

static int resolve(struct trace_ctx *c, const struct endpoint *ep, enum trace_proto proto,
		   struct sockaddr_storage *ss, socklen_t *len, struct err *e)
{
	struct addrinfo hints = { 0 };
	int family = c->o->family;

	if (!family && c->o->so.source)
		family = addr_numeric_family(c->o->so.source);
	hints.ai_family = family;
	hints.ai_socktype = proto == TRACE_TCP ? SOCK_STREAM : SOCK_DGRAM;
	if (sock_resolve_first(ep->host, *ep->service ? ep->service : NULL, &hints, ss, len, e))
		return -1;
	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return err_set(e, EXIT_FAIL, "%s: no IPv4 or IPv6 address", ep->host);
	c->port = *ep->service ? (uint16_t)addr_port((struct sockaddr *)ss) : TRACE_UDP_PORT;
	addr_ntop((struct sockaddr *)ss, *len, c->addr, sizeof(c->addr));
	return 0;
}

int cmd_trace(enum trace_proto proto, const struct opt *cmd_opts, int argc, char **argv)
{
	struct trace_opts o;
	struct opt tcp_opts[] = {
		OPT_IPV4(&o.family), OPT_IPV6(&o.family),
		OPT_NUMERIC_HOST('n', &o.numeric_host),
		OPT_DURATION_D('w', "timeout", &o.wait, TRACE_WAIT,
			       "wait DUR for each probe's answer"),
		OPT_TRACE(&o, "TCP SYN"),
		OPT_SOCKOPTS(&o.so, SOCKOPT_TCP | SOCKOPT_CLIENT),
		OPT_GROUP("Output"), OPT_TRACE_OPENMETRICS(&o), OPT_JSON(&o.json),
		OPT_NO_SANDBOX(&o.no_sandbox), OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt udp_opts[] = {
		OPT_IPV4(&o.family), OPT_IPV6(&o.family),
		OPT_NUMERIC_HOST('n', &o.numeric_host),
		OPT_DURATION_D('W', "wait", &o.wait, TRACE_WAIT,
			       "wait DUR for each probe's answer"),
		OPT_TRACE(&o, "UDP"),
		OPT_SOCKOPTS(&o.so, SOCKOPT_UDP | SOCKOPT_CLIENT),
		OPT_GROUP("Output"), OPT_TRACE_OPENMETRICS(&o), OPT_JSON(&o.json),
		OPT_NO_SANDBOX(&o.no_sandbox), OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	const struct opt *opts = proto == TRACE_TCP ? tcp_opts : udp_opts;
	const struct opt_cmd *desc = proto == TRACE_TCP ? &desc_tcp : &desc_udp;
	struct trace_ctx c = { .cmd = desc->name, .o = &o };
	struct trace_config cfg;
	struct opt_args pos;
	struct endpoint ep;
	struct sockaddr_storage ss;
	socklen_t len;
	struct err e = { 0 };
	int status;
	long limit;

	defaults(&o);
	if (parse(desc, cmd_opts, opts, argc, argv, &pos, &status))
		return status;
	if (check(&o, proto, argc, argv, &e) || target(&pos, proto, &ep, &e) ||
	    addr_check_host_family(ep.host, o.family, &e) ||
	    (o.numeric_host && addr_check_numeric(ep.host, &e)) ||
	    sock_check_opts(&o.so, o.family, proto == TRACE_TCP ? SOCK_STREAM : SOCK_DGRAM, &e))
		return err_report(desc->name, &e);
	cfg = config(&o, proto);
	/* every probe of a round holds a descriptor */
	limit = sock_raise_nofile() - 16;
	if ((long)(cfg.max_ttl - cfg.first_ttl + 1) * cfg.queries > limit) {
		err_set(&e, EXIT_USAGE, "--max-ttl and --queries ask for %d probes at once: the "
			"descriptor limit allows %ld", (cfg.max_ttl - cfg.first_ttl + 1) * cfg.queries,
			limit);
		return err_report(desc->name, &e);
	}
	c.host = ep.host;
	if (resolve(&c, &ep, proto, &ss, &len, &e))
		return err_report(desc->name, &e);
	cfg.port = c.port;
	cfg.port_fixed = proto == TRACE_TCP || *ep.service;
	if (trace_init(&c.t, &cfg, (struct sockaddr *)&ss, len, trace_show_event, &c, &e)) {
		trace_free(&c.t);
		return err_report(desc->name, &e);
	}
	status = run(&c, &e);
	trace_free(&c.t);
	return status;
}

/* ---- raw-icmp --trace ---- */

static int icmp_socket(struct trace_ctx *c, struct ping_socks *s, const struct icmp_family *f,
		       struct sockaddr_storage *dst, struct err *e)
{
	const struct trace_opts *o = c->o;
	const char *why;
	int fd = ping_socks_take(s, f, o->mode, o->mode != PING_MODE_RAW, &c->raw, &why, e);

	if (fd < 0)
		return -1;
	if (sock_apply_opts(fd, f->family, c->raw ? SOCK_RAW : SOCK_DGRAM, &o->so, e) ||
	    sock_bind_source(fd, f->family, SOCK_DGRAM, &o->so, e) ||
	    sock_flowlabel(fd, &o->so, (struct sockaddr *)dst, e)) {
		close(fd);
		return -1;
	}
	if (o->verbose)
		err_msg(c->cmd, "probes on a %s socket%s%s", c->raw ? "raw" : "datagram",
			*why ? ", because " : "", why);
	return fd;
}

int cmd_trace_icmp(const struct opt *cmd_opts, int argc, char **argv, struct ping_socks *s,
		   struct priv *pv, int open_failed, const struct err *open_err)
{
	struct trace_opts o;
	struct opt opts[] = {
		OPT_IPV4(&o.family), OPT_IPV6(&o.family),
		OPT_DURATION_D('W', "timeout", &o.wait, TRACE_WAIT,
			       "wait DUR for each probe's answer"),
		OPT_CHOICE(0, "mode", &o.mode, "MODE", mode_names,
			   "socket: auto (dgram, then raw), dgram or raw"),
		OPT_TRACE(&o, "ICMP echo"),
		OPT_SOCKOPTS(&o.so, SOCKOPT_ICMP),
		OPT_GROUP("Output"),
		OPT_FLAG('n', "numeric", &o.numeric, "numeric addresses only (always so)"),
		OPT_NUMERIC_HOST(0, &o.numeric_host),
		OPT_TRACE_OPENMETRICS(&o), OPT_JSON(&o.json), OPT_NO_SANDBOX(&o.no_sandbox),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct trace_ctx c = { .cmd = desc_icmp.name, .o = &o };
	const struct icmp_family *f;
	struct trace_config cfg;
	struct opt_args pos;
	struct sockaddr_storage ss;
	socklen_t len;
	struct err e = { 0 };
	int status, fd;

	defaults(&o);
	if (open_failed) {
		ping_socks_close(s, 0);
		return err_report(desc_icmp.name, open_err);
	}
	if (parse(&desc_icmp, cmd_opts, opts, argc, argv, &pos, &status)) {
		ping_socks_close(s, 0);
		return status;
	}
	c.host = pos.argv[0];
	if (check(&o, TRACE_ICMP, argc, argv, &e) ||
	    addr_check_host_family(c.host, o.family, &e) ||
	    (o.numeric_host && addr_check_numeric(c.host, &e)) ||
	    ping_resolve(c.host, o.family, &ss, &len, &f, &e) ||
	    (fd = icmp_socket(&c, s, f, &ss, &e)) < 0) {
		ping_socks_close(s, 0);
		return err_report(desc_icmp.name, &e);
	}
	ping_socks_close(s, 0);
	/* root kept its rights for --mark: the options are set, they go now */
	if (getuid() == 0 && priv_drop(pv, &e)) {
		close(fd);
		return err_report(desc_icmp.name, &e);
	}
	addr_ntop((struct sockaddr *)&ss, len, c.addr, sizeof(c.addr));
	cfg = config(&o, TRACE_ICMP);
	if (trace_init(&c.t, &cfg, (struct sockaddr *)&ss, len, trace_show_event, &c, &e) ||
	    trace_icmp_socket(&c.t, fd, c.raw, &e)) {
		if (c.t.icmp_fd != fd)
			close(fd);
		trace_free(&c.t);
		return err_report(desc_icmp.name, &e);
	}
	status = run(&c, &e);
	trace_free(&c.t);
	return status;
}
