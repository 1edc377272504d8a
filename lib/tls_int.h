/* SPDX-License-Identifier: MIT */
/* lib/tls's own header: the OpenSSL objects behind struct tls_ctx and tls_conn. */
#ifndef SOCKCTL_TLS_INT_H
#define SOCKCTL_TLS_INT_H

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls.h"
#include "tls_sym.h"

struct tls_ctx {
	SSL_CTX *ctx;
	int server, no_verify, allow_truncation;
	const char *sni, *verify_name, *session;
	uint8_t pins[TLS_PIN_MAX][32];
	int npins;
	int64_t handshake_timeout;
	unsigned char alpn[256]; /* wire format */
	unsigned alpn_len;
	int ktls; /* the kernel offers the tls ULP: SSL_OP_ENABLE_KTLS is set */
};

struct tls_conn {
	SSL *ssl;
	int fd;
	struct tls_ctx *c;
	/* the first verification error the callback saw */
	int verr, vdepth;
	char vsubject[256];
	int64_t start_ns; /* tls_layer: when the handshake began */
	int saved;        /* --session: a session was saved */
};

/* A connection on @fd (not yet shaken hands); @r (may be NULL) is reset. */
struct tls_conn *tls_conn_new(struct tls_ctx *c, int fd, struct tls_report *r, struct err *e);
/* --alpn LIST in the wire format (status 2 if it is not a list). */
int tls_alpn_wire(const char *list, unsigned char *out, unsigned *len, struct err *e);
/* --ciphers, --ciphersuites, --groups parsed by OpenSSL now (loads it): status 2 if bad. */
int tls_check_lists(const struct tls_opts *o, struct err *e);
/* The report of a connection whose handshake is done. */
void tls_fill_report(struct tls_conn *t, struct tls_report *r);
/* The reason of OpenSSL's first queued error ("wrong version number"), or @dflt. */
const char *tls_err_reason(const char *dflt, char *buf, size_t len);
/* One certificate for the report. */
void tls_cert_info(X509 *x, struct tls_cert_info *ci);
/* The ephemeral self-signed certificate of a listener without --cert. */
int tls_make_ephemeral(SSL_CTX *ctx, const char *const *names, struct tls_cert_info *ci,
		       struct err *e);
/* "CN=a,O=b" of @n into @buf. */
void tls_name_text(const X509_NAME *n, char *buf, size_t len);
/* Wait for @fd to be readable (@want_write 0) or writable, up to @deadline. */
int tls_wait(int fd, int want_write, int64_t deadline, struct err *e, const char *what);

#endif
