/* SPDX-License-Identifier: MIT */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "out.h"
#include "parse.h"

static int valid_service_name(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

int addr_parse_port(const char *s, const char *proto, uint16_t *port, struct err *e)
{
	unsigned long long v;
	struct servent sbuf, *se = NULL;
	char q[80], sdata[1024];

	if (isdigit((unsigned char)*s)) {
		if (parse_uint(s, 0, 65535, &v, "port", e))
			return -1;
		*port = (uint16_t)v;
		return 0;
	}
	if (!*s)
		return err_set(e, EXIT_USAGE, "port: empty value");
	if (!valid_service_name(s))
		return err_set(e, EXIT_USAGE, "bad port '%s'", parse_quote(s, q, sizeof(q)));
	/* the reentrant lookup: commands may resolve from more than one thread */
	if (getservbyname_r(s, proto, &sbuf, sdata, sizeof(sdata), &se))
		se = NULL;
	if (!se && !proto && getservbyname_r(s, "udp", &sbuf, sdata, sizeof(sdata), &se))
		se = NULL;
	if (!se)
		return err_set(e, EXIT_USAGE, "unknown service '%s'%s%s", parse_quote(s, q, sizeof(q)),
			       proto ? " for " : "", proto ? proto : "");
	*port = ntohs((uint16_t)se->s_port);
	return 0;
}

int addr_parse_port_list(const char *s, const char *proto, struct port_list *pl,
			 struct err *e)
{
	char item[256];
	const char *p = s, *comma;
	size_t len;

	memset(pl, 0, sizeof(*pl));
	if (!*s)
		return err_set(e, EXIT_USAGE, "port list: empty value");
	for (;;) {
		struct port_range r;
		char *dash;
		void *grown;

		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		if (!len || len >= sizeof(item)) {
			addr_port_list_free(pl);
			return err_set(e, EXIT_USAGE, "bad port list '%s'", s);
		}
		memcpy(item, p, len);
		item[len] = '\0';
		dash = isdigit((unsigned char)item[0]) ? strchr(item, '-') : NULL;
		if (dash)
			*dash = '\0';
		if (addr_parse_port(item, proto, &r.lo, e) ||
		    addr_parse_port(dash ? dash + 1 : item, proto, &r.hi, e)) {
			addr_port_list_free(pl);
			return -1;
		}
		if (r.lo > r.hi) {
			addr_port_list_free(pl);
			return err_set(e, EXIT_USAGE, "bad port range '%s-%s' (start > end)", item,
				       dash + 1);
		}
		grown = realloc(pl->r, (pl->n + 1) * sizeof(*pl->r));
		if (!grown) {
			addr_port_list_free(pl);
			return err_sys(e, EXIT_FAIL, ENOMEM, "port list");
		}
		pl->r = grown;
		pl->r[pl->n++] = r;
		pl->count += (size_t)(r.hi - r.lo) + 1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

void addr_port_list_free(struct port_list *pl)
{
	free(pl->r);
	pl->r = NULL;
	pl->n = pl->count = 0;
}

int addr_numeric_family(const char *host)
{
	struct addrinfo hints, *res;
	int family;

	if (!*host)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST; /* getaddrinfo then never looks a name up */
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res))
		return 0;
	family = res->ai_family;
	freeaddrinfo(res);
	return family;
}

/*
 * Digits and dots only ("1.2.3.4.5", "999.1.1.1"): no host name looks like
 * that (a top-level label is never all digits), so it is a numeric address
 * or a mistake, and never a question for DNS.
 */
static int looks_ipv4(const char *host)
{
	return *host && host[strspn(host, "0123456789.")] == '\0';
}

int addr_check_host(const char *host, struct err *e)
{
	char q[80];
	const char *p;

	if (strlen(host) > 253)
		return err_set(e, EXIT_USAGE, "host name '%s' is too long", parse_quote(host, q, sizeof(q)));
	for (p = host; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return err_set(e, EXIT_USAGE, "bad host '%s'", parse_quote(host, q, sizeof(q)));
	/* what getaddrinfo(3) reads as numeric is fine: "127.1", "2130706433" */
	if (!*host || addr_numeric_family(host))
		return 0;
	if (looks_ipv4(host))
		return err_set(e, EXIT_USAGE, "bad IPv4 address '%s'", parse_quote(host, q, sizeof(q)));
	if (strchr(host, ':'))
		return err_set(e, EXIT_USAGE, "bad IPv6 address '%s'", parse_quote(host, q, sizeof(q)));
	return 0;
}

int addr_check_numeric(const char *host, struct err *e)
{
	char q[80];

	if (*host && !addr_numeric_family(host))
		return err_set(e, EXIT_USAGE,
			       "'%s' is not a numeric address (-n/--numeric-host: no name lookup)",
			       parse_quote(host, q, sizeof(q)));
	return 0;
}

static int set_service(struct endpoint *ep, const char *s, unsigned flags, const char *proto,
		       struct err *e)
{
	struct port_list pl;
	char q[80];
	int single;

	if (strlen(s) >= sizeof(ep->service))
		return err_set(e, EXIT_USAGE, "port list is too long");
	/* one port is a list of one: a list where one is expected gets its own message */
	if (addr_parse_port_list(s, proto, &pl, e))
		return -1;
	single = pl.n == 1 && pl.r[0].lo == pl.r[0].hi;
	ep->nports = pl.count;
	if (single && !pl.r[0].lo && !(flags & ADDR_EP_PORT_ZERO)) {
		addr_port_list_free(&pl);
		return err_set(e, EXIT_USAGE, "port 0 is not a valid destination");
	}
	addr_port_list_free(&pl);
	if (!single && !(flags & ADDR_EP_PORT_LIST))
		return err_set(e, EXIT_USAGE, "'%s' is a port list; one port is expected here",
			       parse_quote(s, q, sizeof(q)));
	snprintf(ep->service, sizeof(ep->service), "%s", s);
	return 0;
}

int addr_check_unix_path(const char *path, struct err *e)
{
	size_t n = strlen(path);

	if (!n || n >= sizeof(((struct endpoint *)0)->path))
		return err_set(e, EXIT_USAGE, "unix socket path too long or empty (1 to %zu bytes)",
			       sizeof(((struct endpoint *)0)->path) - 1);
	return 0;
}

static int set_unix(struct endpoint *ep, const char *path, struct err *e)
{
	if (addr_check_unix_path(path, e))
		return -1;
	ep->kind = EP_UNIX;
	snprintf(ep->path, sizeof(ep->path), "%s", path);
	return 0;
}

static int set_host(struct endpoint *ep, const char *h, size_t len, struct err *e)
{
	char q[80];

	if (len >= sizeof(ep->host))
		return err_set(e, EXIT_USAGE, "host name '%s' is too long", parse_quote(h, q, sizeof(q)));
	memcpy(ep->host, h, len);
	ep->host[len] = '\0';
	return addr_check_host(ep->host, e);
}

/* "[v6]" -> "v6" in place; returns 0 if @s was not bracketed. */
static int strip_brackets(const char *s, char *out, size_t n)
{
	size_t len = strlen(s);

	if (len < 2 || s[0] != '[' || s[len - 1] != ']' || len - 2 >= n)
		return 0;
	memcpy(out, s + 1, len - 2);
	out[len - 2] = '\0';
	return 1;
}

int addr_parse_endpoint(int argc, char *const argv[], unsigned flags, const char *proto,
			struct endpoint *ep, struct err *e)
{
	const char *a, *colon, *close;
	char q[80], host[256];

	memset(ep, 0, sizeof(*ep));
	ep->kind = EP_INET;
	if (flags & ADDR_EP_UNIX) {
		if (argc != 1)
			return err_set(e, EXIT_USAGE,
				       "-U/--unix takes exactly one argument, the PATH");
		a = argv[0];
		return set_unix(ep, strncmp(a, "unix:", 5) ? a : a + 5, e);
	}
	if (argc == 2) {
		a = strip_brackets(argv[0], host, sizeof(host)) ? host : argv[0];
		/* '' PORT: the wildcard where a host may be left out, as Python's '' */
		if (!*argv[0] && (flags & ADDR_EP_HOST_OPTIONAL))
			return set_service(ep, argv[1], flags, proto, e);
		if (!*a)
			return err_set(e, EXIT_USAGE, "empty host");
		if (set_host(ep, a, strlen(a), e))
			return -1;
		return set_service(ep, argv[1], flags, proto, e);
	}
	if (argc != 1)
		return err_set(e, EXIT_USAGE, "expected HOST PORT, HOST:PORT or unix:PATH");
	a = argv[0];
	if (!strncmp(a, "unix:", 5))
		return set_unix(ep, a + 5, e);
	if (a[0] == '[') {
		close = strchr(a, ']');
		if (!close || close[1] != ':' || !close[2])
			return err_set(e, EXIT_USAGE, "bad endpoint '%s' (use [ADDR]:PORT)",
				       parse_quote(a, q, sizeof(q)));
		if (close == a + 1)
			return err_set(e, EXIT_USAGE, "empty host in '%s'", parse_quote(a, q, sizeof(q)));
		if (set_host(ep, a + 1, (size_t)(close - a - 1), e))
			return -1;
		return set_service(ep, close + 2, flags, proto, e);
	}
	colon = strchr(a, ':');
	if (colon && colon == strrchr(a, ':')) {
		if (colon == a && (flags & ADDR_EP_HOST_OPTIONAL))
			return set_service(ep, colon + 1, flags, proto, e);
		if (colon == a)
			return err_set(e, EXIT_USAGE, "empty host in '%s'", parse_quote(a, q, sizeof(q)));
		if (!colon[1])
			return err_set(e, EXIT_USAGE, "missing port in '%s'", parse_quote(a, q, sizeof(q)));
		if (set_host(ep, a, (size_t)(colon - a), e))
			return -1;
		return set_service(ep, colon + 1, flags, proto, e);
	}
	if (colon)
		return err_set(e, EXIT_USAGE,
			       "missing port after '%s' (write [ADDR]:PORT or ADDR PORT)",
			       parse_quote(a, q, sizeof(q)));
	if (flags & ADDR_EP_HOST_OPTIONAL)
		return set_service(ep, a, flags, proto, e);
	return err_set(e, EXIT_USAGE, "missing port after '%s'", parse_quote(a, q, sizeof(q)));
}

int addr_parse_cidr(const char *s, struct cidr *c, struct err *e)
{
	char buf[INET6_ADDRSTRLEN + 8], q[80];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long long prefix;
	unsigned max;

	memset(c, 0, sizeof(*c));
	if (len >= sizeof(buf))
		goto bad;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	c->prefix = max;
	if (slash) {
		if (parse_uint(slash + 1, 0, max, &prefix, "prefix length", e))
			return -1;
		c->prefix = (unsigned)prefix;
	}
	return 0;
bad:
	return err_set(e, EXIT_USAGE, "bad address '%s' (use ADDR or ADDR/PREFIX)",
		       parse_quote(s, q, sizeof(q)));
}

static int prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return 0;
	if (!rest)
		return 1;
	return ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int addr_cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const unsigned char *a;

	if (sa->sa_family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		return c->family == AF_INET && prefix_equal(a, c->addr, c->prefix);
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (c->family == AF_INET6)
		return prefix_equal(a, c->addr, c->prefix);
	return !memcmp(a, v4mapped, 12) && prefix_equal(a + 12, c->addr, c->prefix);
}

const char *addr_ntop(const struct sockaddr *sa, socklen_t len, char *buf, size_t n)
{
	const struct sockaddr_un *su = (const struct sockaddr_un *)sa;
	size_t plen;

	switch (sa->sa_family) {
	case AF_INET:
	case AF_INET6:
		if (getnameinfo(sa, len, buf, (socklen_t)n, NULL, 0, NI_NUMERICHOST))
			snprintf(buf, n, "?");
		break;
	case AF_UNIX:
		plen = len > offsetof(struct sockaddr_un, sun_path) ?
			       len - offsetof(struct sockaddr_un, sun_path) : 0;
		/* any local user picks these names: escape what a terminal acts on */
		if (!plen)
			snprintf(buf, n, "(unnamed)");
		else if (su->sun_path[0] == '\0' && n > 1) {
			buf[0] = '@';
			out_text_escape_buf(buf + 1, n - 1, su->sun_path + 1, plen - 1, OUT_UTF8);
		} else
			out_text_escape_buf(buf, n, su->sun_path, strnlen(su->sun_path, plen),
					    OUT_UTF8);
		break;
	default:
		snprintf(buf, n, "(family %d)", sa->sa_family);
	}
	return buf;
}

unsigned addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

const char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t n)
{
	char host[ADDR_STRLEN];

	addr_ntop(sa, len, host, sizeof(host));
	if (sa->sa_family == AF_INET)
		snprintf(buf, n, "%s:%u", host, addr_port(sa));
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, n, "[%s]:%u", host, addr_port(sa));
	else if (sa->sa_family == AF_UNIX)
		snprintf(buf, n, "unix:%s", host);
	else
		snprintf(buf, n, "%s", host);
	return buf;
}

struct name_num {
	const char *name;
	int num;
};

static const struct name_num families[] = {
	{ "unspec", AF_UNSPEC }, { "inet", AF_INET },   { "inet6", AF_INET6 },
	{ "unix", AF_UNIX },     { "ipv4", AF_INET },   { "ipv6", AF_INET6 },
	{ "4", AF_INET },        { "6", AF_INET6 },     { "local", AF_UNIX },
};

static const struct name_num socktypes[] = {
	{ "stream", SOCK_STREAM }, { "dgram", SOCK_DGRAM }, { "raw", SOCK_RAW },
	{ "seqpacket", SOCK_SEQPACKET }, { "rdm", SOCK_RDM },
	{ "tcp", SOCK_STREAM },     { "udp", SOCK_DGRAM },
};

static const struct name_num protos[] = {
	{ "ip", IPPROTO_IP },     { "icmp", IPPROTO_ICMP },   { "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },   { "ipv6", IPPROTO_IPV6 },   { "ipv6-icmp", IPPROTO_ICMPV6 },
	{ "sctp", IPPROTO_SCTP }, { "udplite", IPPROTO_UDPLITE }, { "raw", IPPROTO_RAW },
	{ "icmpv6", IPPROTO_ICMPV6 },
};

const char *const addr_socktype_names[] = { "stream", "dgram", "raw", "seqpacket", NULL };
const char *const addr_proto_names[] = { "ip",   "icmp",    "tcp", "udp", "ipv6", "ipv6-icmp",
					 "sctp", "udplite", "raw", NULL };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const struct name_num *t, size_t n, int num)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].num == num)
			return t[i].name;
	return NULL;
}

static int num_of(const struct name_num *t, size_t n, const char *s, int *num)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(t[i].name, s)) {
			*num = t[i].num;
			return 0;
		}
	return -1;
}

const char *addr_family_name(int family)
{
	return name_of(families, NELEM(families), family);
}

int addr_family_parse(const char *s, int *family, struct err *e)
{
	char q[80];

	if (!strncasecmp(s, "AF_", 3))
		s += 3;
	if (!num_of(families, NELEM(families), s, family))
		return 0;
	return err_set(e, EXIT_USAGE, "unknown address family '%s' (use inet, inet6 or unix)",
		       parse_quote(s, q, sizeof(q)));
}

const char *addr_socktype_name(int type)
{
	return name_of(socktypes, NELEM(socktypes), type);
}

int addr_socktype_parse(const char *s, int *type, struct err *e)
{
	char q[80];

	if (!strncasecmp(s, "SOCK_", 5))
		s += 5;
	if (!num_of(socktypes, NELEM(socktypes), s, type))
		return 0;
	return err_set(e, EXIT_USAGE,
		       "unknown socket type '%s' (use stream, dgram, raw or seqpacket)",
		       parse_quote(s, q, sizeof(q)));
}

const char *addr_proto_name(int proto, char *buf, size_t n)
{
	const char *s = name_of(protos, NELEM(protos), proto);

	if (s)
		return s;
	snprintf(buf, n, "%d", proto);
	return buf;
}

int addr_proto_parse(const char *s, int *proto, struct err *e)
{
	unsigned long long v;
	char q[80];

	if (!strncasecmp(s, "IPPROTO_", 8))
		s += 8;
	if (isdigit((unsigned char)*s)) {
		if (parse_uint(s, 0, 255, &v, "protocol", e))
			return -1;
		*proto = (int)v;
		return 0;
	}
	if (!num_of(protos, NELEM(protos), s, proto))
		return 0;
	return err_set(e, EXIT_USAGE, "unknown protocol '%s' (use tcp, udp, icmp, ... or a number)",
		       parse_quote(s, q, sizeof(q)));
}

int addr_parse_passive(int argc, char *const argv[], int unix_flag, const char *source,
		       const char *portarg, const char *proto, struct endpoint *ep, struct err *e)
{
	int unix_arg = argc == 1 && !strncmp(argv[0], "unix:", 5);
	uint16_t port;

	if (unix_flag || unix_arg)
		return addr_parse_endpoint(argc, argv, unix_flag ? ADDR_EP_UNIX : 0,
					   proto, ep, e);
	if (portarg) {
		if (argc > 1 || (argc == 1 && source))
			return err_set(e, EXIT_USAGE, "-p PORT given: expected at most an ADDR");
		if (addr_parse_port(portarg, proto, &port, e))
			return -1;
		memset(ep, 0, sizeof(*ep));
		ep->kind = EP_INET;
		ep->nports = 1;
		snprintf(ep->service, sizeof(ep->service), "%u", port);
		snprintf(ep->host, sizeof(ep->host), "%s",
			 source ? source : argc ? argv[0] : "");
		return addr_check_host(ep->host, e);
	}
	if (!argc)
		return err_set(e, EXIT_USAGE,
			"expected [ADDR] PORT or -U PATH (see 'sockctl listen --help')");
	if (source && argc > 1)
		return err_set(e, EXIT_USAGE, "-s ADDR given: expected only a PORT");
	if (addr_parse_endpoint(argc, argv, ADDR_EP_HOST_OPTIONAL | ADDR_EP_PORT_ZERO,
				proto, ep, e))
		return -1;
	if (source) {
		snprintf(ep->host, sizeof(ep->host), "%s", source);
		return addr_check_host(ep->host, e);
	}
	return 0;
}

int addr_check_host_family(const char *host, int family, struct err *e)
{
	int numeric;

	if (addr_check_host(host, e))
		return -1;
	numeric = addr_numeric_family(host);
	if (family == AF_INET6 && numeric == AF_INET)
		return err_set(e, EXIT_USAGE, "%s: an IPv4 address, but -6 was given", host);
	if (family == AF_INET && numeric == AF_INET6)
		return err_set(e, EXIT_USAGE, "%s: an IPv6 address, but -4 was given", host);
	return 0;
}
