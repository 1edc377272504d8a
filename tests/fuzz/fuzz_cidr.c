/* SPDX-License-Identifier: MIT */
/*
 * addr_parse_cidr, then addr_cidr_match against an address made of the
 * first 16 bytes of input (as IPv4, IPv6 and v4-mapped IPv6); and the
 * expansion of lib/targets: its first, last and a middle host lie in the prefix.
 * Input: 16 bytes of address, then the CIDR text.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "addr.h"
#include "fuzz.h"
#include "targets.h"

static void expand(const struct cidr *c, const char *s)
{
	struct err e = { 0 };
	struct sockaddr_storage ss;
	socklen_t len;
	uint64_t n, i;

	if (targets_cidr_count(c, s, &n, &e)) {
		fuzz_check_err(&e, EXIT_USAGE);
		return;
	}
	FUZZ_ASSERT(n >= 1 && n <= TARGETS_MAX, "%s: %llu hosts", s, (unsigned long long)n);
	for (i = 0; i < 3; i++) {
		uint64_t k = i == 0 ? 0 : i == 1 ? n / 2 : n - 1;

		targets_cidr_nth(c, k, &ss, &len);
		FUZZ_ASSERT(ss.ss_family == c->family && addr_cidr_match(c, (struct sockaddr *)&ss),
			    "%s: host %llu outside the prefix", s, (unsigned long long)k);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 }, mapped = sin6;
	struct cidr c;
	struct err e = { 0 };
	char *s;

	if (size < 16)
		return 0;
	memcpy(&sin.sin_addr, data, 4);
	memcpy(&sin6.sin6_addr, data, 16);
	mapped.sin6_addr.s6_addr[10] = 0xff;
	mapped.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&mapped.sin6_addr.s6_addr[12], data, 4);
	s = fuzz_str(data + 16, size - 16);
	if (addr_parse_cidr(s, &c, &e)) {
		fuzz_check_err(&e, EXIT_USAGE);
	} else {
		FUZZ_ASSERT(c.family == AF_INET || c.family == AF_INET6, "family %d", c.family);
		FUZZ_ASSERT(c.prefix <= (c.family == AF_INET ? 32u : 128u), "prefix %u",
			    c.prefix);
		/* an IPv4 address matches exactly when its v4-mapped form does */
		FUZZ_ASSERT(addr_cidr_match(&c, (struct sockaddr *)&sin) ==
				    (c.family == AF_INET &&
				     addr_cidr_match(&c, (struct sockaddr *)&mapped)),
			    "v4 and v4-mapped disagree for %s", s);
		addr_cidr_match(&c, (struct sockaddr *)&sin6);
		/* the prefix's own address always matches */
		if (c.family == AF_INET)
			memcpy(&sin.sin_addr, c.addr, 4);
		else
			memcpy(&sin6.sin6_addr, c.addr, 16);
		FUZZ_ASSERT(addr_cidr_match(&c, c.family == AF_INET ? (struct sockaddr *)&sin :
								       (struct sockaddr *)&sin6),
			    "%s does not match its own address", s);
		expand(&c, s);
	}
	free(s);
	return 0;
}
