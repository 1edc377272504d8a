/* SPDX-License-Identifier: MIT */
/*
 * Proxies: SOCKS4, SOCKS4a, SOCKS5 (RFC 1928, user/password RFC 1929) and
 * HTTP CONNECT (Basic auth), as a client (proxy_handshake) and as a minimal
 * server (lib/proxy_server).
 *
 * Everything a proxy or a proxy client sends us is hostile input.  The
 * parsers here are pure: they look at the bytes read so far and say "done",
 * "refused", "invalid" or "give me exactly N more bytes".  Reading only
 * what they ask for never reads past the end of a reply, so bytes of the
 * tunnel that follow it stay in the socket for the relay.  Every reply is
 * bounded (PROXY_REPLY_MAX); the caller bounds the time.
 */
#ifndef SOCKCTL_PROXY_H
#define SOCKCTL_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

enum proxy_kind {
	PROXY_NONE,
	PROXY_SOCKS5,  /* the client resolves the target */
	PROXY_SOCKS5H, /* the proxy resolves the target */
	PROXY_SOCKS4,  /* IPv4 only, resolved by the client */
	PROXY_SOCKS4A, /* the proxy resolves the target */
	PROXY_HTTP,    /* HTTP CONNECT */
};

#define PROXY_FIELD_MAX 255 /* SOCKS5 host names, user names, passwords */
/* The longest reply we read: HTTP's status line and headers. */
#define PROXY_REPLY_MAX 8192

/* A proxy: socks5://[user[:pass]@]host[:port] and the other schemes. */
struct proxy_url {
	enum proxy_kind kind;
	char host[PROXY_FIELD_MAX + 1];
	char port[6];
	char user[PROXY_FIELD_MAX + 1]; /* "" when none */
	char pass[PROXY_FIELD_MAX + 1];
	int has_pass;                   /* the URL (or the caller) gave a password */
};

/* "socks5", "socks5h", "socks4", "socks4a", "http". */
const char *proxy_kind_name(enum proxy_kind k);

/*
 * Parse @url: SCHEME://[USER[:PASS]@]HOST[:PORT], HOST a name, an IPv4
 * address or [V6ADDR]; USER and PASS may be %-encoded.  The port defaults to
 * 1080 for SOCKS and 8080 for HTTP.  Status 2 with a message naming the
 * problem; the password never appears in a message.
 */
int proxy_url_parse(const char *url, struct proxy_url *u, struct err *e);
/*
 * OpenBSD nc's -x HOST:PORT with -X 5|4|connect (NULL: 5); @user is -P's
 * (NULL: none).  SOCKS5 through -x lets the proxy resolve, as nc does.
 */
int proxy_nc_parse(const char *addr, const char *proto, const char *user,
		   struct proxy_url *u, struct err *e);

/* ---- the client's side: requests, replies ---- */

enum proxy_step {
	PROXY_STEP_S5_METHOD,  /* SOCKS5 method selection (2 bytes) */
	PROXY_STEP_S5_AUTH,    /* RFC 1929 status (2 bytes) */
	PROXY_STEP_S5_CONNECT, /* SOCKS5 reply: VER REP RSV ATYP ADDR PORT */
	PROXY_STEP_S4,         /* SOCKS4 reply (8 bytes) */
	PROXY_STEP_HTTP,       /* HTTP status line and headers up to the empty line */
};

enum proxy_verdict {
	PROXY_MORE = 0,    /* read exactly .need more bytes and call again */
	PROXY_OK = 1,      /* complete, and a yes */
	PROXY_REFUSED = 2, /* complete, and a no: .code, .text */
	PROXY_BAD = 3,     /* not a reply of this protocol: .text says why */
};

struct proxy_reply {
	size_t need;  /* PROXY_MORE: bytes still to read, at least 1 */
	int code;     /* SOCKS REP / CD / method, HTTP status; -1 if none */
	char text[160]; /* the code in words, or why the reply is invalid (sanitised) */
	char auth[160]; /* HTTP 407: the Proxy-Authenticate header's value */
};

/*
 * Parse the @n bytes of a reply to @step read so far (@n may be 0).
 * Never looks at more than @n bytes, never asks for more than
 * PROXY_REPLY_MAX in all: longer is PROXY_BAD.
 */
enum proxy_verdict proxy_reply_parse(enum proxy_step step, const uint8_t *b, size_t n,
				     struct proxy_reply *r);

/* A SOCKS5 REP code in words: 0x05 "connection refused by destination". */
const char *proxy_socks5_rep_text(int rep);
/* A SOCKS4 CD code in words: 91 "request rejected or failed". */
const char *proxy_socks4_cd_text(int cd);

/*
 * The target of a request: @host is a name when the proxy resolves it,
 * else @addr (AF_INET, or AF_INET6 for SOCKS5) holds the address.
 */
struct proxy_target {
	const char *host;
	const struct sockaddr *addr; /* NULL: send @host as a name */
	uint16_t port;
};

/* Requests, into @buf (at least PROXY_REQ_MAX bytes): the length, or -1 with @e. */
#define PROXY_REQ_MAX 1024
int proxy_req_s5_greeting(const struct proxy_url *u, uint8_t *buf);
int proxy_req_s5_auth(const struct proxy_url *u, uint8_t *buf, struct err *e);
int proxy_req_s5_connect(const struct proxy_target *t, uint8_t *buf, struct err *e);
int proxy_req_s4(const struct proxy_url *u, const struct proxy_target *t, uint8_t *buf,
		 struct err *e);
int proxy_req_http(const struct proxy_url *u, const struct proxy_target *t, char *buf,
		   struct err *e);

/* How the handshake ended, for the caller's message and for -z. */
enum proxy_fail {
	PROXY_F_NONE,
	PROXY_F_REFUSED,     /* the proxy says the target refused: a closed port */
	PROXY_F_UNREACHABLE, /* network/host unreachable, TTL expired: filtered */
	PROXY_F_DENIED,      /* the proxy refused us: rules, auth, method */
	PROXY_F_PROTOCOL,    /* the proxy's reply is not valid */
	PROXY_F_TIMEOUT,     /* no complete reply before the deadline */
	PROXY_F_IO,          /* the proxy closed, reset, or a local error */
};

struct proxy_client_opts {
	int family;          /* for resolving the target locally: 0, AF_INET, AF_INET6 */
	int numeric;         /* AI_NUMERICHOST for the target */
	int64_t deadline;    /* clock_mono_ns() deadline for the whole handshake; -1: none */
};

/*
 * Ask the proxy connected on @fd (non-blocking) for a tunnel to @host
 * @port; on return 0 the socket carries the tunnel, and not one byte of it
 * has been read.  On failure -1, @e (status 1) names the proxy's reply in
 * words ("socks5 proxy 127.0.0.1:1080: REP 0x05: connection refused by
 * destination"), and *@why says what kind of failure it was.
 */
int proxy_handshake(int fd, const struct proxy_url *u, const char *host, uint16_t port,
		    const struct proxy_client_opts *o, enum proxy_fail *why, struct err *e);

/* Without a connect timeout, a proxy gets this long to answer. */
#define PROXY_TIMEOUT (30 * INT64_C(1000000000))

struct sock_connect_opts;
/*
 * The whole client: connect to the proxy @u with @co (Happy Eyeballs, source
 * address, socket options, trace), then proxy_handshake() to @host @port
 * within @timeout ns (-1: PROXY_TIMEOUT).  The tunnel's socket (non-blocking)
 * goes to @fd.  For connect --proxy and for any engine that needs an
 * outbound leg through a proxy (listen --forward).
 */
int proxy_connect(const struct proxy_url *u, const char *host, uint16_t port,
		  const struct sock_connect_opts *co, int64_t timeout, int *fd,
		  enum proxy_fail *why, struct err *e);

/* ---- the server's side ---- */

/*
 * Parse a client's request to a proxy server.  @kind is PROXY_SOCKS5
 * (greeting, then [auth], then request: @step 0, 1, 2) or PROXY_HTTP (the
 * CONNECT request with its headers, @step 0).  Like proxy_reply_parse:
 * PROXY_MORE asks for more bytes (here the caller may have read more: the
 * request's length is .len), PROXY_OK has the request in @q, PROXY_BAD says
 * why not.  Bounded by PROXY_REPLY_MAX.
 */
enum proxy_sreq_step { PROXY_SREQ_GREETING, PROXY_SREQ_AUTH, PROXY_SREQ_REQUEST };
struct proxy_request {
	size_t len;         /* PROXY_OK: bytes the request took */
	size_t need;        /* PROXY_MORE: at least this many more */
	int no_auth, userpass; /* greeting: methods offered */
	int cmd;            /* SOCKS5 CMD (1 = CONNECT) */
	char host[PROXY_FIELD_MAX + 1]; /* a name, or an address in text */
	uint16_t port;
	char user[PROXY_FIELD_MAX + 1], pass[PROXY_FIELD_MAX + 1];
	int has_auth;       /* HTTP: a Proxy-Authorization: Basic header was decoded */
	int http_version;   /* HTTP: 0 for 1.0, 1 for 1.1 */
	char text[160];     /* PROXY_BAD: why */
};
enum proxy_verdict proxy_request_parse(enum proxy_kind kind, enum proxy_sreq_step step,
				       const uint8_t *b, size_t n, struct proxy_request *q);

/* Base64 (RFC 4648) of @n bytes at @in into @out (room for 4*((n+2)/3)+1). */
void proxy_base64(const uint8_t *in, size_t n, char *out);
/* Decode; -1 when @in is not base64 or does not fit @cap (a NUL is added). */
int proxy_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen);

#endif
