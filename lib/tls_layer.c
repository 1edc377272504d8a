/* SPDX-License-Identifier: MIT */
/* lib/server's layer for TLS clients (listen -k --tls): non-blocking handshakes and records. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "server.h"
#include "tls_int.h"

static void *layer_open(void *ctx, int fd)
{
	struct err e = { 0 };
	struct tls_conn *t = tls_conn_new(ctx, fd, NULL, &e);

	if (!t)
		return NULL;
	/* many clients at once: OpenSSL's own record-sized buffer, not the relay's 256 KiB */
	SSL_set_default_read_buffer_len(t->ssl, 0);
	t->start_ns = clock_mono_ns();
	return t;
}

/* SSL_ERROR_WANT_* as epoll events; 0 for any other error. */
static uint32_t want_of(SSL *ssl, int rc)
{
	int se = SSL_get_error(ssl, rc);

	return se == SSL_ERROR_WANT_READ ? EPOLLIN : se == SSL_ERROR_WANT_WRITE ? EPOLLOUT : 0;
}

static int layer_handshake(void *conn, uint32_t *want, char *why, size_t len)
{
	struct tls_conn *t = conn;
	int rc;

	ERR_clear_error();
	rc = SSL_accept(t->ssl);
	if (rc == 1) {
		t->start_ns = clock_mono_ns() - t->start_ns; /* now the handshake's duration */
		return 1;
	}
	*want = want_of(t->ssl, rc);
	if (*want)
		return 0;
	if (t->verr)
		snprintf(why, len, "tls: %s", X509_verify_cert_error_string(t->verr));
	else {
		char r[80];

		snprintf(why, len, "tls: %s", tls_err_reason("handshake failed", r, sizeof(r)));
	}
	ERR_clear_error();
	return -1;
}

static ssize_t layer_read(void *conn, void *buf, size_t n, uint32_t *want)
{
	struct tls_conn *t = conn;
	size_t got = 0;
	int rc, se;

	ERR_clear_error();
	errno = 0;
	rc = SSL_read_ex(t->ssl, buf, n, &got);
	if (rc == 1)
		return (ssize_t)got;
	se = SSL_get_error(t->ssl, rc);
	if (se == SSL_ERROR_ZERO_RETURN)
		return 0; /* close_notify */
	*want = want_of(t->ssl, rc);
	if (*want) {
		errno = EAGAIN;
		return -1;
	}
	if (t->c->allow_truncation &&
	    (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
	     (se == SSL_ERROR_SYSCALL && !errno))) {
		ERR_clear_error();
		return 0;
	}
	/* a TCP EOF without close_notify (truncation), or a protocol error */
	if (se != SSL_ERROR_SYSCALL || !errno)
		errno = EPROTO;
	ERR_clear_error();
	return -1;
}

static ssize_t layer_write(void *conn, const void *buf, size_t n, uint32_t *want)
{
	struct tls_conn *t = conn;
	size_t put = 0;
	int rc, se;

	ERR_clear_error();
	errno = 0;
	rc = SSL_write_ex(t->ssl, buf, n, &put);
	if (rc == 1)
		return (ssize_t)put;
	*want = want_of(t->ssl, rc);
	if (*want) {
		errno = EAGAIN;
		return -1;
	}
	se = SSL_get_error(t->ssl, rc);
	if (se != SSL_ERROR_SYSCALL || !errno)
		errno = EPROTO;
	ERR_clear_error();
	return -1;
}

static int layer_pending(void *conn)
{
	/* read-ahead: whole records may wait in OpenSSL's buffer, not only plaintext */
	return SSL_has_pending(((struct tls_conn *)conn)->ssl);
}

static void layer_close(void *conn, int orderly)
{
	tls_conn_close(conn, orderly);
}

void tls_layer_init(struct server_layer *l, struct tls_ctx *c,
		    void (*ready)(void *ctx, void *conn, const struct server_event *ev))
{
	memset(l, 0, sizeof(*l));
	l->ctx = c;
	l->handshake_timeout = c->handshake_timeout;
	l->open = layer_open;
	l->handshake = layer_handshake;
	l->read = layer_read;
	l->write = layer_write;
	l->pending = layer_pending;
	l->close = layer_close;
	l->ready = ready;
}

void tls_layer_report(void *conn, struct tls_report *r)
{
	struct tls_conn *t = conn;

	memset(r, 0, sizeof(*r));
	r->server = 1;
	r->tcp_ns = -1;
	r->handshake_ns = t->start_ns;
	tls_fill_report(t, r);
}
