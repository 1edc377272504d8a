/* SPDX-License-Identifier: MIT */
/* sockctl resolve: getaddrinfo(3) and getnameinfo(3), exactly as libc sees them. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "cmd.h"
#include "cmd_sandbox.h"
#include "err.h"
#include "opt.h"
#include "out.h"
#include "parse.h"
#include "sock.h"

struct resolve_opts {
	int family;
	const char *type, *protocol;
	int passive, canonname, numeric_host, numeric_serv, addrconfig, v4mapped, all;
	int reverse, numeric, namereq, nofqdn, dgram;
	int json, verbose, no_sandbox;
};

const struct opt_cmd cmd_resolve_desc = {
	.name = "resolve",
	.args = "HOST [SERVICE]  |  --reverse ADDRESS [PORT]",
	.summary = "show every getaddrinfo(3) result; --reverse: getnameinfo(3)",
	.details = "HOST may be '' (no host: loopback, or the wildcards with --passive).\n"
		   "Hints are zero except what the options set, so the answers match\n"
		   "Python's socket.getaddrinfo(HOST, SERVICE, FAMILY) in the same order.",
	.min_args = 0,
	.max_args = 2,
};

struct flag_name {
	int flag;
	const char *name;
};

static const struct flag_name ai_flags[] = {
	{ AI_PASSIVE, "AI_PASSIVE" },         { AI_CANONNAME, "AI_CANONNAME" },
	{ AI_NUMERICHOST, "AI_NUMERICHOST" }, { AI_NUMERICSERV, "AI_NUMERICSERV" },
	{ AI_ADDRCONFIG, "AI_ADDRCONFIG" },   { AI_V4MAPPED, "AI_V4MAPPED" },
	{ AI_ALL, "AI_ALL" },
};

static const struct flag_name ni_flags[] = {
	{ NI_NUMERICHOST, "NI_NUMERICHOST" }, { NI_NUMERICSERV, "NI_NUMERICSERV" },
	{ NI_NAMEREQD, "NI_NAMEREQD" },       { NI_NOFQDN, "NI_NOFQDN" },
	{ NI_DGRAM, "NI_DGRAM" },
};

static const char *flag_names(const struct flag_name *t, size_t n, int flags, char *buf,
			      size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		if ((flags & t[i].flag) && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "|" : "",
						 t[i].name);
	if (!used)
		snprintf(buf, len, "0");
	return buf;
}

/* Options that belong to one mode only. */
static int check_mode(const struct resolve_opts *o, struct err *e)
{
	static const char *const fwd[] = { "passive", "canonname", "addrconfig", "v4mapped",
					   "all",     "type",      "protocol" };
	static const char *const rev[] = { "numeric", "namereq", "nofqdn", "dgram" };
	const int fwd_set[] = { o->passive, o->canonname, o->addrconfig, o->v4mapped,
				o->all,     o->type != NULL, o->protocol != NULL };
	const int rev_set[] = { o->numeric, o->namereq, o->nofqdn, o->dgram };
	size_t i;

	for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		if (o->reverse && fwd_set[i])
			return err_set(e, EXIT_USAGE, "--%s cannot be used with --reverse", fwd[i]);
	for (i = 0; i < sizeof(rev) / sizeof(rev[0]); i++)
		if (!o->reverse && rev_set[i])
			return err_set(e, EXIT_USAGE, "--%s needs --reverse", rev[i]);
	if (o->reverse && o->family)
		return err_set(e, EXIT_USAGE, "-4/-6 cannot be used with --reverse "
					      "(the ADDRESS sets the family)");
	return 0;
}

/*
 * A name from NSS (/etc/hosts, DNS, /etc/services) for the text table: anyone
 * who controls a zone or a hosts line chooses its bytes, so escape what a
 * terminal would act on (and any non-ASCII byte unless the locale is UTF-8).
 */
static const char *nss_shown(const char *s, char *buf, size_t n)
{
	out_text_escape_buf(buf, n, s, strlen(s), out_locale_utf8() ? OUT_UTF8 : 0);
	return buf;
}

static void print_row_json(const struct addrinfo *ai, const char *addr, FILE *f)
{
	char num[16];
	struct jsonw w;
	const char *fam = addr_family_name(ai->ai_family);
	const char *type = addr_socktype_name(ai->ai_socktype);
	const char *proto;

	json_begin(&w, f);
	json_str(&w, "event", "address");
	if (fam)
		json_str(&w, "family", fam);
	else
		json_int(&w, "family", ai->ai_family);
	if (type)
		json_str(&w, "type", type);
	else
		json_int(&w, "type", ai->ai_socktype);
	/* a named protocol is a string, an unnamed one its number */
	proto = addr_proto_name(ai->ai_protocol, num, sizeof(num));
	if (proto != num)
		json_str(&w, "protocol", proto);
	else
		json_int(&w, "protocol", ai->ai_protocol);
	json_str(&w, "address", addr);
	json_uint(&w, "port", addr_port(ai->ai_addr));
	if (ai->ai_canonname)
		json_str(&w, "canonname", ai->ai_canonname);
	json_end(&w);
}

static int print_results(const struct resolve_opts *o, const struct addrinfo *res)
{
	const struct addrinfo *ai;
	struct table t;
	int rc;

	if (!o->json) {
		table_init(&t, o->canonname ? 6 : 5);
		table_add(&t, (const char *const[]){ "FAMILY", "TYPE", "PROTOCOL", "ADDRESS", "PORT",
						     "CANONNAME" });
	}
	for (ai = res; ai; ai = ai->ai_next) {
		char addr[ADDR_STRLEN], port[8], fam[16], type[16], proto[16];
		char canon[4 * NI_MAXHOST];

		addr_ntop(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr));
		if (o->json) {
			print_row_json(ai, addr, stdout);
			continue;
		}
		snprintf(port, sizeof(port), "%u", addr_port(ai->ai_addr));
		snprintf(fam, sizeof(fam), "%s",
			 addr_family_name(ai->ai_family) ? addr_family_name(ai->ai_family) : "?");
		if (addr_socktype_name(ai->ai_socktype))
			snprintf(type, sizeof(type), "%s", addr_socktype_name(ai->ai_socktype));
		else
			snprintf(type, sizeof(type), "%d", ai->ai_socktype);
		table_add(&t, (const char *const[]){
				      fam, type, addr_proto_name(ai->ai_protocol, proto, sizeof(proto)),
				      addr, port,
				      ai->ai_canonname ? nss_shown(ai->ai_canonname, canon, sizeof(canon))
						       : "-" });
	}
	if (o->json)
		return 0;
	rc = table_print(&t, stdout);
	table_free(&t);
	return rc;
}

/* The lookup is done: what is left prints what it returned (see sandbox_tables.c). */
#define enter_sandbox(o, e) cmd_sandbox_plain("resolve", (o)->no_sandbox, (o)->verbose, \
					      &sb_resolve, (e))

static int forward(const struct resolve_opts *o, const struct opt_args *pos, struct err *e)
{
	const char *host = pos->argc > 0 && *pos->argv[0] ? pos->argv[0] : NULL;
	const char *service = pos->argc > 1 && *pos->argv[1] ? pos->argv[1] : NULL;
	struct addrinfo hints, *res;
	int64_t t0, took;
	char flags[160], dur[32];

	if (!host && !service)
		return err_set(e, EXIT_USAGE, "need a HOST or a SERVICE (see 'sockctl resolve --help')");
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = o->family;
	if (o->type && addr_socktype_parse(o->type, &hints.ai_socktype, e))
		return -1;
	if (o->protocol && addr_proto_parse(o->protocol, &hints.ai_protocol, e))
		return -1;
	hints.ai_flags = (o->passive ? AI_PASSIVE : 0) | (o->canonname ? AI_CANONNAME : 0) |
			 (o->numeric_host ? AI_NUMERICHOST : 0) |
			 (o->numeric_serv ? AI_NUMERICSERV : 0) |
			 (o->addrconfig ? AI_ADDRCONFIG : 0) | (o->v4mapped ? AI_V4MAPPED : 0) |
			 (o->all ? AI_ALL : 0);
	if (o->verbose)
		err_msg("resolve", "getaddrinfo(%s%s%s, %s%s%s, {family=%s, socktype=%d, protocol=%d, flags=%s})",
			host ? "\"" : "", host ? host : "NULL", host ? "\"" : "",
			service ? "\"" : "", service ? service : "NULL", service ? "\"" : "",
			addr_family_name(hints.ai_family), hints.ai_socktype, hints.ai_protocol,
			flag_names(ai_flags, sizeof(ai_flags) / sizeof(ai_flags[0]),
				   hints.ai_flags, flags, sizeof(flags)));
	t0 = clock_mono_ns();
	if (sock_getaddrinfo(host, service, &hints, &res, e))
		return -1;
	took = clock_mono_ns() - t0;
	if (o->verbose) {
		size_t n = 0;
		const struct addrinfo *ai;

		for (ai = res; ai; ai = ai->ai_next)
			n++;
		err_msg("resolve", "getaddrinfo returned %zu result%s in %s", n, n == 1 ? "" : "s",
			parse_format_duration(took, dur, sizeof(dur)));
	}
	if (enter_sandbox(o, e)) {
		freeaddrinfo(res);
		return -1;
	}
	if (print_results(o, res)) {
		freeaddrinfo(res);
		return err_set(e, EXIT_FAIL, "out of memory");
	}
	freeaddrinfo(res);
	return 0;
}

static int reverse(const struct resolve_opts *o, const struct opt_args *pos, struct err *e)
{
	struct addrinfo hints, *res;
	char host[NI_MAXHOST], serv[NI_MAXSERV], flags[160], dur[32], where[ADDR_STRLEN];
	const char *port = pos->argc > 1 ? pos->argv[1] : "0";
	unsigned long long p;
	int64_t t0;
	int fl, rc;

	if (pos->argc < 1)
		return err_set(e, EXIT_USAGE, "--reverse needs an ADDRESS");
	if (parse_uint(port, 0, 65535, &p, "port", e))
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM; /* one result per address */
	if (getaddrinfo(pos->argv[0], port, &hints, &res))
		return err_set(e, EXIT_USAGE, "bad address '%.64s' (--reverse takes a numeric "
					      "IPv4 or IPv6 address)", pos->argv[0]);
	fl = (o->numeric || o->numeric_host ? NI_NUMERICHOST : 0) |
	     (o->numeric || o->numeric_serv ? NI_NUMERICSERV : 0) |
	     (o->namereq ? NI_NAMEREQD : 0) | (o->nofqdn ? NI_NOFQDN : 0) |
	     (o->dgram ? NI_DGRAM : 0);
	if (o->verbose)
		err_msg("resolve", "getnameinfo(%s, flags=%s)",
			addr_format(res->ai_addr, res->ai_addrlen, where, sizeof(where)),
			flag_names(ni_flags, sizeof(ni_flags) / sizeof(ni_flags[0]), fl, flags,
				   sizeof(flags)));
	t0 = clock_mono_ns();
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host), serv, sizeof(serv), fl);
	if (o->verbose)
		err_msg("resolve", "getnameinfo took %s",
			parse_format_duration(clock_mono_ns() - t0, dur, sizeof(dur)));
	if (!rc && enter_sandbox(o, e)) {
		freeaddrinfo(res);
		return -1;
	}
	if (rc) {
		freeaddrinfo(res);
		if (rc == EAI_SYSTEM)
			return err_sys(e, EXIT_FAIL, errno, "%s: EAI_SYSTEM", pos->argv[0]);
		return err_set(e, EXIT_FAIL, "%s: %s: %s", pos->argv[0], sock_eai_name(rc),
			       err_gai_strerror(rc, flags, sizeof(flags)));
	}
	if (o->json) {
		struct jsonw w;
		char addr[ADDR_STRLEN];

		json_begin(&w, stdout);
		json_str(&w, "event", "name");
		json_str(&w, "address", addr_ntop(res->ai_addr, res->ai_addrlen, addr, sizeof(addr)));
		json_uint(&w, "port", p);
		json_str(&w, "host", host);
		json_str(&w, "service", serv);
		json_end(&w);
	} else {
		struct table t;
		char hs[4 * NI_MAXHOST], ss[4 * NI_MAXSERV];

		table_init(&t, 2);
		table_add(&t, (const char *const[]){ "HOST", "SERVICE" });
		table_add(&t, (const char *const[]){ nss_shown(host, hs, sizeof(hs)),
						     nss_shown(serv, ss, sizeof(ss)) });
		rc = table_print(&t, stdout);
		table_free(&t);
		if (rc) {
			freeaddrinfo(res);
			return err_set(e, EXIT_FAIL, "out of memory");
		}
	}
	freeaddrinfo(res);
	return 0;
}

int cmd_resolve(int argc, char **argv)
{
	struct resolve_opts o = { 0 };
	struct opt opts[] = {
		OPT_IPV4(&o.family),
		OPT_IPV6(&o.family),
		OPT_STRINGV(0, "type", &o.type, "TYPE", addr_socktype_names,
			    "socket type: stream, dgram, raw, seqpacket"),
		OPT_STRINGV(0, "protocol", &o.protocol, "PROTO", addr_proto_names,
			    "protocol name (tcp, udp, ...) or number"),
		OPT_FLAG(0, "passive", &o.passive, "AI_PASSIVE: addresses to bind (no HOST: wildcards)"),
		OPT_FLAG(0, "canonname", &o.canonname, "AI_CANONNAME: show the canonical name"),
		OPT_FLAG(0, "numeric-host", &o.numeric_host,
			 "AI_NUMERICHOST / NI_NUMERICHOST: no name lookup"),
		OPT_FLAG(0, "numeric-serv", &o.numeric_serv,
			 "AI_NUMERICSERV / NI_NUMERICSERV: no service lookup"),
		OPT_FLAG(0, "addrconfig", &o.addrconfig,
			 "AI_ADDRCONFIG: only families configured on this host"),
		OPT_FLAG(0, "v4mapped", &o.v4mapped, "AI_V4MAPPED: IPv4 as ::ffff:a.b.c.d with -6"),
		OPT_FLAG(0, "all", &o.all, "AI_ALL: with --v4mapped, both IPv6 and mapped IPv4"),
		OPT_FLAG('r', "reverse", &o.reverse, "getnameinfo(3): ADDRESS [PORT] to names"),
		OPT_FLAG('n', "numeric", &o.numeric, "with --reverse: NI_NUMERICHOST|NI_NUMERICSERV"),
		OPT_FLAG(0, "namereq", &o.namereq, "with --reverse: NI_NAMEREQD, fail without a name"),
		OPT_FLAG(0, "nofqdn", &o.nofqdn, "with --reverse: NI_NOFQDN, short local names"),
		OPT_FLAG(0, "dgram", &o.dgram, "with --reverse: NI_DGRAM, the UDP service name"),
		OPT_JSON(&o.json),
		OPT_NO_SANDBOX(&o.no_sandbox),
		OPT_VERBOSE(&o.verbose),
		OPT_END,
	};
	struct opt_args pos;
	int status;
	struct err e = { 0 };

	if (opt_run(&cmd_resolve_desc, opts, argc, argv, &pos, &status))
		return status;
	if (check_mode(&o, &e) || (o.reverse ? reverse(&o, &pos, &e) : forward(&o, &pos, &e)))
		return err_report("resolve", &e);
	return EXIT_OK;
}
