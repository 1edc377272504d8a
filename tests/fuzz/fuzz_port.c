/* SPDX-License-Identifier: MIT */
/*
 * addr_parse_port and addr_parse_port_list.  Input: one byte choosing the
 * protocol, then the text.
 */
#include "addr.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const protos[] = { NULL, "tcp", "udp", NULL };
	const char *proto;
	struct port_list pl;
	struct err e = { 0 };
	uint16_t port;
	size_t i, count = 0;
	char *s;

	if (size < 1)
		return 0;
	proto = protos[data[0] & 3];
	s = fuzz_str(data + 1, size - 1);
	if (addr_parse_port(s, proto, &port, &e))
		fuzz_check_err(&e, EXIT_USAGE);
	memset(&e, 0, sizeof(e));
	if (addr_parse_port_list(s, proto, &pl, &e)) {
		fuzz_check_err(&e, EXIT_USAGE);
		FUZZ_ASSERT(pl.r == NULL && pl.n == 0, "list kept after an error");
	} else {
		FUZZ_ASSERT(pl.n > 0, "empty list accepted");
		for (i = 0; i < pl.n; i++) {
			FUZZ_ASSERT(pl.r[i].lo <= pl.r[i].hi, "range %u-%u", pl.r[i].lo,
				    pl.r[i].hi);
			count += (size_t)(pl.r[i].hi - pl.r[i].lo) + 1;
		}
		FUZZ_ASSERT(count == pl.count, "count %zu, ranges add up to %zu", pl.count, count);
		addr_port_list_free(&pl);
	}
	free(s);
	return 0;
}
