/* SPDX-License-Identifier: MIT */
#include <netinet/udp.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "dgram.h"
#include "unit.h"

static void probe(struct dgram_stats *s, uint64_t seq, uint64_t total, int64_t lat)
{
	struct dgram_probe p = { .seq = seq, .ts_ns = 1000, .total = total };

	dgram_stats_datagram(s, 64, (int64_t)seq);
	dgram_stats_probe(s, &p, 1000 + lat);
}

/* Runs of equal sizes, the caps, and the control messages both ways. */
static void gso_gro(void)
{
	struct iovec iov[200];
	unsigned char ctrl[DGRAM_CTRL_SIZE];
	struct msghdr h;
	struct cmsghdr *cm;
	uint16_t v16;
	int v;
	unsigned i;

	for (i = 0; i < 200; i++)
		iov[i].iov_len = 64;
	CHECK(dgram_gso_run(iov, 0) == 0, "no datagrams, no run");
	CHECK(dgram_gso_run(iov, 1) == 1, "one datagram is a run of 1");
	CHECK(dgram_gso_run(iov, 200) == DGRAM_GSO_MAX_SEGS, "at most 64 segments");
	iov[5].iov_len = 63;
	CHECK(dgram_gso_run(iov, 200) == 5, "a run ends at the first other size");
	CHECK(dgram_gso_run(iov + 5, 195) == 1, "a lone size is a run of 1");
	for (i = 0; i < 200; i++)
		iov[i].iov_len = 1472;
	CHECK(dgram_gso_run(iov, 200) == DGRAM_GSO_MAX_BYTES / 1472, "bytes cap the run");
	iov[0].iov_len = iov[1].iov_len = 0;
	CHECK(dgram_gso_run(iov, 2) == 1, "empty datagrams never go as GSO");
	iov[0].iov_len = iov[1].iov_len = 40000;
	CHECK(dgram_gso_run(iov, 2) == 1, "two that cannot share a packet: no run");

	memset(&h, 0, sizeof(h));
	dgram_gso_cmsg(&h, ctrl, 1472);
	cm = CMSG_FIRSTHDR(&h);
	memcpy(&v16, CMSG_DATA(cm), sizeof(v16));
	CHECK(cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_SEGMENT && v16 == 1472 &&
		      h.msg_controllen == CMSG_SPACE(sizeof(v16)),
	      "UDP_SEGMENT control message");
	CHECK(dgram_gro_size(&h) == 0, "UDP_SEGMENT is not UDP_GRO");

	/* what the kernel hands a UDP_GRO socket */
	memset(ctrl, 0, sizeof(ctrl));
	memset(&h, 0, sizeof(h));
	h.msg_control = ctrl;
	h.msg_controllen = CMSG_SPACE(sizeof(v));
	cm = CMSG_FIRSTHDR(&h);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_GRO;
	cm->cmsg_len = CMSG_LEN(sizeof(v));
	v = 64;
	memcpy(CMSG_DATA(cm), &v, sizeof(v));
	CHECK(dgram_gro_size(&h) == 64, "UDP_GRO segment size read back");
	h.msg_controllen = 0;
	CHECK(dgram_gro_size(&h) == 0, "no control data: not coalesced");
	h.msg_control = NULL;
	CHECK(dgram_gro_size(&h) == 0, "no control buffer: not coalesced");

	CHECK(dgram_gro_count(640, 64) == 10, "ten equal segments");
	CHECK(dgram_gro_count(650, 64) == 11, "the last segment may be shorter");
	CHECK(dgram_gro_count(64, 64) == 1 && dgram_gro_count(10, 64) == 1,
	      "one segment is one datagram");
	CHECK(dgram_gro_count(0, 64) == 1 && dgram_gro_count(100, 0) == 1,
	      "no segment size: one datagram (even an empty one)");
}

/* Timestamps and sequence numbers a hostile sender picks: no overflow, clamped. */
static void hostile(void)
{
	struct dgram_stats s;
	struct dgram_probe p = { .seq = UINT64_MAX, .ts_ns = UINT64_C(1) << 63 };

	CHECK(dgram_probe_age(1000, 1500) == 500 && dgram_probe_age(1500, 1000) == -500,
	      "age both ways");
	CHECK(dgram_probe_age(UINT64_C(1) << 63, 1000) == -(INT64_MAX - 999),
	      "2^63 in the future: exact, no overflow");
	CHECK(dgram_probe_age(UINT64_MAX, 0) == -INT64_MAX &&
		      dgram_probe_age(UINT64_MAX, INT64_MAX) == -INT64_MAX,
	      "2^64-1 clamps");
	CHECK(dgram_probe_age(0, INT64_MAX) == INT64_MAX, "the epoch from the far future");
	CHECK(dgram_probe_age(5, -1) == -5, "a clock before the epoch counts as 0");
	dgram_stats_init(&s);
	dgram_stats_datagram(&s, 64, 1000);
	dgram_stats_probe(&s, &p, 1000);
	CHECK(s.lat_n == 0 && s.lat_bogus == 1 && s.unique == 1,
	      "a 2^63 timestamp: counted as a probe, never as a latency");
	CHECK(s.next_seq == UINT64_MAX && s.reordered == 0 && s.untracked == 1,
	      "seq 2^64-1 does not wrap next_seq");
	p.ts_ns = 0;
	p.seq = 1;
	dgram_stats_probe(&s, &p, INT64_MAX);
	CHECK(s.lat_n == 0 && s.lat_bogus == 2 && s.reordered == 1,
	      "a stamp from the epoch: no latency either; reordered");
	p.seq = 2;
	p.ts_ns = (uint64_t)INT64_MAX - DGRAM_STAMP_SLACK_NS;
	dgram_stats_probe(&s, &p, INT64_MAX);
	p.seq = 3;
	p.ts_ns = (uint64_t)INT64_MAX;
	dgram_stats_probe(&s, &p, INT64_MAX - DGRAM_STAMP_SLACK_NS);
	CHECK(s.lat_n == 2 && s.lat_max == DGRAM_STAMP_SLACK_NS &&
		      s.lat_min == -DGRAM_STAMP_SLACK_NS && s.lat_bogus == 2,
	      "an hour either way is still a latency (clocks of two hosts)");
	dgram_stats_free(&s);
}

/* A span below the clock's resolution gives no rate. */
static void burst_rate(void)
{
	struct dgram_stats s;
	int64_t ns;

	dgram_stats_init(&s);
	dgram_stats_datagram(&s, 64, 5000);
	CHECK(!dgram_stats_span(&s, &ns) && dgram_stats_rate(&s) == 0, "one datagram: no rate");
	dgram_stats_datagram(&s, 64, 5000);
	dgram_stats_datagram(&s, 64, 5000);
	CHECK(!dgram_stats_span(&s, &ns) && ns == 0, "one timestamp: no rate");
	dgram_stats_datagram(&s, 64, 5004);
	s.res_ns = 10;
	CHECK(!dgram_stats_span(&s, &ns) && ns == 4, "4 ns apart with a 10 ns clock: no rate");
	s.res_ns = 1;
	CHECK(dgram_stats_span(&s, &ns) && ns == 4 && dgram_stats_rate(&s) == 3 * 1e9 / 4,
	      "4 ns apart with a 1 ns clock: a rate");
	dgram_stats_datagram(&s, 64, 4000);
	CHECK(dgram_stats_span(&s, &ns) && ns == 1004, "an earlier timestamp extends the span");
	dgram_stats_free(&s);
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
	hostile();
	burst_rate();
	gso_gro();
	return UNIT_DONE();
}
