/* SPDX-License-Identifier: MIT */
/* lib/icmp: checksums, probes, and parsers fed hostile bytes. */
#include <netinet/in.h>
#include <string.h>

#include "icmp.h"
#include "rtt.h"
#include "unit.h"

static const struct icmp_family *v4, *v6;

/* An IPv4 header of @ihl bytes (options zero) carrying @plen bytes of @proto. */
static size_t ip4(uint8_t *b, size_t ihl, size_t plen, uint8_t proto, uint8_t ttl)
{
	size_t tot = ihl + plen;

	memset(b, 0, ihl);
	b[0] = (uint8_t)(0x40 | ihl / 4);
	b[2] = (uint8_t)(tot >> 8);
	b[3] = (uint8_t)tot;
	b[8] = ttl;
	b[9] = proto;
	b[12] = 127, b[15] = 1;
	b[16] = 127, b[19] = 2;
	return ihl;
}

static size_t echo(const struct icmp_family *f, uint8_t *b, uint8_t type, uint16_t id,
		   uint16_t seq, uint64_t counter, size_t size)
{
	struct icmp_probe pr = { .type = type, .id = id, .seq = seq, .counter = counter,
				 .size = size };

	return icmp_build(f, &pr, b, 2048);
}

static void test_checksum(void)
{
	/* RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 */
	const uint8_t a[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	const uint8_t odd[] = { 0xff };
	uint8_t b[128];
	size_t n;

	CHECK(icmp_checksum(a, sizeof(a)) == (uint16_t)~0xddf2, "RFC 1071 example");
	CHECK(icmp_checksum(odd, 1) == (uint16_t)~0xff00, "odd length pads with zero");
	CHECK(icmp_checksum(a, 0) == 0xffff, "empty");
	n = echo(v4, b, 8, 0x1234, 7, 7, 56);
	CHECK(n == 64 && icmp_checksum(b, n) == 0, "a built IPv4 probe checks out");
	CHECK(b[0] == 8 && b[4] == 0x12 && b[5] == 0x34 && b[7] == 7, "header fields");
	n = echo(v6, b, 128, 1, 2, 3, 0);
	CHECK(n == 8 && b[2] == 0 && b[3] == 0, "ICMPv6: the kernel computes the checksum");
	CHECK(echo(v4, b, 8, 0, 0, 0, 4000) == 0, "too small a buffer: 0");
}

static void test_echo_reply_v4(void)
{
	uint8_t b[256];
	struct icmp_pkt p;
	uint64_t c;
	size_t h = ip4(b, 20, 64, IPPROTO_ICMP, 61), n;

	n = echo(v4, b + h, 0, 0xbeef, 65535, 0x1122334455667788ULL, 56);
	CHECK(v4->parse(b, h + n, 1, &p) == 0, "echo reply parses");
	CHECK(p.kind == ICMP_K_REPLY && p.id == 0xbeef && p.seq == 65535 && p.ttl == 61,
	      "id, seq, ttl");
	CHECK(p.icmp_len == 64 && !p.bad_csum, "64 bytes, checksum good");
	CHECK(!icmp_payload_counter(&p, &c) && c == 0x1122334455667788ULL, "counter read back");
	CHECK(icmp_payload_mismatch(&p) == 0, "payload pattern intact");
	b[h + 30] ^= 1;
	CHECK(v4->parse(b, h + n, 1, &p) == 0 && p.bad_csum, "a flipped bit: bad checksum");
	CHECK(icmp_payload_mismatch(&p) == 1, "one payload byte differs");
	b[h + 30] ^= 1;
	/* options: IHL 15 (60 bytes) */
	h = ip4(b, 60, 64, IPPROTO_ICMP, 64);
	n = echo(v4, b + h, 0, 1, 1, 1, 56);
	CHECK(v4->parse(b, h + n, 1, &p) == 0 && p.id == 1 && p.icmp_len == 64,
	      "IPv4 options skipped");
	/* trailing bytes beyond total length are ignored */
	CHECK(v4->parse(b, h + n + 9, 1, &p) == 0 && p.icmp_len == 64, "trailer ignored");
	/* datagram sockets: no IP header */
	CHECK(v4->parse(b + h, n, 0, &p) == 0 && p.ttl == -1 && p.kind == ICMP_K_REPLY,
	      "without IP header");
}

static void test_hostile_v4(void)
{
	uint8_t b[256];
	struct icmp_pkt p;
	size_t h, n, i;

	h = ip4(b, 20, 64, IPPROTO_ICMP, 64);
	n = echo(v4, b + h, 0, 1, 1, 1, 56);
	for (i = 0; i < 28; i++)
		CHECK(v4->parse(b, i, 1, &p) == -1 && p.reject, "%zu bytes rejected (%s)", i,
		      p.reject ? p.reject : "?");
	CHECK(v4->parse(NULL, 0, 1, &p) == -1, "NULL rejected");
	b[0] = 0x44; /* IHL 4: 16 bytes */
	CHECK(v4->parse(b, h + n, 1, &p) == -1, "IHL below 5 rejected");
	b[0] = 0x4f; /* IHL 15: 60 bytes, beyond a 40-byte packet */
	CHECK(v4->parse(b, 40, 1, &p) == -1, "IHL beyond the data rejected");
	b[0] = 0x65;
	CHECK(v4->parse(b, h + n, 1, &p) == -1, "version 6 in an IPv4 header rejected");
	b[0] = 0x45;
	b[2] = 0, b[3] = 10;
	CHECK(v4->parse(b, h + n, 1, &p) == -1, "total length below IHL rejected");
	b[2] = 0x01, b[3] = 0x00;
	CHECK(v4->parse(b, h + n, 1, &p) == -1, "total length beyond the data rejected");
	b[2] = 0, b[3] = 20 + 7;
	CHECK(v4->parse(b, h + n, 1, &p) == -1, "7-byte ICMP rejected");
	b[3] = 84;
	b[9] = IPPROTO_UDP;
	CHECK(v4->parse(b, h + n, 1, &p) == -1, "not ICMP rejected");
	b[9] = IPPROTO_ICMP;
	b[6] = 0x20; /* MF */
	CHECK(v4->parse(b, h + n, 1, &p) == -1, "a fragment rejected");
	b[6] = 0;
	CHECK(v4->parse(b, h + n, 1, &p) == 0, "and the repaired packet parses");
	CHECK(v4->parse(b + h, 7, 0, &p) == -1, "short ICMP without IP header rejected");
	b[h] = 8;
	CHECK(v4->parse(b, h + n, 1, &p) == 0 && p.kind == ICMP_K_OTHER,
	      "an echo request is not a reply");
}

/* ICMP error quoting @qlen bytes of the original datagram. */
static size_t error4(uint8_t *b, uint8_t type, uint8_t code, size_t qlen)
{
	uint8_t inner[128];
	size_t h = 20, ih = ip4(inner, 20, 64, IPPROTO_ICMP, 1), n;

	inner[16] = 198, inner[17] = 18, inner[18] = 1, inner[19] = 2;
	echo(v4, inner + ih, 8, 0x4242, 9, 9, 56);
	ip4(b, 20, 8 + qlen, IPPROTO_ICMP, 64);
	memset(b + h, 0, 8);
	b[h] = type;
	b[h + 1] = code;
	memcpy(b + h + 8, inner, qlen);
	n = 8 + qlen;
	b[h + 2] = 0, b[h + 3] = 0;
	{
		uint16_t c = icmp_checksum(b + h, n);

		b[h + 2] = (uint8_t)(c >> 8), b[h + 3] = (uint8_t)c;
	}
	return h + n;
}

static void test_errors_v4(void)
{
	uint8_t b[256];
	struct icmp_pkt p;
	char d[128];
	size_t n;

	n = error4(b, 11, 0, 28);
	CHECK(v4->parse(b, n, 1, &p) == 0 && p.kind == ICMP_K_ERROR, "time exceeded parses");
	CHECK(p.orig_valid && p.orig_has_icmp && p.orig_id == 0x4242 && p.orig_seq == 9 &&
	      p.orig_type == 8 && p.orig_ttl == 1, "the quoted echo request");
	CHECK(p.orig_dst[0] == 198 && p.orig_dst[3] == 2, "the quoted destination");
	CHECK_STR(v4->error_class(p.type), "Time exceeded", "class");
	CHECK_STR(v4->describe(&p, d, sizeof(d)), "Time to live exceeded", "ping's words");
	n = error4(b, 3, 3, 28);
	CHECK(v4->parse(b, n, 1, &p) == 0, "port unreachable");
	CHECK_STR(v4->describe(&p, d, sizeof(d)), "Destination Port Unreachable", "wording");
	n = error4(b, 3, 4, 28);
	b[26] = 0x05, b[27] = 0xdc;
	b[22] = b[23] = 0;
	{
		uint16_t c = icmp_checksum(b + 20, n - 20);

		b[22] = (uint8_t)(c >> 8), b[23] = (uint8_t)c;
	}
	CHECK(v4->parse(b, n, 1, &p) == 0 && p.mtu == 1500 && !p.bad_csum, "frag needed: mtu");
	n = error4(b, 3, 200, 28);
	CHECK(v4->parse(b, n, 1, &p) == 0, "unknown code still parses");
	CHECK_STR(v4->describe(&p, d, sizeof(d)), "Dest Unreachable, Bad Code: 200", "bad code");
	n = error4(b, 12, 0, 28);
	b[24] = 9;
	CHECK(v4->parse(b, n, 1, &p) == 0 && p.pointer == 9, "parameter problem pointer");
	/* quoting less than the original IP header + 8 bytes */
	n = error4(b, 11, 0, 27);
	CHECK(v4->parse(b, n, 1, &p) == 0 && p.orig_valid && !p.orig_has_icmp,
	      "7 quoted ICMP bytes: no id/seq");
	n = error4(b, 11, 0, 19);
	CHECK(v4->parse(b, n, 1, &p) == 0 && !p.orig_valid, "19 quoted bytes: no header");
	n = error4(b, 11, 0, 0);
	CHECK(v4->parse(b, n, 1, &p) == 0 && !p.orig_valid, "nothing quoted");
	n = error4(b, 11, 0, 28);
	b[28] = 0x4f; /* quoted IHL 60 > quoted bytes */
	CHECK(v4->parse(b, n, 1, &p) == 0 && !p.orig_valid, "quoted IHL beyond quote ignored");
	b[28] = 0x43;
	CHECK(v4->parse(b, n, 1, &p) == 0 && !p.orig_valid, "quoted IHL 3 ignored");
}

static void test_v6(void)
{
	uint8_t b[256], q[128];
	struct icmp_pkt p;
	char d[128];
	size_t n, i;

	n = echo(v6, b, 129, 7, 8, 8, 56);
	CHECK(v6->parse(b, n, 0, &p) == 0 && p.kind == ICMP_K_REPLY && p.seq == 8 &&
	      p.icmp_len == 64, "ICMPv6 echo reply");
	for (i = 0; i < 8; i++)
		CHECK(v6->parse(b, i, 0, &p) == -1, "%zu-byte ICMPv6 rejected", i);
	b[0] = 128;
	CHECK(v6->parse(b, n, 0, &p) == 0 && p.kind == ICMP_K_OTHER, "echo request ignored");
	/* time exceeded quoting an IPv6 header + our echo request */
	memset(q, 0, sizeof(q));
	q[0] = 0x60, q[6] = IPPROTO_ICMPV6, q[7] = 1, q[39] = 2;
	echo(v6, q + 40, 128, 0x77, 5, 5, 0);
	memset(b, 0, 8);
	b[0] = 3;
	memcpy(b + 8, q, 48);
	CHECK(v6->parse(b, 56, 0, &p) == 0 && p.kind == ICMP_K_ERROR && p.orig_has_icmp &&
	      p.orig_id == 0x77 && p.orig_seq == 5 && p.orig_ttl == 1, "quoted ICMPv6 echo");
	CHECK_STR(v6->describe(&p, d, sizeof(d)), "Time exceeded: Hop limit", "wording");
	CHECK(v6->parse(b, 55, 0, &p) == 0 && p.orig_valid && !p.orig_has_icmp, "short quote");
	CHECK(v6->parse(b, 47, 0, &p) == 0 && !p.orig_valid, "quote shorter than a header");
	b[0] = 2, b[7] = 0x80, b[6] = 0x05; /* mtu 0x0580 = 1408 */
	CHECK(v6->parse(b, 56, 0, &p) == 0 && p.mtu == 1408, "packet too big: mtu");
	/* with an IPv6 header in front (as a capture would have it) */
	memset(b, 0, 40);
	b[0] = 0x60, b[5] = 64, b[6] = IPPROTO_ICMPV6, b[7] = 55;
	echo(v6, b + 40, 129, 1, 2, 2, 56);
	CHECK(v6->parse(b, 104, 1, &p) == 0 && p.ttl == 55 && p.icmp_len == 64, "with header");
	b[5] = 65;
	CHECK(v6->parse(b, 104, 1, &p) == -1, "payload length beyond the data rejected");
	b[5] = 64, b[6] = 0;
	CHECK(v6->parse(b, 104, 1, &p) == -1, "extension header rejected");
	CHECK(v6->parse(b, 39, 1, &p) == -1, "truncated IPv6 header rejected");
}

static void test_stats(void)
{
	struct rtt_stats s;
	double mn, av, mx, md;
	char buf[32];

	rtt_init(&s);
	CHECK(rtt_ms(&s, &mn, &av, &mx, &md) == -1, "no samples");
	rtt_add(&s, 1000000);
	rtt_add(&s, 3000000);
	CHECK(!rtt_ms(&s, &mn, &av, &mx, &md) && mn == 1 && mx == 3 && av == 2 &&
	      md > 0.999 && md < 1.001, "min/avg/max/mdev = 1/2/3/1");
	CHECK_STR(icmp_format_ms(45000, buf, sizeof(buf)), "0.045", "sub-ms: 3 decimals");
	CHECK_STR(icmp_format_ms(1234000, buf, sizeof(buf)), "1.23", "1-10 ms: 2 decimals");
	CHECK_STR(icmp_format_ms(12340000, buf, sizeof(buf)), "12.3", "10-100 ms: 1 decimal");
	CHECK_STR(icmp_format_ms(123400000, buf, sizeof(buf)), "123", "100 ms up: none");
}

static void test_timestamp(void)
{
	uint8_t b[64];
	struct icmp_probe pr = { .type = 13, .id = 1, .seq = 1, .tstamp_ms = 12345 };
	struct icmp_pkt p;
	uint32_t ts[3];
	size_t n = icmp_build(v4, &pr, b, sizeof(b));

	CHECK(n == 20 && icmp_checksum(b, n) == 0, "timestamp request: 20 bytes, checksum");
	b[0] = 14;
	CHECK(v4->parse(b, n, 0, &p) == 0 && p.kind == ICMP_K_REPLY, "timestamp reply");
	CHECK(!icmp_tstamp_fields(&p, ts) && ts[0] == 12345, "originate read back");
	CHECK(v4->reply_type(13) == 14 && v4->reply_type(8) == 0 && v4->reply_type(3) == -1,
	      "reply types");
	p.data_len = 11;
	CHECK(icmp_tstamp_fields(&p, ts) == -1, "short timestamp reply rejected");
}

/* Append a control message of @len data bytes (its cmsg_len may then be forged). */
static struct cmsghdr *put_cmsg(struct msghdr *m, size_t *used, int level, int type,
				const void *data, size_t len)
{
	struct cmsghdr *cm = (struct cmsghdr *)(void *)((char *)m->msg_control + *used);

	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(cm), data, len);
	*used += CMSG_SPACE(len);
	m->msg_controllen = *used;
	return cm;
}

static void test_cmsgs(void)
{
	union icmp_cbuf cb;
	struct msghdr m = { .msg_control = cb.buf };
	struct icmp_cmsgs r;
	struct timespec ts = { 12, 345 };
	unsigned char ee_buf[sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6)];
	struct sock_extended_err ee = { .ee_errno = 113, .ee_origin = SO_EE_ORIGIN_ICMP,
					.ee_type = 3, .ee_code = 1 };
	struct sockaddr_in off4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0xc6120002) };
	struct sockaddr_in6 off6 = { .sin6_family = AF_INET6 };
	struct cmsghdr *cm;
	size_t used = 0;
	int ttl = 61;

	memset(&cb, 0, sizeof(cb));
	icmp_read_cmsgs(&m, &r);
	CHECK(r.when_ns == -1 && r.ttl == -1 && !r.has_ee && !r.has_offender, "no cmsgs");

	put_cmsg(&m, &used, SOL_SOCKET, SCM_TIMESTAMPNS, &ts, sizeof(ts));
	put_cmsg(&m, &used, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	memcpy(ee_buf, &ee, sizeof(ee));
	memcpy(ee_buf + sizeof(ee), &off4, sizeof(off4));
	put_cmsg(&m, &used, IPPROTO_IP, IP_RECVERR, ee_buf, sizeof(ee) + sizeof(off4));
	icmp_read_cmsgs(&m, &r);
	CHECK(r.when_ns == 12000000345LL && r.ttl == 61, "timestamp and ttl");
	CHECK(r.has_ee && r.ee.ee_type == 3 && r.ee.ee_code == 1, "extended error");
	CHECK(r.has_offender && r.offender.ss_family == AF_INET &&
	      ((struct sockaddr_in *)(void *)&r.offender)->sin_addr.s_addr == off4.sin_addr.s_addr,
	      "offender address");

	/* the error without its offender address, or with half of it */
	used = 0;
	put_cmsg(&m, &used, IPPROTO_IP, IP_RECVERR, ee_buf, sizeof(ee));
	icmp_read_cmsgs(&m, &r);
	CHECK(r.has_ee && !r.has_offender, "error without offender");
	used = 0;
	put_cmsg(&m, &used, IPPROTO_IP, IP_RECVERR, ee_buf, sizeof(ee) + sizeof(off4) - 1);
	icmp_read_cmsgs(&m, &r);
	CHECK(r.has_ee && !r.has_offender, "error with a cut offender");
	/* an IPv6 offender needs all of its 28 bytes */
	memcpy(ee_buf + sizeof(ee), &off6, sizeof(off6));
	used = 0;
	put_cmsg(&m, &used, IPPROTO_IPV6, IPV6_RECVERR, ee_buf, sizeof(ee) + sizeof(off4));
	icmp_read_cmsgs(&m, &r);
	CHECK(r.has_ee && !r.has_offender, "IPv6 offender cut at IPv4's size");
	used = 0;
	put_cmsg(&m, &used, IPPROTO_IPV6, IPV6_RECVERR, ee_buf, sizeof(ee_buf));
	icmp_read_cmsgs(&m, &r);
	CHECK(r.has_ee && r.has_offender && r.offender.ss_family == AF_INET6, "IPv6 offender");
	/* shorter than an extended error: ignored; so are short TTL and timestamp */
	used = 0;
	put_cmsg(&m, &used, IPPROTO_IP, IP_RECVERR, ee_buf, sizeof(ee) - 1);
	put_cmsg(&m, &used, IPPROTO_IP, IP_TTL, &ttl, 1);
	put_cmsg(&m, &used, SOL_SOCKET, SCM_TIMESTAMPNS, &ts, sizeof(ts) - 1);
	icmp_read_cmsgs(&m, &r);
	CHECK(!r.has_ee && r.ttl == -1 && r.when_ns == -1, "short cmsgs ignored");
	/* a timestamp whose ns do not fit in 64 bits */
	used = 0;
	ts.tv_sec = (time_t)1 << 60;
	put_cmsg(&m, &used, SOL_SOCKET, SCM_TIMESTAMPNS, &ts, sizeof(ts));
	icmp_read_cmsgs(&m, &r);
	CHECK(r.when_ns == -1, "an overflowing timestamp is ignored");
	/* a cmsg_len below the header's own size, or past the buffer: the walk stops */
	used = 0;
	cm = put_cmsg(&m, &used, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	cm->cmsg_len = 3;
	icmp_read_cmsgs(&m, &r);
	CHECK(r.ttl == -1, "cmsg_len below the header");
	used = 0;
	cm = put_cmsg(&m, &used, IPPROTO_IP, IP_RECVERR, ee_buf, sizeof(ee) + sizeof(off4));
	cm->cmsg_len = CMSG_LEN(4000);
	m.msg_controllen = CMSG_LEN(sizeof(ee)) + 2; /* the buffer ends inside the offender */
	icmp_read_cmsgs(&m, &r);
	CHECK(r.has_ee && !r.has_offender, "cmsg_len past the buffer");
}

int main(void)
{
	v4 = icmp_family_of(AF_INET);
	v6 = icmp_family_of(AF_INET6);
	CHECK(v4 && v6 && !icmp_family_of(AF_UNIX), "family tables");
	test_checksum();
	test_echo_reply_v4();
	test_hostile_v4();
	test_errors_v4();
	test_v6();
	test_stats();
	test_timestamp();
	test_cmsgs();
	return UNIT_DONE();
}
