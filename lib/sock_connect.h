/* SPDX-License-Identifier: MIT */
/*
 * Client sockets: connect with a timeout to every address of a host, racing
 * IPv6 and IPv4 as Happy Eyeballs (RFC 8305) does, from an optional source
 * address (struct sockopts' -s/-p); Unix stream, seqpacket and datagram clients; TCP_INFO.
 * (Kept apart from sock.c so that two people can extend lib/sock at once;
 * the functions carry the sock_ prefix of that module.)
 */
#ifndef SOCKCTL_SOCK_CONNECT_H
#define SOCKCTL_SOCK_CONNECT_H

#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "sock.h"

/* What sock_connect reports about each attempt, as it happens. */
enum sock_event {
	SOCK_EV_START,  /* connect() called: .err is its immediate errno (EINPROGRESS) or 0 */
	SOCK_EV_RESULT, /* the attempt ended: .err is SO_ERROR (0: connected) */
};
struct sock_attempt {
	enum sock_event ev;
	const struct sockaddr *addr;
	socklen_t addrlen;
	int err;
	int64_t ns;    /* since this attempt started */
	int64_t at_ns; /* when this attempt started, since sock_connect began: the
			* Happy Eyeballs stagger */
	int timed_out;
};
typedef void (*sock_trace_fn)(void *ctx, const struct sock_attempt *a);

struct sock_connect_opts {
	int family;            /* 0, AF_INET or AF_INET6 */
	int type;              /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	int64_t timeout;       /* ns for the whole connect; -1: the kernel's */
	int64_t attempt_delay; /* Happy Eyeballs "connection attempt delay"; -1: SOCK_ATTEMPT_DELAY */
	const struct sockopts *so; /* NULL: none; its -s/-p bind each socket first */
	sock_trace_fn trace;
	void *ctx;
};
/* RFC 8305's recommended "connection attempt delay". */
#define SOCK_ATTEMPT_DELAY (250 * INT64_C(1000000))
void sock_connect_opts_init(struct sock_connect_opts *o);

/*
 * Connect to @host @service, trying every getaddrinfo result: addresses are
 * interleaved by family (RFC 8305 section 4) and a new attempt starts every
 * attempt_delay, or as soon as one fails, while the earlier ones go on; the
 * first to connect wins.  The connected socket (non-blocking) goes to @fd.
 * On failure the error names the last address tried and why ("198.18.0.2:80:
 * connection timed out after 2.0s"), status 1.
 */
int sock_connect(const char *host, const char *service, const struct sock_connect_opts *o,
		 int *fd, struct err *e);

/*
 * sock_connect in steps, for an event loop that must not wait: begin
 * (resolves @host, starts the first attempt), then watch the descriptors
 * sock_race_fds gives for writability and call sock_race_step with those
 * that became writable (or none, when sock_race_wake, a CLOCK_MONOTONIC
 * deadline or -1, has passed).  Each returns 1 connected (*@fd), 0 still
 * going, -1 failed (@e, worded as sock_connect's).  The descriptors change
 * from step to step.  sock_race_end frees it and closes the losers (NULL
 * is fine); @o must outlive the race.  sock_connect is begin, a poll loop
 * and end.
 */
struct sock_race;
int sock_race_begin(const char *host, const char *service, const struct sock_connect_opts *o,
		    struct sock_race **sr_out, int *fd, struct err *e);
int sock_race_fds(const struct sock_race *sr, int *fds, int max);
int64_t sock_race_wake(const struct sock_race *sr);
int sock_race_step(struct sock_race *sr, const int *ready, int nready, int *fd, struct err *e);
void sock_race_end(struct sock_race *sr);
/* The most descriptors a race has in flight at once. */
#define SOCK_RACE_MAX 64

/* A Unix client of @o->type to @path ("@name": abstract).  No timeout is needed:
 * a Unix connect never waits for a handshake. */
int sock_connect_unix(const char *path, const struct sock_connect_opts *o, int *fd,
		      struct err *e);


#endif
