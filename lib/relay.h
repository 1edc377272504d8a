/* SPDX-License-Identifier: MIT */
/*
 * The event loop that moves bytes between a connected socket and a pair of
 * local descriptors (usually stdin and stdout): back-pressure (a side whose
 * buffer is full is not read), half-close both ways, EINTR/EAGAIN safe,
 * timeouts on CLOCK_MONOTONIC.  Stream data goes through a kernel pipe with
 * splice(2) when both ends allow it, through a 256 KiB buffer otherwise.
 */
#ifndef SOCKCTL_RELAY_H
#define SOCKCTL_RELAY_H

#include <stdint.h>

#include "err.h"

struct relay_opts {
	int64_t idle_timeout;   /* ns; -1: none.  No bytes either way for this long: stop,
				 * error "idle timeout after 2.0s" (status 1) */
	int64_t quit_after_eof; /* -q: ns after stdin EOF, then quit; -1: wait for the peer */
	int no_shutdown;        /* on stdin EOF, do not shutdown(SHUT_WR) */
	int recv_only;          /* -d: never read stdin */
	int send_only;          /* never read the socket; end after stdin EOF is sent */
	int dgram;              /* message socket (UDP, unix dgram/seqpacket): one stdin
				 * read = one datagram; one recv = one write */
	/* additions */
	int idle_ok;            /* an idle timeout ends the relay successfully (UDP) */
	int keep_sending;       /* after the peer's EOF keep sending stdin until its EOF
				 * (always so when stdin is a regular file) */
};

/*
 * What the user says about stdin EOF and idle peers: the options connect and
 * listen share (OPT_RELAY_EOF in opt.h declares them), embedded in both
 * commands' option structs.
 */
struct relay_eof_opts {
	int64_t idle_timeout;   /* --idle-timeout; -1: not given */
	int64_t quit_after_eof; /* -q; -1: not given */
	int nc_shutdown;        /* -N: shutdown(SHUT_WR) on stdin EOF, the default anyway */
	int no_shutdown, recv_only, send_only, keep_sending;
};

struct relay_stats {
	uint64_t to_sock, to_out;
	int64_t start_ns, end_ns;
	/* additions */
	int peer_eof;   /* the peer closed its side (stream/seqpacket) */
	int stdin_eof;  /* stdin reached EOF */
	int idle_timed_out;
	int spliced;    /* 1 if the stream went through splice(2) */
	int sock_error; /* the error came from the socket (prefix the peer's name) */
	int out_errno;  /* writing out_fd failed with this errno (EPIPE: the reader left) */
};

/* All "unset": -1 timeouts, 0 flags. */
void relay_opts_init(struct relay_opts *o);
/*
 * 1 if the relay stopped sending because the peer closed while stdin had not
 * reached EOF: whatever stdin still held was not sent.  (The default, as in
 * nc: a closed peer ends the relay; --keep-sending sends the rest.)
 */
int relay_input_cut(const struct relay_opts *o, const struct relay_stats *st);

/* All "not given": -1 timeouts, 0 flags. */
void relay_eof_opts_init(struct relay_eof_opts *eo);
/*
 * relay_opts_init(@o), then what @eo asks for; without --idle-timeout the
 * idle timeout is @timeout (-w), -1 for none.
 */
void relay_opts_from_eof(struct relay_opts *o, const struct relay_eof_opts *eo,
			 int64_t timeout);

/*
 * Move bytes in_fd -> sock and sock -> out_fd until both directions are
 * finished, or the peer closes (even if stdin is still open).  0 on success;
 * -1 with @e (status 1) on peer reset, stdout write error, idle timeout.
 * Never loses, duplicates or reorders a byte.  @in_fd < 0 acts as
 * recv_only, @out_fd < 0 as send_only.  SIGPIPE is ignored while it runs;
 * descriptors it made non-blocking get their flags back before it returns.
 */
int relay_run(int sock, int in_fd, int out_fd, const struct relay_opts *o,
	      struct relay_stats *st, struct err *e);

#endif
