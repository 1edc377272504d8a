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
	OPT_T_INT,      /* long long *: decimal or 0xHEX in [.min, .max] */
	OPT_T_DURATION, /* int64_t *: nanoseconds, see parse_duration */
	OPT_T_SIZE,     /* unsigned long long * (int * with OPT_INTVAL): "64k", at most .max */
	OPT_T_PORT,     /* int *: 0-65535 or a service name */
	OPT_T_CHOICE,   /* int *: index into .choices */
	OPT_T_CALLBACK, /* .cb(opt, arg, err) for repeatable or custom options */
	OPT_T_BOOL,     /* int *: set to 1; with OPT_NEGATABLE, --no-NAME sets 0 */
	OPT_T_I32,      /* int *: decimal or 0xHEX in [.min, .max] */
	OPT_T_GROUP,    /* not an option: a heading in --help (.help) */
};

/*
 * What an option's argument (or a positional word) names, for completion:
 * the shells offer paths, interfaces, host names or service names.
 * OPT_K_AUTO (0) derives it from the argument name (see opt_kind()), so an
 * option spelled "FILE", "IFACE", "HOST" or "PORT" needs no .kind at all.
 */
enum opt_kind {
	OPT_K_AUTO,
	OPT_K_NONE,    /* free text: nothing to offer but .choices */
	OPT_K_PATH,    /* a file name */
	OPT_K_IFACE,   /* a network interface */
	OPT_K_HOST,    /* a host name or address */
	OPT_K_SERVICE, /* a port number or a service name (/etc/services) */
};

enum {
	OPT_HIDDEN = 1 << 0,    /* parsed, but left out of --help */
	OPT_NEGATABLE = 1 << 1, /* OPT_T_BOOL: --no-NAME is generated, setting 0 */
	OPT_ABSENT = 1 << 2,    /* not part of this table (a group entry that does not apply) */
	OPT_INTVAL = 1 << 3,    /* OPT_T_SIZE: the value is an int * */
	OPT_DEFAULT = 1 << 4,   /* .def is what the command uses when the option is not given */
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
	enum opt_kind kind; /* OPT_K_AUTO: from .argname */
	/*
	 * With OPT_DEFAULT: the default, for --help to show ("(default 1024)",
	 * "(default 250ms)") from the constant the command itself falls back
	 * to, so that no help text restates it.  The field stays unset.
	 */
	long long def;
};

/*
 * @v as the void * of .value, after checking at compile time that it points
 * to a @T: any other pointer makes the conditional a "pointer type mismatch"
 * diagnostic.  The check generates no code.
 */
#define OPT_PTR(T, v) ((void *)(1 ? (v) : (T *)0))

#define OPT_END { .type = OPT_T_END }
/* A heading in --help for the entries after it. */
#define OPT_GROUP(h) { .type = OPT_T_GROUP, .longopt = "", .help = (h) }
/* 1 when given; unset fields keep their own "unset" value (e.g. -1). */
#define OPT_BOOL(s, l, v, h) \
	{ .type = OPT_T_BOOL, .shortopt = (s), .longopt = (l), .value = OPT_PTR(int, v), .help = (h) }
/* An int: decimal or 0xHEX in [lo, hi] (hi at most INT_MAX). */
#define OPT_I32(s, l, v, a, lo, hi, h)                                                      \
	{ .type = OPT_T_I32, .shortopt = (s), .longopt = (l), .value = OPT_PTR(int, v),    \
	  .argname = (a), .help = (h), .min = (lo), .max = (hi) }
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
/* The same, with a default shown in --help (see struct opt's .def). */
#define OPT_INT_D(s, l, v, a, lo, hi, d, h)                                              \
	{ .type = OPT_T_INT, .shortopt = (s), .longopt = (l),                             \
	  .value = OPT_PTR(long long, v), .argname = (a), .help = (h), .min = (lo), \
	  .max = (hi), .def = (d), .flags = OPT_DEFAULT }
#define OPT_DURATION_D(s, l, v, d, h)                                                 \
	{ .type = OPT_T_DURATION, .shortopt = (s), .longopt = (l),                     \
	  .value = OPT_PTR(int64_t, v), .argname = "DUR", .help = (h), .def = (d), \
	  .flags = OPT_DEFAULT }
#define OPT_SIZE_D(s, l, v, hi, d, h)                                                    \
	{ .type = OPT_T_SIZE, .shortopt = (s), .longopt = (l),                            \
	  .value = OPT_PTR(unsigned long long, v), .argname = "BYTES", .help = (h), \
	  .max = (hi), .def = (d), .flags = OPT_DEFAULT }
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
/* Every command: no seccomp filter, no Landlock after set-up (cmd/cmd_sandbox.h). */
#define OPT_NO_SANDBOX(v) \
	OPT_FLAG(0, "no-sandbox", (v), "do not confine the process after set-up (seccomp, Landlock)")
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
		 "send stdin to its EOF after the peer's EOF (the default; compat)"),               \
	OPT_FLAG(0, "progress", &(r)->progress,                                             \
		 "bytes, rate and ETA on stderr (a terminal); --json: progress events"),          \
	OPT_SIZE(0, "size", &(r)->size, 0,                                                   \
		 "for --progress: the bytes stdin will give (default: a file's size)")

/* udp-send and raw-icmp; -c and -q differ between them (0 allowed; what -q hides). */
#define OPT_INTERVAL(v) OPT_DURATION('i', "interval", (v), "wait DUR between packets sent")

/*
 * Socket options: one group, writing straight into a struct sockopts
 * (sock.h), whose fields stay SOCKOPT_UNSET until given; sock_apply_opts()
 * applies them.  @k says which sockets the command opens (SOCKOPT_TCP, _UDP,
 * _ICMP) and whether it binds a source (_CLIENT: -s/-p): an entry that
 * applies to none of them is OPT_ABSENT, so it is neither parsed nor shown.
 * raw-icmp (_ICMP) spells --ttl and --tos with ping's -t and -Q.
 *
 * The entries name sock_opt_iface and sock_pmtu_names: include sock.h.
 * A new socket option: one entry here, its field and setsockopt in
 * lib/sock, its text in docs/sockopts.inc, its test, CHANGELOG.
 */
enum {
	SOCKOPT_TCP = 1 << 0,
	SOCKOPT_UDP = 1 << 1,
	SOCKOPT_ICMP = 1 << 2,
	SOCKOPT_CLIENT = 1 << 3, /* -s/--source and -p/--source-port */
	SOCKOPT_IP = SOCKOPT_TCP | SOCKOPT_UDP | SOCKOPT_ICMP,
};
#define OPT_SO_IF(k, want) (((k) & (want)) ? 0 : OPT_ABSENT)
/* -Q/--tos N (decimal or 0x10), for every command. */
#define OPT_TOS(s, v) OPT_I32((s), "tos", (v), "N", 0, 255, "IP_TOS / IPV6_TCLASS (decimal or 0xNN)")
#define OPT_TTL(s, v) OPT_I32((s), "ttl", (v), "N", 1, 255, "IP_TTL / IPV6_UNICAST_HOPS")
#define OPT_SOCKOPTS(so, k)                                                                   \
	OPT_GROUP("Socket options"),                                                           \
	{ .type = OPT_T_STRING, .shortopt = 's', .longopt = "source",                          \
	  .value = OPT_PTR(const char *, &(so)->source), .argname = "ADDR",                    \
	  .help = "bind to this local address", .flags = OPT_SO_IF(k, SOCKOPT_CLIENT) },       \
	{ .type = OPT_T_PORT, .shortopt = 'p', .longopt = "source-port",                       \
	  .value = OPT_PTR(int, &(so)->source_port), .argname = "PORT",                        \
	  .help = "bind to this local port", .flags = OPT_SO_IF(k, SOCKOPT_CLIENT) },          \
	{ .type = OPT_T_CALLBACK, .shortopt = 'I', .longopt = "interface",                     \
	  .value = (so), .argname = "IFACE", .cb = sock_opt_iface, .min = !!((k) & SOCKOPT_ICMP), \
	  .help = ((k) & SOCKOPT_ICMP) ? "SO_BINDTODEVICE: use this interface (or bind ADDR)"  \
				       : "SO_BINDTODEVICE: use only this interface (or VRF)" }, \
	{ .type = OPT_T_INT, .longopt = "mark", .value = OPT_PTR(long long, &(so)->mark),      \
	  .argname = "N", .min = 0, .max = 0xffffffffLL,                                       \
	  .help = "SO_MARK: firewall mark for policy routing" },                              \
	OPT_TTL(((k) & SOCKOPT_ICMP) ? 't' : 0, &(so)->ttl),                                    \
	OPT_TOS(((k) & SOCKOPT_ICMP) ? 'Q' : 0, &(so)->tos),                                    \
	{ .type = OPT_T_I32, .longopt = "flowlabel", .value = OPT_PTR(int, &(so)->flowlabel),  \
	  .argname = "N", .min = 1, .max = 0xfffff,                                            \
	  .help = "IPv6 flow label (decimal or 0xNNNNN)",                                      \
	  .flags = OPT_SO_IF(k, SOCKOPT_CLIENT | SOCKOPT_ICMP) },                              \
	{ .type = OPT_T_CHOICE, .longopt = "pmtu", .value = OPT_PTR(int, &(so)->pmtu),          \
	  .argname = "MODE", .choices = sock_pmtu_names,                                        \
	  .help = "path MTU discovery (IP_MTU_DISCOVER)",                                      \
	  .flags = OPT_SO_IF(k, SOCKOPT_UDP | SOCKOPT_ICMP) },                                 \
	{ .type = OPT_T_SIZE, .longopt = "sndbuf", .value = OPT_PTR(int, &(so)->sndbuf),       \
	  .argname = "BYTES", .max = 1 << 30, .help = "SO_SNDBUF in bytes",                    \
	  .flags = OPT_INTVAL },                                                               \
	{ .type = OPT_T_SIZE, .longopt = "rcvbuf", .value = OPT_PTR(int, &(so)->rcvbuf),       \
	  .argname = "BYTES", .max = 1 << 30, .help = "SO_RCVBUF in bytes",                    \
	  .flags = OPT_INTVAL },                                                               \
	{ .type = OPT_T_BOOL, .longopt = "reuseaddr", .value = OPT_PTR(int, &(so)->reuseaddr), \
	  .help = "SO_REUSEADDR", .flags = OPT_NEGATABLE | OPT_SO_IF(k, SOCKOPT_TCP | SOCKOPT_UDP) }, \
	{ .type = OPT_T_BOOL, .longopt = "reuseport", .value = OPT_PTR(int, &(so)->reuseport), \
	  .help = "SO_REUSEPORT: share the port with other sockets",                          \
	  .flags = OPT_SO_IF(k, SOCKOPT_TCP | SOCKOPT_UDP) },                                  \
	{ .type = OPT_T_BOOL, .longopt = "freebind", .value = OPT_PTR(int, &(so)->freebind),   \
	  .help = "IP_FREEBIND: bind an address not (yet) on this host",                      \
	  .flags = OPT_SO_IF(k, SOCKOPT_TCP | SOCKOPT_UDP) },                                  \
	{ .type = OPT_T_BOOL, .longopt = "transparent",                                        \
	  .value = OPT_PTR(int, &(so)->transparent),                                           \
	  .help = "IP_TRANSPARENT: transparent proxying (CAP_NET_ADMIN)",                     \
	  .flags = OPT_SO_IF(k, SOCKOPT_TCP | SOCKOPT_UDP) },                                  \
	{ .type = OPT_T_BOOL, .shortopt = ((k) & SOCKOPT_TCP) ? 0 : 'b', .longopt = "broadcast", \
	  .value = OPT_PTR(int, &(so)->broadcast), .help = "SO_BROADCAST: allow broadcast",    \
	  .flags = OPT_SO_IF(k, SOCKOPT_UDP) },                                                \
	{ .type = OPT_T_BOOL, .longopt = "nodelay", .value = OPT_PTR(int, &(so)->nodelay),     \
	  .help = "TCP_NODELAY: no Nagle delay", .flags = OPT_SO_IF(k, SOCKOPT_TCP) },          \
	{ .type = OPT_T_BOOL, .longopt = "keepalive", .value = OPT_PTR(int, &(so)->keepalive), \
	  .help = "SO_KEEPALIVE", .flags = OPT_SO_IF(k, SOCKOPT_TCP) },                          \
	{ .type = OPT_T_DURATION, .longopt = "keepidle", .value = OPT_PTR(int64_t, &(so)->keepidle), \
	  .argname = "DUR", .help = "TCP_KEEPIDLE: idle time before the first probe",         \
	  .flags = OPT_SO_IF(k, SOCKOPT_TCP) },                                                \
	{ .type = OPT_T_DURATION, .longopt = "keepintvl",                                      \
	  .value = OPT_PTR(int64_t, &(so)->keepintvl), .argname = "DUR",                      \
	  .help = "TCP_KEEPINTVL: time between probes", .flags = OPT_SO_IF(k, SOCKOPT_TCP) },   \
	{ .type = OPT_T_I32, .longopt = "keepcnt", .value = OPT_PTR(int, &(so)->keepcnt),      \
	  .argname = "N", .min = 1, .max = 127,                                                \
	  .help = "TCP_KEEPCNT: probes before giving up", .flags = OPT_SO_IF(k, SOCKOPT_TCP) }, \
	{ .type = OPT_T_DURATION, .longopt = "user-timeout",                                   \
	  .value = OPT_PTR(int64_t, &(so)->user_timeout), .argname = "DUR",                   \
	  .help = "TCP_USER_TIMEOUT: fail when sent data stays unacknowledged for DUR",       \
	  .flags = OPT_SO_IF(k, SOCKOPT_TCP) },                                                \
	{ .type = OPT_T_BOOL, .longopt = "fastopen", .value = OPT_PTR(int, &(so)->fastopen),   \
	  .help = "TCP Fast Open (TCP_FASTOPEN_CONNECT / TCP_FASTOPEN)",                       \
	  .flags = OPT_SO_IF(k, SOCKOPT_TCP) },                                                \
	{ .type = OPT_T_BOOL, .longopt = "mptcp", .value = OPT_PTR(int, &(so)->mptcp),         \
	  .help = "Multipath TCP (IPPROTO_MPTCP)", .flags = OPT_SO_IF(k, SOCKOPT_TCP) }

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
 * comma-separated values or "-", the kind of the argument (opt_kind_name:
 * "-" for none), and the help text ("-" for none).  Hidden options are
 * listed too.  sockctl's completion generator reads these lines: a new
 * column goes at the end.
 */
void opt_print_list(const struct opt *opts, FILE *f);

/*
 * The kind of @o's argument: .kind, or derived from .argname when that is
 * OPT_K_AUTO (FILE, PATH, DIR: a path; IFACE: an interface; HOST, ADDR:
 * a host; PORT, SERVICE: a service); OPT_K_NONE for options without one.
 */
enum opt_kind opt_kind(const struct opt *o);
/* The same, for a word such as "HOST" or "[PORT]" (a positional argument). */
enum opt_kind opt_kind_of_word(const char *word);
/* "path", "iface", "host", "service", or "-" for OPT_K_NONE. */
const char *opt_kind_name(enum opt_kind k);

/* "-w/--timeout" or "--json": how an option is named in messages. */
const char *opt_name(const struct opt *o, char *buf, size_t n);
/* Optimal string alignment distance of @a and @b (99 if either is over 32 bytes). */
size_t opt_distance(const char *a, const char *b);
/* Look up the entry for @longopt (for conflict messages); NULL if none. */
const struct opt *opt_find(const struct opt *opts, const char *longopt);

#endif
