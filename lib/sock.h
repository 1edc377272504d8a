/* SPDX-License-Identifier: MIT */
/* Resolving, socket options and binding, shared by every network command. */
#ifndef SOCKCTL_SOCK_H
#define SOCKCTL_SOCK_H

#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

/* "EAI_NONAME" for an EAI_* code, "EAI_?" for unknown ones. */
const char *sock_eai_name(int code);

/*
 * getaddrinfo(3) with an error that names the lookup and carries the EAI_
 * name and gai_strerror text: "nosuch.invalid: EAI_NONAME: Name or service
 * not known".  Status 2 for EAI_BADFLAGS/EAI_FAMILY/EAI_SOCKTYPE (the
 * options asked for something impossible), 1 for the rest.
 */
int sock_getaddrinfo(const char *host, const char *service, const struct addrinfo *hints,
		     struct addrinfo **res, struct err *e);

/* Socket options a user may ask for; -1 (or 0 for flags) leaves the default. */
struct sockopts {
	int sndbuf, rcvbuf; /* SO_SNDBUF / SO_RCVBUF in bytes */
	int ttl;            /* IP_TTL or IPV6_UNICAST_HOPS */
	int tos;            /* IP_TOS or IPV6_TCLASS */
	int keepalive, nodelay, reuseaddr, reuseport, broadcast;
};
void sock_opts_init(struct sockopts *o);
/* Apply @o to @fd of @family (AF_INET, AF_INET6 or AF_UNIX) and @type. */
int sock_apply_opts(int fd, int family, int type, const struct sockopts *o, struct err *e);

/*
 * Fill @e for a bind(2) of @sa (a socket of @type) that failed with @errnum:
 * "bind 127.0.0.1:9000: address already in use".  When only connections in
 * TIME_WAIT hold a TCP port, the message says so and whether --reuseaddr
 * (SO_REUSEADDR) gets through.
 * Returns -1.
 */
int sock_bind_error(struct err *e, int errnum, const struct sockaddr *sa, socklen_t len,
		    int type);

/*
 * Open, configure and bind one socket per passive address of @host (NULL or
 * "" for the IPv4 and IPv6 wildcards) and @service.  IPv6 sockets are
 * IPV6_V6ONLY when an IPv4 socket is bound too, so both can share a port;
 * with port 0, every socket gets the port the kernel chose for the first.
 * At most @max sockets; the fds are returned in @fds, their count in @nfds.
 */
int sock_bind_passive(const char *host, const char *service, int family, int type,
		      const struct sockopts *o, int *fds, int max, int *nfds, struct err *e);

/*
 * A Unix socket of @type bound at @path ("@name": abstract namespace) and,
 * for stream/seqpacket, listening with @backlog.  An existing file at @path
 * is replaced only if it is a socket nobody listens on (connect() is
 * refused); anything else there is left alone and reported.  The inode of
 * the new socket is stored in @ino so that sock_unix_unlink() removes only
 * our own file.
 */
int sock_listen_unix(const char *path, int type, int backlog, int *fd,
		     unsigned long long *ino, struct err *e);
/* Remove @path if it is still the socket sock_listen_unix() made (@ino). */
void sock_unix_unlink(const char *path, unsigned long long ino);

/* Raise the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
long sock_raise_nofile(void);

/* Fill @ss from a Unix @path ("@name": abstract); -1 (status 2) if too long. */
int sock_unix_addr(const char *path, struct sockaddr_storage *ss, socklen_t *len,
		   struct err *e);

#endif
