/* SPDX-License-Identifier: MIT */
/*
 * opt_parse over a whole argv: the input split on NUL bytes is the argument
 * list after the command name, parsed against a table that has every
 * OPT_* kind (and two SETs on one field, a hidden option, a callback).
 */
#include <unistd.h>

#include "addr.h"
#include "fuzz.h"
#include "opt.h"
#include "sock.h"

#define MAX_ARGS 64

struct fuzz_opts {
	int family, verbose, json, nonblock, hidden, port, choice;
	const char *str, *strv;
	long long count;
	int64_t timeout;
	unsigned long long size;
	struct cidr allow;
	int nallow;
	int boolean, tos;
	struct sockopts so;
};

static const char *const choices[] = { "auto", "always", "never", NULL };
static const char *const values[] = { "stream", "dgram", NULL };

static int allow_cb(const struct opt *o, const char *arg, struct err *e)
{
	struct fuzz_opts *fo = o->value;

	if (addr_parse_cidr(arg, &fo->allow, e))
		return -1;
	fo->nallow++;
	return 0;
}

static const struct opt_cmd cmd = {
	.name = "fuzz",
	.args = "HOST [PORT]",
	.summary = "A table with every option kind.",
	.details = "Details.",
	.min_args = 0,
	.max_args = 2,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* --help and --list-options answer on stdout: exercise them quietly */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_opts o = { 0 };
	struct opt opts[] = {
		OPT_IPV4(&o.family),
		OPT_IPV6(&o.family),
		OPT_VERBOSE(&o.verbose),
		OPT_JSON(&o.json),
		OPT_NONBLOCK(&o.nonblock),
		OPT_STRING('s', "source", &o.str, "ADDR", "a string"),
		OPT_STRINGV(0, "type", &o.strv, "TYPE", values, "a string with values"),
		OPT_INT('c', "count", &o.count, "N", 1, 1000000, "an integer"),
		OPT_DURATION('w', "timeout", &o.timeout, "a duration"),
		OPT_SIZE('b', "buffer", &o.size, 1ULL << 30, "a size"),
		OPT_PORT('p', "port", &o.port, "a port"),
		OPT_CHOICE(0, "color", &o.choice, "WHEN", choices, "a choice"),
		OPT_CALLBACK(0, "allow", &o, "CIDR", allow_cb, "a callback"),
		{ .type = OPT_T_FLAG, .longopt = "secret", .value = &o.hidden,
		  .help = "hidden", .flags = OPT_HIDDEN },
		{ .type = OPT_T_BOOL, .longopt = "bool", .value = &o.boolean, .help = "a boolean",
		  .flags = OPT_NEGATABLE },
		OPT_TOS('Q', &o.tos),
		OPT_SOCKOPTS(&o.so, SOCKOPT_TCP | SOCKOPT_UDP),
		OPT_END,
	};
	char *argv[MAX_ARGS + 2];
	struct opt_args pos = { 0 };
	struct err e = { 0 };
	enum opt_result r;
	int argc, i;

	o.boolean = o.tos = -1;
	sock_opts_init(&o.so);

	argv[0] = fuzz_str((const uint8_t *)"fuzz", 4);
	argc = 1 + (size ? fuzz_split(data, size, argv + 1, MAX_ARGS) : 0);
	argv[argc] = NULL;
	r = opt_parse(&cmd, opts, argc, argv, &pos, &e);
	switch (r) {
	case OPT_ERROR:
		fuzz_check_err(&e, EXIT_USAGE);
		break;
	case OPT_CONTINUE:
		FUZZ_ASSERT(pos.argc >= cmd.min_args && pos.argc <= cmd.max_args, "argc %d",
			    pos.argc);
		FUZZ_ASSERT(pos.argv >= argv && pos.argv + pos.argc <= argv + argc,
			    "positional arguments outside argv");
		FUZZ_ASSERT(o.count == 0 || (o.count >= 1 && o.count <= 1000000), "count %lld",
			    o.count);
		FUZZ_ASSERT(o.size <= 1ULL << 30, "size %llu", o.size);
		FUZZ_ASSERT(o.boolean >= -1 && o.boolean <= 1, "bool %d", o.boolean);
		FUZZ_ASSERT(o.tos >= -1 && o.tos <= 255, "tos %d", o.tos);
		FUZZ_ASSERT(o.so.mark >= -1 && o.so.mark <= 0xffffffffLL, "mark %lld", o.so.mark);
		FUZZ_ASSERT(o.so.sndbuf >= -1 && o.so.sndbuf <= 1 << 30, "sndbuf %d", o.so.sndbuf);
		FUZZ_ASSERT(o.choice >= 0 && o.choice < 3, "choice %d", o.choice);
		FUZZ_ASSERT(o.timeout >= 0, "timeout %lld", (long long)o.timeout);
		break;
	case OPT_DONE:
		break;
	default:
		FUZZ_ASSERT(0, "result %d", (int)r);
	}
	for (i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
