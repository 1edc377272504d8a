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

struct relay_stats;
/*
 * A chunk of @n bytes just written: @to_sock 1 from in_fd to the socket, 0
 * from the socket to out_fd.  Non-zero: the relay fails ("session log: ...").
 */
typedef int (*relay_tap_fn)(void *ctx, int to_sock, const void *data, size_t n);

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
	int exit_on_peer_eof;   /* on the peer's EOF stop reading stdin and end (the
				 * default is to send stdin to its EOF; see relay_run) */
	/*
	 * Progress: when set, called every progress_every ns at most while
	 * the relay runs (from its loop, never from a signal), and once more
	 * with @final 1 when it ends; @now_ns on CLOCK_MONOTONIC, comparable
	 * with st->start_ns.  relay_run never prints: the caller's hook does.
	 */
	void (*progress)(void *arg, const struct relay_stats *st, int64_t now_ns, int final);
	void *progress_arg;
	int64_t progress_every;
	/*
	 * Seeing the bytes: any of these makes both directions go through a
	 * user-space buffer (no splice, sendfile or discard).
	 */
	int crlf;               /* an LF from in_fd goes to the socket as CRLF (one after a
				 * CR stays as it is) */
	int64_t line_delay;     /* > 0: ns to wait after each line from in_fd is sent */
	relay_tap_fn tap;       /* each chunk as it is written out, in order */
	void *tap_ctx;
	/*
	 * out_fd is a program's stdin (listen/connect -e through the relay):
	 * closed once the peer's EOF has been delivered, and the program leaving
	 * (EPIPE) ends only that direction.
	 */
	int out_is_program;
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
	int no_shutdown, recv_only, send_only;
	int exit_on_peer_eof;   /* --exit-on-peer-eof */
	int keep_sending;       /* --keep-sending: the default; accepted, changes nothing */
	int progress;           /* --progress: the command attaches a relay_opts.progress hook */
	unsigned long long size; /* --size: the bytes stdin will give, for --progress's ETA */
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
	int sock_errno; /* the socket failed with this errno (ECONNRESET, EPIPE, ...) */
	int out_closed; /* out_is_program: out_fd was closed by the relay */
	int stdin_tty;  /* stdin is a terminal: the peer's EOF ended the relay at once */
	int stdin_cut;  /* reading stdin stopped at the peer's EOF before stdin's EOF */
	/*
	 * With stdin_cut: bytes stdin still had ready (FIONREAD, or what is left
	 * of a regular file); -1: some, count unknown (a character device);
	 * 0: none, nothing was lost.
	 */
	int64_t stdin_left;
	uint64_t delivered;   /* of to_sock, bytes the peer took (TCP: acknowledged) */
	uint64_t undelivered; /* on a socket failure: bytes read from stdin that never
			       * reached the peer (our buffer, unacknowledged bytes) */
};

/* All "unset": -1 timeouts, 0 flags. */
void relay_opts_init(struct relay_opts *o);

/*
 * --crlf: the @n bytes at @p (with room for 2n) become CRLF lines in place:
 * each LF not after a CR gets one; *@last_cr carries "the previous byte was
 * a CR" from one call to the next.  Returns the new length.
 */
size_t relay_crlf(char *p, size_t n, int *last_cr);

/*
 * What a relay does with the bytes of one direction when it sees them
 * (relay_opts' crlf, line_delay, tap), in lib/relay_seen.c: relay_run's
 * buffered channels and tls_relay's plaintext share it, so -C, --delay and
 * the session log behave the same over TCP, Unix and TLS.  The order:
 * read at most relay_seen_room() bytes, pass them through relay_seen_read();
 * while !relay_seen_held(), write relay_seen_chunk() of what waits, then
 * relay_seen_wrote() what was written (the tap sees exactly that, in order).
 */
struct relay_seen {
	int crlf, last_cr;              /* LF -> CRLF; the last byte read was a CR */
	int64_t line_delay, hold_until; /* after a line is out, wait until hold_until */
	int to_sock;                    /* the direction, for the tap */
	relay_tap_fn tap;
	void *tap_ctx;
};

/* The direction to the socket (@to_sock 1: crlf and the delay apply) or from it. */
void relay_seen_init(struct relay_seen *s, const struct relay_opts *o, int to_sock);
/* 1 if @o asks to see the bytes at all (no splice, sendfile or discard then). */
int relay_seen_any(const struct relay_opts *o);
/* How much to read into @room free bytes (half with crlf: each byte may become two). */
size_t relay_seen_room(const struct relay_seen *s, size_t room);
/* The @n bytes just read at @p (room for 2n with crlf): their new length. */
size_t relay_seen_read(struct relay_seen *s, char *p, size_t n);
/* Of the @n bytes waiting at @p, how many to write now (one line with a delay). */
size_t relay_seen_chunk(const struct relay_seen *s, const char *p, size_t n);
/* 1 while the line just sent holds the next back (line_delay). */
int relay_seen_held(const struct relay_seen *s);
/* @n bytes at @p were written out: tap them, start the delay after a line.  -1: the tap failed. */
int relay_seen_wrote(struct relay_seen *s, const void *p, size_t n);

/*
 * The notice owed when reading stdin stopped at the peer's EOF (a terminal,
 * or --exit-on-peer-eof) while stdin still had bytes ready: "closed the
 * connection before stdin ended: 65536 bytes ready on stdin were not sent".
 * 1 and @buf filled if there is one; 0 if nothing was left behind or stdin
 * is a terminal (its user sees it).  The caller puts the peer's name first.
 */
int relay_cut_notice(const struct relay_stats *st, char *buf, size_t len);

/*
 * What ended a relay, in the words every command uses in its "closed"
 * event: "eof", "reset" (the peer reset or vanished: ECONNRESET, EPIPE),
 * "idle-timeout", or "error" (with relay_end_errno, if any).
 */
const char *relay_end_reason(int rc, const struct relay_stats *st);
int relay_end_errno(int rc, const struct relay_stats *st);

/*
 * What the peer of stream socket @sock has acknowledged so far (TCP_INFO
 * bytes_acked), -1 if it cannot tell (not TCP).  Taken once before anything
 * is sent, it is the base for relay_sock_delivered: whether the handshake
 * counts in it differs between active and passive opens.
 */
int64_t relay_sock_acked(int sock);
/*
 * Of @written bytes written to @sock since @base was taken, how many the
 * peer took: for TCP what it acknowledged, else @written.  Also valid after
 * a reset.  Every relay (and the -k server) counts lost bytes with it.
 */
uint64_t relay_sock_delivered(int sock, int64_t base, uint64_t written);

/* All "not given": -1 timeouts, 0 flags. */
void relay_eof_opts_init(struct relay_eof_opts *eo);
/*
 * The length --progress expects: --size if given, else what is left of
 * @in_fd when it is a regular file; 0: unknown.
 */
uint64_t relay_expected_size(const struct relay_eof_opts *eo, int in_fd);
/* Options of @eo that exclude each other: -1 with @e (status 2), else 0. */
int relay_eof_opts_check(const struct relay_eof_opts *eo, struct err *e);
/*
 * relay_opts_init(@o), then what @eo asks for; without --idle-timeout the
 * idle timeout is @timeout (-w), -1 for none.
 */
void relay_opts_from_eof(struct relay_opts *o, const struct relay_eof_opts *eo,
			 int64_t timeout);

/*
 * Move bytes in_fd -> sock and sock -> out_fd until both directions are
 * finished.  The end-of-file rule of every relay: the peer's EOF ends only
 * the peer's direction; stdin goes on to the socket until its own EOF (then
 * shutdown(SHUT_WR)), whatever kind of file it is.  Exceptions: stdin is a
 * terminal (a person typing: the peer's EOF ends the relay at once), or
 * exit_on_peer_eof.  0 on success; -1 with @e (status 1) on peer reset
 * (the message counts the bytes read from stdin and not delivered), stdout
 * write error, idle timeout.
 * Never loses, duplicates or reorders a byte.  @in_fd < 0 acts as
 * recv_only, @out_fd < 0 as send_only.  SIGPIPE is ignored while it runs;
 * descriptors it made non-blocking get their flags back before it returns.
 */
int relay_run(int sock, int in_fd, int out_fd, const struct relay_opts *o,
	      struct relay_stats *st, struct err *e);

#endif
