/* SPDX-License-Identifier: MIT */
/* lib/bytes.h: network byte order, unaligned. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "unit.h"

int main(void)
{
	uint8_t b[16] = { 0 };
	uint16_t n16;
	uint32_t n32;

	be_put16(b + 1, 0x1234);
	memcpy(&n16, b + 1, 2);
	CHECK(b[1] == 0x12 && b[2] == 0x34 && ntohs(n16) == 0x1234, "put16, unaligned");
	CHECK(be_get16(b + 1) == 0x1234, "get16, unaligned");
	be_put32(b + 3, 0xdeadbeef);
	memcpy(&n32, b + 3, 4);
	CHECK(ntohl(n32) == 0xdeadbeef && be_get32(b + 3) == 0xdeadbeef, "put32/get32");
	be_put64(b + 7, UINT64_C(0x0102030405060708));
	CHECK(b[7] == 1 && b[14] == 8 && be_get64(b + 7) == UINT64_C(0x0102030405060708),
	      "put64/get64: most significant byte first");
	memset(b, 0xff, sizeof(b));
	CHECK(be_get64(b) == UINT64_MAX && be_get32(b) == UINT32_MAX && be_get16(b) == 0xffff,
	      "all ones: no sign extension");
	return UNIT_DONE();
}
