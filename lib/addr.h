/* SPDX-License-Identifier: MIT */
/*
 * Endpoints and addresses: HOST PORT and the other endpoint forms, ports,
 * port ranges, CIDR prefixes, sockaddr formatting, and the names of address
 * families, socket types and protocols.  The parsers return -1 with an error
 * filled in (status EXIT_USAGE) and never print or exit.  Numbers,
 * durations and sizes are in parse.h.
 */
#ifndef SOCKCTL_ADDR_H
#define SOCKCTL_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

/*
 * Big enough for "[ffff:...:255.255.255.255%ifname]:65535" and "unix:@" and
 * a 107-byte unix name with every byte escaped ("\\xNN").
 */
#define ADDR_STRLEN 448

/*
 * Port: a number 0-65535, or a service name looked up for @proto ("tcp",
 * "udp", or NULL for either) in the services database.
 */
int addr_parse_port(const char *s, const char *proto, uint16_t *port, struct err *e);

/* A list of port ranges: "20-25,80,443,http". */
struct port_range {
	uint16_t lo, hi;
};
struct port_list {
	struct port_range *r;
	size_t n;
	size_t count; /* ports in all ranges, duplicates included */
};
int addr_parse_port_list(const char *s, const char *proto, struct port_list *pl,
			 struct err *e);
void addr_port_list_free(struct port_list *pl);

/* An endpoint named on the command line. */
enum endpoint_kind { EP_INET, EP_UNIX };
struct endpoint {
	enum endpoint_kind kind;
	char host[256];    /* "" when none was given (wildcard / loopback) */
	char service[256]; /* port, service name or port list; "" when none */
	size_t nports;     /* ports that service names (1 for one port) */
	char path[108];    /* EP_UNIX: the socket path ("@name": abstract) */
};

enum {
	ADDR_EP_HOST_OPTIONAL = 1 << 0, /* a lone argument is the PORT, '' the wildcard */
	ADDR_EP_PORT_LIST = 1 << 1,     /* PORT may be a list of ranges (-z) */
	ADDR_EP_PORT_ZERO = 1 << 2,     /* port 0 is allowed (listen: kernel picks) */
	ADDR_EP_UNIX = 1 << 3,          /* -U: the one argument is a PATH ("unix:" optional) */
};

/*
 * Parse the positional arguments naming one endpoint, every form in one place:
 *   HOST PORT | HOST:PORT | [V6ADDR]:PORT | [V6ADDR] PORT | unix:PATH
 * with ADDR_EP_HOST_OPTIONAL also a lone PORT and '' PORT, and with
 * ADDR_EP_UNIX a lone PATH.  Numeric ports are range-checked and service
 * names looked up for @proto; a port list where one port is expected is
 * rejected (without ADDR_EP_PORT_LIST), and @ep->nports counts the ports, so
 * a command can say what a list needs.  Host names are left to the
 * resolver, but a malformed numeric address is rejected here.
 */
int addr_parse_endpoint(int argc, char *const argv[], unsigned flags, const char *proto,
			struct endpoint *ep, struct err *e);

/*
 * A server's endpoint, every form nc users type: [ADDR] PORT, ADDR:PORT,
 * unix:PATH, PATH with -U (@unix_flag), or the traditional -s ADDR (@source)
 * and -p PORT (@portarg), each NULL if not given.  Port 0 is allowed (the
 * kernel picks); no ADDR is the wildcard.
 */
int addr_parse_passive(int argc, char *const argv[], int unix_flag, const char *source,
		       const char *portarg, const char *proto, struct endpoint *ep, struct err *e);

/* A Unix socket path (or "@name") that fits a sockaddr_un: the one check. */
int addr_check_unix_path(const char *path, struct err *e);

/*
 * A host that looks numeric ("1.2.3.4.5", "::zz") but is no address that
 * getaddrinfo(3) reads as one; every form it reads is fine ("127.1",
 * "2130706433", "0x7f000001", "fe80::1%lo"), names are left to the resolver.
 */
int addr_check_host(const char *host, struct err *e);
/* AF_INET or AF_INET6 if getaddrinfo(3) reads @host as numeric, else 0. */
int addr_numeric_family(const char *host);
/*
 * addr_check_host(), and a numeric @host of the other family than @family
 * (-4: AF_INET, -6: AF_INET6) asks for is bad input (status 2).
 */
int addr_check_host_family(const char *host, int family, struct err *e);
/*
 * -n/--numeric-host: @host must be a numeric address as getaddrinfo(3)
 * reads one with AI_NUMERICHOST ("127.1", "::1", "fe80::1%lo"); a name is
 * bad input, rejected without any lookup.  "" (the wildcard) passes.
 */
int addr_check_numeric(const char *host, struct err *e);

/* ADDR[/PREFIX] for --allow/--deny. */
struct cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
};
int addr_parse_cidr(const char *s, struct cidr *c, struct err *e);
/* 1 if @sa (IPv4, IPv6 or v4-mapped IPv6) lies in @c. */
int addr_cidr_match(const struct cidr *c, const struct sockaddr *sa);

/*
 * Numeric host of @sa ("127.0.0.1", "::1", "fe80::1%eth0", unix path,
 * "@abstract").  A unix name is shown as out_text_escape (OUT_UTF8) shows it:
 * controls, bidi controls and invalid UTF-8 as "\\xNN", "\\" doubled.
 */
const char *addr_ntop(const struct sockaddr *sa, socklen_t len, char *buf, size_t n);
/* Port of an inet/inet6 @sa in host order, 0 otherwise. */
unsigned addr_port(const struct sockaddr *sa);
/* "127.0.0.1:80", "[::1]:80", "unix:/path", "unix:@abstract". */
const char *addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t n);

/* Names of families, socket types and protocols, both ways. */
const char *addr_family_name(int family);          /* "inet", or NULL */
int addr_family_parse(const char *s, int *family, struct err *e);
const char *addr_socktype_name(int type);          /* "stream", or NULL */
int addr_socktype_parse(const char *s, int *type, struct err *e);
/* "tcp", "udp", "ip", ..., else the number written into @buf. */
const char *addr_proto_name(int proto, char *buf, size_t n);
int addr_proto_parse(const char *s, int *proto, struct err *e);

/* Value lists for completion and help: NULL-terminated. */
extern const char *const addr_socktype_names[];
extern const char *const addr_proto_names[];

#endif
