/* SPDX-License-Identifier: MIT */
/*
 * The ICMP probe engine: sends echo (or other query) probes to a table of
 * targets over at most one socket per family, matches what comes back
 * (replies, late replies, duplicates, ICMP errors from the path, errors from
 * the socket's error queue) and keeps per-target statistics.  It never
 * prints: everything it sees is reported through an event hook, as
 * server_event does.
 *
 * Ordering contract: the caller opens the sockets (privileges are its
 * business), hands them over with ping_add_socket(), adds targets, then
 * calls ping_run().  The engine owns the sockets from then on and closes
 * them in ping_free().
 *
 * Each target has its own 16-bit sequence space, schedule and statistics.
 * With one target, every reply carrying our identifier counts for it
 * (whatever address it comes from, as ping does); with several, replies are
 * matched by their source address and errors by the quoted destination.
 */
#ifndef SOCKCTL_PING_H
#define SOCKCTL_PING_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "clock.h"
#include "err.h"
#include "icmp.h"
#include "rtt.h"
#include "sock_rxq.h"

#define PING_DEFAULT_INTERVAL INT64_C(1000000000) /* 1s, as ping */
#define PING_FLOOD_INTERVAL INT64_C(10000000)     /* 10ms without replies, as ping -f */
#define PING_SEQ_SPACE 65536                      /* icmp_seq is 16 bits */

struct ping_config {
	uint8_t type, code;  /* what to send: echo_request of the family, or e.g. 13 */
	size_t size;         /* payload bytes after the ICMP header */
	long long count;     /* probes per target (with a deadline: replies); -1 no limit */
	long long preload;   /* probes sent at once at the start; <= 1 none */
	int64_t interval;    /* ns between probes; -1: 1s, or PING_FLOOD_INTERVAL */
	int64_t timeout;     /* ns to wait for each reply, -1: none (later ones are late) */
	int64_t deadline;    /* ns for the whole run, -1: none */
	int flood;           /* send the next probe as soon as the last is answered */
	int check_payload;   /* compare each echo reply's payload (ev.mismatch) */
	int64_t rate_gap;    /* ns between any two probes, all targets (--rate); 0: none */
	uint32_t max_slots;  /* cap on each target's sequence slots (many targets); 0: none */
	int report_timeouts; /* -O: PING_EV_TIMEOUT for each probe left unanswered */
	int adaptive;        /* -A: on the last probe's reply, send the next one... */
	int64_t adaptive_min; /* ...this long after the last (not before) */
	uint8_t pattern[16]; /* -p: payload bytes after the counter */
	size_t pattern_len;  /* 0: the default payload */
};

/* A slot per sequence number in use: what happened to it. */
struct ping_slot {
	int64_t sent;     /* on the engine's clock */
	uint64_t counter; /* the full sequence number */
	uint16_t seq;
	uint8_t state;
	uint8_t reported; /* -O: its timeout was reported */
};

struct ping_target {
	struct sockaddr_storage addr;
	const struct icmp_family *f;
	char addr_str[ADDR_STRLEN];
	/* statistics, read by the caller */
	uint64_t ntx, nrx, ndup, nlate, nerr, nbad;
	struct rtt_stats rtt;
	int64_t last_send; /* clock_mono_ns() of the last probe counted as sent */
	void *user;        /* the caller's */
	/* engine state */
	uint64_t outstanding, last_seq;
	int64_t next_send;
	long long preload_left;
	struct ping_slot *slots;
	uint32_t slot_mask;
};

enum ping_ev_type {
	PING_EV_REPLY,       /* pkt, from, seq, rtt_ns; dup or late; mismatch */
	PING_EV_ERROR,       /* an ICMP error about one of our probes: pkt, from, seq */
	PING_EV_LOCAL_ERROR, /* the error queue held a local error: seq, errnum */
	PING_EV_SEND_ERROR,  /* sendto failed for good (counted as an error): seq, errnum */
	PING_EV_IGNORED,     /* bytes that were rejected: len, reason */
	PING_EV_BAD_CSUM,    /* a message with a bad checksum (counted): pkt, from */
	PING_EV_UNSENT,      /* a reply for a sequence number never sent: seq */
	PING_EV_STATUS,      /* the caller's status flag was seen (SIGQUIT) */
	PING_EV_TIMEOUT,     /* report_timeouts: probe seq got no reply before the next was
			      * sent, or before the run ended */
	PING_EV_IDLE,        /* nothing more to read now: the engine waits (flush output) */
};

struct ping_event {
	enum ping_ev_type type;
	const struct ping_target *target; /* NULL for IGNORED, UNSENT and STATUS */
	const struct icmp_pkt *pkt;
	const char *from;  /* numeric address of the sender */
	uint16_t seq;
	int64_t rtt_ns;
	int dup, late;
	size_t mismatch;   /* replies, with check_payload: payload bytes that differ */
	size_t len;        /* IGNORED: bytes received */
	const char *reason; /* IGNORED: why */
	int errnum;
};

typedef void (*ping_event_fn)(void *ctx, const struct ping_event *ev);

struct ping_sock {
	int fd;
	int raw;       /* SOCK_RAW: sees (IPv4) IP headers; else SOCK_DGRAM */
	int kernel_ts; /* SO_TIMESTAMPNS is on */
	uint8_t qtype; /* the query type sent on it */
	uint8_t rtype; /* the reply type expected; 0xff: none (errors only) */
	const struct icmp_family *f;
	struct sock_rxq_buf rcvbuf;  /* the flood default (lib/sock_rxq), before any --rcvbuf */
	struct sock_rxq_drops drops; /* the kernel's drop count (SO_RXQ_OVFL) */
};

struct ping {
	struct ping_config cfg;
	ping_event_fn fn;
	void *fn_ctx;
	struct ping_sock socks[2]; /* IPv4, IPv6; fd -1 when absent */
	struct ping_target **targets; /* each stays where it is: callers keep pointers */
	size_t ntargets;
	struct ping_target **index;   /* the targets by address, for many (ping_run builds it) */
	uint16_t ident;
	clockid_t clk;     /* send and receive stamps */
	int64_t start;     /* clock_mono_ns() when ping_run started */
	int64_t next_any;  /* rate_gap: the earliest moment for the next probe */
	uint8_t *sbuf, *rbuf;
	size_t sbuf_len, rbuf_len;
};

/*
 * The ICMP sockets a run may use, opened before anything else (raw-icmp
 * opens them before its options are read, with CAP_NET_RAW effective
 * around the raw ones only): for IPv4 and IPv6, a datagram and a raw
 * socket, -1 with why_* saying why not.
 */
struct ping_fam_socks {
	int dgram, raw;
	char why_dgram[256], why_raw[256];
};
struct ping_socks {
	struct ping_fam_socks fam[2]; /* IPv4, IPv6 */
};
/* Open @type for both families: SOCK_DGRAM first (it fills the table), then SOCK_RAW. */
void ping_socks_open(struct ping_socks *s, int type);
struct ping_fam_socks *ping_socks_of(struct ping_socks *s, int family);
/* Close every socket, but @keep_family's (0: all). */
void ping_socks_close(struct ping_socks *s, int keep_family);

/* ---- before the engine runs (lib/ping_check.c) ---- */

enum { PING_MODE_AUTO, PING_MODE_DGRAM, PING_MODE_RAW }; /* which socket */

/* Below these, only root: a privileged install is no licence to flood. */
#define PING_USER_MIN_INTERVAL (2 * NS_PER_MS)
#define PING_USER_MAX_PRELOAD 3

/* What the user asks of a run, as the options say it. */
struct ping_request {
	const char *type;  /* --type: NULL or "echo", "timestamp", or 0-255 */
	long long code;    /* -1: not given */
	long long preload; /* -1: not given */
	int64_t interval;  /* -1: not given */
	int flood;
	int mode;          /* PING_MODE_* */
	size_t size;       /* payload bytes */
	int size_given;
	int root;          /* run by root: no user limits */
};

/* The request on its own, before any name is resolved: status 2 if it is bad. */
int ping_check_request(const struct ping_request *r, struct err *e);
/*
 * The request for family @f: the size fits, the --type is one the family
 * sends (echo, IPv4 timestamp, or an IPv4 number 0-255) and, for users, one
 * they may send; its ICMP type in *@type.  Status 2 if not.
 */
int ping_request_type(const struct ping_request *r, const struct icmp_family *f, uint8_t *type,
		      struct err *e);
/* The first IPv4 or IPv6 address of @host (@family 0: either), and its family. */
int ping_resolve(const char *host, int family, struct sockaddr_storage *ss, socklen_t *len,
		 const struct icmp_family **f, struct err *e);
/*
 * Take the socket for a run of family @f out of @s and close the others:
 * with @want_dgram (an echo request, not --mode raw) the datagram socket
 * if it opened, else the raw one unless @mode is PING_MODE_DGRAM.  Returns
 * the descriptor, *@raw, and in *@why the reason the datagram socket was
 * not taken ("" if it was, or was not wanted); -1 with @e (status 2) saying
 * why neither is there.
 */
int ping_socks_take(struct ping_socks *s, const struct icmp_family *f, int mode, int want_dgram,
		    int *raw, const char **why, struct err *e);
/* The same, leaving the other sockets open (a run over both families). */
int ping_socks_take_one(struct ping_socks *s, const struct icmp_family *f, int mode,
			int want_dgram, int *raw, const char **why, struct err *e);
/*
 * Whether the run went as ping's exit status 0 says: a reply came and, with
 * a deadline and a count, count replies came.
 */
int ping_target_met(const struct ping *p, const struct ping_target *t);
/* Packet loss of @t in percent (0 when nothing was sent). */
double ping_loss_pct(const struct ping_target *t);

/*
 * Messages the kernel dropped at the engine's sockets since they were
 * added, because their receive buffers were full: lost inside this host.
 */
uint64_t ping_sock_drops(const struct ping *p);

/* A fresh engine; @fn gets every event.  Nothing is sent until ping_run(). */
int ping_init(struct ping *p, const struct ping_config *cfg, ping_event_fn fn, void *ctx,
	      struct err *e);
/*
 * Hand over an open ICMP socket of family @f->family (the engine owns it
 * now, even on failure), and set it up: receive timestamps, TTLs, the raw
 * filter or the error queue; @ttl and @tos when >= 0.
 */
int ping_add_socket(struct ping *p, int fd, int raw, const struct icmp_family *f, int ttl,
		    int tos, struct err *e);
/* The socket for @family, or NULL. */
const struct ping_sock *ping_socket(const struct ping *p, int family);
/*
 * Add a target; its family's socket must be there.  Returns it (valid until
 * ping_free), or NULL with @e.
 */
struct ping_target *ping_add_target(struct ping *p, const struct sockaddr *sa, socklen_t len,
				    struct err *e);
/*
 * Probe until every target is done (count sent and answered or timed out),
 * the deadline passes, or *@stop is set.  @mask: the signal mask to wait
 * with, so that a signal in @block arriving just before a wait is not
 * slept through; *@status set: a PING_EV_STATUS event, then it is cleared.
 */
void ping_run(struct ping *p, volatile sig_atomic_t *stop, volatile sig_atomic_t *status,
	      const sigset_t *block, const sigset_t *mask);
/* ping's "time": from the start to the last probe sent to @t (0 if none). */
int64_t ping_time_spent(const struct ping *p, const struct ping_target *t);
/* Receive and handle one message, without waiting: 1 one was there, 0 none. */
int ping_recv_one(struct ping *p, struct ping_sock *s, int errqueue);
void ping_free(struct ping *p);

#endif
