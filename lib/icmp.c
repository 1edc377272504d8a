/* SPDX-License-Identifier: MIT */
/* ICMP/ICMPv6 build, parse, checksum and RTT statistics. */
#include <errno.h>
#include <math.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "icmp.h"

uint16_t icmp_checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += be_get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int reject(struct icmp_pkt *p, const char *why)
{
	p->reject = why;
	return -1;
}

static size_t reject_len(struct icmp_pkt *p, const char *why)
{
	p->reject = why;
	return 0;
}

/* The 8-byte header common to both families. */
static void parse_header(const uint8_t *icmp, size_t len, struct icmp_pkt *p)
{
	p->type = icmp[0];
	p->code = icmp[1];
	p->id = be_get16(icmp + 4);
	p->seq = be_get16(icmp + 6);
	p->icmp_len = len;
	p->data = icmp + ICMP_HDRLEN;
	p->data_len = len - ICMP_HDRLEN;
}

/* ---- IPv4 ---- */

/*
 * An IPv4 header at @buf: check it and return its length, or 0.  @total
 * gets the datagram length it claims, clipped to @len when @clip (a quoted
 * header may describe more than the 8 bytes that were quoted).
 */
static size_t ip4_header(const uint8_t *buf, size_t len, int clip, size_t *total,
			 struct icmp_pkt *p)
{
	size_t ihl, tot;

	if (len < 20)
		return reject_len(p, "truncated IPv4 header");
	if (buf[0] >> 4 != 4)
		return reject_len(p, "not IPv4");
	ihl = (size_t)(buf[0] & 0x0f) * 4;
	if (ihl < 20)
		return reject_len(p, "bad IPv4 header length");
	if (ihl > len)
		return reject_len(p, "truncated IPv4 options");
	tot = be_get16(buf + 2);
	if (tot < ihl)
		return reject_len(p, "IPv4 total length shorter than its header");
	if (tot > len) {
		if (!clip)
			return reject_len(p, "IPv4 total length beyond the packet");
		tot = len;
	}
	*total = tot;
	return ihl;
}

static void parse_quoted_ip4(const uint8_t *q, size_t len, struct icmp_pkt *p)
{
	struct icmp_pkt scratch = { 0 };
	size_t ihl, tot;

	ihl = ip4_header(q, len, 1, &tot, &scratch);
	if (!ihl)
		return;
	p->orig_valid = 1;
	p->orig_ttl = q[8];
	p->orig_proto = q[9];
	memcpy(p->orig_src, q + 12, 4);
	memcpy(p->orig_dst, q + 16, 4);
	/* only the first fragment carries the ICMP header */
	if (p->orig_proto != IPPROTO_ICMP || (be_get16(q + 6) & 0x1fff) || tot - ihl < ICMP_HDRLEN)
		return;
	p->orig_has_icmp = 1;
	p->orig_type = q[ihl];
	p->orig_code = q[ihl + 1];
	p->orig_id = be_get16(q + ihl + 4);
	p->orig_seq = be_get16(q + ihl + 6);
}

static enum icmp_kind ip4_kind(uint8_t type)
{
	switch (type) {
	case ICMP_ECHOREPLY:
	case ICMP_TIMESTAMPREPLY:
	case ICMP_INFO_REPLY:
	case ICMP_ADDRESSREPLY:
		return ICMP_K_REPLY;
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		return ICMP_K_ERROR;
	default:
		return ICMP_K_OTHER;
	}
}

static int ip4_parse(const uint8_t *buf, size_t len, int with_ip, struct icmp_pkt *p)
{
	const uint8_t *icmp = buf;
	size_t ilen = len;

	memset(p, 0, sizeof(*p));
	p->ttl = -1;
	if (!buf)
		return reject(p, "no data");
	if (with_ip) {
		size_t ihl, tot;

		ihl = ip4_header(buf, len, 0, &tot, p);
		if (!ihl)
			return -1;
		if (buf[9] != IPPROTO_ICMP)
			return reject(p, "not ICMP");
		if (be_get16(buf + 6) & 0x3fff)
			return reject(p, "an IPv4 fragment");
		p->ttl = buf[8];
		memcpy(p->src, buf + 12, 4);
		memcpy(p->dst, buf + 16, 4);
		icmp = buf + ihl;
		ilen = tot - ihl;
	}
	if (ilen < ICMP_HDRLEN)
		return reject(p, "short ICMP message");
	parse_header(icmp, ilen, p);
	/* the kernel checks it on datagram sockets; raw ones give us the wire */
	p->bad_csum = with_ip && icmp_checksum(icmp, ilen) != 0;
	p->kind = ip4_kind(p->type);
	if (p->kind != ICMP_K_ERROR)
		return 0;
	if (p->type == ICMP_DEST_UNREACH && p->code == ICMP_FRAG_NEEDED)
		p->mtu = be_get16(icmp + 6);
	if (p->type == ICMP_PARAMETERPROB)
		p->pointer = icmp[4];
	parse_quoted_ip4(icmp + ICMP_HDRLEN, ilen - ICMP_HDRLEN, p);
	return 0;
}

static const char *ip4_error_class(uint8_t type)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
		return "Destination unreachable";
	case ICMP_SOURCE_QUENCH:
		return "Source quench";
	case ICMP_REDIRECT:
		return "Redirect";
	case ICMP_TIME_EXCEEDED:
		return "Time exceeded";
	case ICMP_PARAMETERPROB:
		return "Parameter problem";
	default:
		return NULL;
	}
}

static const char *const ip4_unreach[] = {
	"Destination Net Unreachable",
	"Destination Host Unreachable",
	"Destination Protocol Unreachable",
	"Destination Port Unreachable",
	"Frag needed and DF set",
	"Source Route Failed",
	"Destination Net Unknown",
	"Destination Host Unknown",
	"Source Host Isolated",
	"Destination Net Prohibited",
	"Destination Host Prohibited",
	"Destination Net Unreachable for Type of Service",
	"Destination Host Unreachable for Type of Service",
	"Packet filtered",
	"Precedence Violation",
	"Precedence Cutoff",
};

static const char *ip4_describe(const struct icmp_pkt *p, char *buf, size_t n)
{
	switch (p->type) {
	case ICMP_DEST_UNREACH:
		if (p->code == ICMP_FRAG_NEEDED)
			snprintf(buf, n, "Frag needed and DF set (mtu = %u)", (unsigned)p->mtu);
		else if (p->code < sizeof(ip4_unreach) / sizeof(ip4_unreach[0]))
			snprintf(buf, n, "%s", ip4_unreach[p->code]);
		else
			snprintf(buf, n, "Dest Unreachable, Bad Code: %u", p->code);
		break;
	case ICMP_TIME_EXCEEDED:
		snprintf(buf, n, "%s", p->code == 0 ? "Time to live exceeded" :
				      p->code == 1 ? "Frag reassembly time exceeded" :
						     "Time exceeded, Bad Code");
		break;
	case ICMP_PARAMETERPROB:
		snprintf(buf, n, "Parameter problem: pointer = %u", (unsigned)p->pointer);
		break;
	case ICMP_SOURCE_QUENCH:
		snprintf(buf, n, "Source Quench");
		break;
	case ICMP_REDIRECT:
		snprintf(buf, n, "Redirect (code %u)", p->code);
		break;
	default:
		snprintf(buf, n, "ICMP type %u code %u", p->type, p->code);
	}
	return buf;
}

static int ip4_reply_type(uint8_t type)
{
	switch (type) {
	case ICMP_ECHO:
	case ICMP_TIMESTAMP:
	case ICMP_INFO_REQUEST:
	case ICMP_ADDRESS:
		return type == ICMP_ECHO ? ICMP_ECHOREPLY : type + 1;
	default:
		return -1;
	}
}

static int setint(int fd, int level, int name, int val, const char *what, struct err *e)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)))
		return err_sys(e, EXIT_FAIL, errno, "setsockopt %s", what);
	return 0;
}

static int ip4_set_ttl(int fd, int ttl, struct err *e)
{
	return setint(fd, IPPROTO_IP, IP_TTL, ttl, "IP_TTL", e);
}

static int ip4_set_tos(int fd, int tos, struct err *e)
{
	return setint(fd, IPPROTO_IP, IP_TOS, tos, "IP_TOS", e);
}

static int ip4_recv_ttl(int fd, struct err *e)
{
	return setint(fd, IPPROTO_IP, IP_RECVTTL, 1, "IP_RECVTTL", e);
}

/* <linux/icmp.h> clashes with <netinet/ip_icmp.h>; its two names, here. */
#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

static int ip4_filter(int fd, uint8_t query_type, struct err *e)
{
	struct {
		uint32_t data;
	} f;
	int rt = ip4_reply_type(query_type);

	/* a bit set blocks that type; only types below 32 can be let through */
	f.data = ~(uint32_t)((1u << ICMP_DEST_UNREACH) | (1u << ICMP_SOURCE_QUENCH) |
			     (1u << ICMP_REDIRECT) | (1u << ICMP_TIME_EXCEEDED) |
			     (1u << ICMP_PARAMETERPROB) | (1u << ICMP_ECHOREPLY));
	if (rt >= 0 && rt < 32)
		f.data &= ~(1u << rt);
	if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f)))
		return err_sys(e, EXIT_FAIL, errno, "setsockopt ICMP_FILTER");
	return 0;
}

static int ip4_recv_err(int fd, struct err *e)
{
	return setint(fd, IPPROTO_IP, IP_RECVERR, 1, "IP_RECVERR", e);
}

/* ---- IPv6 ---- */

static void parse_quoted_ip6(const uint8_t *q, size_t len, struct icmp_pkt *p)
{
	if (len < 40 || q[0] >> 4 != 6)
		return;
	p->orig_valid = 1;
	p->orig_proto = q[6];
	p->orig_ttl = q[7];
	memcpy(p->orig_src, q + 8, 16);
	memcpy(p->orig_dst, q + 24, 16);
	/* extension headers are not followed: echo requests carry none */
	if (p->orig_proto != IPPROTO_ICMPV6 || len - 40 < ICMP_HDRLEN)
		return;
	p->orig_has_icmp = 1;
	p->orig_type = q[40];
	p->orig_code = q[41];
	p->orig_id = be_get16(q + 44);
	p->orig_seq = be_get16(q + 46);
}

static enum icmp_kind ip6_kind(uint8_t type)
{
	if (type == ICMP6_ECHO_REPLY)
		return ICMP_K_REPLY;
	if (type >= ICMP6_DST_UNREACH && type <= ICMP6_PARAM_PROB)
		return ICMP_K_ERROR;
	return ICMP_K_OTHER;
}

static int ip6_parse(const uint8_t *buf, size_t len, int with_ip, struct icmp_pkt *p)
{
	const uint8_t *icmp = buf;
	size_t ilen = len;

	memset(p, 0, sizeof(*p));
	p->ttl = -1;
	if (!buf)
		return reject(p, "no data");
	if (with_ip) {
		size_t plen;

		if (len < 40)
			return reject(p, "truncated IPv6 header");
		if (buf[0] >> 4 != 6)
			return reject(p, "not IPv6");
		plen = be_get16(buf + 4);
		if (plen > len - 40)
			return reject(p, "IPv6 payload length beyond the packet");
		if (buf[6] != IPPROTO_ICMPV6)
			return reject(p, "not ICMPv6 (extension headers are not followed)");
		p->ttl = buf[7];
		memcpy(p->src, buf + 8, 16);
		memcpy(p->dst, buf + 24, 16);
		icmp = buf + 40;
		ilen = plen;
	}
	if (ilen < ICMP_HDRLEN)
		return reject(p, "short ICMPv6 message");
	parse_header(icmp, ilen, p);
	p->kind = ip6_kind(p->type);
	if (p->kind != ICMP_K_ERROR)
		return 0;
	if (p->type == ICMP6_PACKET_TOO_BIG)
		p->mtu = be_get32(icmp + 4);
	if (p->type == ICMP6_PARAM_PROB)
		p->pointer = be_get32(icmp + 4);
	parse_quoted_ip6(icmp + ICMP_HDRLEN, ilen - ICMP_HDRLEN, p);
	return 0;
}

static const char *ip6_error_class(uint8_t type)
{
	switch (type) {
	case ICMP6_DST_UNREACH:
		return "Destination unreachable";
	case ICMP6_PACKET_TOO_BIG:
		return "Packet too big";
	case ICMP6_TIME_EXCEEDED:
		return "Time exceeded";
	case ICMP6_PARAM_PROB:
		return "Parameter problem";
	default:
		return NULL;
	}
}

static const char *const ip6_unreach[] = {
	"No route",
	"Administratively prohibited",
	"Beyond scope of source address",
	"Address unreachable",
	"Port unreachable",
	"Source address failed ingress/egress policy",
	"Reject route to destination",
};

static const char *ip6_describe(const struct icmp_pkt *p, char *buf, size_t n)
{
	switch (p->type) {
	case ICMP6_DST_UNREACH:
		if (p->code < sizeof(ip6_unreach) / sizeof(ip6_unreach[0]))
			snprintf(buf, n, "Destination unreachable: %s", ip6_unreach[p->code]);
		else
			snprintf(buf, n, "Destination unreachable: Unknown code %u", p->code);
		break;
	case ICMP6_PACKET_TOO_BIG:
		snprintf(buf, n, "Packet too big: mtu=%u", (unsigned)p->mtu);
		break;
	case ICMP6_TIME_EXCEEDED:
		snprintf(buf, n, "%s", p->code == 0 ? "Time exceeded: Hop limit" :
				      p->code == 1 ? "Time exceeded: Defragmentation failure" :
						     "Time exceeded: Unknown code");
		break;
	case ICMP6_PARAM_PROB:
		snprintf(buf, n, "Parameter problem: code %u at %u", p->code,
			 (unsigned)p->pointer);
		break;
	default:
		snprintf(buf, n, "ICMPv6 type %u code %u", p->type, p->code);
	}
	return buf;
}

static int ip6_reply_type(uint8_t type)
{
	return type == ICMP6_ECHO_REQUEST ? ICMP6_ECHO_REPLY : -1;
}

static int ip6_set_ttl(int fd, int ttl, struct err *e)
{
	return setint(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, "IPV6_UNICAST_HOPS", e);
}

static int ip6_set_tos(int fd, int tos, struct err *e)
{
	return setint(fd, IPPROTO_IPV6, IPV6_TCLASS, tos, "IPV6_TCLASS", e);
}

static int ip6_recv_ttl(int fd, struct err *e)
{
	return setint(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1, "IPV6_RECVHOPLIMIT", e);
}

static int ip6_filter(int fd, uint8_t query_type, struct err *e)
{
	struct icmp6_filter f;

	(void)query_type; /* only echo is sent over ICMPv6 */
	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
	ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
	ICMP6_FILTER_SETPASS(ICMP6_PACKET_TOO_BIG, &f);
	ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
	ICMP6_FILTER_SETPASS(ICMP6_PARAM_PROB, &f);
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)))
		return err_sys(e, EXIT_FAIL, errno, "setsockopt ICMP6_FILTER");
	return 0;
}

static int ip6_recv_err(int fd, struct err *e)
{
	return setint(fd, IPPROTO_IPV6, IPV6_RECVERR, 1, "IPV6_RECVERR", e);
}

static const struct icmp_family families[] = {
	{
		.name = "icmp", .family = AF_INET, .proto = IPPROTO_ICMP,
		.addrlen = sizeof(struct sockaddr_in), .addr_bytes = 4, .ip_hdrlen = 20,
		.max_payload = 65535 - 20 - ICMP_HDRLEN,
		.echo_request = ICMP_ECHO, .echo_reply = ICMP_ECHOREPLY,
		.parse = ip4_parse, .error_class = ip4_error_class, .describe = ip4_describe,
		.reply_type = ip4_reply_type, .set_ttl = ip4_set_ttl, .set_tos = ip4_set_tos,
		.recv_ttl = ip4_recv_ttl, .filter = ip4_filter, .recv_err = ip4_recv_err,
		.kernel_csum = 0,
	},
	{
		.name = "icmp6", .family = AF_INET6, .proto = IPPROTO_ICMPV6,
		.addrlen = sizeof(struct sockaddr_in6), .addr_bytes = 16, .ip_hdrlen = 40,
		.max_payload = 65535 - ICMP_HDRLEN,
		.echo_request = ICMP6_ECHO_REQUEST, .echo_reply = ICMP6_ECHO_REPLY,
		.parse = ip6_parse, .error_class = ip6_error_class, .describe = ip6_describe,
		.reply_type = ip6_reply_type, .set_ttl = ip6_set_ttl, .set_tos = ip6_set_tos,
		.recv_ttl = ip6_recv_ttl, .filter = ip6_filter, .recv_err = ip6_recv_err,
		.kernel_csum = 1,
	},
};

const struct icmp_family *icmp_family_of(int family)
{
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (families[i].family == family)
			return &families[i];
	return NULL;
}

/* ---- probes and payloads ---- */

static uint8_t pattern_byte(size_t i)
{
	return (uint8_t)(0x10 + i);
}

size_t icmp_build(const struct icmp_family *f, const struct icmp_probe *pr, uint8_t *buf,
		  size_t cap)
{
	size_t len = ICMP_HDRLEN + pr->size, i;

	if (f->family == AF_INET && pr->type == ICMP_TIMESTAMP)
		len = ICMP_TSTAMP_LEN;
	if (cap < len)
		return 0;
	buf[0] = pr->type;
	buf[1] = pr->code;
	be_put16(buf + 2, 0);
	be_put16(buf + 4, pr->id);
	be_put16(buf + 6, pr->seq);
	if (f->family == AF_INET && pr->type == ICMP_TIMESTAMP) {
		be_put32(buf + 8, pr->tstamp_ms);
		be_put32(buf + 12, 0);
		be_put32(buf + 16, 0);
	} else {
		uint8_t cb[8];

		be_put64(cb, pr->counter);
		for (i = 0; i < pr->size; i++)
			buf[ICMP_HDRLEN + i] = i < 8 ? cb[i]
					       : pr->pattern_len ? pr->pattern[(i - 8) % pr->pattern_len]
								 : pattern_byte(i);
	}
	if (!f->kernel_csum)
		be_put16(buf + 2, icmp_checksum(buf, len));
	return len;
}

int icmp_payload_counter(const struct icmp_pkt *p, uint64_t *counter)
{
	if (!p->data || p->data_len < 8)
		return -1;
	*counter = be_get64(p->data);
	return 0;
}

size_t icmp_payload_mismatch_pat(const struct icmp_pkt *p, const uint8_t *pat, size_t n)
{
	size_t i, bad = 0;

	for (i = 8; p->data && i < p->data_len; i++)
		bad += p->data[i] != (pat && n ? pat[(i - 8) % n] : pattern_byte(i));
	return bad;
}

size_t icmp_payload_mismatch(const struct icmp_pkt *p)
{
	return icmp_payload_mismatch_pat(p, NULL, 0);
}

int icmp_tstamp_fields(const struct icmp_pkt *p, uint32_t ts[3])
{
	if (!p->data || p->data_len < 12)
		return -1;
	ts[0] = be_get32(p->data);
	ts[1] = be_get32(p->data + 4);
	ts[2] = be_get32(p->data + 8);
	return 0;
}

uint32_t icmp_tstamp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint32_t)((ts.tv_sec % 86400) * 1000 + ts.tv_nsec / 1000000);
}

/* ---- statistics ---- */

const char *icmp_format_ms(int64_t ns, char *buf, size_t n)
{
	double ms = (double)ns / 1e6;

	if (ms < 1)
		snprintf(buf, n, "%.3f", ms);
	else if (ms < 10)
		snprintf(buf, n, "%.2f", ms);
	else if (ms < 100)
		snprintf(buf, n, "%.1f", ms);
	else
		snprintf(buf, n, "%.0f", ms);
	return buf;
}

/*
 * The bytes a control message carries after its header: what its length
 * claims, but never past the end of the control buffer.
 */
static size_t cmsg_data_len(const struct msghdr *m, const struct cmsghdr *cm)
{
	const unsigned char *end = (const unsigned char *)m->msg_control + m->msg_controllen;
	const unsigned char *data = CMSG_DATA(cm);
	size_t n = cm->cmsg_len >= CMSG_LEN(0) ? cm->cmsg_len - CMSG_LEN(0) : 0;

	if (data > end)
		return 0;
	return n < (size_t)(end - data) ? n : (size_t)(end - data);
}

static void read_ee(const struct cmsghdr *cm, size_t n, struct icmp_cmsgs *r)
{
	size_t want;
	const unsigned char *d = CMSG_DATA(cm);
	sa_family_t fam;

	if (n < sizeof(r->ee))
		return;
	memcpy(&r->ee, d, sizeof(r->ee));
	r->has_ee = 1;
	r->has_offender = 0;
	/* SO_EE_OFFENDER: the address right after the error, if all of it came */
	if (n < sizeof(r->ee) + sizeof(fam))
		return;
	memcpy(&fam, d + sizeof(r->ee), sizeof(fam));
	want = fam == AF_INET ? sizeof(struct sockaddr_in) :
	       fam == AF_INET6 ? sizeof(struct sockaddr_in6) : 0;
	if (!want || n < sizeof(r->ee) + want)
		return;
	memset(&r->offender, 0, sizeof(r->offender));
	memcpy(&r->offender, d + sizeof(r->ee), want);
	r->has_offender = 1;
}

void icmp_read_cmsgs(const struct msghdr *m, struct icmp_cmsgs *r)
{
	struct cmsghdr *cm;

	memset(r, 0, sizeof(*r));
	r->when_ns = -1;
	r->ttl = -1;
	for (cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR((struct msghdr *)m, cm)) {
		size_t n = cmsg_data_len(m, cm);

		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
		    n >= sizeof(struct timespec)) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			/* a stamp that does not fit in ns is no stamp */
			if (ts.tv_sec >= 0 && ts.tv_sec < INT64_MAX / 1000000000 - 1 &&
			    ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000)
				r->when_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		} else if (((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL) ||
			    (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)) &&
			   n >= sizeof(int)) {
			memcpy(&r->ttl, CMSG_DATA(cm), sizeof(int));
		} else if ((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
			   (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR)) {
			read_ee(cm, n, r);
		}
	}
}
