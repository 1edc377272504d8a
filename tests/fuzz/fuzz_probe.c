/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the probe decoder and the loss statistics: the input
 * is an 8-byte receive time, then datagrams, each one length byte and its
 * bytes, as any sender on the network can make them.  Every datagram goes
 * through what udp-recv does with it (decode, count, statistics, both
 * summaries) and what udp-send does with a reply (its age); a decoded probe
 * must encode back to the same header.
 */
#include "fuzz.h"

#include "dgram.h"

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void check_roundtrip(const uint8_t *d, size_t len, const struct dgram_probe *p)
{
	unsigned char buf[DGRAM_PROBE_HDR];
	struct dgram_probe q;

	FUZZ_ASSERT(dgram_probe_encode(buf, sizeof(buf), p) == 0, "encode");
	FUZZ_ASSERT(len >= DGRAM_PROBE_HDR && !memcmp(buf, d, DGRAM_PROBE_HDR),
		    "a decoded probe encodes back to its own header");
	FUZZ_ASSERT(dgram_probe_decode(buf, sizeof(buf), &q) == 1 && q.seq == p->seq &&
			    q.ts_ns == p->ts_ns && q.total == p->total && q.flags == p->flags,
		    "round trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dgram_stats s;
	int64_t now, span;
	size_t off = 8;
	FILE *null;

	if (size < 8)
		return 0;
	now = (int64_t)get64(data);
	dgram_stats_init(&s);
	while (off < size) {
		size_t len = data[off++];
		uint8_t *copy;
		struct dgram_probe p;

		if (len > size - off)
			len = size - off;
		/* its own allocation of exactly @len bytes, so ASan sees any overread */
		copy = malloc(len ? len : 1);
		if (!copy)
			abort();
		memcpy(copy, data + off, len);
		off += len;
		dgram_stats_datagram(&s, len, now);
		if (dgram_probe_decode(copy, len, &p)) {
			check_roundtrip(copy, len, &p);
			(void)dgram_probe_age(p.ts_ns, now);
			if (p.flags & DGRAM_PROBE_END)
				dgram_stats_end(&s, &p);
			else
				dgram_stats_probe(&s, &p, now);
		}
		free(copy);
		/* arrival times that may or may not advance, saturating at the clock's end */
		if (now > INT64_MAX - 0x0f)
			now = INT64_MAX;
		else
			now += (int64_t)(len & 0x0f);
		if (now < 0)
			now = 0;
	}
	FUZZ_ASSERT(s.unique + s.dups <= s.probes, "unique %llu dups %llu probes %llu",
		    (unsigned long long)s.unique, (unsigned long long)s.dups,
		    (unsigned long long)s.probes);
	FUZZ_ASSERT(dgram_stats_lost(&s) <= dgram_stats_expected(&s), "lost > expected");
	FUZZ_ASSERT(dgram_stats_rate(&s) >= 0, "negative rate");
	FUZZ_ASSERT(!dgram_stats_span(&s, &span) || span > 0, "a rate from an empty span");
	null = fopen("/dev/null", "w");
	if (null) {
		dgram_stats_print(&s, null, 0);
		dgram_stats_print(&s, null, 1);
		fclose(null);
	}
	dgram_stats_free(&s);
	return 0;
}
