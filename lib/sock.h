/* SPDX-License-Identifier: MIT */
/* Resolving, socket options and binding, shared by every network command. */
#ifndef SOCKCTL_SOCK_H
#define SOCKCTL_SOCK_H

#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

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
/* sock_getaddrinfo()'s first address, copied to @ss and @len. */
int sock_resolve_first(const char *host, const char *service, const struct addrinfo *hints,
		       struct sockaddr_storage *ss, socklen_t *len, struct err *e);

/*
 * Socket options a user may ask for (OPT_SOCKOPTS in opt.h fills them).
 * Every field but the strings is SOCKOPT_UNSET until given, and unset means
 * "the kernel's default": one convention for flags and values alike, so a
 * command may supply its own default (listen: SO_REUSEADDR on for TCP).
 */
#define SOCKOPT_UNSET (-1)
struct sockopts {
	const char *source;   /* -s: local address to bind; NULL: any */
	int source_port;      /* -p: local port to bind */
	const char *iface;    /* -I: SO_BINDTODEVICE; NULL: none */
	long long mark;       /* SO_MARK, 0 to 2^32-1 */
	int sndbuf, rcvbuf;   /* SO_SNDBUF / SO_RCVBUF in bytes (SO_RCVBUFFORCE if capped) */
	int ttl;              /* IP_TTL or IPV6_UNICAST_HOPS */
	int tos;              /* IP_TOS or IPV6_TCLASS */
	int pmtu;             /* IP_MTU_DISCOVER value: index of sock_pmtu_names */
	int flowlabel;        /* IPv6 flow label, 1 to 0xfffff: see sock_flowlabel */
	int reuseaddr, reuseport, broadcast, freebind, transparent; /* 0 or 1 */
	int nodelay, keepalive, keepcnt, fastopen, mptcp;          /* TCP */
	int64_t keepidle, keepintvl, user_timeout;                 /* TCP, ns */
};
/* "dont", "want", "do", "probe": IP_PMTUDISC_DONT..IP_PMTUDISC_PROBE in order. */
extern const char *const sock_pmtu_names[];
void sock_opts_init(struct sockopts *o);

/*
 * Check @o against a socket of @family and @type before anything opens:
 * "--nodelay needs a TCP socket" (status 2), and
 * ranges that the option parser cannot know (whole seconds for --keepidle).
 * @family may be AF_UNSPEC (either IP family).
 */
int sock_check_opts(const struct sockopts *o, int family, int type, struct err *e);
/* The protocol to pass to socket(): IPPROTO_MPTCP with --mptcp on IP streams. */
int sock_protocol(const struct sockopts *o, int family, int type, int protocol);
/*
 * socket(2) with @o's protocol (--mptcp) and SOCK_CLOEXEC; a kernel without
 * MPTCP is named as such.  The fd, or -1 with @e filled.
 */
int sock_open(int family, int type, int protocol, const struct sockopts *o, struct err *e);
/*
 * Apply @o to @fd of @family (AF_INET, AF_INET6 or AF_UNIX) and @type, the
 * options that do not apply to it silently skipped (sock_check_opts reports
 * them earlier).  Before bind() and connect().
 */
int sock_apply_opts(int fd, int family, int type, const struct sockopts *o, struct err *e);
/*
 * Bind @fd to @o's -s/-p (resolved as getaddrinfo(3) passive, in @family);
 * nothing to do without them.  @o may be NULL.
 */
int sock_bind_source(int fd, int family, int type, const struct sockopts *o, struct err *e);
/* The -s/-p source as a sockaddr; *@len = 0 without one. */
int sock_source_addr(const struct sockopts *o, int family, int type, struct sockaddr_storage *ss,
		     socklen_t *len, struct err *e);
/*
 * --flowlabel: lease the label for @dst from the kernel's flow label manager
 * (IPV6_FLOWLABEL_MGR), turn on IPV6_FLOWINFO_SEND and put the label in
 * @dst's sin6_flowinfo, which connect(2) or sendto(2) must then use.
 * Nothing to do without --flowlabel; an IPv4 @dst is bad input (status 2).
 */
int sock_flowlabel(int fd, const struct sockopts *o, struct sockaddr *dst, struct err *e);
/* setsockopt(@fd, @level, @name, int @val), "setsockopt WHAT=VAL: cause" on failure. */
int sock_setopt_int(int fd, int level, int name, int val, const char *what, struct err *e);
int sock_set_nonblock(int fd, struct err *e);

/* A socket's pending error (SO_ERROR, cleared by reading it): its errno, 0 if none. */
int sock_pending_error(int fd);
/*
 * After EMSGSIZE on @fd: the path MTU the kernel knows (IP_MTU/IPV6_MTU), or
 * -1 if it knows none.  An unconnected @fd needs @dst: the MTU of the route
 * to it is read through a connected UDP socket (no datagram is sent).
 */
int sock_path_mtu(int fd, const struct sockaddr *dst, socklen_t dstlen);

struct opt;
/* OPT_SOCKOPTS's -I: an interface that exists (or, with .min, an address: -s). */
int sock_opt_iface(const struct opt *op, const char *arg, struct err *e);

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
 * A Unix socket file made by sock_listen_unix(): the directory it was bound
 * in (opened once; -1 for an abstract name or none), its name there, and the
 * device and inode of the file, so that only that very file is removed.
 */
struct sock_unix_name {
	int dirfd;
	char base[108];
	dev_t dev;
	ino_t ino;
};

/* The default --mode of a Unix socket file: its owner only. */
#define SOCK_UNIX_MODE 0600

/*
 * A Unix socket of @type bound at @path ("@name": abstract namespace, no
 * file and no access control) and, for stream/seqpacket, listening with
 * @backlog.  The file is created with permissions @mode exactly (the umask
 * does not apply).  An existing file at @path is replaced only if it is a
 * socket nobody listens on (connect() is refused); anything else there is
 * left alone and reported.  Every step acts in the directory of @path as it
 * was when opened first (see sock.c).  @un is filled for sock_unix_unlink().
 */
int sock_listen_unix(const char *path, int type, int backlog, unsigned mode, int *fd,
		     struct sock_unix_name *un, struct err *e);
/*
 * Remove the socket file sock_listen_unix() made, if it is still that file
 * (device and inode).  Async-signal-safe: a signal handler may call it.
 */
void sock_unix_unlink(const struct sock_unix_name *un);
/* Close the directory of @un, after sock_unix_unlink(): nothing is removed later. */
void sock_unix_release(struct sock_unix_name *un);

/*
 * Remove the socket file of @un when the process ends by SIGINT, SIGTERM or
 * SIGHUP (then the signal is raised again with its default action), and on
 * sock_unix_cleanup().  One name per process: the last one armed.
 */
void sock_unix_cleanup_arm(struct sock_unix_name *un);
/* Remove the armed socket file now, if it is still that file; async-signal-safe. */
void sock_unix_cleanup(void);

/*
 * listen(2) with @backlog on each of the @n sockets @fds.  On failure all of
 * them are closed, *@n is 0, and @e says which address failed (status 1).
 */
int sock_listen_all(int *fds, int *n, int backlog, struct err *e);
/* O_NONBLOCK on each of the @n sockets @fds. */
int sock_set_nonblock_all(const int *fds, int n, struct err *e);
/* Close the @n descriptors @fds, last first. */
void sock_close_all(const int *fds, int n);

/* Raise the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
long sock_raise_nofile(void);

/* Fill @ss from a Unix @path ("@name": abstract); -1 (status 2) if too long. */
int sock_unix_addr(const char *path, struct sockaddr_storage *ss, socklen_t *len,
		   struct err *e);

#endif
