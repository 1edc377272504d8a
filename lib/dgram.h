/* SPDX-License-Identifier: MIT */
/*
 * Datagram helpers shared by udp-send and udp-recv: the probe format,
 * loss/duplicate/reorder/latency statistics (pure functions), sendmmsg and
 * recvmmsg batches, multicast options, and how a datagram is shown.
 *
 * Probe format (all integers big-endian), DGRAM_PROBE_HDR bytes, then
 * padding up to --size:
 *	0  "SKP1"      magic
 *	4  u8 flags    DGRAM_PROBE_END: the end marker, not a probe
 *	5  3 bytes     zero
 *	8  u64 seq     0, 1, 2, ... in send order
 *	16 u64 ts      send time, CLOCK_REALTIME ns (one-way latency on one host)
 *	24 u64 total   probes planned (-c), 0 if unknown; in the end marker:
 *	               exactly how many probes were sent
 * The end marker lets the receiver count loss exactly: lost = total - unique.
 */
#ifndef SOCKCTL_DGRAM_H
#define SOCKCTL_DGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "err.h"

#define DGRAM_PROBE_HDR 32
#define DGRAM_PROBE_END 0x01
#define DGRAM_MAX_V4 65507 /* 65535 - 20 (IPv4) - 8 (UDP) */
#define DGRAM_MAX_V6 65527 /* 65535 - 8 (UDP): the IPv6 payload length excludes its header */
#define DGRAM_BUFSIZE 65536

struct dgram_probe {
	uint64_t seq, ts_ns, total;
	unsigned flags;
};

/* Write @p into @buf (@len >= DGRAM_PROBE_HDR) and fill the rest; -1 if too short. */
int dgram_probe_encode(void *buf, size_t len, const struct dgram_probe *p);
/* 1 and @p filled if @buf holds a probe or end marker, 0 otherwise. */
int dgram_probe_decode(const void *buf, size_t len, struct dgram_probe *p);

/*
 * @now_ns - @sent_ns (a probe's timestamp, any 64-bit value a sender chose)
 * without overflow: clamped to [-INT64_MAX, INT64_MAX].
 */
int64_t dgram_probe_age(uint64_t sent_ns, int64_t now_ns);
/*
 * A probe's timestamp more than an hour from the receive time is no latency:
 * a hostile or broken sender (or a clock an hour off).  Such probes are
 * counted and said, never averaged in.
 */
#define DGRAM_STAMP_SLACK_NS (INT64_C(3600) * 1000000000)
static inline int dgram_probe_age_sane(int64_t age)
{
	return age >= -DGRAM_STAMP_SLACK_NS && age <= DGRAM_STAMP_SLACK_NS;
}

/* Receive statistics: every datagram, and the probes among them. */
struct dgram_stats {
	uint64_t datagrams, bytes, truncated;
	int64_t first_ns, last_ns; /* arrival (kernel timestamp), first and last datagram */
	int64_t res_ns;            /* the resolution of those timestamps (default 1) */
	uint64_t probes, unique, dups, reordered;
	uint64_t next_seq;   /* highest seq seen + 1 */
	uint64_t total;      /* planned count from the probes, 0 if unknown */
	uint64_t end_total;  /* from the end marker */
	int end_seen;
	uint64_t lat_n;
	uint64_t lat_bogus;  /* probes whose timestamp was over an hour off: not in lat_* */
	int64_t lat_min, lat_max;
	double lat_sum;
	unsigned char *seen; /* bitmap of seqs, grown on demand */
	size_t seen_bytes;
	uint64_t untracked;  /* probes past the bitmap's limit (no dup check) */
	uint64_t discarded;  /* read past udp-recv -c N in a coalesced read: not counted above */
	/* the kernel's count (SO_RXQ_OVFL): dropped at our socket, its buffer full */
	uint64_t sock_drops;
	int drops_are_reads; /* coalesced (GRO) reads came: a train is dropped, and counted, as one */
	int rcvbuf;          /* the effective receive buffer, bytes (0: unknown) */
};
void dgram_stats_init(struct dgram_stats *s);
void dgram_stats_free(struct dgram_stats *s);
/*
 * A datagram of @len bytes arrived at @ts_ns: its kernel receive timestamp
 * (dgram_rx_time), so that datagrams read together keep their own times.
 */
void dgram_stats_datagram(struct dgram_stats *s, size_t len, int64_t ts_ns);
/* A probe (not an end marker) arrived at CLOCK_REALTIME @real_ns. */
void dgram_stats_probe(struct dgram_stats *s, const struct dgram_probe *p, int64_t real_ns);
/* The end marker arrived. */
void dgram_stats_end(struct dgram_stats *s, const struct dgram_probe *p);
/* Probes the sender sent (end marker), planned, or highest seq + 1. */
uint64_t dgram_stats_expected(const struct dgram_stats *s);
/* expected - unique, never negative. */
uint64_t dgram_stats_lost(const struct dgram_stats *s);
/*
 * Of those, lost before reaching this host: the loss the socket's own drops
 * (sock_drops, inside this host) do not explain.  Unknown (the caller says
 * so) when drops_are_reads and sock_drops is not 0: see dgram_stats_path_known.
 */
uint64_t dgram_stats_lost_path(const struct dgram_stats *s);
/* 0 if the socket dropped coalesced reads: how many datagrams they held is unknown. */
static inline int dgram_stats_path_known(const struct dgram_stats *s)
{
	return !(s->drops_are_reads && s->sock_drops);
}
/*
 * 1 and the span from the first datagram to the last in *@ns if a rate can be
 * measured: two datagrams or more, at least the clock's resolution apart.
 */
int dgram_stats_span(const struct dgram_stats *s, int64_t *ns);
/* Datagrams per second between the first and the last datagram (0: no rate). */
double dgram_stats_rate(const struct dgram_stats *s);
/*
 * The summary as text (one line, no newline) or as one JSON object.  Both
 * say the socket's drops apart from the loss before this host.
 */
void dgram_stats_print(const struct dgram_stats *s, FILE *f, int json);

/* recvmmsg/sendmmsg batches: @n slots of @size bytes with their addresses. */
struct dgram_batch {
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct sockaddr_storage *addrs;
	unsigned char *buf;
	unsigned char *ctrl; /* DGRAM_CTRL_SIZE bytes per slot, or NULL */
	unsigned n;
	size_t size;
};
int dgram_batch_init(struct dgram_batch *b, unsigned n, size_t size, struct err *e);
/* Give every slot room for one control message (UDP_GRO, UDP_SEGMENT). */
int dgram_batch_ctrl(struct dgram_batch *b, struct err *e);
void dgram_batch_free(struct dgram_batch *b);
/* Reset slot @i to receive (full buffer, address space, control room if any). */
void dgram_batch_reset(struct dgram_batch *b, unsigned i);
static inline unsigned char *dgram_slot(const struct dgram_batch *b, unsigned i)
{
	return b->buf + (size_t)i * b->size;
}

/*
 * UDP GSO and GRO (Linux 4.18/5.0): one sendmsg with a UDP_SEGMENT control
 * message carries equal-size segments that leave as separate datagrams; a
 * socket with UDP_GRO may get such a train (or one the NIC coalesced) in one
 * recvmsg, with a UDP_GRO control message giving the segment size.
 * Segments of one coalesced read all come from the same source; only the
 * last may be shorter.
 */
#define DGRAM_GSO_MAX_SEGS 64     /* every kernel with UDP_SEGMENT takes 64 */
#define DGRAM_GSO_MAX_BYTES 61440 /* well inside one IP packet's 64k */
/* room for UDP_GRO, SCM_TIMESTAMPNS and IP(V6)_PKTINFO at once */
#define DGRAM_CTRL_SIZE 128
/* Probe for UDP_SEGMENT (sets the socket default to 0: per-send only); -1 if refused. */
int dgram_gso_enable(int fd, struct err *e);
/* Turn UDP_GRO on (@on 1) or off; -1 if refused (old kernel, not UDP). */
int dgram_gro_set(int fd, int on, struct err *e);
/*
 * How many datagrams from @iov[0] on (@n of them) can go in one UDP_SEGMENT
 * send: a run of equal, non-zero lengths within DGRAM_GSO_MAX_SEGS and
 * DGRAM_GSO_MAX_BYTES.  Always >= 1 when @n >= 1.
 */
unsigned dgram_gso_run(const struct iovec *iov, unsigned n);
/* Put a UDP_SEGMENT control message for @seg-byte segments into @h, using @ctrl. */
void dgram_gso_cmsg(struct msghdr *h, unsigned char *ctrl, size_t seg);
/* The segment size of a coalesced read (its UDP_GRO control message), 0 if none. */
size_t dgram_gro_size(const struct msghdr *h);
/* SO_TIMESTAMPNS: each read carries its kernel receive time (CLOCK_REALTIME). */
int dgram_timestamps_on(int fd, struct err *e);
/* The SCM_TIMESTAMPNS time of a read in ns, or -1 if it has none. */
int64_t dgram_rx_time(const struct msghdr *h);
/* Segments in a coalesced read of @len bytes with segment size @seg (0: one datagram). */
size_t dgram_gro_count(size_t len, size_t seg);

/* Multicast and buffer options.  @ifspec: an interface name or address. */
int dgram_mcast_if(int fd, int family, const char *ifspec, struct err *e);
int dgram_mcast_ttl(int fd, int family, int ttl, struct err *e);
int dgram_mcast_loop(int fd, int family, int on, struct err *e);
int dgram_join(int fd, int family, const char *group, const char *ifspec, struct err *e);
/* 1 if @group parses as an IPv4 or IPv6 multicast address of @family (0: any). */
int dgram_is_multicast(const char *group, int family);
/* SO_RCVBUF, falling back to SO_RCVBUFFORCE past rmem_max; the size granted in @got. */
int dgram_set_rcvbuf(int fd, int bytes, int *got, struct err *e);

/* How datagrams are shown: text "ADDR PORT LEN: payload", raw, hex, JSON, nothing. */
enum dgram_fmt { DGRAM_TEXT, DGRAM_RAW, DGRAM_HEX, DGRAM_JSON, DGRAM_QUIET };
struct dgram_shown {
	const struct sockaddr *from;
	socklen_t fromlen;
	const void *data;
	size_t caplen, len; /* bytes kept, bytes the datagram had */
	int64_t real_ns;    /* arrival, CLOCK_REALTIME */
	int64_t rtt_ns;     /* -1: none */
	int utf8;           /* text: valid UTF-8 shown as is (out_text) */
	const char *event;  /* JSON "event": NULL for "datagram" */
};
/* @d for one datagram (event NULL): what both datagram engines report of it. */
void dgram_shown_set(struct dgram_shown *d, const struct sockaddr *from, socklen_t fromlen,
		     const void *data, size_t len, size_t caplen, int64_t real_ns, int64_t rtt_ns,
		     int utf8);
/* Showing them, fast, in batches: lib/dgram_show.h. */

#endif
