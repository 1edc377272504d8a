/* SPDX-License-Identifier: MIT */
#include "dgram_guard.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "clock.h"

/*
 * Services that answer whatever reaches them (inetd's internal ones, and the
 * usual UDP reflectors): a datagram "from" one of these ports is a spoof or a
 * reply of theirs, and an echo would start a loop.
 */
static const unsigned short reflect_ports[] = {
	7,    /* echo */
	13,   /* daytime */
	17,   /* qotd */
	19,   /* chargen */
	37,   /* time */
	53,   /* domain */
	69,   /* tftp */
	111,  /* sunrpc */
	123,  /* ntp */
	137,  /* netbios-ns */
	161,  /* snmp */
	389,  /* cldap */
	1900, /* ssdp */
	5353, /* mdns */
	11211, /* memcached */
};

int dgram_reflect_port(unsigned port)
{
	size_t i;

	for (i = 0; i < sizeof(reflect_ports) / sizeof(reflect_ports[0]); i++)
		if (port == reflect_ports[i])
			return 1;
	return 0;
}

int dgram_pktinfo_on(int fd, int family, struct err *e)
{
	int on = 1;

	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)))
			return err_sys(e, EXIT_FAIL, errno, "setsockopt IPV6_RECVPKTINFO");
		return 0;
	}
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)))
		return err_sys(e, EXIT_FAIL, errno, "setsockopt IP_PKTINFO");
	return 0;
}

/* The address bytes of @sa (4 or 16), or NULL. */
static const void *addr_bytes(const struct sockaddr *sa, size_t *n)
{
	if (sa->sa_family == AF_INET) {
		*n = 4;
		return &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	}
	if (sa->sa_family == AF_INET6) {
		*n = 16;
		return &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	}
	*n = 0;
	return NULL;
}

static unsigned port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	return 0;
}

/* The local address a datagram came to (IP_PKTINFO), copied to @to; 1 if there. */
static int pktinfo_dst(const struct msghdr *h, unsigned char *to, size_t *n)
{
	struct cmsghdr *cm;

	if (!h->msg_control)
		return 0;
	for (cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			memcpy(to, &pi.ipi_addr, 4);
			*n = 4;
			return 1;
		}
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			memcpy(to, &pi.ipi6_addr, 16);
			*n = 16;
			return 1;
		}
	}
	return 0;
}

const char *dgram_loop_reason(const struct msghdr *h, const struct sockaddr *local)
{
	const struct sockaddr *src = h->msg_name;
	unsigned char dst[16];
	const void *sa, *la;
	size_t sn, ln, dn;
	unsigned port;

	if (!src || h->msg_namelen < sizeof(sa_family_t))
		return NULL;
	port = port_of(src);
	sa = addr_bytes(src, &sn);
	if (!sa)
		return NULL;
	if (port == 0)
		return "source port 0";
	if (dgram_reflect_port(port))
		return "source port of a reflecting service";
	if (!local || port != port_of(local))
		return NULL;
	if (pktinfo_dst(h, dst, &dn))
		return dn == sn && !memcmp(dst, sa, sn) ? "from our own address and port" : NULL;
	la = addr_bytes(local, &ln);
	return la && ln == sn && !memcmp(la, sa, sn) ? "from our own address and port" : NULL;
}

void dgram_echo_rate_init(struct dgram_echo_rate *t, unsigned rate)
{
	memset(t, 0, sizeof(*t));
	t->rate = rate;
}

static size_t slot_of(const unsigned char *a, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ a[i]) * 16777619u;
	return h % DGRAM_ECHO_SOURCES;
}

/*
 * Tokens are kept in ns of "credit": each reply costs NS_PER_SEC, time adds
 * @rate ns per ns elapsed, and the bucket holds at most one second's worth
 * (@rate replies).  Integer arithmetic, no drift.
 */
int dgram_echo_rate_ok(struct dgram_echo_rate *t, const struct sockaddr *src, int64_t now_ns)
{
	uint64_t full, add, cost = (uint64_t)NS_PER_SEC;
	const void *a;
	size_t n, i;

	if (!t->rate)
		return 1;
	a = addr_bytes(src, &n);
	if (!a)
		return 1;
	full = (uint64_t)t->rate * (uint64_t)NS_PER_SEC;
	i = slot_of(a, n);
	if (t->slot[i].family != src->sa_family || memcmp(t->slot[i].addr, a, n) != 0) {
		t->slot[i].family = src->sa_family;
		memset(t->slot[i].addr, 0, sizeof(t->slot[i].addr));
		memcpy(t->slot[i].addr, a, n);
		t->slot[i].tokens = full;
		t->slot[i].stamp_ns = now_ns;
	}
	if (now_ns > t->slot[i].stamp_ns) {
		uint64_t dt = (uint64_t)(now_ns - t->slot[i].stamp_ns);

		/* past a second, the bucket is full whatever the rate */
		add = dt >= (uint64_t)NS_PER_SEC ? full : dt * t->rate;
		t->slot[i].tokens = full - t->slot[i].tokens < add ? full : t->slot[i].tokens + add;
		t->slot[i].stamp_ns = now_ns;
	}
	if (t->slot[i].tokens < cost)
		return 0;
	t->slot[i].tokens -= cost;
	return 1;
}

int dgram_warn_ok(struct dgram_warn_limit *w, int64_t now_ns, uint64_t *skipped)
{
	if (!w->started) {
		w->started = 1;
		w->tokens = DGRAM_WARN_BURST;
		w->stamp_ns = now_ns;
	}
	/* one more a second, up to the burst */
	while (w->tokens < DGRAM_WARN_BURST && now_ns - w->stamp_ns >= NS_PER_SEC) {
		w->tokens++;
		w->stamp_ns += NS_PER_SEC;
	}
	if (w->tokens == DGRAM_WARN_BURST)
		w->stamp_ns = now_ns > w->stamp_ns ? now_ns : w->stamp_ns;
	if (!w->tokens) {
		w->suppressed++;
		return 0;
	}
	w->tokens--;
	*skipped = w->suppressed;
	w->suppressed = 0;
	return 1;
}
