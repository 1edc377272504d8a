/* SPDX-License-Identifier: MIT */
/*
 * ICMP and ICMPv6: building probes, parsing what comes back, checksums and
 * round-trip statistics.  Each family is a table of functions and constants
 * (struct icmp_family), so callers never branch on the family themselves.
 *
 * Every received byte is hostile: the parsers check every length and field
 * they use, reject what does not add up (returning -1 with a reason) and
 * never read outside the buffer they were given.
 */
#ifndef SOCKCTL_ICMP_H
#define SOCKCTL_ICMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h> /* before linux/errqueue.h, which needs struct timespec */
#include <linux/errqueue.h>

#include "err.h"

#define ICMP_HDRLEN 8      /* type, code, checksum, identifier, sequence */
#define ICMP_TSTAMP_LEN 20 /* timestamp request/reply: header + 3 x 32 bits */
#define ICMP_DEFAULT_PAYLOAD 56 /* ping's default -s: 64 bytes of ICMP */
#define ICMP4_TIMESTAMP 13        /* IPv4 timestamp request (RFC 792) */
#define ICMP4_TIMESTAMP_REPLY 14

/*
 * A control buffer for recvmsg(2), aligned for struct cmsghdr: room for a
 * timestamp, a TTL and an extended error with its offender address.
 */
union icmp_cbuf {
	struct cmsghdr align;
	char buf[512];
};

/* What a received message is, to the sender of echo (or other query) probes. */
enum icmp_kind {
	ICMP_K_OTHER,   /* not for us: echo requests, redirects, unknown types */
	ICMP_K_REPLY,   /* a query reply: echo, timestamp, information, mask */
	ICMP_K_ERROR,   /* an error quoting (part of) an original datagram */
};

/* A parsed message.  Pointers point into the buffer given to the parser. */
struct icmp_pkt {
	enum icmp_kind kind;
	uint8_t type, code;
	uint16_t id, seq;    /* for replies (for errors: the raw header bytes) */
	int ttl;             /* TTL / hop limit from the IP header; -1 unknown */
	int bad_csum;        /* the ICMP checksum did not verify */
	size_t icmp_len;     /* bytes of the ICMP message, header included */
	const uint8_t *data; /* after the 8-byte header */
	size_t data_len;
	unsigned char src[16], dst[16]; /* the IP header's, when one was parsed */
	/* ICMP errors: the quoted original datagram */
	int orig_valid;          /* an IP header was quoted and parsed */
	int orig_proto, orig_ttl;
	unsigned char orig_src[16], orig_dst[16];
	int orig_has_icmp;       /* the first 8 bytes of its ICMP header are there */
	uint8_t orig_type, orig_code;
	uint16_t orig_id, orig_seq;
	uint32_t mtu;            /* frag needed / packet too big; 0 otherwise */
	uint32_t pointer;        /* parameter problem: octet offset */
	const char *reject;      /* set with -1: why the bytes were rejected */
};

/* A probe to build. */
struct icmp_probe {
	uint8_t type, code;
	uint16_t id, seq;
	uint64_t counter;    /* the full sequence number, written into the payload */
	size_t size;         /* payload bytes after the 8-byte header */
	uint32_t tstamp_ms;  /* timestamp requests: originate (ms since midnight UT) */
	const uint8_t *pattern; /* -p: fills the payload after the counter; NULL: ours */
	size_t pattern_len;
};

struct icmp_family {
	const char *name;   /* "icmp", "icmp6" */
	int family;         /* AF_INET, AF_INET6 */
	int proto;          /* IPPROTO_ICMP, IPPROTO_ICMPV6 */
	socklen_t addrlen;
	size_t addr_bytes;  /* 4 or 16 */
	size_t ip_hdrlen;   /* minimal IP header, for "56(84) bytes" */
	size_t max_payload; /* largest payload after the ICMP header */
	uint8_t echo_request, echo_reply;
	/*
	 * Parse @len bytes at @buf; @with_ip: they start with an IP header
	 * (IPv4 raw sockets).  0 with @p filled, or -1 with p->reject set.
	 */
	int (*parse)(const uint8_t *buf, size_t len, int with_ip, struct icmp_pkt *p);
	/* "Time exceeded", "Destination unreachable"...; NULL for non-errors. */
	const char *(*error_class)(uint8_t type);
	/* ping's wording: "Time to live exceeded", "Packet too big: mtu=1280". */
	const char *(*describe)(const struct icmp_pkt *p, char *buf, size_t n);
	/* The reply type a query of @type draws; -1 if none is known. */
	int (*reply_type)(uint8_t type);
	/* Socket options for the family: TTL/hop limit, TOS/traffic class. */
	int (*set_ttl)(int fd, int ttl, struct err *e);
	int (*set_tos)(int fd, int tos, struct err *e);
	/* Ask for the TTL/hop limit of received packets (ancillary data). */
	int (*recv_ttl)(int fd, struct err *e);
	/* Raw sockets: let only replies to @query_type and errors through. */
	int (*filter)(int fd, uint8_t query_type, struct err *e);
	/* Datagram sockets: ICMP errors through the error queue. */
	int (*recv_err)(int fd, struct err *e);
	/* Does the kernel compute and verify the checksum on raw sockets? */
	int kernel_csum;
};

/* The table for AF_INET or AF_INET6; NULL for other families. */
const struct icmp_family *icmp_family_of(int family);

/* The Internet checksum (RFC 1071) of @len bytes. */
uint16_t icmp_checksum(const void *buf, size_t len);

/*
 * Build @pr into @buf (at least ICMP_HDRLEN + pr->size bytes, or
 * ICMP_TSTAMP_LEN for an IPv4 timestamp request).  The payload is the
 * 64-bit counter (big-endian, when it fits) then the bytes 0x10, 0x11, ...
 * as ping fills it.  The checksum is set unless the kernel does it.
 * Returns the number of bytes, or 0 when @cap is too small.
 */
size_t icmp_build(const struct icmp_family *f, const struct icmp_probe *pr, uint8_t *buf,
		  size_t cap);

/* The counter icmp_build wrote into a reply's payload; -1 if not there. */
int icmp_payload_counter(const struct icmp_pkt *p, uint64_t *counter);
/* Bytes of the payload that differ from what icmp_build writes (after the counter). */
size_t icmp_payload_mismatch(const struct icmp_pkt *p);
/* The same against a -p pattern of @n bytes (NULL: icmp_build's own). */
size_t icmp_payload_mismatch_pat(const struct icmp_pkt *p, const uint8_t *pat, size_t n);

/* IPv4 timestamp replies: originate, receive, transmit (ms since midnight UT). */
int icmp_tstamp_fields(const struct icmp_pkt *p, uint32_t ts[3]);
/* Now in ms since midnight UT, for a timestamp request. */
uint32_t icmp_tstamp_now(void);

/* What the control messages of one received message say. */
struct icmp_cmsgs {
	int64_t when_ns;      /* SCM_TIMESTAMPNS in ns (CLOCK_REALTIME); -1 if absent */
	int ttl;              /* IP_TTL / IPV6_HOPLIMIT; -1 if absent */
	int has_ee;           /* an IP_RECVERR / IPV6_RECVERR message was complete */
	struct sock_extended_err ee;
	int has_offender;     /* SO_EE_OFFENDER: a whole AF_INET/AF_INET6 address */
	struct sockaddr_storage offender;
};

/*
 * Read @m's control messages (hostile lengths included: a message shorter
 * than what it claims to carry is ignored, and the offender address counts
 * only when all of it is there).  Copies out; never keeps a pointer into @m.
 */
void icmp_read_cmsgs(const struct msghdr *m, struct icmp_cmsgs *r);

/* "0.045", "1.23", "12.3", "123": ping's precision for an RTT in ms. */
const char *icmp_format_ms(int64_t ns, char *buf, size_t n);

#endif
