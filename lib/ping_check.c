/* SPDX-License-Identifier: MIT */
/* Before the ICMP engine runs: the request checked, the target resolved, the socket taken. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "parse.h"
#include "ping.h"
#include "sock.h"

int ping_check_request(const struct ping_request *r, struct err *e)
{
	if (!r->root) {
		/* flooding needs root, as in iputils: a privileged install is no licence */
		if (r->flood)
			return err_set(e, EXIT_USAGE, "--flood: only root may flood (others: "
				       "--interval 2ms or more)");
		if (r->interval >= 0 && r->interval < PING_USER_MIN_INTERVAL)
			return err_set(e, EXIT_USAGE, "--interval %.7gms: under 2ms only for root",
				       (double)r->interval / 1e6);
		if (r->preload > PING_USER_MAX_PRELOAD)
			return err_set(e, EXIT_USAGE, "--preload %lld: more than %d only for root",
				       r->preload, PING_USER_MAX_PRELOAD);
		if (r->code > 0)
			return err_set(e, EXIT_USAGE, "--code %lld: only root may send a code "
				       "other than 0", r->code);
	}
	if (r->preload > 0 && r->flood)
		return err_set(e, EXIT_USAGE, "--preload cannot be used with --flood");
	if (r->type && strcmp(r->type, "echo") != 0 && r->mode == PING_MODE_DGRAM)
		return err_set(e, EXIT_USAGE, "--type %.32s needs a raw socket (--mode raw)",
			       r->type);
	if (r->type && !strcmp(r->type, "timestamp") && r->size_given)
		return err_set(e, EXIT_USAGE, "--size cannot be used with --type timestamp");
	return 0;
}

/* --type: a name, or a number 0-255 (IPv4 only, and raw sockets only). */
static int query_type(const char *type, const struct icmp_family *f, uint8_t *t, struct err *e)
{
	unsigned long long v;

	if (!type || !strcmp(type, "echo")) {
		*t = f->echo_request;
		return 0;
	}
	if (!strcmp(type, "timestamp")) {
		if (f->family != AF_INET)
			return err_set(e, EXIT_USAGE, "--type timestamp: IPv4 only");
		*t = ICMP4_TIMESTAMP;
		return 0;
	}
	if (parse_uint(type, 0, 255, &v, "--type", e))
		return err_set(e, EXIT_USAGE, "--type: '%.32s' is not echo, timestamp or 0-255",
			       type);
	/* ICMPv6 sends echo requests only: RAs, redirects... are not probes */
	if (f->family != AF_INET)
		return err_set(e, EXIT_USAGE, "--type %.32s: numeric types are IPv4 only", type);
	*t = (uint8_t)v;
	return 0;
}

int ping_request_type(const struct ping_request *r, const struct icmp_family *f, uint8_t *type,
		      struct err *e)
{
	if (r->size > f->max_payload)
		return err_set(e, EXIT_USAGE, "--size %zu: at most %zu for %s", r->size,
			       f->max_payload, f->family == AF_INET ? "IPv4" : "IPv6");
	if (query_type(r->type, f, type, e))
		return -1;
	/* users send echo, or IPv4 timestamp, requests; other types are for root */
	if (r->root || *type == f->echo_request ||
	    (f->family == AF_INET && *type == ICMP4_TIMESTAMP))
		return 0;
	return err_set(e, EXIT_USAGE, "--type %u: only root may send other than echo or "
		       "timestamp requests", *type);
}

int ping_resolve(const char *host, int family, struct sockaddr_storage *ss, socklen_t *len,
		 const struct icmp_family **f, struct err *e)
{
	struct addrinfo hints = { 0 }, *res, *ai;

	hints.ai_family = family;
	hints.ai_socktype = SOCK_RAW;
	hints.ai_protocol = 0;
	if (sock_getaddrinfo(host, NULL, &hints, &res, e))
		return -1;
	for (ai = res; ai; ai = ai->ai_next)
		if (icmp_family_of(ai->ai_family))
			break;
	if (!ai) {
		freeaddrinfo(res);
		return err_set(e, EXIT_FAIL, "%s: no IPv4 or IPv6 address", host);
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	*f = icmp_family_of(ai->ai_family);
	freeaddrinfo(res);
	return 0;
}

int ping_socks_take(struct ping_socks *s, const struct icmp_family *f, int mode, int want_dgram,
		    int *raw, const char **why, struct err *e)
{
	int fd = ping_socks_take_one(s, f, mode, want_dgram, raw, why, e);

	ping_socks_close(s, 0);
	return fd;
}

int ping_socks_take_one(struct ping_socks *s, const struct icmp_family *f, int mode,
			int want_dgram, int *raw, const char **why, struct err *e)
{
	struct ping_fam_socks *fs = ping_socks_of(s, f->family);
	const char *why_d = want_dgram ? fs->why_dgram : "";
	const char *why_r = mode != PING_MODE_DGRAM ? fs->why_raw : "";
	int fd = -1;

	*raw = 0;
	if (want_dgram && fs->dgram >= 0) {
		fd = fs->dgram;
		fs->dgram = -1;
	} else if (mode != PING_MODE_DGRAM && fs->raw >= 0) {
		fd = fs->raw;
		fs->raw = -1;
		*raw = 1;
	}
	if (fd < 0) {
		if (mode == PING_MODE_AUTO && !want_dgram)
			why_d = "--type needs a raw socket";
		return err_set(e, EXIT_USAGE, "cannot open an %s socket: %s%s%s", f->name, why_d,
			       *why_d && *why_r ? "; " : "", why_r);
	}
	*why = why_d;
	return fd;
}

double ping_loss_pct(const struct ping_target *t)
{
	return t->ntx ? (double)(t->ntx - t->nrx) * 100.0 / (double)t->ntx : 0;
}

int ping_target_met(const struct ping *p, const struct ping_target *t)
{
	if (!t->nrx)
		return 0;
	return !(p->cfg.deadline >= 0 && p->cfg.count >= 0 && t->nrx < (uint64_t)p->cfg.count);
}
