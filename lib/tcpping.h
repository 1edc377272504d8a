/* SPDX-License-Identifier: MIT */
/*
 * TCP ping: timed connects to a table of HOST:PORT targets.  Each probe is
 * a non-blocking connect() timed from the call to the moment epoll reports
 * the handshake's end; an established connection is closed at once with a
 * reset (SO_LINGER 0), so neither end keeps a TIME_WAIT for it.  A probe
 * ends as open (handshake done), closed (the peer answered with a reset),
 * timeout (nothing within the timeout) or error (an ICMP error or a local
 * failure: unreachable, no route, ...).  Open and closed are answers, and
 * their times go into the statistics (lib/rtt).
 *
 * Schedule: a target's next probe starts one interval after its last one
 * started, and never before that one ended (one probe in flight per
 * target); targets are probed side by side.  The engine never prints:
 * each probe is reported through a hook as it ends.
 */
#ifndef SOCKCTL_TCPPING_H
#define SOCKCTL_TCPPING_H

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "err.h"
#include "rtt.h"
#include "sock.h"

#define TCPPING_DEFAULT_INTERVAL INT64_C(1000000000) /* 1s, as ping */
#define TCPPING_DEFAULT_TIMEOUT INT64_C(1000000000)  /* 1s, as -z */

enum tcpping_state { TCPPING_OPEN, TCPPING_CLOSED, TCPPING_TIMEOUT, TCPPING_ERROR };

struct tcpping_target {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct sockaddr_storage src; /* -s/-p, resolved once; srclen 0: none */
	socklen_t srclen;
	char addr_str[ADDR_STRLEN]; /* numeric address */
	uint16_t port;
	void *user; /* the caller's */
	/* statistics, read by the caller */
	uint64_t sent, open, closed, timeouts, errors;
	struct rtt_series rtt; /* open and closed probes */
	/* engine state */
	int fd;
	uint64_t seq;
	int64_t started, next, deadline;
	void *conn;             /* the layer's, while its handshake runs */
	int64_t connected;      /* with a layer: when TCP's handshake ended */
	int64_t tcpi_rtt_us, tcpi_rttvar_us; /* read then */
};

/*
 * A handshake after TCP's (connect --count --tls): open() on the
 * established non-blocking socket, step() whenever the socket is as *@want
 * said (EPOLLIN, EPOLLOUT) until it is done, close() before the reset.  The
 * probe's rtt stays TCP's handshake; layer_ns is this one's.  A failed one
 * ends the probe as TCPPING_ERROR with the layer's message.
 */
struct tcpping_layer {
	void *ctx;
	void *(*open)(void *ctx, int fd, const struct tcpping_target *t, struct err *e);
	int (*step)(void *conn, uint32_t *want, struct err *e); /* 1 done, 0 wait, -1 failed */
	void (*close)(void *conn);
};

struct tcpping_probe {
	const struct tcpping_target *t;
	uint64_t seq;             /* 1, 2, ... per target */
	enum tcpping_state state;
	int err;                  /* errno for closed/error; 0 otherwise */
	int64_t rtt_ns;           /* open, closed: the handshake; timeout: the timeout */
	int64_t tcpi_rtt_us;      /* open, with .tcp_info: TCP_INFO's tcpi_rtt; -1: none */
	int64_t tcpi_rttvar_us;
	int64_t layer_ns;         /* open, with a layer: its handshake; -1: none */
	const char *why;          /* error from the layer: its message; NULL otherwise */
};

typedef void (*tcpping_fn)(void *ctx, const struct tcpping_probe *p);

struct tcpping_config {
	long long count;  /* probes per target; 0: until stopped */
	int64_t interval; /* ns from one probe's start to the next's */
	int64_t timeout;  /* ns per probe */
	int tcp_info;     /* read TCP_INFO right after the handshake */
	const struct sockopts *so; /* applied to every probe's socket; NULL: none */
	const struct tcpping_layer *layer; /* after TCP's handshake; NULL: none */
};

struct tcpping {
	struct tcpping_config cfg;
	tcpping_fn fn;
	void *fn_ctx;
	struct tcpping_target **targets;
	size_t ntargets;
	int ep;        /* epoll */
	int no_pwait2; /* the kernel has no epoll_pwait2: epoll_pwait */
	int64_t start, end;
};

const char *tcpping_state_name(enum tcpping_state s); /* "open", "closed", "timeout", "error" */

int tcpping_init(struct tcpping *p, const struct tcpping_config *cfg, tcpping_fn fn, void *ctx,
		 struct err *e);
/* Add @sa (IPv4 or IPv6, with its port); the -s/-p source is resolved here. */
struct tcpping_target *tcpping_add(struct tcpping *p, const struct sockaddr *sa, socklen_t len,
				   struct err *e);
/*
 * Probe until every target has had its count, or *@stop is set (signals
 * in @block are let in only while waiting, with @mask).  0, or -1 with @e
 * on a local failure that stops the run (no descriptors, no memory).
 */
int tcpping_run(struct tcpping *p, const volatile sig_atomic_t *stop, const sigset_t *block,
		const sigset_t *mask, struct err *e);
/* Answers (open + closed) of @t. */
uint64_t tcpping_answered(const struct tcpping_target *t);
void tcpping_free(struct tcpping *p);

#endif
