/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <string.h>

#include "dgram.h"
#include "unit.h"

static void probe(struct dgram_stats *s, uint64_t seq, uint64_t total, int64_t lat)
{
	struct dgram_probe p = { .seq = seq, .ts_ns = 1000, .total = total };

	dgram_stats_datagram(s, 64, (int64_t)seq);
	dgram_stats_probe(s, &p, 1000 + lat);
}

int main(void)
{
	unsigned char buf[64];
	struct dgram_probe p = { .seq = 0x0102030405060708ULL, .ts_ns = 42, .total = 7 }, q;
	struct dgram_stats s;

	CHECK(dgram_probe_encode(buf, 31, &p) == -1, "a probe needs 32 bytes");
	CHECK(dgram_probe_encode(buf, sizeof(buf), &p) == 0, "encode 64 bytes");
	CHECK(!memcmp(buf, "SKP1", 4) && buf[8] == 1 && buf[15] == 8, "magic and big-endian seq");
	CHECK(dgram_probe_decode(buf, sizeof(buf), &q) == 1, "decode");
	CHECK(q.seq == p.seq && q.ts_ns == 42 && q.total == 7 && q.flags == 0, "fields round-trip");
	CHECK(dgram_probe_decode(buf, 31, &q) == 0, "short datagram is no probe");
	CHECK(dgram_probe_decode("hello world, this is plain text!", 32, &q) == 0,
	      "text is no probe");

	/* 0 1 3 2 2 (dup) 5, then the end marker says 7 were sent */
	dgram_stats_init(&s);
	probe(&s, 0, 7, 10);
	probe(&s, 1, 7, 30);
	probe(&s, 3, 7, 20);
	probe(&s, 2, 7, 20);
	probe(&s, 2, 7, 20);
	probe(&s, 5, 7, 20);
	CHECK(s.datagrams == 6 && s.bytes == 384, "datagrams and bytes counted");
	CHECK(s.unique == 5 && s.dups == 1, "one duplicate");
	CHECK(s.reordered == 1, "one reordered (2 after 3)");
	CHECK(dgram_stats_expected(&s) == 7 && dgram_stats_lost(&s) == 2,
	      "planned total gives loss before the end marker");
	p.flags = DGRAM_PROBE_END;
	p.total = 6;
	dgram_stats_end(&s, &p);
	CHECK(dgram_stats_expected(&s) == 6 && dgram_stats_lost(&s) == 1,
	      "the end marker's exact count wins");
	CHECK(s.lat_min == 10 && s.lat_max == 30 && s.lat_n == 5, "latency min/max over unique");
	CHECK(dgram_stats_rate(&s) > 0, "rate from first to last");
	dgram_stats_free(&s);

	/* no total, no marker: highest seq + 1 */
	dgram_stats_init(&s);
	probe(&s, 4, 0, 1);
	probe(&s, 9, 0, 1);
	CHECK(dgram_stats_expected(&s) == 10 && dgram_stats_lost(&s) == 8, "estimate from seq");
	CHECK(dgram_stats_rate(&s) > 0, "rate");
	/* a sequence number past the bitmap limit is counted, not tracked */
	probe(&s, UINT64_C(1) << 40, 0, 1);
	CHECK(s.untracked == 1 && s.unique == 3, "huge seq counted without a bitmap");
	dgram_stats_free(&s);
	CHECK(dgram_is_multicast("239.1.2.3", 0) && dgram_is_multicast("ff02::1", 0) &&
		      !dgram_is_multicast("198.18.0.1", 0) &&
		      !dgram_is_multicast("239.1.2.3", AF_INET6),
	      "multicast addresses");
	return UNIT_DONE();
}
