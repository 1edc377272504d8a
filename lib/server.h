/* SPDX-License-Identifier: MIT */
/*
 * A single-threaded epoll server for many clients at once: stream sockets
 * (TCP, Unix) accepted from one or more listening sockets.  Each client's
 * bytes go to an output fd (or straight back to the client with echo); an
 * input fd is broadcast to every client.  The datagram server
 * (lib/dgram_server) shares these options, events and statistics: there the
 * input fd goes to the last sender.
 *
 * The engine never prints: everything worth telling the user is passed to
 * the caller's event hook, which decides how (text, JSON, nothing).
 *
 * Ordering: every chunk read from one client (one read(2), at most
 * SERVER_CHUNK bytes, or one datagram) is written to the output fd whole,
 * before any other client's chunk, and one client's chunks keep their order.
 * Chunks of different clients interleave only at chunk boundaries.
 *
 * Seqpacket listeners (Unix SOCK_SEQPACKET) keep message boundaries: a chunk
 * is one message, read whole whatever its size; each read of the input fd
 * and each echo is sent as one message.  A client owes at most one message:
 * echo stops reading a client, and the input fd is not read, until it is out.
 */
#ifndef SOCKCTL_SERVER_H
#define SOCKCTL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "err.h"

#define SERVER_CHUNK ((size_t)64 * 1024)
/* A client may owe this much unsent broadcast data before stdin stops being read. */
#define SERVER_PEND_LIMIT ((size_t)256 * 1024)

enum server_ev_type {
	SERVER_EV_CONNECTION, /* a client was accepted (datagram: a new sender) */
	SERVER_EV_CLOSED,     /* a client is gone: bytes, duration, reason */
	SERVER_EV_REFUSED,    /* a client was closed at once: reason */
	SERVER_EV_PAUSED,     /* accepting paused: reason, errnum (EMFILE) */
	SERVER_EV_RESUMED,    /* accepting again */
};

struct server_event {
	enum server_ev_type type;
	uint64_t id; /* 1, 2, ... in accept order */
	const struct sockaddr *peer;
	socklen_t peerlen;
	uint64_t bytes_in, bytes_out; /* from the client / to the client */
	int64_t duration_ns;
	const char *reason; /* "eof", "idle", "reset", "denied", "max-conns", ... */
	int errnum;         /* errno behind the reason, 0 if none */
	uint64_t undelivered; /* closed: stdin bytes owed to the client that it never took */
	/*
	 * SERVER_EV_REFUSED for single datagrams ("denied", "not allowed",
	 * "echo-loop", "echo-rate") is rate-limited: how many refusals were
	 * not reported since the last one that was.
	 */
	uint64_t suppressed;
};

typedef void (*server_event_fn)(void *ctx, const struct server_event *ev);

/*
 * A session log of every client (listen -k -o, --hex-dump): the chunk of
 * @n bytes at @data just sent to client @id (@to_client 1: stdin's
 * broadcast, an echo) or read from it (0), at offset @off of that client's
 * direction.  Chunks of one client come in order.  Non-zero (errno set):
 * the server stops with the error "session log".
 */
typedef int (*server_tap_fn)(void *ctx, uint64_t id, const struct sockaddr *peer,
			     socklen_t peerlen, int to_client, uint64_t off, const void *data,
			     size_t n);

/*
 * A layer between the server and each stream client's socket (TLS): with
 * one, a new client first goes through open() and handshake() (driven by
 * epoll, never blocking the others; bytes owed to it wait), then every read
 * and write of the client goes through it.  The calls behave like read(2)
 * and send(2) on the non-blocking socket: -1 with errno EAGAIN when they
 * would block, *@want then saying what to wait for (EPOLLIN or EPOLLOUT);
 * read returns 0 at the client's orderly end.
 */
struct server_layer {
	void *ctx;                /* passed to open() */
	int64_t handshake_timeout; /* ns from accept; the client is closed then */
	void *(*open)(void *ctx, int fd); /* NULL: the client is closed ("error") */
	/* 1 done, 0 not yet (*@want), -1 failed (@why filled) */
	int (*handshake)(void *conn, uint32_t *want, char *why, size_t len);
	ssize_t (*read)(void *conn, void *buf, size_t n, uint32_t *want);
	ssize_t (*write)(void *conn, const void *buf, size_t n, uint32_t *want);
	int (*pending)(void *conn); /* read has bytes buffered that epoll cannot see */
	void (*close)(void *conn, int orderly); /* orderly: say goodbye (close_notify) */
	/* the handshake is done (called with server_opts.ctx), for the report */
	void (*ready)(void *ctx, void *conn, const struct server_event *ev);
};

/*
 * Handing clients off (listen -k --exec, --forward, ...): with
 * server_opts.handoff set, a client that allow/deny and max_conns let in is
 * given to handoff->start instead of being relayed to the output fd.  It
 * counts as a client (max_conns, max_serving, stats) until its handler calls
 * server_release().  Handlers watch their own descriptors in the engine's
 * epoll loop with server_watch_*, so one process serves every client.
 */
struct server_loop; /* the engine's loop, opaque */
struct server_watch {
	int kind;       /* the engine's: set by server_watch_add */
	int fd;
	void (*ready)(struct server_watch *w, uint32_t events); /* epoll events */
};
struct server_handoff {
	/*
	 * Take the accepted client @fd (non-blocking, close-on-exec), number
	 * @id, from @peer.  0: taken (the handler owns @fd and will call
	 * server_release once); -1: the handler closed @fd already and the
	 * client is not counted.
	 */
	int (*start)(void *ctx, struct server_loop *l, int fd, uint64_t id,
		     const struct sockaddr *peer, socklen_t peerlen);
	void *ctx;
};
/* Watch @fd for @events (EPOLLIN, EPOLLOUT); 0, or -1 with errno. */
int server_watch_add(struct server_loop *l, struct server_watch *w, int fd, uint32_t events);
int server_watch_mod(struct server_loop *l, struct server_watch *w, uint32_t events);
void server_watch_del(struct server_loop *l, struct server_watch *w);
/* A handed-off client is done: its place is free (without keep_open the server ends). */
void server_release(struct server_loop *l);
/*
 * free(@p) once the current batch of events is handled: a later event of
 * the batch may still point at a watch inside @p (the handler marks it
 * dead and ignores it).
 */
void server_defer_free(struct server_loop *l, void *p);

struct server_opts {
	int echo;              /* each client's bytes go back to that client */
	int exit_on_peer_eof;  /* a client's EOF closes it (once its queue is sent), even
				* while stdin is open; default: it gets stdin to its EOF */
	int keep_open;         /* keep accepting; else stop after the first client */
	int max_conns;         /* clients at once, more are reset; 0 = no limit */
	int max_serving;       /* clients at once, more wait in the backlog (accepting
				* pauses); 0 = no limit.  Keeps accept(2) off EMFILE. */
	int64_t accept_timeout; /* ns until the first client, -1 = none */
	int64_t idle_timeout;  /* ns without traffic before a client is closed, -1 = none */
	int64_t stall_timeout; /* ns a client may stay over SERVER_PEND_LIMIT (not taking
				* the broadcast, so stdin is not read for anyone) before it
				* is reset with reason "stall-timeout"; -1 = never */
	int in_fd;             /* broadcast source (stdin), -1 = none */
	int out_fd;            /* client data sink (stdout), -1 = discard */
	const struct cidr *allow; /* if nallow > 0, a client must match one */
	size_t nallow;
	const struct cidr *deny; /* a client matching one is refused (wins over allow) */
	size_t ndeny;
	unsigned echo_rate;    /* datagram echo: replies/s per source address, 0 = no limit */
	int line_buffered;     /* datagrams: each to out_fd as it comes (else once per
				* batch read, unless out_fd is a terminal) */
	server_event_fn on_event; /* may be NULL */
	void *ctx;
	const struct server_layer *layer; /* stream clients only; NULL: none */
	const struct server_handoff *handoff; /* NULL: clients are relayed to out_fd */
	int broker;            /* each client's bytes also go to every other client;
				* while one of them is over SERVER_PEND_LIMIT nobody is read */
	int crlf;              /* each LF read from in_fd goes out as CRLF (relay_crlf) */
	int chat;              /* broker, each line prefixed "<userN> " (N the client's
				* id), control characters dropped, joins and leaves announced */
	int64_t line_delay;    /* > 0: ns to wait after each line of in_fd is sent to the
				* clients, before the next bytes (--delay) */
	server_tap_fn tap;     /* NULL: none */
	void *tap_ctx;
};

struct server_stats {
	uint64_t clients, refused, bytes_in, bytes_out;
	uint64_t sock_drops; /* datagrams: dropped at the sockets, their buffers full */
};

void server_opts_init(struct server_opts *o);

/* Close @fd with an RST (SO_LINGER 0): how a refused client is turned away. */
void server_reset_close(int fd);

/*
 * Serve stream clients accepted from the @nl listening sockets @lfds (already
 * listening).  Returns 0 when done (without keep_open: the first client has
 * gone), -1 with @e on failure (output write error, no client before
 * accept_timeout, epoll failure; without keep_open, the client's reset, as
 * a relay reports it).  With keep_open it returns only on failure.
 * Refused clients (allow/deny, max_conns) are closed with an RST.
 */
int server_run_stream(const int *lfds, int nl, const struct server_opts *o,
		      struct server_stats *st, struct err *e);

/* 1 if @sa may be served under o->allow and o->deny; else 0 and *@why. */
int server_allowed(const struct server_opts *o, const struct sockaddr *sa, const char **why);
/*
 * One client, without keep_open's loop: wait (up to o->accept_timeout) for the
 * first client on any of the @n listening sockets @fds that o->allow and
 * o->deny let in, and return its socket, its address in @ss and @len.  Each
 * client turned away is closed with an RST and reported as SERVER_EV_REFUSED
 * ("denied"); the one taken as SERVER_EV_CONNECTION (id 1), through o->on_event.
 * With @nonblock the listeners are non-blocking and are not polled: an
 * accept(2) that would block is the failure ("accept: EAGAIN").  -1 with @e
 * (status 1) on failure or timeout.
 */
int server_accept_first(const int *fds, int n, const struct server_opts *o, int nonblock,
			struct sockaddr_storage *ss, socklen_t *len, struct err *e);

struct relay_stats;
/* @ev: the SERVER_EV_CLOSED event (id 1) of a client @peer relayed by relay_run() (@rc, @rs). */
void server_event_closed(struct server_event *ev, const struct sockaddr *peer, socklen_t len,
			 int rc, const struct relay_stats *rs);

/* Write all @n bytes to @fd (waiting if it is non-blocking): one chunk, never split. */
int server_write_all(int fd, const void *data, size_t n, struct err *e);

/* The datagram server, server_run_dgram, is in lib/dgram_server.h. */

#endif
