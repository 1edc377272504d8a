/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "opt.h"
#include "sock.h"
#include "unit.h"

struct o {
	int family, verbose, json, mode, port;
	const char *name;
	long long count;
	int64_t timeout;
	unsigned long long size;
	int cb_calls;
	int reuse, tos;
	struct sockopts so;
};

static const char *const modes[] = { "auto", "dgram", "raw", NULL };

static int cb(const struct opt *op, const char *arg, struct err *e)
{
	struct o *x = op->value;

	if (!strcmp(arg, "bad"))
		return err_set(e, EXIT_USAGE, "bad value '%s'", arg);
	x->cb_calls++;
	return 0;
}

static const struct opt_cmd cmd = { .name = "t", .args = "A [B]", .summary = "test",
				    .min_args = 1, .max_args = 2 };

/* parse(x, pos, e, "arg", ..., NULL) */
static int parse(struct o *x, struct opt_args *pos, struct err *e, ...)
{
	static char *argv[32];
	struct opt opts[] = {
		OPT_IPV4(&x->family),
		OPT_IPV6(&x->family),
		OPT_VERBOSE(&x->verbose),
		OPT_JSON(&x->json),
		OPT_CHOICE(0, "mode", &x->mode, "MODE", modes, "mode"),
		OPT_PORT('p', "source-port", &x->port, "port"),
		OPT_STRING('s', "source", &x->name, "ADDR", "source"),
		OPT_INT('c', "count", &x->count, "N", 1, 1000, "count"),
		OPT_DURATION('w', "timeout", &x->timeout, "timeout"),
		OPT_SIZE(0, "size", &x->size, 65507, "size"),
		OPT_CALLBACK(0, "allow", x, "CIDR", cb, "allow"),
		{ .type = OPT_T_BOOL, .longopt = "reuse", .value = &x->reuse, .help = "reuse",
		  .flags = OPT_NEGATABLE },
		OPT_TOS('Q', &x->tos),
		OPT_GROUP("Socket options"),
		OPT_SOCKOPTS(&x->so, SOCKOPT_UDP),
		OPT_END,
	};
	va_list ap;
	int i;

	va_start(ap, e);
	argv[0] = "t";
	for (i = 1; i < 31 && (argv[i] = va_arg(ap, char *)); i++)
		;
	argv[i] = NULL;
	va_end(ap);
	memset(x, 0, sizeof(*x));
	x->timeout = -1;
	x->reuse = x->tos = -1;
	sock_opts_init(&x->so);
	return opt_parse(&cmd, opts, i, argv, pos, e);
}

int main(void)
{
	struct opt_args pos;
	struct err e;
	struct o x;

	CHECK(parse(&x, &pos, &e, "-4", "-vv", "--json", "host", "-w", "1.5", "--count=7",
		    "80", NULL) == OPT_CONTINUE,
	      "mixed options and args");
	CHECK(x.family == AF_INET && x.verbose == 2 && x.json == 1, "flags set");
	CHECK(x.timeout == 1500 * NS_PER_MS && x.count == 7, "values set");
	CHECK(pos.argc == 2 && !strcmp(pos.argv[0], "host") && !strcmp(pos.argv[1], "80"),
	      "positionals permuted to the end");
	CHECK(parse(&x, &pos, &e, "--mode", "raw", "h", NULL) == OPT_CONTINUE && x.mode == 2,
	      "choice");
	CHECK(parse(&x, &pos, &e, "--mode", "rw", "h", NULL) == OPT_ERROR &&
		      strstr(e.msg, "--mode") && strstr(e.msg, "auto, dgram, raw"),
	      "bad choice names option and values: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-4", "-6", "h", NULL) == OPT_ERROR && strstr(e.msg, "conflicts"),
	      "-4 -6 conflict: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-4", "-4", "h", NULL) == OPT_CONTINUE, "-4 twice is fine");
	CHECK(parse(&x, &pos, &e, "--bogus", "h", NULL) == OPT_ERROR && e.status == EXIT_USAGE &&
		      strstr(e.msg, "--bogus"),
	      "unknown long option: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-Z", "h", NULL) == OPT_ERROR && strstr(e.msg, "'-Z'"),
	      "unknown short option: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-4Z", "h", NULL) == OPT_ERROR && strstr(e.msg, "'-Z'"),
	      "unknown short option in a cluster: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "h", "-w", NULL) == OPT_ERROR && strstr(e.msg, "-w/--timeout") &&
		      strstr(e.msg, "needs a value"),
	      "missing value: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "h", "--timeout", NULL) == OPT_ERROR && strstr(e.msg, "--timeout"),
	      "missing value, long: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-c", "0", "h", NULL) == OPT_ERROR && strstr(e.msg, "-c/--count"),
	      "count range: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-w", "soon", "h", NULL) == OPT_ERROR &&
		      strstr(e.msg, "-w/--timeout") && strstr(e.msg, "duration"),
	      "bad duration: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "--size", "64k", "h", NULL) == OPT_ERROR, "size max: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-p", "http", "h", NULL) == OPT_CONTINUE && x.port == 80,
	      "port by service name");
	CHECK(parse(&x, &pos, &e, "-p", "70000", "h", NULL) == OPT_ERROR, "port out of range");
	CHECK(parse(&x, &pos, &e, "--allow", "a", "--allow", "b", "h", NULL) == OPT_CONTINUE &&
		      x.cb_calls == 2,
	      "repeatable callback");
	CHECK(parse(&x, &pos, &e, "--allow", "bad", "h", NULL) == OPT_ERROR &&
		      strstr(e.msg, "--allow: bad value"),
	      "callback error prefixed: %s", e.msg);
	CHECK(parse(&x, &pos, &e, NULL) == OPT_ERROR && strstr(e.msg, "missing"), "too few args");
	CHECK(parse(&x, &pos, &e, "a", "b", "c", NULL) == OPT_ERROR && strstr(e.msg, "'c'"),
	      "too many args: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "--", "-4", "b", NULL) == OPT_CONTINUE && x.family == 0 &&
		      !strcmp(pos.argv[0], "-4"),
	      "-- ends options");
	/* the option types of the socket-option group */
	CHECK(parse(&x, &pos, &e, "--reuse", "h", NULL) == OPT_CONTINUE && x.reuse == 1, "bool on");
	CHECK(parse(&x, &pos, &e, "--no-reuse", "h", NULL) == OPT_CONTINUE && x.reuse == 0,
	      "generated --no-NAME");
	CHECK(parse(&x, &pos, &e, "h", NULL) == OPT_CONTINUE && x.reuse == -1, "bool left unset");
	CHECK(parse(&x, &pos, &e, "--reuse", "--no-reuse", "h", NULL) == OPT_ERROR &&
		      strstr(e.msg, "--reuse conflicts with --no-reuse"),
	      "--X --no-X conflict: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-Q", "0x10", "h", NULL) == OPT_CONTINUE && x.tos == 16,
	      "int in hex");
	CHECK(parse(&x, &pos, &e, "-Q", "0XfF", "h", NULL) == OPT_CONTINUE && x.tos == 255,
	      "int in upper-case hex");
	CHECK(parse(&x, &pos, &e, "-Q", "16", "h", NULL) == OPT_CONTINUE && x.tos == 16,
	      "int in decimal");
	CHECK(parse(&x, &pos, &e, "-Q", "0x100", "h", NULL) == OPT_ERROR &&
		      strstr(e.msg, "-Q/--tos") && strstr(e.msg, "out of range"),
	      "hex out of range: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-Q", "0x", "h", NULL) == OPT_ERROR && strstr(e.msg, "not a number"),
	      "bare 0x: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-Q", "0x1g", "h", NULL) == OPT_ERROR, "bad hex digit");
	CHECK(parse(&x, &pos, &e, "--mark", "0xffffffff", "--rcvbuf", "1M", "-b", "--pmtu", "do",
		    "h", NULL) == OPT_CONTINUE &&
		      x.so.mark == 0xffffffffLL && x.so.rcvbuf == 1 << 20 && x.so.broadcast == 1 &&
		      x.so.pmtu == 2 && x.so.sndbuf == SOCKOPT_UNSET && x.so.reuseaddr == SOCKOPT_UNSET,
	      "the group writes straight into struct sockopts");
	CHECK(parse(&x, &pos, &e, "--no-reuseaddr", "h", NULL) == OPT_CONTINUE &&
		      x.so.reuseaddr == 0,
	      "the group's --no-reuseaddr");
	CHECK(parse(&x, &pos, &e, "--nodelay", "h", NULL) == OPT_ERROR && strstr(e.msg, "--nodelay"),
	      "TCP options are absent from a UDP-only group: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-s", "1.2.3.4", "h", NULL) == OPT_CONTINUE &&
		      !strcmp(x.name, "1.2.3.4") && !x.so.source,
	      "the group's absent -s leaves the table's own -s alone");
	CHECK(parse(&x, &pos, &e, "-I", "lo", "h", NULL) == OPT_CONTINUE && x.so.iface &&
		      !strcmp(x.so.iface, "lo"),
	      "-I an interface that exists");
	CHECK(parse(&x, &pos, &e, "-I", "nosuch0", "h", NULL) == OPT_ERROR &&
		      e.status == EXIT_USAGE && strstr(e.msg, "-I/--interface: no interface"),
	      "-I an interface that does not: %s", e.msg);
	CHECK(parse(&x, &pos, &e, "-I", "127.0.0.1", "h", NULL) == OPT_ERROR,
	      "-I takes an address only for ICMP");
	{
		/* a long table: the string of short options is sized from it */
		static int f[60];
		struct opt many[61];
		static char letters[61];
		char *argv[] = { "t", "-7", "-z", NULL };
		int i, n = 0;

		for (i = 0; i < 60; i++)
			letters[i] = (char)(i < 26 ? 'a' + i : i < 52 ? 'A' + i - 26 : '0' + i - 52);
		letters[60] = 0;
		/* the long names are the tails of one string: all different */
		for (i = 0; i < 60; i++)
			many[i] = (struct opt){ .type = OPT_T_FLAG, .shortopt = letters[i],
						.longopt = letters + i, .value = &f[i], .help = "x" };
		many[60] = (struct opt)OPT_END;
		CHECK(opt_parse(&cmd, many, 3, argv, &pos, &e) == OPT_ERROR, "no positional");
		n = f[59] + f[25];
		CHECK(n == 2, "the last short options of a long table still parse (%d)", n);
	}
	return UNIT_DONE();
}
