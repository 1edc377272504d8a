/* SPDX-License-Identifier: MIT */
/*
 * The datagram send engine behind udp-send: sendmmsg batches, UDP GSO (a run
 * of equal-size datagrams goes to the kernel as one message with
 * UDP_SEGMENT and leaves as separate datagrams), pacing, replies and their
 * round-trip times, and the probes' end marker.  It never prints: replies
 * and notes go to the caller's hook.
 *
 * The caller owns the socket (created, options set, connected for unicast)
 * and fills the out batch's slots; the engine sends them.
 */
#ifndef SOCKCTL_DGRAM_SEND_H
#define SOCKCTL_DGRAM_SEND_H

#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "dgram.h"
#include "err.h"
#include "rtt.h"

#define DGRAM_TX_BATCH 64  /* datagrams per sendmmsg */
#define DGRAM_TX_REPLIES 16 /* replies per recvmmsg */

enum dgram_tx_ev_type {
	DGRAM_TX_REPLY,     /* a reply (end markers echoed back are not) */
	DGRAM_TX_BATCH_END, /* a batch of replies was handled (flush output here) */
	DGRAM_TX_NOTE,      /* something -v tells: text */
	DGRAM_TX_PEER_LEFT, /* an ICMP error after the test (see dgram_tx_end): text, errnum */
};

struct dgram_tx_event {
	enum dgram_tx_ev_type type;
	const struct sockaddr *from;
	socklen_t fromlen;
	const unsigned char *data;
	size_t len, cap;
	int64_t real_ns; /* arrival, CLOCK_REALTIME */
	int64_t rtt_ns;  /* a probe's age, or the time since the latest send; -1: a
			  * probe stamped in the future or over an hour ago */
	const char *text;
	int errnum;
	int after_marker; /* PEER_LEFT: after an end marker (else after the last reply) */
};

/* Nonzero from DGRAM_TX_BATCH_END stops the run (the engine returns -1). */
typedef int (*dgram_tx_fn)(void *ctx, const struct dgram_tx_event *ev);

struct dgram_tx_opts {
	int64_t interval; /* ns between datagrams, 0: as fast as sendmmsg goes */
	int replies;      /* read replies (udp-send -W) */
	int no_gso;
	int broadcast;    /* SO_BROADCAST was asked for (for the EACCES hint) */
	uint64_t limit;   /* datagrams to send, 0: no limit */
	size_t slot;      /* bytes per out slot: the largest datagram to be filled in */
	const volatile sig_atomic_t *stop; /* a signal arrived: stop at once; may be NULL */
	dgram_tx_fn on_event;
	void *ctx;
};

struct dgram_tx {
	struct dgram_tx_opts o;
	int fd, connected;
	const struct sockaddr *dst;
	socklen_t dstlen;
	const char *dstname;    /* for messages: "HOST:PORT" */
	struct dgram_batch out; /* datagrams to send: the caller fills iov[i] */
	struct dgram_batch in;  /* replies */
	int gso;                /* UDP_SEGMENT: equal-size runs as one message */
	char gso_off[512];      /* why not */
	struct dgram_batch gso_out; /* the messages of one GSO batch (iov: unused) */
	uint64_t gso_sends, gso_datagrams;
	uint64_t sent, bytes, replies;
	uint64_t bad_stamps;    /* probe replies whose stamp is not ours: no rtt */
	int64_t t0, last_send;
	struct rtt_stats rtt;   /* round trips of the replies (lib/rtt) */
	unsigned markers; /* end markers sent */
	int peer_left;    /* an ICMP error after the test: no more markers */
	int err_errno;    /* the errno behind the last send/receive error */
};

/*
 * Take @fd (connected to @dst if @connected), allocate the batches and pick
 * GSO: for unpaced, connected sends where the kernel has UDP_SEGMENT (why
 * not: tx->gso_off).  @dst and @dstname must outlive the engine.
 */
int dgram_tx_init(struct dgram_tx *tx, int fd, const struct sockaddr *dst, socklen_t dstlen,
		  int connected, const char *dstname, const struct dgram_tx_opts *o,
		  struct err *e);
void dgram_tx_free(struct dgram_tx *tx);

/* Send the first @n slots of tx->out (their iov_len set). */
int dgram_tx_send(struct dgram_tx *tx, unsigned n, struct err *e);
/* Read every queued reply; -1 on error (ICMP errors included, unless after the test). */
int dgram_tx_drain(struct dgram_tx *tx, struct err *e);
/*
 * Until @deadline (monotonic), read replies when asked to, else sleep.  With
 * @all_back, stop early once every datagram has its reply.
 */
int dgram_tx_pause_until(struct dgram_tx *tx, int64_t deadline, int all_back, struct err *e);

/* Fill slot @slot with datagram number @k (sent at @real_ns); its length. */
typedef size_t (*dgram_tx_fill_fn)(void *ctx, struct dgram_tx *tx, unsigned slot, uint64_t k,
				   int64_t real_ns);
/* Probe number @k of @size bytes into @slot (a dgram_tx_fill_fn for probes); @size. */
size_t dgram_tx_probe(struct dgram_tx *tx, unsigned slot, uint64_t k, int64_t real_ns,
		      size_t size);
/* Send opts.limit datagrams (0: until stopped) made by @fill, paced by opts.interval. */
int dgram_tx_generate(struct dgram_tx *tx, dgram_tx_fill_fn fill, void *ctx, struct err *e);
/*
 * Split the *@have bytes read from stdin at @buf into datagrams and send
 * them (paced, up to opts.limit): lines without their newline when @chunk is
 * 0, else chunks of @chunk bytes (a shorter one only at @eof).  What is not
 * a whole datagram yet stays at the start of @buf, *@have updated.  A
 * datagram over @maxlen is an error, and nothing of it is sent.
 */
int dgram_tx_split(struct dgram_tx *tx, char *buf, size_t *have, int eof, size_t chunk,
		   size_t maxlen, struct err *e);
/*
 * The end marker with the exact count, three times (at once, after 20 ms,
 * after 100 ms more).  An ICMP error once a marker went out, or once every
 * datagram had its reply, means the receiver has left (udp-recv -c,
 * --until-end): a DGRAM_TX_PEER_LEFT event, no more markers, no failure.
 */
int dgram_tx_end(struct dgram_tx *tx, struct err *e);

#endif
