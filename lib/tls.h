/* SPDX-License-Identifier: MIT */
/*
 * TLS for connect and listen, on OpenSSL 3.  libssl is not linked into the
 * binary: tls_load() dlopen()s it the first time a command asks for TLS, so
 * a command without --tls neither loads nor initialises OpenSSL (startup is
 * part of every shell-loop use).  See lib/tls_sym.h.
 *
 * The engine never prints: a handshake fills a struct tls_report that cmd/
 * shows (text with -v, one "tls" JSON event).  Errors come back in a
 * struct err, status 1 for run-time failures (verification, handshake,
 * truncation), 2 for bad options.
 */
#ifndef SOCKCTL_TLS_H
#define SOCKCTL_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "opt.h"

struct relay_opts;
struct relay_stats;

/* --handshake-timeout when not given */
#define TLS_HANDSHAKE_TIMEOUT (10 * INT64_C(1000000000))
#define TLS_PIN_MAX 8
#define TLS_CHAIN_MAX 8

enum tls_version { TLS_VER_UNSET = -1, TLS_VER_12 = 0, TLS_VER_13 = 1 };
extern const char *const tls_version_names[]; /* "1.2", "1.3" */

enum tls_starttls {
	TLS_STARTTLS_NONE = -1,
	TLS_STARTTLS_SMTP,
	TLS_STARTTLS_IMAP,
	TLS_STARTTLS_POP3,
	TLS_STARTTLS_FTP,
	TLS_STARTTLS_XMPP,
	TLS_STARTTLS_POSTGRES,
};
extern const char *const tls_starttls_names[];

/* What the user asked for: OPT_TLS fills it.  Strings NULL when not given. */
struct tls_opts {
	int tls;
	const char *ca, *cert, *key, *sni, *verify_name, *pin, *alpn;
	const char *ciphers, *ciphersuites, *groups, *session;
	int no_verify, allow_truncation, verify_client;
	int min_version, max_version; /* enum tls_version */
	int starttls;                 /* enum tls_starttls */
	int64_t handshake_timeout;    /* ns; -1: TLS_HANDSHAKE_TIMEOUT */
};

void tls_opts_init(struct tls_opts *o);
/*
 * The options against each other (and --tls): -1 with @e (status 2) if a
 * TLS option is given without --tls, if --tls-min is above --tls-max, if
 * --key comes without --cert, if the pin does not parse.  @server: listen.
 */
int tls_opts_check(const struct tls_opts *o, int server, struct err *e);

/*
 * The TLS options of connect (@server 0) and listen (@server 1); the
 * entries that apply to the other side only are OPT_ABSENT.
 */
#define OPT_TLS_IF(srv, want) ((srv) == (want) ? 0 : OPT_ABSENT)
#define OPT_TLS(t, srv)                                                                       \
	OPT_GROUP("TLS"),                                                                      \
	OPT_FLAG(0, "tls", &(t)->tls, "wrap the connection in TLS (OpenSSL)"),                   \
	OPT_STRING(0, "ca", &(t)->ca, "FILE|DIR",                                               \
		   (srv) ? "CA certificates (PEM) that client certificates must chain to"      \
			 : "trust these CA certificates (PEM) instead of the system store"),   \
	OPT_STRING(0, "cert", &(t)->cert, "FILE",                                               \
		   (srv) ? "certificate (PEM, with its chain; default: an ephemeral one)"      \
			 : "client certificate (PEM, with its chain)"),                        \
	OPT_STRING(0, "key", &(t)->key, "FILE", "private key (PEM; default: in --cert)"),       \
	{ .type = OPT_T_FLAG, .longopt = "no-verify", .value = OPT_PTR(int, &(t)->no_verify),  \
	  .help = "do not fail on a certificate that does not verify (shown as a warning)",   \
	  .flags = OPT_TLS_IF(srv, 0) },                                                       \
	{ .type = OPT_T_STRING, .longopt = "sni", .value = OPT_PTR(const char *, &(t)->sni),   \
	  .argname = "NAME", .help = "server name to send (default: HOST, none for an address)", \
	  .flags = OPT_TLS_IF(srv, 0) },                                                       \
	{ .type = OPT_T_STRING, .longopt = "verify-name",                                      \
	  .value = OPT_PTR(const char *, &(t)->verify_name), .argname = "NAME",                \
	  .help = "check the certificate against NAME instead of HOST",                       \
	  .flags = OPT_TLS_IF(srv, 0) },                                                       \
	{ .type = OPT_T_STRING, .longopt = "pin", .value = OPT_PTR(const char *, &(t)->pin),   \
	  .argname = "sha256:BASE64", .help = "require this public key (SPKI SHA-256; ';' list)", \
	  .flags = OPT_TLS_IF(srv, 0) },                                                       \
	{ .type = OPT_T_STRING, .longopt = "session",                                          \
	  .value = OPT_PTR(const char *, &(t)->session), .argname = "FILE",                    \
	  .help = "resume the session saved in FILE, save the new one there",                 \
	  .flags = OPT_TLS_IF(srv, 0) },                                                       \
	{ .type = OPT_T_FLAG, .longopt = "tls-allow-truncation",                               \
	  .value = OPT_PTR(int, &(t)->allow_truncation),                                       \
	  .help = "accept a TCP EOF without close_notify as the peer's EOF" },                 \
	{ .type = OPT_T_CHOICE, .longopt = "starttls", .value = OPT_PTR(int, &(t)->starttls),  \
	  .argname = "PROTO", .choices = tls_starttls_names,                                   \
	  .help = "upgrade a plaintext session first", .flags = OPT_TLS_IF(srv, 0) },          \
	{ .type = OPT_T_FLAG, .longopt = "verify-client",                                      \
	  .value = OPT_PTR(int, &(t)->verify_client),                                          \
	  .help = "require a client certificate that verifies against --ca",                  \
	  .flags = OPT_TLS_IF(srv, 1) },                                                       \
	OPT_STRING(0, "alpn", &(t)->alpn, "LIST",                                               \
		   (srv) ? "protocols to pick from the client's offer (h2,http/1.1)"           \
			 : "protocols to offer (h2,http/1.1)"),                                \
	OPT_CHOICE(0, "tls-min", &(t)->min_version, "VER", tls_version_names,                   \
		   "lowest TLS version"),                                                      \
	OPT_CHOICE(0, "tls-max", &(t)->max_version, "VER", tls_version_names,                   \
		   "highest TLS version"),                                                     \
	OPT_STRING(0, "ciphers", &(t)->ciphers, "LIST", "TLS 1.2 cipher list (OpenSSL syntax)"), \
	OPT_STRING(0, "ciphersuites", &(t)->ciphersuites, "LIST", "TLS 1.3 cipher suites"),    \
	OPT_STRING(0, "groups", &(t)->groups, "LIST", "key exchange groups (X25519:P-256)"),   \
	OPT_DURATION_D(0, "handshake-timeout", &(t)->handshake_timeout, TLS_HANDSHAKE_TIMEOUT, \
		       "give up a TLS handshake after DUR")

/* One certificate of the peer's chain, as the report shows it. */
struct tls_cert_info {
	char subject[256], issuer[256];
	char sans[512];               /* "DNS:a.example, IP:127.0.0.1" */
	char not_before[32], not_after[32]; /* "2026-12-01T17:00:00Z" */
	long days_left;               /* whole days until notAfter (negative: expired) */
	char key_type[16];            /* "EC", "RSA", "ED25519" */
	int key_bits;
	char sha256[100];             /* fingerprint, "AB:CD:..." */
	char pin[64];                 /* "sha256:BASE64" of the SPKI */
};

struct tls_report {
	int server;                   /* the report of listen's side */
	char version[16], cipher[64], group[32], alpn[64], sni[256];
	int resumed;
	int64_t tcp_ns;               /* TCP connect (or accept to handshake start); -1 */
	int64_t handshake_ns;
	int verify_done;              /* a peer certificate was checked */
	int verify_ok;
	int verify_depth;             /* of the first error */
	char verify_reason[128];      /* "ok", or OpenSSL's reason */
	int ktls_tx, ktls_rx;         /* records go through the kernel's TLS */
	char ktls_note[96];           /* why not, when not */
	size_t nchain;
	struct tls_cert_info chain[TLS_CHAIN_MAX];
};

struct tls_ctx;
struct tls_conn;

/* dlopen libssl (once).  -1 with @e (status 1) if it cannot be loaded. */
int tls_load(struct err *e);

/*
 * A client context: verification (system store or --ca), client
 * certificate, versions, ciphers, groups, ALPN, session file.
 */
int tls_client_ctx(const struct tls_opts *o, struct tls_ctx **out, struct err *e);
/*
 * A server context.  Without --cert, an ephemeral self-signed ECDSA P-256
 * certificate for @names (host name, addresses; NULL-terminated), valid one
 * day; what the report shows of it goes to @eph (its SHA-256 fingerprint,
 * its pin), which is zeroed when --cert is given.
 */
int tls_server_ctx(const struct tls_opts *o, const char *const *names, struct tls_ctx **out,
		   struct tls_cert_info *eph, struct err *e);
void tls_ctx_free(struct tls_ctx *c);

/*
 * The client's handshake on connected stream socket @fd, with @host the
 * name given (SNI and name check unless overridden; none for an address),
 * within the handshake timeout.  Fills @r, even on failure as far as it
 * got.  Verification failure, pin mismatch, timeout, protocol error: -1
 * with @e (status 1).
 */
int tls_connect(struct tls_ctx *c, int fd, const char *host, struct tls_conn **out,
		struct tls_report *r, struct err *e);
/*
 * The same client, driven from the caller's event loop (TCP ping): a
 * connection on non-blocking @fd whose handshake tls_client_step() takes
 * one step at a time: 1 done (verified, pinned), 0 wait until @fd is as
 * *@want says, -1 failed with @e (status 1) as tls_connect() says it.
 * tls_conn_handshake_ns() is the handshake's duration once done.
 */
#define TLS_WANT_READ 1
#define TLS_WANT_WRITE 2
struct tls_conn *tls_client_open(struct tls_ctx *c, int fd, const char *host,
				 struct tls_report *r, struct err *e);
int tls_client_step(struct tls_conn *t, uint32_t *want, struct err *e);
int64_t tls_conn_handshake_ns(const struct tls_conn *t);
/*
 * The server's side of the same (listen --tls --forward): a connection
 * from tls_server_open() on accepted non-blocking @fd, stepped as
 * tls_client_step() steps the client's.
 */
struct tls_conn *tls_server_open(struct tls_ctx *c, int fd, struct err *e);
int tls_server_step(struct tls_conn *t, uint32_t *want, struct err *e);
/* The server's handshake on accepted socket @fd. */
int tls_accept(struct tls_ctx *c, int fd, struct tls_conn **out, struct tls_report *r,
	       struct err *e);

/*
 * The relay of lib/relay over TLS: stdin EOF sends close_notify, then
 * shuts down writing; the peer's close_notify is its EOF; a TCP EOF
 * without close_notify is a truncation (status 1) unless
 * allow_truncation.  Counts as relay_run does.
 */
int tls_relay(struct tls_conn *t, int in_fd, int out_fd, const struct relay_opts *o,
	      struct relay_stats *st, struct err *e);
/* Send close_notify (best effort, non-blocking) and free; the fd stays open. */
void tls_conn_close(struct tls_conn *t, int notify);

/*
 * listen -k --tls: lib/server's layer (server.h) over @c, whose
 * handshakes never block; @ready is the report hook for each client whose
 * handshake is done (tls_layer_report fills a report for it).
 */
struct server_layer;
struct server_event;
void tls_layer_init(struct server_layer *l, struct tls_ctx *c,
		    void (*ready)(void *ctx, void *conn, const struct server_event *ev));
void tls_layer_report(void *conn, struct tls_report *r);

/*
 * --starttls: the plaintext dialogue before the handshake, on connected
 * socket @fd, within @timeout_ns.  @host for XMPP's "to".  -1 with @e
 * (status 1) if the server does not offer or refuses TLS.
 */
int tls_starttls(int fd, int proto, const char *host, int64_t timeout_ns, struct err *e);

/* ---- pure parsers (no OpenSSL; unit-tested and fuzzed) ---- */

/*
 * --pin: one or more "sha256:BASE64" (or curl's "sha256//BASE64") separated
 * by ';', each 32 bytes.  The count, or -1 with @e (status 2).
 */
int tls_pin_parse(const char *s, uint8_t pins[][32], int max, struct err *e);
/* Standard base64 of @n bytes into @out (NUL-terminated); its length. */
size_t tls_base64(const uint8_t *in, size_t n, char *out, size_t cap);

/*
 * A STARTTLS server reply, as received so far (@buf, @n bytes), at @step
 * of the dialogue of @proto (see tls_starttls): 0 incomplete, 1 the reply
 * says go on, -1 it says no.  *@used: the bytes of the reply (to drop).
 */
int tls_starttls_reply(int proto, int step, const char *buf, size_t n, size_t *used);
/* How many steps (replies read) @proto's dialogue has. */
int tls_starttls_steps(int proto);
/* What the client sends after the reply of @step ("" for none); @host for XMPP. */
int tls_starttls_request(int proto, int step, const char *host, char *buf, size_t cap);

#endif
