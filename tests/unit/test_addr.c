/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"
#include "unit.h"

static void test_ports(void)
{
	struct port_list pl;
	struct err e;
	uint16_t p;

	CHECK(!addr_parse_port("80", NULL, &p, &e) && p == 80, "port 80");
	CHECK(!addr_parse_port("0", NULL, &p, &e) && p == 0, "port 0");
	CHECK(!addr_parse_port("65535", NULL, &p, &e) && p == 65535, "port 65535");
	CHECK(addr_parse_port("65536", NULL, &p, &e) == -1 && strstr(e.msg, "65536"),
	      "port 65536 rejected: %s", e.msg);
	CHECK(!addr_parse_port("www", "tcp", &p, &e) && p == 80, "service www is 80");
	CHECK(!addr_parse_port("https", "tcp", &p, &e) && p == 443, "service https");
	CHECK(addr_parse_port("nosuchservice", "tcp", &p, &e) == -1 &&
		      strstr(e.msg, "unknown service"),
	      "unknown service rejected: %s", e.msg);
	CHECK(addr_parse_port("8o", NULL, &p, &e) == -1, "8o rejected");
	CHECK(addr_parse_port("", NULL, &p, &e) == -1, "empty port rejected");
	CHECK(addr_parse_port("-1", NULL, &p, &e) == -1, "-1 rejected");

	CHECK(!addr_parse_port_list("20-25,80,443", "tcp", &pl, &e) && pl.n == 3 &&
		      pl.count == 8 && pl.r[0].lo == 20 && pl.r[0].hi == 25 && pl.r[2].lo == 443,
	      "20-25,80,443");
	addr_port_list_free(&pl);
	CHECK(!addr_parse_port_list("1-65535", "tcp", &pl, &e) && pl.count == 65535, "1-65535");
	addr_port_list_free(&pl);
	CHECK(!addr_parse_port_list("http,22", "tcp", &pl, &e) && pl.r[0].lo == 80, "http,22");
	addr_port_list_free(&pl);
	CHECK(addr_parse_port_list("25-20", "tcp", &pl, &e) == -1 && strstr(e.msg, "25-20"),
	      "reversed range rejected: %s", e.msg);
	CHECK(addr_parse_port_list("1,,2", "tcp", &pl, &e) == -1, "empty item rejected");
	CHECK(addr_parse_port_list("1-", "tcp", &pl, &e) == -1, "open range rejected");
	CHECK(addr_parse_port_list("1-70000", "tcp", &pl, &e) == -1, "range beyond 65535");
	CHECK(addr_parse_port_list("", "tcp", &pl, &e) == -1, "empty list rejected");
	CHECK(addr_parse_port_list("80,", "tcp", &pl, &e) == -1, "trailing comma rejected");
}

static int ep(const char *a, const char *b, unsigned flags, struct endpoint *out, struct err *e)
{
	char *argv[2] = { (char *)a, (char *)b };

	return addr_parse_endpoint(b ? 2 : 1, argv, flags, "tcp", out, e);
}

static void test_endpoints(void)
{
	struct endpoint p;
	struct err e;

	CHECK(!ep("example.org", "80", 0, &p, &e) && !strcmp(p.host, "example.org") &&
		      !strcmp(p.service, "80"),
	      "HOST PORT");
	CHECK(!ep("example.org:www", NULL, 0, &p, &e) && !strcmp(p.host, "example.org") &&
		      !strcmp(p.service, "www"),
	      "HOST:SERVICE");
	CHECK(!ep("[::1]:8080", NULL, 0, &p, &e) && !strcmp(p.host, "::1") &&
		      !strcmp(p.service, "8080"),
	      "[v6]:PORT");
	CHECK(!ep("::1", "22", 0, &p, &e) && !strcmp(p.host, "::1"), "v6 PORT");
	CHECK(!ep("[::1]", "22", 0, &p, &e) && !strcmp(p.host, "::1"), "[v6] PORT");
	CHECK(!ep("fe80::1%lo", "22", 0, &p, &e) && !strcmp(p.host, "fe80::1%lo"), "zone kept");
	CHECK(!ep("unix:/tmp/x.sock", NULL, 0, &p, &e) && p.kind == EP_UNIX &&
		      !strcmp(p.path, "/tmp/x.sock"),
	      "unix:PATH");
	CHECK(!ep("unix:@abstract", NULL, 0, &p, &e) && !strcmp(p.path, "@abstract"),
	      "unix:@abstract");
	CHECK(!ep("19200", NULL, ADDR_EP_HOST_OPTIONAL, &p, &e) && !p.host[0] &&
		      !strcmp(p.service, "19200"),
	      "lone PORT for listen");
	CHECK(!ep("0", NULL, ADDR_EP_HOST_OPTIONAL | ADDR_EP_PORT_ZERO, &p, &e), "port 0 listen");
	CHECK(ep("h", "0", 0, &p, &e) == -1 && strstr(e.msg, "port 0"), "port 0 connect rejected");
	CHECK(!ep("127.0.0.1:0", NULL, ADDR_EP_PORT_ZERO, &p, &e), "ADDR:0 listen");
	CHECK(!ep("h", "20-25,80", ADDR_EP_PORT_LIST, &p, &e) && !strcmp(p.service, "20-25,80"),
	      "port list");
	CHECK(ep("h", "20-25", 0, &p, &e) == -1 && strstr(e.msg, "port list"),
	      "range without PORT_LIST rejected as a list: %s", e.msg);
	CHECK(!ep("h", "20-25,80,http", ADDR_EP_PORT_LIST, &p, &e) && p.nports == 8,
	      "nports counts a list");
	CHECK(!ep("h:443", NULL, ADDR_EP_PORT_LIST, &p, &e) && p.nports == 1, "nports 1");
	CHECK(ep("h", "0", ADDR_EP_PORT_LIST, &p, &e) == -1, "a single port 0 even with lists");
	CHECK(!ep("/tmp/x.sock", NULL, ADDR_EP_UNIX, &p, &e) && p.kind == EP_UNIX &&
		      !strcmp(p.path, "/tmp/x.sock"),
	      "-U PATH");
	CHECK(!ep("unix:rel", NULL, ADDR_EP_UNIX, &p, &e) && !strcmp(p.path, "rel"),
	      "-U unix:PATH");
	CHECK(!ep("h:80", NULL, ADDR_EP_UNIX, &p, &e) && p.kind == EP_UNIX &&
		      !strcmp(p.path, "h:80"),
	      "-U takes any name as a PATH");
	CHECK(ep("a", "b", ADDR_EP_UNIX, &p, &e) == -1 && strstr(e.msg, "-U"), "-U: one PATH");
	{
		char longp[200];
		struct err e2;

		memset(longp, 'a', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		ep(longp, NULL, ADDR_EP_UNIX, &p, &e);
		memcpy(longp, "unix:", 5);
		ep(longp, NULL, 0, &p, &e2);
		CHECK(!strcmp(e.msg, e2.msg) && addr_check_unix_path(longp, &e2) == -1 &&
			      !strcmp(e.msg, e2.msg) && addr_check_unix_path("", &e2) == -1 &&
			      !strcmp(e.msg, e2.msg),
		      "one unix path check, one message: %s", e.msg);
	}
	CHECK(ep("::1", NULL, 0, &p, &e) == -1 && strstr(e.msg, "[ADDR]:PORT"),
	      "bare v6 without port: %s", e.msg);
	CHECK(ep("host", NULL, 0, &p, &e) == -1 && strstr(e.msg, "missing port"), "missing port");
	CHECK(ep("host:", NULL, 0, &p, &e) == -1, "empty port");
	CHECK(ep(":80", NULL, 0, &p, &e) == -1, "empty host");
	CHECK(!ep(":80", NULL, ADDR_EP_HOST_OPTIONAL, &p, &e) && !p.host[0], ":PORT for listen");
	CHECK(ep("[::1", NULL, 0, &p, &e) == -1, "unclosed bracket");
	CHECK(ep("[]:80", NULL, 0, &p, &e) == -1, "empty brackets");
	CHECK(ep("h", "99999", 0, &p, &e) == -1 && e.status == EXIT_USAGE, "port range");
	CHECK(ep("999.1.1.1", "80", 0, &p, &e) == -1 && strstr(e.msg, "IPv4"), "bad v4: %s",
	      e.msg);
	CHECK(ep("1.2.3.4.5", "80", 0, &p, &e) == -1 && strstr(e.msg, "IPv4"), "five parts");
	/* every form getaddrinfo(3) reads as numeric, as in resolve, nc and ping */
	CHECK(!ep("127.1", "80", 0, &p, &e) && !strcmp(p.host, "127.1"), "127.1: %s", e.msg);
	CHECK(!ep("2130706433", "80", 0, &p, &e), "one number: %s", e.msg);
	CHECK(!ep("0x7f000001", "80", 0, &p, &e), "hex: %s", e.msg);
	CHECK(!ep("1.2.3", "80", 0, &p, &e), "three parts: %s", e.msg);
	CHECK(!ep("[fe80::1%lo]:80", NULL, 0, &p, &e), "zone in brackets: %s", e.msg);
	CHECK(addr_numeric_family("127.1") == AF_INET &&
		      addr_numeric_family("0x7f000001") == AF_INET &&
		      addr_numeric_family("::1") == AF_INET6 && !addr_numeric_family("localhost") &&
		      !addr_numeric_family(""),
	      "numeric family");
	CHECK(!addr_check_numeric("2130706433", &e) && !addr_check_numeric("", &e) &&
		      addr_check_numeric("localhost", &e) == -1 && e.status == EXIT_USAGE &&
		      strstr(e.msg, "numeric"),
	      "addr_check_numeric");
	CHECK(ep("::zz", "80", 0, &p, &e) == -1 && strstr(e.msg, "IPv6"), "bad v6");
	CHECK(ep("a b", "80", 0, &p, &e) == -1, "space in host rejected");
	CHECK(ep("unix:", NULL, 0, &p, &e) == -1, "unix: without path");
	CHECK(ep("", "80", 0, &p, &e) == -1, "empty host arg");
	CHECK(!ep("", "80", ADDR_EP_HOST_OPTIONAL, &p, &e) && !p.host[0] &&
		      !strcmp(p.service, "80"),
	      "'' PORT for listen: the wildcard");
	{
		char longp[200];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		memcpy(longp, "unix:", 5);
		CHECK(ep(longp, NULL, 0, &p, &e) == -1 && strstr(e.msg, "too long"),
		      "long unix path rejected");
	}
	{
		char *argv[3] = { "a", "b", "c" };

		CHECK(addr_parse_endpoint(3, argv, 0, "tcp", &p, &e) == -1, "three args rejected");
	}
}

static void test_cidr(void)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct cidr c;
	struct err e;

	inet_pton(AF_INET, "198.18.3.4", &s4.sin_addr);
	CHECK(!addr_parse_cidr("198.18.0.0/15", &c, &e) && c.prefix == 15, "v4 cidr");
	CHECK(addr_cidr_match(&c, (struct sockaddr *)&s4), "v4 in /15");
	CHECK(!addr_parse_cidr("198.18.3.5", &c, &e) && c.prefix == 32, "host cidr");
	CHECK(!addr_cidr_match(&c, (struct sockaddr *)&s4), "v4 not in /32");
	inet_pton(AF_INET6, "::ffff:198.18.3.4", &s6.sin6_addr);
	CHECK(!addr_parse_cidr("198.18.3.0/24", &c, &e) && addr_cidr_match(&c, (struct sockaddr *)&s6),
	      "v4-mapped v6 matches v4 rule");
	inet_pton(AF_INET6, "2001:db8::5", &s6.sin6_addr);
	CHECK(!addr_parse_cidr("2001:db8::/32", &c, &e) && addr_cidr_match(&c, (struct sockaddr *)&s6),
	      "v6 /32");
	CHECK(!addr_cidr_match(&c, (struct sockaddr *)&s4), "v4 never matches v6 rule");
	CHECK(!addr_parse_cidr("0.0.0.0/0", &c, &e) && addr_cidr_match(&c, (struct sockaddr *)&s4),
	      "/0 matches all");
	CHECK(addr_parse_cidr("1.2.3.4/33", &c, &e) == -1, "/33 rejected");
	CHECK(addr_parse_cidr("::/129", &c, &e) == -1, "/129 rejected");
	CHECK(addr_parse_cidr("host/8", &c, &e) == -1, "name rejected");
	CHECK(addr_parse_cidr("1.2.3.4/", &c, &e) == -1, "empty prefix rejected");
}

static void test_names(void)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	char b[ADDR_STRLEN];
	struct err e;
	int v;

	CHECK_STR(addr_family_name(AF_INET6), "inet6", "inet6 name");
	CHECK(!addr_family_parse("ipv4", &v, &e) && v == AF_INET, "ipv4 parses");
	CHECK(!addr_family_parse("AF_UNIX", &v, &e) && v == AF_UNIX, "AF_UNIX parses");
	CHECK(addr_family_parse("inet7", &v, &e) == -1, "inet7 rejected");
	CHECK_STR(addr_socktype_name(SOCK_SEQPACKET), "seqpacket", "seqpacket");
	CHECK(!addr_socktype_parse("dgram", &v, &e) && v == SOCK_DGRAM, "dgram parses");
	CHECK(!addr_socktype_parse("SOCK_RAW", &v, &e) && v == SOCK_RAW, "SOCK_RAW parses");
	CHECK(addr_socktype_parse("datagram", &v, &e) == -1, "datagram rejected");
	CHECK_STR(addr_proto_name(IPPROTO_TCP, b, sizeof(b)), "tcp", "tcp name");
	CHECK_STR(addr_proto_name(0, b, sizeof(b)), "ip", "0 is ip");
	CHECK_STR(addr_proto_name(99, b, sizeof(b)), "99", "unnamed protocol is its number");
	CHECK(!addr_proto_parse("ipv6-icmp", &v, &e) && v == IPPROTO_ICMPV6, "ipv6-icmp");
	CHECK(!addr_proto_parse("17", &v, &e) && v == 17, "17");
	CHECK(addr_proto_parse("256", &v, &e) == -1, "256 rejected");
	CHECK(addr_proto_parse("tcpp", &v, &e) == -1, "tcpp rejected");
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	CHECK_STR(addr_format((struct sockaddr *)&s6, sizeof(s6), b, sizeof(b)), "[::1]:80",
		  "format v6");
}

/* listen's endpoint forms: [ADDR] PORT, -s/-p as nc spells them, -U, unix: */
static void test_passive(void)
{
	char a0[] = "8080", a1[] = "127.0.0.1", a2[] = "unix:/tmp/x", a3[] = "80", a4[] = "::1";
	char *one[] = { a0 }, *two[] = { a1, a0 }, *un[] = { a2 }, *two6[] = { a4, a3 };
	struct endpoint ep;
	struct err e;

	CHECK(!addr_parse_passive(1, one, 0, NULL, NULL, "tcp", &ep, &e) && ep.kind == EP_INET &&
		      !strcmp(ep.host, "") && !strcmp(ep.service, "8080"),
	      "lone PORT: the wildcard");
	CHECK(!addr_parse_passive(2, two, 0, NULL, NULL, "tcp", &ep, &e) &&
		      !strcmp(ep.host, "127.0.0.1"),
	      "ADDR PORT");
	CHECK(!addr_parse_passive(2, two6, 0, NULL, NULL, "tcp", &ep, &e) &&
		      !strcmp(ep.host, "::1") && !strcmp(ep.service, "80"),
	      "v6 ADDR PORT");
	CHECK(!addr_parse_passive(0, NULL, 0, "127.0.0.1", "8080", "tcp", &ep, &e) &&
		      !strcmp(ep.host, "127.0.0.1") && !strcmp(ep.service, "8080"),
	      "-s ADDR -p PORT");
	CHECK(!addr_parse_passive(1, one, 0, "::1", NULL, "tcp", &ep, &e) &&
		      !strcmp(ep.host, "::1") && !strcmp(ep.service, "8080"),
	      "-s ADDR PORT");
	CHECK(!addr_parse_passive(1, one, 0, NULL, "http", "tcp", &ep, &e) &&
		      !strcmp(ep.host, "8080") && !strcmp(ep.service, "80"),
	      "ADDR -p SERVICE");
	CHECK(addr_parse_passive(2, two, 0, NULL, "80", "tcp", &ep, &e) == -1 &&
		      e.status == EXIT_USAGE && strstr(e.msg, "-p PORT given"),
	      "-p with ADDR PORT: %s", e.msg);
	CHECK(addr_parse_passive(2, two, 0, "::1", NULL, "tcp", &ep, &e) == -1 &&
		      strstr(e.msg, "-s ADDR given"),
	      "-s with ADDR PORT: %s", e.msg);
	CHECK(addr_parse_passive(0, NULL, 0, NULL, NULL, "tcp", &ep, &e) == -1 &&
		      strstr(e.msg, "expected [ADDR] PORT"),
	      "nothing: %s", e.msg);
	CHECK(!addr_parse_passive(1, un, 0, NULL, NULL, "tcp", &ep, &e) && ep.kind == EP_UNIX &&
		      !strcmp(ep.path, "/tmp/x"),
	      "unix:PATH");
	CHECK(!addr_parse_passive(1, un, 1, NULL, NULL, "tcp", &ep, &e) && ep.kind == EP_UNIX,
	      "-U unix:PATH");
	CHECK(addr_parse_passive(0, NULL, 0, "1.2.3.4.5", "80", "tcp", &ep, &e) == -1,
	      "-s with a malformed address: %s", e.msg);
}

int main(void)
{
	test_ports();
	test_endpoints();
	test_cidr();
	test_names();
	test_passive();
	return UNIT_DONE();
}
