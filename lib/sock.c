/* SPDX-License-Identifier: MIT */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/in6.h> /* struct in6_flowlabel_req; after netinet/in.h */

#include "addr.h"
#include "clock.h"
#include "opt.h"

const char *sock_eai_name(int code)
{
	switch (code) {
	case EAI_BADFLAGS: return "EAI_BADFLAGS";
	case EAI_NONAME: return "EAI_NONAME";
	case EAI_AGAIN: return "EAI_AGAIN";
	case EAI_FAIL: return "EAI_FAIL";
	case EAI_FAMILY: return "EAI_FAMILY";
	case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
	case EAI_SERVICE: return "EAI_SERVICE";
	case EAI_MEMORY: return "EAI_MEMORY";
	case EAI_SYSTEM: return "EAI_SYSTEM";
	case EAI_OVERFLOW: return "EAI_OVERFLOW";
#ifdef EAI_NODATA
	case EAI_NODATA: return "EAI_NODATA";
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
#endif
	default: return "EAI_?";
	}
}

int sock_getaddrinfo(const char *host, const char *service, const struct addrinfo *hints,
		     struct addrinfo **res, struct err *e)
{
	int rc = getaddrinfo(host, service, hints, res);
	char what[600], text[128];
	int status;

	if (!rc)
		return 0;
	*res = NULL;
	if (host && service)
		snprintf(what, sizeof(what), "%.255s port %.255s", host, service);
	else
		snprintf(what, sizeof(what), "%.255s", host ? host : service ? service : "(none)");
	status = rc == EAI_BADFLAGS || rc == EAI_FAMILY || rc == EAI_SOCKTYPE ? EXIT_USAGE
									     : EXIT_FAIL;
	if (rc == EAI_SYSTEM)
		return err_sys(e, status, errno, "%s: EAI_SYSTEM", what);
	return err_set(e, status, "%s: %s: %s", what, sock_eai_name(rc),
		       err_gai_strerror(rc, text, sizeof(text)));
}

const char *const sock_pmtu_names[] = { "dont", "want", "do", "probe", NULL };

void sock_opts_init(struct sockopts *o)
{
	memset(o, 0, sizeof(*o));
	o->source = o->iface = NULL;
	o->source_port = o->sndbuf = o->rcvbuf = o->ttl = o->tos = o->pmtu = SOCKOPT_UNSET;
	o->flowlabel = SOCKOPT_UNSET;
	o->mark = SOCKOPT_UNSET;
	o->reuseaddr = o->reuseport = o->broadcast = o->freebind = o->transparent = SOCKOPT_UNSET;
	o->nodelay = o->keepalive = o->keepcnt = o->fastopen = o->mptcp = SOCKOPT_UNSET;
	o->keepidle = o->keepintvl = o->user_timeout = SOCKOPT_UNSET;
}

int sock_setopt_int(int fd, int level, int name, int val, const char *what, struct err *e)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)))
		return err_sys(e, EXIT_FAIL, errno, "setsockopt %s=%d", what, val);
	return 0;
}
#define setopt sock_setopt_int

int sock_pending_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

int sock_set_nonblock(int fd, struct err *e)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return err_sys(e, EXIT_FAIL, errno, "fcntl O_NONBLOCK");
	return 0;
}

int sock_opt_iface(const struct opt *op, const char *arg, struct err *e)
{
	struct sockopts *so = op->value;
	unsigned char a[sizeof(struct in6_addr)];

	/* raw-icmp's -I also takes an address, as ping's does: a source */
	if (op->min && (inet_pton(AF_INET, arg, a) == 1 || inet_pton(AF_INET6, arg, a) == 1)) {
		so->source = arg;
		return 0;
	}
	if (!*arg || strlen(arg) >= IF_NAMESIZE || !if_nametoindex(arg))
		return err_set(e, EXIT_USAGE, "no interface '%.32s'%s", arg,
			       op->min ? " (and not an address)" : "");
	so->iface = arg;
	return 0;
}

/* Whole seconds for TCP_KEEPIDLE/TCP_KEEPINTVL (the kernel's unit). */
static int check_secs(int64_t ns, const char *name, struct err *e)
{
	if (ns == SOCKOPT_UNSET)
		return 0;
	if (ns < NS_PER_SEC || ns % NS_PER_SEC || ns / NS_PER_SEC > 32767)
		return err_set(e, EXIT_USAGE, "--%s: whole seconds from 1s to 32767s", name);
	return 0;
}

int sock_check_opts(const struct sockopts *o, int family, int type, struct err *e)
{
	int inet = family != AF_UNIX;
	int tcp = inet && type == SOCK_STREAM;
	const char *tcp_only = o->nodelay > 0		? "--nodelay"
			       : o->keepalive > 0	? "--keepalive"
			       : o->keepidle >= 0	? "--keepidle"
			       : o->keepintvl >= 0	? "--keepintvl"
			       : o->keepcnt >= 0	? "--keepcnt"
			       : o->user_timeout >= 0 ? "--user-timeout"
			       : o->fastopen > 0	? "--fastopen"
			       : o->mptcp > 0		? "--mptcp"
						: NULL;

	if (tcp_only && !tcp)
		return err_set(e, EXIT_USAGE, "%s needs a TCP socket", tcp_only);
	if (o->flowlabel >= 0 && family == AF_INET)
		return err_set(e, EXIT_USAGE, "--flowlabel needs IPv6");
	if (!inet && (o->flowlabel >= 0 || o->ttl >= 0 || o->tos >= 0 || o->iface || o->mark >= 0 ||
		      o->freebind > 0 || o->transparent > 0 || o->pmtu >= 0))
		return err_set(e, EXIT_USAGE, "--ttl, --tos, -I, --mark, --freebind, "
					      "--transparent, --pmtu and --flowlabel need an IP socket");
	if (o->broadcast > 0 && type != SOCK_DGRAM)
		return err_set(e, EXIT_USAGE, "--broadcast needs a UDP socket");
	if (o->pmtu >= 0 && type == SOCK_STREAM)
		return err_set(e, EXIT_USAGE, "--pmtu needs a datagram socket");
	if ((o->keepidle >= 0 || o->keepintvl >= 0 || o->keepcnt >= 0) && o->keepalive <= 0)
		return err_set(e, EXIT_USAGE, "--keepidle, --keepintvl and --keepcnt need --keepalive");
	if (o->user_timeout >= 0 && (o->user_timeout < 1000000 || o->user_timeout / 1000000 > INT_MAX))
		return err_set(e, EXIT_USAGE, "--user-timeout: from 1ms to 24 days");
	if (check_secs(o->keepidle, "keepidle", e) || check_secs(o->keepintvl, "keepintvl", e))
		return -1;
	return 0;
}

int sock_protocol(const struct sockopts *o, int family, int type, int protocol)
{
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (o && o->mptcp > 0 && type == SOCK_STREAM && (family == AF_INET || family == AF_INET6))
		return IPPROTO_MPTCP;
	return protocol;
}

int sock_open(int family, int type, int protocol, const struct sockopts *o, struct err *e)
{
	int proto = sock_protocol(o, family, type, protocol);
	int fd = socket(family, type | SOCK_CLOEXEC, proto), saved = errno;

	if (fd >= 0)
		return fd;
	if (proto == IPPROTO_MPTCP && (saved == EPROTONOSUPPORT || saved == ENOPROTOOPT ||
				       saved == EINVAL))
		err_sys(e, EXIT_FAIL, saved,
			"--mptcp: socket(%s, IPPROTO_MPTCP): this kernel has no MPTCP "
			"(or sysctl net.mptcp.enabled=0)",
			addr_family_name(family));
	else
		err_sys(e, EXIT_FAIL, saved, "socket(%s)", addr_family_name(family));
	errno = saved; /* callers tell EAFNOSUPPORT apart */
	return -1;
}

static int set_rcvbuf(int fd, int bytes, struct err *e)
{
	int got = 0;
	socklen_t len = sizeof(got);

	if (setopt(fd, SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF", e))
		return -1;
	/* the kernel doubles the request, capped by net.core.rmem_max: root may go past it */
	if (!getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) && got < bytes)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes));
	return 0;
}

static int apply_tcp(int fd, const struct sockopts *o, struct err *e)
{
	if (o->nodelay > 0 && setopt(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY", e))
		return -1;
	if (o->keepidle >= 0 &&
	    setopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)(o->keepidle / NS_PER_SEC), "TCP_KEEPIDLE",
		   e))
		return -1;
	if (o->keepintvl >= 0 &&
	    setopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)(o->keepintvl / NS_PER_SEC),
		   "TCP_KEEPINTVL", e))
		return -1;
	if (o->keepcnt >= 0 && setopt(fd, IPPROTO_TCP, TCP_KEEPCNT, o->keepcnt, "TCP_KEEPCNT", e))
		return -1;
	if (o->user_timeout >= 0 &&
	    setopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, (int)(o->user_timeout / 1000000),
		   "TCP_USER_TIMEOUT", e))
		return -1;
	/*
	 * Fast Open both ways, since only the caller knows which the socket
	 * will do: a listener's queue of TFO requests (TCP_FASTOPEN), and a
	 * client's connect() that sends the SYN with the first write
	 * (TCP_FASTOPEN_CONNECT).  Each is ignored by the other kind of socket.
	 */
	if (o->fastopen > 0 && (setopt(fd, IPPROTO_TCP, TCP_FASTOPEN, 256, "TCP_FASTOPEN", e) ||
				setopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1,
				       "TCP_FASTOPEN_CONNECT", e)))
		return -1;
	return 0;
}

int sock_apply_opts(int fd, int family, int type, const struct sockopts *o, struct err *e)
{
	int inet = family == AF_INET || family == AF_INET6;
	int v6 = family == AF_INET6;

	if (o->reuseaddr >= 0 && setopt(fd, SOL_SOCKET, SO_REUSEADDR, o->reuseaddr, "SO_REUSEADDR", e))
		return -1;
	if (o->reuseport > 0 && setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT", e))
		return -1;
	if (o->broadcast > 0 && setopt(fd, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST", e))
		return -1;
	if (o->keepalive > 0 && setopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE", e))
		return -1;
	if (o->sndbuf >= 0 && setopt(fd, SOL_SOCKET, SO_SNDBUF, o->sndbuf, "SO_SNDBUF", e))
		return -1;
	if (o->rcvbuf >= 0 && set_rcvbuf(fd, o->rcvbuf, e))
		return -1;
	if (o->mark >= 0 && setopt(fd, SOL_SOCKET, SO_MARK, (int)(unsigned)o->mark, "SO_MARK", e))
		return -1;
	if (!inet)
		return 0;
	if (o->iface && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->iface,
				   (socklen_t)strlen(o->iface)))
		return err_sys(e, EXIT_FAIL, errno, "-I %s: SO_BINDTODEVICE", o->iface);
	if (type == SOCK_STREAM && apply_tcp(fd, o, e))
		return -1;
	if (o->freebind > 0 &&
	    (v6 ? setopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, 1, "IPV6_FREEBIND", e)
		: setopt(fd, IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND", e)))
		return -1;
	if (o->transparent > 0 &&
	    (v6 ? setopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, 1, "IPV6_TRANSPARENT", e)
		: setopt(fd, IPPROTO_IP, IP_TRANSPARENT, 1, "IP_TRANSPARENT", e)))
		return -1;
	if (o->pmtu >= 0 && type != SOCK_STREAM &&
	    (v6 ? setopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, o->pmtu, "IPV6_MTU_DISCOVER", e)
		: setopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, o->pmtu, "IP_MTU_DISCOVER", e)))
		return -1;
	if (o->ttl >= 0 &&
	    (v6 ? setopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, o->ttl, "IPV6_UNICAST_HOPS", e)
		: setopt(fd, IPPROTO_IP, IP_TTL, o->ttl, "IP_TTL", e)))
		return -1;
	if (o->tos >= 0 &&
	    (v6 ? setopt(fd, IPPROTO_IPV6, IPV6_TCLASS, o->tos, "IPV6_TCLASS", e)
		: setopt(fd, IPPROTO_IP, IP_TOS, o->tos, "IP_TOS", e)))
		return -1;
	return 0;
}

int sock_flowlabel(int fd, const struct sockopts *o, struct sockaddr *dst, struct err *e)
{
	struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)dst;
	struct in6_flowlabel_req fr;

	if (!o || o->flowlabel < 0)
		return 0;
	if (dst->sa_family != AF_INET6)
		return err_set(e, EXIT_USAGE, "--flowlabel needs an IPv6 destination");
	memset(&fr, 0, sizeof(fr));
	fr.flr_dst = d6->sin6_addr;
	fr.flr_label = htonl((uint32_t)o->flowlabel);
	fr.flr_action = IPV6_FL_A_GET;
	fr.flr_flags = IPV6_FL_F_CREATE;
	fr.flr_share = IPV6_FL_S_ANY;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, &fr, sizeof(fr)))
		return err_sys(e, EXIT_FAIL, errno, "--flowlabel 0x%05x: IPV6_FLOWLABEL_MGR%s",
			       o->flowlabel,
			       errno == ERANGE ? " (0x80000 and up are the kernel's own, see "
						 "net.ipv6.flowlabel_state_ranges)"
					       : "");
	if (setopt(fd, IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 1, "IPV6_FLOWINFO_SEND", e))
		return -1;
	d6->sin6_flowinfo = htonl((uint32_t)o->flowlabel);
	return 0;
}

int sock_resolve_first(const char *host, const char *service, const struct addrinfo *hints,
		       struct sockaddr_storage *ss, socklen_t *len, struct err *e)
{
	struct addrinfo *res;

	if (sock_getaddrinfo(host, service, hints, &res, e))
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int sock_source_addr(const struct sockopts *o, int family, int type, struct sockaddr_storage *ss,
		     socklen_t *len, struct err *e)
{
	struct addrinfo hints;
	char port[16];

	*len = 0;
	if (!o || (!o->source && o->source_port < 0))
		return 0;
	snprintf(port, sizeof(port), "%d", o->source_port >= 0 ? o->source_port : 0);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = type;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	return sock_resolve_first(o->source, port, &hints, ss, len, e);
}

int sock_bind_source(int fd, int family, int type, const struct sockopts *o, struct err *e)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (sock_source_addr(o, family, type, &ss, &len, e))
		return -1;
	if (len && bind(fd, (struct sockaddr *)&ss, len))
		return sock_bind_error(e, errno, (struct sockaddr *)&ss, len, type);
	return 0;
}

static int mtu_of(int fd, int family)
{
	int mtu = -1;
	socklen_t ml = sizeof(mtu);

	if (family == AF_INET6 ? getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &ml)
			       : getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &ml))
		return -1;
	return mtu;
}

int sock_path_mtu(int fd, const struct sockaddr *dst, socklen_t dstlen)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	int mtu, probe;

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	mtu = mtu_of(fd, ss.ss_family);
	if (mtu > 0 || !dst)
		return mtu;
	/* IP_MTU needs a connected socket: ask the route with one that is */
	probe = socket(dst->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -1;
	mtu = connect(probe, dst, dstlen) ? -1 : mtu_of(probe, dst->sa_family);
	close(probe);
	return mtu;
}

/* ---- "address already in use": is it only TIME_WAIT? ---- */

#define TCP_STATE_TIME_WAIT 6 /* TCP_TIME_WAIT of the kernel's tcp_states.h */

/*
 * Count the TCP sockets of @family with local port @port, by the kernel's
 * socket diagnostics (what ss(8) reads): in TIME_WAIT into *@tw, in any
 * other state into *@other.  -1 if the kernel would not say.
 */
static int diag_count(int family, unsigned port, int *tw, int *other)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	union {
		struct nlmsghdr h;
		char b[32768];
	} buf;
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int rounds, rc = -1;

	if (fd < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = (unsigned char)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0U;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		goto out;
	for (rounds = 0; rounds < 100000; rounds++) { /* bounded: ends at NLMSG_DONE */
		ssize_t n = recv(fd, buf.b, sizeof(buf.b), 0);
		struct nlmsghdr *h;

		if (n <= 0)
			goto out;
		for (h = &buf.h; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE) {
				rc = 0;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR)
				goto out;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			if (ntohs(m->id.idiag_sport) != port)
				continue;
			if (m->idiag_state == TCP_STATE_TIME_WAIT)
				++*tw;
			else
				++*other;
		}
	}
out:
	close(fd);
	return rc;
}

/*
 * What keeps @sa from being bound, when the kernel lists only TIME_WAIT
 * sockets on its port (no listener, no live connection): 1 if a probe socket
 * with SO_REUSEADDR binds there (the old connections had SO_REUSEADDR too,
 * so --reuseaddr helps), 2 if not even that (Linux lets SO_REUSEADDR through
 * only when both sides set it); 0 if something else holds the port.  The
 * probe is closed at once: it never listens nor connects.
 */
static int time_wait_kind(const struct sockaddr *sa, socklen_t len)
{
	int tw = 0, other = 0, fd, ok;
	unsigned port = addr_port(sa);

	if (!port || diag_count(AF_INET, port, &tw, &other) ||
	    diag_count(AF_INET6, port, &tw, &other) || !tw || other)
		return 0;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = !setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int)) &&
	     bind(fd, sa, len) == 0;
	close(fd);
	return ok ? 1 : 2;
}

int sock_bind_error(struct err *e, int errnum, const struct sockaddr *sa, socklen_t len,
		    int type)
{
	char where[ADDR_STRLEN];
	int kind = 0;

	addr_format(sa, len, where, sizeof(where));
	if (errnum == EADDRINUSE && type == SOCK_STREAM &&
	    (sa->sa_family == AF_INET || sa->sa_family == AF_INET6))
		kind = time_wait_kind(sa, len);
	if (kind == 1)
		return err_set(e, EXIT_FAIL,
			       "bind %s: address already in use by connections in TIME_WAIT "
			       "(--reuseaddr binds anyway)",
			       where);
	if (kind == 2)
		return err_set(e, EXIT_FAIL,
			       "bind %s: address already in use by connections in TIME_WAIT "
			       "(they had no SO_REUSEADDR, so --reuseaddr cannot bind before "
			       "they end, within a minute)",
			       where);
	return err_sys(e, EXIT_FAIL, errnum, "bind %s", where);
}

static void close_all(int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
}

static void set_port(struct sockaddr *sa, unsigned port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}

int sock_bind_passive(const char *host, const char *service, int family, int type,
		      const struct sockopts *o, int *fds, int max, int *nfds, struct err *e)
{
	struct addrinfo hints, *res, *ai;
	unsigned chosen = 0;
	int have4 = 0, n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = type;
	hints.ai_flags = AI_PASSIVE;
	if (sock_getaddrinfo(host && *host ? host : NULL, service, &hints, &res, e))
		return -1;
	for (ai = res; ai; ai = ai->ai_next)
		have4 |= ai->ai_family == AF_INET;
	for (ai = res; ai && n < max; ai = ai->ai_next) {
		int fd = sock_open(ai->ai_family, ai->ai_socktype, ai->ai_protocol, o, e);

		if (fd < 0) {
			/* a kernel without IPv6 still serves IPv4 */
			if (errno == EAFNOSUPPORT && ai->ai_next)
				continue;
			goto fail;
		}
		fds[n++] = fd;
		if (ai->ai_family == AF_INET6 && have4 &&
		    setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY", e))
			goto fail;
		if (sock_apply_opts(fd, ai->ai_family, type, o, e))
			goto fail;
		if (chosen)
			set_port(ai->ai_addr, chosen);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen)) {
			sock_bind_error(e, errno, ai->ai_addr, ai->ai_addrlen, type);
			goto fail;
		}
		if (!addr_port(ai->ai_addr) && !chosen) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof(ss);

			if (!getsockname(fd, (struct sockaddr *)&ss, &len))
				chosen = addr_port((struct sockaddr *)&ss);
		}
	}
	freeaddrinfo(res);
	*nfds = n;
	return 0;
fail:
	freeaddrinfo(res);
	close_all(fds, n);
	return -1;
}

/* ---- Unix listening sockets ---- */

/* addr_check_unix_path's limit is the size of sun_path */
_Static_assert(sizeof(((struct endpoint *)0)->path) == sizeof(((struct sockaddr_un *)0)->sun_path),
	       "struct endpoint's path and sun_path differ in size");

int sock_unix_addr(const char *path, struct sockaddr_storage *ss, socklen_t *len,
		   struct err *e)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	size_t n = strlen(path);

	if (addr_check_unix_path(path, e))
		return -1;
	memset(ss, 0, sizeof(*ss));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@')
		sun->sun_path[0] = '\0'; /* abstract namespace */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return 0;
}

/*
 * Why every step below goes through one directory fd: the path is resolved
 * once, when the directory is opened; bind, the checks and the removal then
 * all act in that directory, so a symlink swapped in an ancestor between two
 * steps cannot make them act on two different files (it made the old code
 * delete a regular file elsewhere).
 *
 * - The directory is opened with O_PATH|O_DIRECTORY, following symlinks as
 *   bind(2) itself does (/var/run is a symlink to /run on Debian): pinning
 *   it is what closes the race.  O_NOFOLLOW would refuse such paths and
 *   still follow every earlier component.
 * - bind(2) takes the path as given, so the name peers see (getpeername, ss)
 *   is the user's path, not /proc/self/fd/N/NAME.  That bind may only create
 *   a file, never remove one; whether it landed in our directory is checked
 *   after: the name was absent there before and is a socket after.
 * - The file checks are fstatat(AT_SYMLINK_NOFOLLOW) and the removal is
 *   unlinkat, in the directory, after a check that device and inode are still
 *   those of the stale socket.
 * - A socket is found stale by connect(2) through /proc/self/fd/N/NAME, which
 *   reaches exactly the file checked; without /proc (or with a name too long
 *   for that) the file is left alone and the error says why.
 */

/* Split @path into its directory (opened) and last component. */
static int unix_dir_open(const char *path, struct sock_unix_name *un, struct err *e)
{
	const char *slash = strrchr(path, '/');
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t dl;

	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
		snprintf(un->base, sizeof(un->base), "%s", path);
	} else {
		dl = slash == path ? 1 : (size_t)(slash - path);
		memcpy(dir, path, dl);
		dir[dl] = '\0';
		snprintf(un->base, sizeof(un->base), "%s", slash + 1);
	}
	if (!un->base[0] || !strcmp(un->base, ".") || !strcmp(un->base, ".."))
		return err_set(e, EXIT_USAGE, "unix:%s: names a directory, not a socket", path);
	un->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (un->dirfd < 0)
		return err_sys(e, EXIT_FAIL, errno, "unix:%s: directory %s", path, dir);
	return 0;
}

/* "/proc/self/fd/N/NAME": the name in the pinned directory, as a socket address. */
static int unix_pinned_addr(const struct sock_unix_name *un, struct sockaddr_un *sun,
			    socklen_t *len)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path), "/proc/self/fd/%d/%s", un->dirfd,
		     un->base);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path))
		return -1;
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}

/* 1: a server answers on the socket file; 0: nobody (stale); -1: cannot tell. */
static int unix_alive(const struct sock_unix_name *un, int type)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, rc, err;

	if (unix_pinned_addr(un, &sun, &len))
		return -1;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, len);
	err = errno;
	close(fd);
	if (rc == 0)
		return 1;
	return err == ECONNREFUSED ? 0 : err == ENOENT ? -1 : 1;
}

/* bind(2) with the file created as @mode exactly, whatever the umask. */
static int unix_bind_mode(int fd, const struct sockaddr_storage *sun, socklen_t len,
			  unsigned mode)
{
	/* the socket inode is 0777; bind applies the umask to it */
	mode_t old = umask((mode_t)(~mode & 0777));
	int rc = bind(fd, (const struct sockaddr *)sun, len), err = errno;

	umask(old);
	errno = err;
	return rc;
}

/*
 * Bind @fd at @path (pinned in @un) and record our file's device and inode;
 * replace a stale socket, never anything else.
 */
static int unix_bind(int fd, const char *path, const struct sockaddr_storage *sun,
		     socklen_t len, int type, unsigned mode, struct sock_unix_name *un,
		     struct err *e)
{
	struct stat st, now;
	int absent, alive;

	absent = fstatat(un->dirfd, un->base, &st, AT_SYMLINK_NOFOLLOW) && errno == ENOENT;
	if (unix_bind_mode(fd, sun, len, mode) == 0)
		goto bound;
	if (errno != EADDRINUSE)
		return err_sys(e, EXIT_FAIL, errno, "bind unix:%s", path);
	if (fstatat(un->dirfd, un->base, &st, AT_SYMLINK_NOFOLLOW))
		return err_sys(e, EXIT_FAIL, errno, "bind unix:%s", path);
	if (!S_ISSOCK(st.st_mode))
		return err_set(e, EXIT_FAIL, "unix:%s: exists and is not a socket (not removed)",
			       path);
	alive = unix_alive(un, type);
	if (alive > 0)
		return err_set(e, EXIT_FAIL, "unix:%s: a server is listening on it already", path);
	if (alive < 0)
		return err_set(e, EXIT_FAIL,
			       "unix:%s: a socket is there and cannot be checked safely "
			       "(needs /proc); not removed",
			       path);
	/* stale: nobody listens on it, so replacing it harms no one -- if it is
	 * still the very file checked */
	if (fstatat(un->dirfd, un->base, &now, AT_SYMLINK_NOFOLLOW) || !S_ISSOCK(now.st_mode) ||
	    now.st_dev != st.st_dev || now.st_ino != st.st_ino)
		return err_set(e, EXIT_FAIL, "unix:%s: changed while being checked (not removed)",
			       path);
	if (unlinkat(un->dirfd, un->base, 0) && errno != ENOENT)
		return err_sys(e, EXIT_FAIL, errno, "unix:%s: cannot remove stale socket", path);
	absent = 1;
	if (unix_bind_mode(fd, sun, len, mode))
		return err_sys(e, EXIT_FAIL, errno, "bind unix:%s", path);
bound:
	/* ours only if the name was free in our directory and is a socket now */
	if (!absent || fstatat(un->dirfd, un->base, &st, AT_SYMLINK_NOFOLLOW) ||
	    !S_ISSOCK(st.st_mode))
		return err_set(e, EXIT_FAIL,
			       "unix:%s: the directory changed while binding (a symlink in the "
			       "path?)",
			       path);
	un->dev = st.st_dev;
	un->ino = st.st_ino;
	return 0;
}

int sock_listen_unix(const char *path, int type, int backlog, unsigned mode, int *fd,
		     struct sock_unix_name *un, struct err *e)
{
	struct sockaddr_storage sun;
	socklen_t len;
	int s;

	memset(un, 0, sizeof(*un));
	un->dirfd = -1;
	if (sock_unix_addr(path, &sun, &len, e))
		return -1;
	if (path[0] != '@' && unix_dir_open(path, un, e))
		return -1;
	s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (s < 0) {
		err_sys(e, EXIT_FAIL, errno, "socket(unix)");
		goto fail_dir;
	}
	if (path[0] == '@' ? bind(s, (struct sockaddr *)&sun, len) &&
				     err_sys(e, EXIT_FAIL, errno, "bind unix:%s", path)
			   : unix_bind(s, path, &sun, len, type, mode, un, e))
		goto fail;
	if (type != SOCK_DGRAM && listen(s, backlog)) {
		err_sys(e, EXIT_FAIL, errno, "listen unix:%s", path);
		sock_unix_unlink(un);
		goto fail;
	}
	*fd = s;
	return 0;
fail:
	close(s);
fail_dir:
	if (un->dirfd >= 0)
		close(un->dirfd);
	memset(un, 0, sizeof(*un));
	un->dirfd = -1;
	return -1;
}

void sock_unix_release(struct sock_unix_name *un)
{
	int fd = un->dirfd;

	/* first forget it, so a signal handler from now on does nothing */
	un->dirfd = -1;
	un->ino = 0;
	if (fd >= 0)
		close(fd);
}

void sock_unix_unlink(const struct sock_unix_name *un)
{
	struct stat st;

	/* fstatat and unlinkat only: async-signal-safe */
	if (un->dirfd >= 0 && un->ino &&
	    fstatat(un->dirfd, un->base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == un->dev && st.st_ino == un->ino)
		unlinkat(un->dirfd, un->base, 0);
}

long sock_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
}

/* ---- the socket file removed on the way out, even on ^C ---- */

static struct sock_unix_name *cleanup_name;

void sock_unix_cleanup(void)
{
	/* also runs from on_signal(): it only calls fstatat(2) and unlinkat(2),
	 * both async-signal-safe */
	if (!cleanup_name)
		return;
	// NOLINTNEXTLINE(bugprone-signal-handler,cert-sig30-c)
	sock_unix_unlink(cleanup_name);
}

static void on_signal(int sig)
{
	/* only fstatat(2) and unlinkat(2) run here: both async-signal-safe */
	sock_unix_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

void sock_unix_cleanup_arm(struct sock_unix_name *un)
{
	cleanup_name = un;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
}

int sock_listen_all(int *fds, int *n, int backlog, struct err *e)
{
	int i;

	for (i = 0; i < *n; i++)
		if (listen(fds[i], backlog)) {
			char where[ADDR_STRLEN];
			struct sockaddr_storage ss = { 0 };
			socklen_t len = sizeof(ss);
			int err = errno; /* getsockname may change it */

			getsockname(fds[i], (struct sockaddr *)&ss, &len);
			err_sys(e, EXIT_FAIL, err, "listen %s",
				addr_format((struct sockaddr *)&ss, len, where, sizeof(where)));
			sock_close_all(fds, *n);
			*n = 0;
			return -1;
		}
	return 0;
}

int sock_set_nonblock_all(const int *fds, int n, struct err *e)
{
	int i;

	for (i = 0; i < n; i++)
		if (sock_set_nonblock(fds[i], e))
			return -1;
	return 0;
}

void sock_close_all(const int *fds, int n)
{
	while (n-- > 0)
		close(fds[n]);
}
