/* SPDX-License-Identifier: MIT */
#include "inherit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "addr.h"
#include "sock.h"

static int sockopt_int(int fd, int name, int *val)
{
	socklen_t len = sizeof(*val);

	*val = 0;
	return getsockopt(fd, SOL_SOCKET, name, val, &len);
}

/* Bound to an address of its own: a port, or a Unix name (abstract ones too). */
static int is_bound(int fd, int family)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (family == AF_UNIX)
		return len > offsetof(struct sockaddr_un, sun_path);
	return addr_port((struct sockaddr *)&ss) != 0;
}

static int is_connected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

/* The type and family are what the options ask (or anything when they do not say). */
static int check_kind(const char *what, const struct inherit_want *w, const struct inherit_sock *s,
		      struct err *e)
{
	const char *fam = addr_family_name(s->family), *type = addr_socktype_name(s->type);

	if (s->family != AF_INET && s->family != AF_INET6 && s->family != AF_UNIX)
		return err_set(e, EXIT_USAGE, "%s: not an IPv4, IPv6 or Unix socket", what);
	if (s->type != SOCK_STREAM && s->type != SOCK_DGRAM && s->type != SOCK_SEQPACKET)
		return err_set(e, EXIT_USAGE, "%s: not a stream, dgram or seqpacket socket", what);
	if (w->family && w->family != s->family)
		return err_set(e, EXIT_USAGE, "%s: a socket of family %s, but the options ask for %s",
			       what, fam, addr_family_name(w->family));
	if (w->type && w->type != s->type)
		return err_set(e, EXIT_USAGE, "%s: a socket of type %s, but the options ask for %s", what,
			       type, addr_socktype_name(w->type));
	return 0;
}

static int check_role(const char *what, const struct inherit_want *w, const struct inherit_sock *s,
		      struct err *e)
{
	if (w->role == INHERIT_CONNECTED) {
		if (s->listening)
			return err_set(e, EXIT_USAGE,
				       "%s: a listening socket, not a connected one "
				       "(sockctl listen --fd serves it)", what);
		if (!is_connected(s->fd))
			return err_set(e, EXIT_USAGE, "%s: not connected to a peer", what);
		return 0;
	}
	if (s->listening)
		return 0;
	if (s->type != SOCK_DGRAM && is_connected(s->fd))
		return err_set(e, EXIT_USAGE,
			       "%s: a connected socket, not a listening one "
			       "(sockctl connect --fd relays it)", what);
	if (!is_bound(s->fd, s->family))
		return err_set(e, EXIT_USAGE, "%s: not bound to an address", what);
	return 0;
}

int inherit_check(int fd, const char *what, const struct inherit_want *w,
		  struct inherit_sock *s, struct err *e)
{
	struct stat st;
	int fl;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	if (w->no_stdio && fd <= STDERR_FILENO)
		return err_set(e, EXIT_USAGE, "%s: 0, 1 and 2 carry stdin, stdout and stderr; "
			       "pass the socket as 3 or above", what);
	fl = fcntl(fd, F_GETFD);
	if (fl < 0)
		return err_set(e, EXIT_USAGE, "%s: not an open descriptor", what);
	if (fstat(fd, &st) || !S_ISSOCK(st.st_mode))
		return err_set(e, EXIT_USAGE, "%s: not a socket", what);
	if (sockopt_int(fd, SO_DOMAIN, &s->family) || sockopt_int(fd, SO_TYPE, &s->type) ||
	    sockopt_int(fd, SO_ACCEPTCONN, &s->listening))
		return err_sys(e, EXIT_USAGE, errno, "%s: getsockopt", what);
	if (check_kind(what, w, s, e) || check_role(what, w, s, e))
		return -1;
	if (!(fl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fl | FD_CLOEXEC))
		return err_sys(e, EXIT_FAIL, errno, "%s: fcntl FD_CLOEXEC", what);
	return 0;
}

int inherit_check_all(int first, int n, int activated, const struct inherit_want *w,
		      struct inherit_sock *s, struct err *e)
{
	char what[48];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), activated ? "LISTEN_FDS: fd %d" : "--fd %d", first + i);
		if (inherit_check(first + i, what, w, &s[i], e))
			return -1;
		if (i && s[i].type != s[0].type)
			return err_set(e, EXIT_USAGE, "%s is %s, fd %d %s: one type of socket at a "
				       "time", what, addr_socktype_name(s[i].type), first,
				       addr_socktype_name(s[0].type));
	}
	return 0;
}

int inherit_listen(const struct inherit_sock *s, int backlog, struct err *e)
{
	if (s->type == SOCK_DGRAM || (s->listening && backlog < 0))
		return 0;
	if (listen(s->fd, backlog >= 0 ? backlog : SOMAXCONN))
		return err_sys(e, EXIT_FAIL, errno, "listen on fd %d", s->fd);
	return 0;
}

/* A decimal number with nothing around it, within [0, max]; -1 otherwise. */
static long parse_count(const char *s, long max)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	return v;
}

int inherit_listen_fds(int max, struct err *e)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long p = parse_count(pid, LONG_MAX), n = parse_count(fds, INT_MAX);
	int ours = pid && p == (long)getpid();

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (!ours || !fds)
		return 0;
	if (n < 0)
		return err_set(e, EXIT_USAGE, "LISTEN_FDS: not a count of descriptors");
	if (n > max)
		return err_set(e, EXIT_USAGE, "LISTEN_FDS: %ld sockets, at most %d can be served",
			       n, max);
	return (int)n;
}

int inherit_adopt(int fd, int nact, const struct inherit_server_want *w, struct inherit_sock *s,
		  int *n, struct err *e)
{
	const char *src = nact ? "LISTEN_FDS" : "--fd";
	int i;

	*n = nact ? nact : 1;
	if (inherit_check_all(nact ? INHERIT_FDS_START : fd, *n, nact > 0, &w->w, s, e))
		return -1;
	for (i = 0; i < *n; i++) {
		const char *bad = s[i].family == AF_UNIX ? w->unix_unfit : w->ip_unfit;

		if (bad)
			return err_set(e, EXIT_USAGE, "%s; %s%s%d is %s", bad, src,
				       nact ? ": fd " : " ", s[i].fd,
				       s[i].family == AF_UNIX ? "Unix" : "IP");
		/* the other socket options, against what the socket is */
		if (sock_check_opts(w->so, s[i].family, s[i].type, e)) {
			char msg[sizeof(e->msg)];

			snprintf(msg, sizeof(msg), "%s", e->msg);
			return err_set(e, EXIT_USAGE, "%s%s%d: %s", src, nact ? ": fd " : " ",
				       s[i].fd, msg);
		}
	}
	return 0;
}

int inherit_prepare(const struct inherit_sock *s, int n, const struct sockopts *so,
		    int backlog, int *fds, struct err *e)
{
	int i;

	for (i = 0; i < n; i++) {
		if (sock_apply_opts(s[i].fd, s[i].family, s[i].type, so, e) ||
		    inherit_listen(&s[i], backlog, e))
			return -1;
		fds[i] = s[i].fd;
	}
	return 0;
}
