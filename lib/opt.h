/* SPDX-License-Identifier: MIT */
/*
 * Declarative option tables.  A command declares a local table whose entries
 * point at fields of its own options struct; opt_parse() drives getopt_long
 * from it, converts and range-checks every value, and answers --help and the
 * hidden --list-options (read by the bash completion and the docs test).
 * The table is the single source of truth for help, completion and docs.
 *
 *	struct opt opts[] = {
 *		OPT_IPV4(&o.family), OPT_IPV6(&o.family),
 *		OPT_DURATION('w', "timeout", &o.timeout, "give up after DUR"),
 *		OPT_END,
 *	};
 */
#ifndef SOCKCTL_OPT_H
#define SOCKCTL_OPT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "err.h"

enum opt_type {
	OPT_T_END,
	OPT_T_FLAG,     /* int *: incremented each time (-v -v) */
	OPT_T_SET,      /* int *: set to .min; two different SETs on one field conflict */
	OPT_T_STRING,   /* const char **: the argument, last one wins */
	OPT_T_INT,      /* long long *: decimal in [.min, .max] */
	OPT_T_DURATION, /* int64_t *: nanoseconds, see parse_duration */
	OPT_T_SIZE,     /* unsigned long long *: bytes, "64k", at most .max */
	OPT_T_PORT,     /* int *: 0-65535 or a service name */
	OPT_T_CHOICE,   /* int *: index into .choices */
	OPT_T_CALLBACK, /* .cb(opt, arg, err) for repeatable or custom options */
};

enum {
	OPT_HIDDEN = 1 << 0, /* parsed, but left out of --help */
};

struct opt;
typedef int (*opt_cb)(const struct opt *o, const char *arg, struct err *e);

struct opt {
	enum opt_type type;
	int shortopt;          /* 0 for none */
	const char *longopt;   /* required */
	void *value;           /* typed by the OPT_* macros: see OPT_PTR */
	const char *argname;   /* "DUR", "N"; NULL for flags */
	const char *help;
	long long min, max;    /* INT range; SET value in .min; SIZE max in .max */
	const char *const *choices; /* CHOICE values; completion values for others */
	opt_cb cb;
	unsigned flags;
};

/*
 * @v as the void * of .value, after checking at compile time that it points
 * to a @T: any other pointer makes the conditional a "pointer type mismatch"
 * diagnostic.  The check generates no code.
 */
#define OPT_PTR(T, v) ((void *)(1 ? (v) : (T *)0))

#define OPT_END { .type = OPT_T_END }
#define OPT_FLAG(s, l, v, h)                                                                \
	{ .type = OPT_T_FLAG, .shortopt = (s), .longopt = (l), .value = OPT_PTR(int, v), \
	  .help = (h) }
#define OPT_SET(s, l, v, val, h)                                                           \
	{ .type = OPT_T_SET, .shortopt = (s), .longopt = (l), .value = OPT_PTR(int, v), \
	  .help = (h), .min = (val) }
#define OPT_STRING(s, l, v, a, h)                                        \
	{ .type = OPT_T_STRING, .shortopt = (s), .longopt = (l),          \
	  .value = OPT_PTR(const char *, v), .argname = (a), .help = (h) }
/* A string whose usual values @c the completion offers (any value is accepted). */
#define OPT_STRINGV(s, l, v, a, c, h)                                                    \
	{ .type = OPT_T_STRING, .shortopt = (s), .longopt = (l),                          \
	  .value = OPT_PTR(const char *, v), .argname = (a), .choices = (c), .help = (h) }
#define OPT_INT(s, l, v, a, lo, hi, h)                                                   \
	{ .type = OPT_T_INT, .shortopt = (s), .longopt = (l),                             \
	  .value = OPT_PTR(long long, v), .argname = (a), .help = (h), .min = (lo), \
	  .max = (hi) }
#define OPT_DURATION(s, l, v, h)                                              \
	{ .type = OPT_T_DURATION, .shortopt = (s), .longopt = (l),             \
	  .value = OPT_PTR(int64_t, v), .argname = "DUR", .help = (h) }
#define OPT_SIZE(s, l, v, hi, h)                                                         \
	{ .type = OPT_T_SIZE, .shortopt = (s), .longopt = (l),                            \
	  .value = OPT_PTR(unsigned long long, v), .argname = "BYTES", .help = (h), \
	  .max = (hi) }
#define OPT_PORT(s, l, v, h)                                                               \
	{ .type = OPT_T_PORT, .shortopt = (s), .longopt = (l), .value = OPT_PTR(int, v), \
	  .argname = "PORT", .help = (h) }
#define OPT_CHOICE(s, l, v, a, c, h)                                                         \
	{ .type = OPT_T_CHOICE, .shortopt = (s), .longopt = (l), .value = OPT_PTR(int, v), \
	  .argname = (a), .choices = (c), .help = (h) }
/* @v may point to anything: the callback @fn knows what. */
#define OPT_CALLBACK(s, l, v, a, fn, h)                                                           \
	{ .type = OPT_T_CALLBACK, .shortopt = (s), .longopt = (l), .value = (v), .argname = (a), \
	  .cb = (fn), .help = (h) }

/* The options every command spells the same way. */
#define OPT_IPV4(v) OPT_SET('4', "ipv4", (v), AF_INET, "use IPv4 only")
#define OPT_IPV6(v) OPT_SET('6', "ipv6", (v), AF_INET6, "use IPv6 only")
#define OPT_VERBOSE(v) OPT_FLAG('v', "verbose", (v), "show each step on stderr")
#define OPT_JSON(v) OPT_FLAG(0, "json", (v), "write results and events as JSON Lines")
/* nc's -n; raw-icmp has no @s, its -n is ping's (numeric output). */
#define OPT_NUMERIC_HOST(s, v)                                       \
	OPT_FLAG((s), "numeric-host", (v),                           \
		 "AI_NUMERICHOST: addresses only, no name lookup")
#define OPT_NONBLOCK(v) \
	OPT_FLAG(0, "nonblock", (v), "report EAGAIN/EINPROGRESS instead of waiting")
/*
 * End of stdin and idle peers, for the commands that relay a stream: connect
 * and listen.  @r is a struct relay_eof_opts * (relay.h).
 */
#define OPT_RELAY_EOF(r)                                                                   \
	OPT_DURATION(0, "idle-timeout", &(r)->idle_timeout,                                 \
		     "close after DUR without bytes either way"),                       \
	OPT_FLAG('N', "shutdown", &(r)->nc_shutdown,                                        \
		 "shut down writing on stdin EOF (the default; for nc)"),                  \
	OPT_FLAG(0, "no-shutdown", &(r)->no_shutdown, "on stdin EOF do not shut down writing"), \
	OPT_DURATION('q', "quit-after-eof", &(r)->quit_after_eof,                          \
		     "quit DUR after stdin EOF, not waiting for the peer"),               \
	OPT_FLAG('d', "recv-only", &(r)->recv_only, "never read stdin"),                    \
	OPT_FLAG(0, "send-only", &(r)->send_only,                                           \
		 "never read the socket: only send stdin"),                                 \
	OPT_FLAG(0, "exit-on-peer-eof", &(r)->exit_on_peer_eof,                             \
		 "on the peer's EOF stop reading stdin and end"),                            \
	OPT_FLAG(0, "keep-sending", &(r)->keep_sending,                                     \
		 "send stdin to its EOF after the peer's EOF (the default; compat)")

/* udp-send and raw-icmp; -c and -q differ between them (0 allowed; what -q hides). */
#define OPT_INTERVAL(v) OPT_DURATION('i', "interval", (v), "wait DUR between packets sent")

/*
 * Socket options (struct sockopts in sock.h), the same in every command that
 * has them.  raw-icmp spells --ttl with ping's -t, hence OPT_TTL's @s.
 */
#define OPT_SOURCE(v) OPT_STRING('s', "source", (v), "ADDR", "bind to this local address")
#define OPT_SOURCE_PORT(v) OPT_PORT('p', "source-port", (v), "bind to this local port")
#define OPT_SNDBUF(v) OPT_SIZE(0, "sndbuf", (v), 1 << 30, "SO_SNDBUF in bytes")
#define OPT_RCVBUF(v) OPT_SIZE(0, "rcvbuf", (v), 1 << 30, "SO_RCVBUF in bytes")
#define OPT_TTL(s, v) OPT_INT((s), "ttl", (v), "N", 1, 255, "IP_TTL / IPV6_UNICAST_HOPS")
#define OPT_TOS(v) OPT_INT(0, "tos", (v), "N", 0, 255, "IP_TOS / IPV6_TCLASS")
#define OPT_NODELAY(v) OPT_FLAG(0, "nodelay", (v), "TCP_NODELAY: no Nagle delay")
#define OPT_KEEPALIVE(v) OPT_FLAG(0, "keepalive", (v), "SO_KEEPALIVE")
#define OPT_REUSEADDR(v) OPT_FLAG(0, "reuseaddr", (v), "SO_REUSEADDR")
#define OPT_REUSEPORT(v) \
	OPT_FLAG(0, "reuseport", (v), "SO_REUSEPORT: share the port with other sockets")

/* A Unix socket type (connect, listen); addr_socktype_parse() reads the value. */
extern const char *const opt_unix_types[];
#define OPT_UNIX_TYPE(v) \
	OPT_STRINGV(0, "type", (v), "TYPE", opt_unix_types, \
		    "Unix socket type: stream, dgram or seqpacket")
/* A socket inherited from the parent (lib/inherit.h); @h says which kind. */
#define OPT_FD(v, h) OPT_INT(0, "fd", (v), "N", 0, INT32_MAX, (h))

/* A command's name, its positional arguments and its help text. */
struct opt_cmd {
	const char *name;    /* "resolve" */
	const char *args;    /* "HOST [SERVICE]" */
	const char *summary; /* one line, also shown by "sockctl help" */
	const char *details; /* optional paragraph(s) after the options */
	int min_args;
	int max_args; /* -1: no limit */
};

enum opt_result {
	OPT_ERROR = -1,   /* bad usage: @e is filled (status 2) */
	OPT_CONTINUE = 0, /* run the command with the positional arguments */
	OPT_DONE = 1,     /* --help or --list-options was answered: exit 0 */
};

struct opt_args {
	int argc;
	char **argv;
};

/*
 * Parse @argv (argv[0] is the command name) against @opts.  --help and
 * --list-options are added to every table; their answers go to stdout.
 */
enum opt_result opt_parse(const struct opt_cmd *cmd, const struct opt *opts, int argc,
			  char **argv, struct opt_args *pos, struct err *e);

/*
 * opt_parse() as a command's entry point wants it: 1 when the command must
 * return *@status at once (--help answered: 0; bad usage reported on stderr
 * as "sockctl NAME: ...": 2), 0 to go on with @pos.
 */
int opt_run(const struct opt_cmd *cmd, const struct opt *opts, int argc, char **argv,
	    struct opt_args *pos, int *status);

/* Print the help text of @cmd to @f. */
void opt_print_help(const struct opt_cmd *cmd, const struct opt *opts, FILE *f);
/*
 * One line per option, tab-separated: --long, -s or "-", ARGNAME or "-",
 * comma-separated values or "-".  Hidden options are listed too.
 */
void opt_print_list(const struct opt *opts, FILE *f);

/* "-w/--timeout" or "--json": how an option is named in messages. */
const char *opt_name(const struct opt *o, char *buf, size_t n);
/* Optimal string alignment distance of @a and @b (99 if either is over 32 bytes). */
size_t opt_distance(const char *a, const char *b);
/* Look up the entry for @longopt (for conflict messages); NULL if none. */
const struct opt *opt_find(const struct opt *opts, const char *longopt);

#endif
