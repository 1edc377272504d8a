/* SPDX-License-Identifier: MIT */
#include "sock_rxq.h"

#include <errno.h>
#include <stdio.h>
#include <linux/sock_diag.h>
#include <string.h>

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

int sock_rxq_rcvbuf(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len))
		return -1;
	return v;
}

const char *sock_rxq_describe(int fd, int requested, const struct sock_rxq_buf *r, char *buf,
			      size_t n)
{
	if (requested >= 0)
		snprintf(buf, n, "SO_RCVBUF %d requested, %d granted (the kernel doubles it)",
			 requested, sock_rxq_rcvbuf(fd));
	else
		snprintf(buf, n, "receive buffer %d bytes (default for floods: %d asked%s, kernel "
				 "default %d; --rcvbuf sets it)",
			 sock_rxq_rcvbuf(fd), r->asked, r->forced ? " with SO_RCVBUFFORCE" : "",
			 r->before);
	return buf;
}

int sock_rxq_flood_default(int fd, struct sock_rxq_buf *r, struct err *e)
{
	int want;

	memset(r, 0, sizeof(*r));
	r->before = sock_rxq_rcvbuf(fd);
	if (r->before < 0)
		return err_sys(e, EXIT_FAIL, errno, "getsockopt SO_RCVBUF");
	want = r->before > SOCK_RXQ_FLOOD ? r->before : SOCK_RXQ_FLOOD;
	r->asked = want;
	if (!setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)))
		r->forced = 1;
	else
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	r->granted = sock_rxq_rcvbuf(fd);
	/* a smaller socket than before (rmem_max below the default): keep the default */
	if (r->granted < r->before) {
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &r->before, sizeof(r->before));
		r->granted = sock_rxq_rcvbuf(fd);
	}
	return 0;
}

int sock_rxq_ovfl_on(int fd, struct err *e)
{
	int on = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on)))
		return err_sys(e, EXIT_FAIL, errno, "setsockopt SO_RXQ_OVFL=1");
	return 0;
}

int64_t sock_rxq_ovfl_of(const struct msghdr *h)
{
	struct cmsghdr *cm;

	if (!h->msg_control)
		return -1;
	for (cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
		uint32_t v;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_RXQ_OVFL ||
		    cm->cmsg_len < CMSG_LEN(sizeof(v)))
			continue;
		memcpy(&v, CMSG_DATA(cm), sizeof(v));
		return v;
	}
	return -1;
}

int64_t sock_rxq_drops_now(int fd)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	memset(mem, 0, sizeof(mem));
	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) ||
	    len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
		return -1;
	return mem[SK_MEMINFO_DROPS];
}

void sock_rxq_drops_start(struct sock_rxq_drops *d, int fd)
{
	d->base = sock_rxq_drops_now(fd);
	if (d->base < 0)
		d->base = 0;
	d->seen = -1;
}

void sock_rxq_drops_note(struct sock_rxq_drops *d, const struct msghdr *h)
{
	int64_t v = sock_rxq_ovfl_of(h);

	if (v >= 0)
		d->seen = v;
}

uint64_t sock_rxq_drops_total(const struct sock_rxq_drops *d, int fd)
{
	int64_t now = sock_rxq_drops_now(fd), top = now >= 0 ? now : d->seen;

	if (top < 0)
		return 0;
	/* the kernel's counter is 32 bits: the difference modulo 2^32 */
	return (uint32_t)((uint32_t)top - (uint32_t)d->base);
}
