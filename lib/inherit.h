/* SPDX-License-Identifier: MIT */
/*
 * Sockets a command did not open itself: a descriptor named by --fd N, or the
 * listening sockets systemd (or systemd-socket-activate, or any launcher
 * speaking the same protocol) passes with LISTEN_FDS/LISTEN_PID.  The checks
 * say in one line what is wrong with the descriptor, as bad input (status 2):
 * the user named it, nothing has been done with it yet.
 */
#ifndef SOCKCTL_INHERIT_H
#define SOCKCTL_INHERIT_H

#include "err.h"

/* The first descriptor systemd passes (SD_LISTEN_FDS_START). */
#define INHERIT_FDS_START 3

enum inherit_role {
	INHERIT_PASSIVE,   /* listening, or bound (stream: made to listen by the caller) */
	INHERIT_CONNECTED, /* connected to a peer */
};

/* What the command's other options ask of the socket; 0 accepts anything. */
struct inherit_want {
	enum inherit_role role;
	int family;   /* AF_INET, AF_INET6, AF_UNIX */
	int type;     /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	int no_stdio; /* 0, 1 and 2 carry the relay's data: refuse them */
};

/* What the socket is. */
struct inherit_sock {
	int fd, family, type;
	int listening; /* SO_ACCEPTCONN */
};

/*
 * Check that @fd is an open IPv4, IPv6 or Unix socket of type stream,
 * datagram or seqpacket that fits @w, and describe it in @s.  @what names the
 * descriptor in messages ("--fd 3", "LISTEN_FDS fd 4").  A fitting socket is
 * made close-on-exec, so that no child the command starts inherits it.
 * -1 with @e (status 2) if it does not fit.
 */
int inherit_check(int fd, const char *what, const struct inherit_want *w,
		  struct inherit_sock *s, struct err *e);

/*
 * inherit_check() for the @n descriptors from @first on, named "--fd N", or
 * "LISTEN_FDS: fd N" when @activated; described in @s[0..n).  All must be
 * of one type: one server loop serves them.
 */
int inherit_check_all(int first, int n, int activated, const struct inherit_want *w,
		      struct inherit_sock *s, struct err *e);

/*
 * A passive stream or seqpacket socket starts listening with @backlog
 * (SOMAXCONN if < 0); one that listens already keeps its own backlog unless
 * @backlog >= 0.  Datagram sockets are left as they are.  Status 1 on failure.
 */
int inherit_listen(const struct inherit_sock *s, int backlog, struct err *e);

struct sockopts;

/* What a server's other options ask of the sockets it adopts. */
struct inherit_server_want {
	struct inherit_want w;      /* role, family, type, no_stdio */
	const char *unix_unfit;     /* an option a Unix socket cannot have, or NULL */
	const char *ip_unfit;       /* an option an IP socket cannot have, or NULL */
	const struct sockopts *so;  /* checked against what each socket is */
};

/*
 * A server's inherited sockets: --fd @fd, or the @nact sockets of socket
 * activation from INHERIT_FDS_START on (then @fd is ignored).  Each is
 * checked with inherit_check_all() and against @w's unfit options and socket
 * options, named "--fd N" or "LISTEN_FDS: fd N" in messages (status 2).
 * Their count goes to @n, their descriptions to @s.  Nothing is changed on
 * them yet: see inherit_prepare().
 */
int inherit_adopt(int fd, int nact, const struct inherit_server_want *w, struct inherit_sock *s,
		  int *n, struct err *e);

/*
 * The @n sockets inherit_adopt() checked: the socket options @so applied and
 * a passive stream socket listening (inherit_listen(), @backlog); their
 * descriptors go to @fds.  Status 1 on failure.
 */
int inherit_prepare(const struct inherit_sock *s, int n, const struct sockopts *so,
		    int backlog, int *fds, struct err *e);

/*
 * systemd socket activation (sd_listen_fds(3)): the number of sockets passed
 * to this process, from INHERIT_FDS_START on; 0 when LISTEN_PID is not ours
 * or LISTEN_FDS is not set.  LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are
 * removed from the environment either way, so no child sees them.  At most
 * @max; a malformed count, or more than @max: -1 with @e (status 2).
 */
int inherit_listen_fds(int max, struct err *e);

#endif
