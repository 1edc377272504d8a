/* SPDX-License-Identifier: MIT */
#include "dgram.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "bytes.h"
#include "out.h"

/* Past this many sequence numbers (64 Mi, an 8 MiB bitmap) duplicates go uncounted. */
#define SEEN_MAX_BYTES (UINT64_C(8) << 20)

int dgram_probe_encode(void *buf, size_t len, const struct dgram_probe *p)
{
	unsigned char *b = buf;
	size_t i;

	if (len < DGRAM_PROBE_HDR)
		return -1;
	memcpy(b, "SKP1", 4);
	b[4] = (unsigned char)p->flags;
	b[5] = b[6] = b[7] = 0;
	be_put64(b + 8, p->seq);
	be_put64(b + 16, p->ts_ns);
	be_put64(b + 24, p->total);
	/* a recognisable, compressible pattern rather than stale memory */
	for (i = DGRAM_PROBE_HDR; i < len; i++)
		b[i] = (unsigned char)('a' + i % 26);
	return 0;
}

int dgram_probe_decode(const void *buf, size_t len, struct dgram_probe *p)
{
	const unsigned char *b = buf;

	if (len < DGRAM_PROBE_HDR || memcmp(b, "SKP1", 4) != 0 || b[5] || b[6] || b[7])
		return 0;
	p->flags = b[4];
	p->seq = be_get64(b + 8);
	p->ts_ns = be_get64(b + 16);
	p->total = be_get64(b + 24);
	return 1;
}

int64_t dgram_probe_age(uint64_t sent_ns, int64_t now_ns)
{
	uint64_t now = now_ns > 0 ? (uint64_t)now_ns : 0, d;

	/* unsigned: a hostile timestamp (2^63, 2^64 - 1) must not overflow */
	if (now >= sent_ns) {
		d = now - sent_ns;
		return d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
	}
	d = sent_ns - now;
	return d > (uint64_t)INT64_MAX ? -INT64_MAX : -(int64_t)d;
}

void dgram_stats_init(struct dgram_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->first_ns = s->last_ns = -1;
	s->res_ns = 1;
}

void dgram_stats_free(struct dgram_stats *s)
{
	free(s->seen);
	s->seen = NULL;
	s->seen_bytes = 0;
}

void dgram_stats_datagram(struct dgram_stats *s, size_t len, int64_t ts_ns)
{
	s->datagrams++;
	s->bytes += len;
	if (s->first_ns < 0 || ts_ns < s->first_ns)
		s->first_ns = ts_ns;
	if (ts_ns > s->last_ns)
		s->last_ns = ts_ns;
}

/* Make room for bit @seq; 0 if it is past the limit or memory ran out. */
static int seen_grow(struct dgram_stats *s, uint64_t seq)
{
	size_t want = s->seen_bytes ? s->seen_bytes : 4096;
	unsigned char *n;

	if (seq / 8 < s->seen_bytes)
		return 1;
	if (seq / 8 >= SEEN_MAX_BYTES)
		return 0;
	while (want <= seq / 8)
		want *= 2;
	if (want > SEEN_MAX_BYTES)
		want = SEEN_MAX_BYTES;
	n = realloc(s->seen, want);
	if (!n)
		return 0;
	memset(n + s->seen_bytes, 0, want - s->seen_bytes);
	s->seen = n;
	s->seen_bytes = want;
	return 1;
}

void dgram_stats_probe(struct dgram_stats *s, const struct dgram_probe *p, int64_t real_ns)
{
	int64_t lat = dgram_probe_age(p->ts_ns, real_ns);
	uint64_t next = p->seq == UINT64_MAX ? UINT64_MAX : p->seq + 1;

	s->probes++;
	if (p->total)
		s->total = p->total;
	if (!seen_grow(s, p->seq)) {
		s->untracked++;
	} else {
		unsigned char bit = (unsigned char)(1u << (p->seq % 8));

		if (s->seen[p->seq / 8] & bit) {
			s->dups++;
			return;
		}
		s->seen[p->seq / 8] |= bit;
	}
	s->unique++;
	if (next < s->next_seq)
		s->reordered++;
	else
		s->next_seq = next;
	if (!dgram_probe_age_sane(lat)) {
		s->lat_bogus++;
		return;
	}
	if (!s->lat_n || lat < s->lat_min)
		s->lat_min = lat;
	if (!s->lat_n || lat > s->lat_max)
		s->lat_max = lat;
	s->lat_sum += (double)lat;
	s->lat_n++;
}

void dgram_stats_end(struct dgram_stats *s, const struct dgram_probe *p)
{
	s->end_seen = 1;
	s->end_total = p->total;
}

uint64_t dgram_stats_expected(const struct dgram_stats *s)
{
	if (s->end_seen)
		return s->end_total;
	if (s->total)
		return s->total;
	return s->next_seq;
}

uint64_t dgram_stats_lost(const struct dgram_stats *s)
{
	uint64_t exp = dgram_stats_expected(s);

	return exp > s->unique ? exp - s->unique : 0;
}

uint64_t dgram_stats_lost_path(const struct dgram_stats *s)
{
	uint64_t lost = dgram_stats_lost(s);

	return lost > s->sock_drops ? lost - s->sock_drops : 0;
}

int dgram_stats_span(const struct dgram_stats *s, int64_t *ns)
{
	*ns = s->datagrams > 1 && s->last_ns > s->first_ns ? s->last_ns - s->first_ns : 0;
	return s->datagrams > 1 && *ns > 0 && *ns >= s->res_ns;
}

double dgram_stats_rate(const struct dgram_stats *s)
{
	int64_t ns;

	if (!dgram_stats_span(s, &ns))
		return 0;
	return (double)(s->datagrams - 1) * 1e9 / (double)ns;
}

static double ms(double ns)
{
	return ns / 1e6;
}

static void stats_json(const struct dgram_stats *s, FILE *f)
{
	struct jsonw w;
	int64_t ns;
	int rate = dgram_stats_span(s, &ns);
	double secs = (double)ns / 1e9;

	json_begin(&w, f);
	json_str(&w, "event", "stats");
	json_uint(&w, "datagrams", s->datagrams);
	json_uint(&w, "bytes", s->bytes);
	json_uint(&w, "truncated", s->truncated);
	json_uint(&w, "discarded", s->discarded);
	json_uint(&w, "dropped_at_socket", s->sock_drops);
	json_bool(&w, "dropped_are_reads", s->drops_are_reads && s->sock_drops);
	if (s->rcvbuf > 0)
		json_int(&w, "rcvbuf", s->rcvbuf);
	else
		json_null(&w, "rcvbuf");
	json_num(&w, "seconds", secs, 9);
	/* no rate when every datagram arrived within the clock's resolution */
	if (rate) {
		json_num(&w, "rate_pps", dgram_stats_rate(s), 1);
		json_num(&w, "rate_mbps", (double)s->bytes * 8 / secs / 1e6, 3);
	} else {
		json_null(&w, "rate_pps");
		json_null(&w, "rate_mbps");
	}
	if (s->probes || s->end_seen) {
		json_uint(&w, "probes", s->probes);
		json_uint(&w, "expected", dgram_stats_expected(s));
		json_bool(&w, "end_seen", s->end_seen);
		json_uint(&w, "received", s->unique);
		json_uint(&w, "lost", dgram_stats_lost(s));
		if (dgram_stats_path_known(s))
			json_uint(&w, "lost_before_host", dgram_stats_lost_path(s));
		else
			json_null(&w, "lost_before_host");
		json_uint(&w, "duplicates", s->dups);
		json_uint(&w, "reordered", s->reordered);
		json_uint(&w, "bad_stamps", s->lat_bogus);
		if (s->lat_n) {
			json_num(&w, "latency_min_ms", ms((double)s->lat_min), 3);
			json_num(&w, "latency_avg_ms", ms(s->lat_sum / (double)s->lat_n), 3);
			json_num(&w, "latency_max_ms", ms((double)s->lat_max), 3);
		}
	}
	json_end(&w);
}

void dgram_stats_print(const struct dgram_stats *s, FILE *f, int json)
{
	uint64_t exp = dgram_stats_expected(s);
	int64_t ns;
	int rate = dgram_stats_span(s, &ns);
	double secs = (double)ns / 1e9;

	if (json) {
		stats_json(s, f);
		return;
	}
	fprintf(f, "%llu datagrams, %llu bytes", (unsigned long long)s->datagrams,
		(unsigned long long)s->bytes);
	if (rate)
		fprintf(f, secs < 1 ? " in %.6fs (%.0f datagrams/s, %.3f Mbit/s)"
				    : " in %.3fs (%.0f datagrams/s, %.3f Mbit/s)",
			secs, dgram_stats_rate(s), (double)s->bytes * 8 / secs / 1e6);
	else if (s->datagrams > 1)
		fputs(" at once (no rate: all within the clock's resolution)", f);
	if (s->truncated)
		fprintf(f, ", %llu truncated", (unsigned long long)s->truncated);
	if (s->discarded)
		fprintf(f, ", %llu more read past -c and discarded",
			(unsigned long long)s->discarded);
	if (s->probes || s->end_seen)
		fprintf(f, "; probes: %llu received of %llu sent%s, %llu lost (%.2f%%), "
			   "%llu duplicates, %llu reordered",
			(unsigned long long)s->unique, (unsigned long long)exp,
			s->end_seen ? "" : " (no end marker: estimated)",
			(unsigned long long)dgram_stats_lost(s),
			exp ? 100.0 * (double)dgram_stats_lost(s) / (double)exp : 0.0,
			(unsigned long long)s->dups, (unsigned long long)s->reordered);
	/* where the loss happened: here (the kernel's count), or on the way */
	fprintf(f, "; dropped at this socket (receive buffer full): %llu%s",
		(unsigned long long)s->sock_drops,
		dgram_stats_path_known(s) ? "" : " coalesced (GRO) reads, each of one or more "
						 "datagrams");
	if (!s->probes && !s->end_seen)
		return;
	fprintf(f, "; lost before reaching this host: %s%llu%s",
		dgram_stats_path_known(s) ? "" : "at most ",
		(unsigned long long)dgram_stats_lost_path(s),
		dgram_stats_path_known(s) ? "" : " (--no-gro counts datagrams)");
	if (s->lat_n)
		fprintf(f, "; latency min/avg/max %.3f/%.3f/%.3f ms", ms((double)s->lat_min),
			ms(s->lat_sum / (double)s->lat_n), ms((double)s->lat_max));
	if (s->lat_bogus)
		fprintf(f, "; %llu probe%s stamped over an hour off (not in the latency)",
			(unsigned long long)s->lat_bogus, s->lat_bogus == 1 ? "" : "s");
}

static int setint(int fd, int level, int name, int val, const char *what, struct err *e)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)))
		return err_sys(e, EXIT_FAIL, errno, "setsockopt %s=%d", what, val);
	return 0;
}

int dgram_batch_init(struct dgram_batch *b, unsigned n, size_t size, struct err *e)
{
	unsigned i;

	memset(b, 0, sizeof(*b));
	b->msgs = calloc(n, sizeof(*b->msgs));
	b->iov = calloc(n, sizeof(*b->iov));
	b->addrs = calloc(n, sizeof(*b->addrs));
	b->buf = malloc((size_t)n * size);
	if (!b->msgs || !b->iov || !b->addrs || !b->buf) {
		dgram_batch_free(b);
		return err_set(e, EXIT_FAIL, "out of memory for %u buffers of %zu bytes", n, size);
	}
	b->n = n;
	b->size = size;
	for (i = 0; i < n; i++)
		dgram_batch_reset(b, i);
	return 0;
}

int dgram_batch_ctrl(struct dgram_batch *b, struct err *e)
{
	unsigned i;

	if (b->ctrl)
		return 0;
	b->ctrl = calloc(b->n, DGRAM_CTRL_SIZE);
	if (!b->ctrl)
		return err_set(e, EXIT_FAIL, "out of memory for %u control buffers", b->n);
	for (i = 0; i < b->n; i++)
		dgram_batch_reset(b, i);
	return 0;
}

void dgram_batch_free(struct dgram_batch *b)
{
	free(b->ctrl);
	free(b->msgs);
	free(b->iov);
	free(b->addrs);
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

void dgram_batch_reset(struct dgram_batch *b, unsigned i)
{
	struct msghdr *h = &b->msgs[i].msg_hdr;

	b->iov[i].iov_base = dgram_slot(b, i);
	b->iov[i].iov_len = b->size;
	memset(h, 0, sizeof(*h));
	h->msg_iov = &b->iov[i];
	h->msg_iovlen = 1;
	h->msg_name = &b->addrs[i];
	h->msg_namelen = sizeof(b->addrs[i]);
	if (b->ctrl) {
		h->msg_control = b->ctrl + (size_t)i * DGRAM_CTRL_SIZE;
		h->msg_controllen = DGRAM_CTRL_SIZE;
	}
}

int dgram_gso_enable(int fd, struct err *e)
{
	/* 0: no default segmentation; each send asks with its own control message */
	return setint(fd, SOL_UDP, UDP_SEGMENT, 0, "UDP_SEGMENT", e);
}

int dgram_gro_set(int fd, int on, struct err *e)
{
	return setint(fd, SOL_UDP, UDP_GRO, on, "UDP_GRO", e);
}

unsigned dgram_gso_run(const struct iovec *iov, unsigned n)
{
	size_t seg, bytes;
	unsigned k;

	if (n == 0)
		return 0;
	seg = iov[0].iov_len;
	if (seg == 0 || seg > DGRAM_GSO_MAX_BYTES / 2)
		return 1;
	for (k = 1, bytes = seg; k < n && k < DGRAM_GSO_MAX_SEGS; k++, bytes += seg)
		if (iov[k].iov_len != seg || bytes + seg > DGRAM_GSO_MAX_BYTES)
			break;
	return k;
}

void dgram_gso_cmsg(struct msghdr *h, unsigned char *ctrl, size_t seg)
{
	struct cmsghdr *cm;
	uint16_t v = (uint16_t)seg;

	memset(ctrl, 0, DGRAM_CTRL_SIZE);
	h->msg_control = ctrl;
	h->msg_controllen = CMSG_SPACE(sizeof(v));
	cm = CMSG_FIRSTHDR(h);
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(v));
	memcpy(CMSG_DATA(cm), &v, sizeof(v));
}

size_t dgram_gro_size(const struct msghdr *h)
{
	struct cmsghdr *cm;

	if (!h->msg_control)
		return 0;
	for (cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
		int v;

		if (cm->cmsg_level != SOL_UDP || cm->cmsg_type != UDP_GRO ||
		    cm->cmsg_len < CMSG_LEN(sizeof(v)))
			continue;
		memcpy(&v, CMSG_DATA(cm), sizeof(v));
		return v > 0 ? (size_t)v : 0;
	}
	return 0;
}

int dgram_timestamps_on(int fd, struct err *e)
{
	return setint(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS", e);
}

int64_t dgram_rx_time(const struct msghdr *h)
{
	struct cmsghdr *cm;

	if (!h->msg_control)
		return -1;
	for (cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
		struct timespec ts;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS ||
		    cm->cmsg_len < CMSG_LEN(sizeof(ts)))
			continue;
		memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	return -1;
}

size_t dgram_gro_count(size_t len, size_t seg)
{
	if (seg == 0 || len <= seg)
		return 1;
	return (len + seg - 1) / seg;
}

/* An interface by name or by one of its addresses: its index, or 0. */
static unsigned ifindex_of(const char *ifspec, struct in_addr *v4)
{
	unsigned idx = if_nametoindex(ifspec);

	v4->s_addr = htonl(INADDR_ANY);
	if (idx)
		return idx;
	if (inet_pton(AF_INET, ifspec, v4) == 1)
		return 0;
	return 0;
}

int dgram_mcast_if(int fd, int family, const char *ifspec, struct err *e)
{
	struct ip_mreqn mr;
	unsigned idx;

	memset(&mr, 0, sizeof(mr));
	idx = ifindex_of(ifspec, &mr.imr_address);
	if (family == AF_INET6) {
		int i = (int)idx;

		if (!idx)
			return err_set(e, EXIT_USAGE, "--mcast-if: no interface '%.64s'", ifspec);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &i, sizeof(i)))
			return err_sys(e, EXIT_FAIL, errno, "setsockopt IPV6_MULTICAST_IF=%s",
				       ifspec);
		return 0;
	}
	if (!idx && mr.imr_address.s_addr == htonl(INADDR_ANY))
		return err_set(e, EXIT_USAGE, "--mcast-if: no interface '%.64s'", ifspec);
	mr.imr_ifindex = (int)idx;
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)))
		return err_sys(e, EXIT_FAIL, errno, "setsockopt IP_MULTICAST_IF=%s", ifspec);
	return 0;
}

int dgram_mcast_ttl(int fd, int family, int ttl, struct err *e)
{
	if (family == AF_INET6)
		return setint(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ttl, "IPV6_MULTICAST_HOPS", e);
	return setint(fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL", e);
}

int dgram_mcast_loop(int fd, int family, int on, struct err *e)
{
	if (family == AF_INET6)
		return setint(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, on, "IPV6_MULTICAST_LOOP", e);
	return setint(fd, IPPROTO_IP, IP_MULTICAST_LOOP, on, "IP_MULTICAST_LOOP", e);
}

int dgram_is_multicast(const char *group, int family)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (family != AF_INET6 && inet_pton(AF_INET, group, &a4) == 1)
		return IN_MULTICAST(ntohl(a4.s_addr));
	if (family != AF_INET && inet_pton(AF_INET6, group, &a6) == 1)
		return IN6_IS_ADDR_MULTICAST(&a6);
	return 0;
}

int dgram_join(int fd, int family, const char *group, const char *ifspec, struct err *e)
{
	if (family == AF_INET6) {
		struct ipv6_mreq m6;

		memset(&m6, 0, sizeof(m6));
		if (inet_pton(AF_INET6, group, &m6.ipv6mr_multiaddr) != 1)
			return err_set(e, EXIT_USAGE, "--join: bad IPv6 group '%.64s'", group);
		if (ifspec && !(m6.ipv6mr_interface = if_nametoindex(ifspec)))
			return err_set(e, EXIT_USAGE, "--mcast-if: no interface '%.64s'", ifspec);
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof(m6)))
			return err_sys(e, EXIT_FAIL, errno, "join %s", group);
		return 0;
	} else {
		struct ip_mreqn mr;

		memset(&mr, 0, sizeof(mr));
		if (inet_pton(AF_INET, group, &mr.imr_multiaddr) != 1)
			return err_set(e, EXIT_USAGE, "--join: bad IPv4 group '%.64s'", group);
		if (ifspec) {
			mr.imr_ifindex = (int)ifindex_of(ifspec, &mr.imr_address);
			if (!mr.imr_ifindex && mr.imr_address.s_addr == htonl(INADDR_ANY))
				return err_set(e, EXIT_USAGE, "--mcast-if: no interface '%.64s'",
					       ifspec);
		}
		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)))
			return err_sys(e, EXIT_FAIL, errno, "join %s", group);
		return 0;
	}
}

int dgram_set_rcvbuf(int fd, int bytes, int *got, struct err *e)
{
	socklen_t len = sizeof(*got);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)))
		return err_sys(e, EXIT_FAIL, errno, "setsockopt SO_RCVBUF=%d", bytes);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, got, &len))
		return err_sys(e, EXIT_FAIL, errno, "getsockopt SO_RCVBUF");
	/* the kernel doubles the request, capped by net.core.rmem_max */
	if (*got < bytes && bytes <= INT32_MAX / 2 &&
	    !setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)))
		getsockopt(fd, SOL_SOCKET, SO_RCVBUF, got, &len);
	return 0;
}

void dgram_shown_set(struct dgram_shown *d, const struct sockaddr *from, socklen_t fromlen,
		     const void *data, size_t len, size_t caplen, int64_t real_ns, int64_t rtt_ns,
		     int utf8)
{
	memset(d, 0, sizeof(*d));
	d->from = from;
	d->fromlen = fromlen;
	d->data = data;
	d->len = len;
	d->caplen = caplen;
	d->real_ns = real_ns;
	d->rtt_ns = rtt_ns;
	d->utf8 = utf8;
}
