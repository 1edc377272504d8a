/* SPDX-License-Identifier: MIT */
#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"

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

void sock_opts_init(struct sockopts *o)
{
	memset(o, 0, sizeof(*o));
	o->sndbuf = o->rcvbuf = o->ttl = o->tos = -1;
}

static int setopt(int fd, int level, int name, int val, const char *what, struct err *e)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)))
		return err_sys(e, EXIT_FAIL, errno, "setsockopt %s=%d", what, val);
	return 0;
}

int sock_apply_opts(int fd, int family, int type, const struct sockopts *o, struct err *e)
{
	int inet = family == AF_INET || family == AF_INET6;
	int v6 = family == AF_INET6;

	if (o->reuseaddr && setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR", e))
		return -1;
	if (o->reuseport && setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT", e))
		return -1;
	if (o->broadcast && setopt(fd, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST", e))
		return -1;
	if (o->keepalive && setopt(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE", e))
		return -1;
	if (o->sndbuf >= 0 && setopt(fd, SOL_SOCKET, SO_SNDBUF, o->sndbuf, "SO_SNDBUF", e))
		return -1;
	if (o->rcvbuf >= 0 && setopt(fd, SOL_SOCKET, SO_RCVBUF, o->rcvbuf, "SO_RCVBUF", e))
		return -1;
	if (o->nodelay && inet && type == SOCK_STREAM &&
	    setopt(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY", e))
		return -1;
	if (o->ttl >= 0 && inet &&
	    (v6 ? setopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, o->ttl, "IPV6_UNICAST_HOPS", e)
		: setopt(fd, IPPROTO_IP, IP_TTL, o->ttl, "IP_TTL", e)))
		return -1;
	if (o->tos >= 0 && inet &&
	    (v6 ? setopt(fd, IPPROTO_IPV6, IPV6_TCLASS, o->tos, "IPV6_TCLASS", e)
		: setopt(fd, IPPROTO_IP, IP_TOS, o->tos, "IP_TOS", e)))
		return -1;
	return 0;
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
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0) {
			/* a kernel without IPv6 still serves IPv4 */
			if (errno == EAFNOSUPPORT && ai->ai_next)
				continue;
			err_sys(e, EXIT_FAIL, errno, "socket(%s)", addr_family_name(ai->ai_family));
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
