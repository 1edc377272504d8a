/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for icmp_read_cmsgs: the input is a control buffer as
 * recvmsg(2) would fill it (a hostile one: any cmsg_len, any level/type),
 * in an aligned buffer of exactly its size.
 */
#include "fuzz.h"
#include "icmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union icmp_cbuf cb;
	struct msghdr m = { 0 };
	struct icmp_cmsgs r;
	size_t n = size < sizeof(cb.buf) ? size : sizeof(cb.buf);
	char *copy = malloc(n ? n : 1);

	if (!copy)
		return 0;
	/* the exact size in its own allocation: ASan sees any read past it */
	memcpy(copy, data, n);
	m.msg_control = n ? copy : NULL;
	m.msg_controllen = n;
	icmp_read_cmsgs(&m, &r);
	FUZZ_ASSERT(!r.has_offender || r.has_ee, "an offender without its error");
	FUZZ_ASSERT(!r.has_offender || r.offender.ss_family == AF_INET ||
			    r.offender.ss_family == AF_INET6,
		    "offender family %u", (unsigned)r.offender.ss_family);
	(void)cb;
	free(copy);
	return 0;
}
