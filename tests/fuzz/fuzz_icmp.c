/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the ICMP reply parsers: the input is a received
 * packet, with its IP header, fed to the IPv4 and ICMPv6 parsers in both
 * of their modes, and every derived field is then used as the command would.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "icmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use(const struct icmp_family *f, const struct icmp_pkt *p)
{
	char buf[160];
	uint64_t c;
	uint32_t ts[3];

	if (p->kind == ICMP_K_ERROR) {
		f->describe(p, buf, sizeof(buf));
		(void)f->error_class(p->type);
	}
	(void)icmp_payload_counter(p, &c);
	(void)icmp_payload_mismatch(p);
	(void)icmp_tstamp_fields(p, ts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct icmp_family *fams[] = { icmp_family_of(AF_INET), icmp_family_of(AF_INET6) };
	struct icmp_pkt p;
	size_t i;
	int with_ip;

	(void)icmp_checksum(data, size);
	for (i = 0; i < 2; i++)
		for (with_ip = 1; with_ip >= 0; with_ip--) {
			/* a copy of exactly @size bytes, so ASan sees any overread */
			uint8_t *copy = size ? (uint8_t *)malloc(size) : NULL;

			if (size && !copy)
				return 0;
			if (size)
				memcpy(copy, data, size);
			if (fams[i]->parse(copy, size, with_ip, &p) == 0)
				use(fams[i], &p);
			free(copy);
		}
	return 0;
}
