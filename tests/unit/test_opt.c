/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "opt.h"
#include "unit.h"

struct o {
	int family, verbose, json, mode, port;
	const char *name;
	long long count;
	int64_t timeout;
	unsigned long long size;
	int cb_calls;
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
	return UNIT_DONE();
}
