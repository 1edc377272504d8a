/* SPDX-License-Identifier: MIT */
/*
 * addr_parse_endpoint with one or two arguments and every flag combination.
 * Input: one byte of flags (bits 0-2: ADDR_EP_*, bit 3: two arguments,
 * bits 4-5: proto, bit 6: ADDR_EP_UNIX), then the argument(s), separated by
 * a NUL byte.
 */
#include "addr.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const protos[] = { NULL, "tcp", "udp", NULL };
	struct endpoint ep;
	struct err e = { 0 };
	char *argv[3] = { NULL, NULL, NULL };
	unsigned flags;
	int argc, i, rc;

	if (size < 1)
		return 0;
	flags = (data[0] & 7u) | (data[0] & 64 ? (unsigned)ADDR_EP_UNIX : 0);
	argc = fuzz_split(data + 1, size - 1, argv, (data[0] & 8) ? 2 : 1);
	rc = addr_parse_endpoint(argc, argv, flags, protos[(data[0] >> 4) & 3], &ep, &e);
	if (rc) {
		FUZZ_ASSERT(rc == -1, "rc %d", rc);
		fuzz_check_err(&e, EXIT_USAGE);
	} else if (ep.kind == EP_UNIX) {
		FUZZ_ASSERT(ep.path[0] != '\0', "empty unix path");
		FUZZ_ASSERT(strlen(ep.path) < sizeof(ep.path), "path not terminated");
	} else {
		FUZZ_ASSERT(ep.kind == EP_INET, "kind %d", (int)ep.kind);
		FUZZ_ASSERT(strlen(ep.host) < sizeof(ep.host), "host not terminated");
		FUZZ_ASSERT(ep.service[0] != '\0', "no service");
		FUZZ_ASSERT(!(flags & ADDR_EP_UNIX), "-U gave an inet endpoint");
		FUZZ_ASSERT(ep.nports >= 1 && (ep.nports == 1 || (flags & ADDR_EP_PORT_LIST)),
			    "%zu ports without ADDR_EP_PORT_LIST", ep.nports);
		FUZZ_ASSERT(ep.host[0] || (flags & ADDR_EP_HOST_OPTIONAL), "no host");
		FUZZ_ASSERT(addr_check_host(ep.host, &e) == 0, "accepted bad host '%s'", ep.host);
	}
	for (i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
