/* SPDX-License-Identifier: MIT */
/* TLS contexts and handshakes (OpenSSL 3, loaded on first use: see tls_sym.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "tls_int.h"

#define TLS_READ_BUF ((size_t)256 * 1024)
/* --session: how long to wait for a TLS 1.3 ticket after the handshake */
#define TLS_TICKET_WAIT (200 * NS_PER_MS)
#define TLS_SUITES_DEFAULT \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

int tls_alpn_wire(const char *list, unsigned char *out, unsigned *len, struct err *e)
{
	const char *s = list;
	unsigned n = 0;

	while (*s) {
		size_t k = strcspn(s, ",");

		if (k == 0 || n + 1 + k > 255)
			return err_set(e, EXIT_USAGE, "--alpn %.64s: give a list such as h2,http/1.1",
				       list);
		out[n++] = (unsigned char)k;
		memcpy(out + n, s, k);
		n += (unsigned)k;
		s += k;
		if (*s == ',')
			s++;
	}
	*len = n;
	return 0;
}

/*
 * --ciphers, --ciphersuites, --groups are OpenSSL's to parse: ask it now,
 * before anything is connected, so a bad list is bad input (status 2).
 */
int tls_check_lists(const struct tls_opts *o, struct err *e)
{
	SSL_CTX *ctx;
	char why[160];
	int rc = 0;

	if (!o->ciphers && !o->ciphersuites && !o->groups)
		return 0;
	if (tls_load(e))
		return -1;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return err_set(e, EXIT_FAIL, "TLS: cannot create a context");
	if (o->ciphers && !SSL_CTX_set_cipher_list(ctx, o->ciphers))
		rc = err_set(e, EXIT_USAGE, "--ciphers %.64s: %s", o->ciphers,
			     tls_err_reason("no cipher matches", why, sizeof(why)));
	else if (o->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, o->ciphersuites))
		rc = err_set(e, EXIT_USAGE, "--ciphersuites %.64s: %s", o->ciphersuites,
			     tls_err_reason("no cipher suite matches", why, sizeof(why)));
	else if (o->groups && !SSL_CTX_set1_groups_list(ctx, o->groups))
		rc = err_set(e, EXIT_USAGE, "--groups %.64s: %s", o->groups,
			     tls_err_reason("unknown group", why, sizeof(why)));
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* ---- errors ---- */

const char *tls_err_reason(const char *dflt, char *buf, size_t len)
{
	unsigned long code = ERR_get_error();
	const char *r = code ? ERR_reason_error_string(code) : NULL;

	snprintf(buf, len, "%s", r ? r : dflt);
	ERR_clear_error();
	return buf;
}

int tls_wait(int fd, int want_write, int64_t deadline, struct err *e, const char *what)
{
	struct pollfd p = { .fd = fd, .events = want_write ? POLLOUT : POLLIN };

	for (;;) {
		int ms = clock_ms_until(deadline), n;

		if (ms == 0)
			return err_set(e, EXIT_FAIL, "%s timed out", what);
		n = poll(&p, 1, ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return err_sys(e, EXIT_FAIL, errno, "poll");
	}
}

/* ---- contexts ---- */

static int ktls_offered(void)
{
	char buf[256];
	int fd = open("/proc/sys/net/ipv4/tcp_available_ulp", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, "tls") != NULL;
}

/* The first verification error and its certificate, for the message and the report. */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_conn *t = ssl ? SSL_get_app_data(ssl) : NULL;

	if (!t)
		return ok;
	if (!ok && !t->verr) {
		X509 *x = X509_STORE_CTX_get_current_cert(store);

		t->verr = X509_STORE_CTX_get_error(store);
		t->vdepth = X509_STORE_CTX_get_error_depth(store);
		if (x)
			tls_name_text(X509_get_subject_name(x), t->vsubject, sizeof(t->vsubject));
	}
	return t->c->no_verify ? 1 : ok;
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned inlen, void *arg)
{
	struct tls_ctx *c = arg;
	unsigned char *o = NULL;

	(void)ssl;
	if (SSL_select_next_proto(&o, outlen, c->alpn, c->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = o;
	return SSL_TLSEXT_ERR_OK;
}

/* --session FILE: a new session (TLS 1.3: a ticket after the handshake) is saved. */
static int save_session(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_conn *t = SSL_get_app_data(ssl);
	BIO *b;

	if (!t || !t->c->session || !SSL_SESSION_is_resumable(sess))
		return 0;
	t->saved = 1;
	b = BIO_new_file(t->c->session, "w");
	if (b) {
		PEM_write_bio_SSL_SESSION(b, sess);
		BIO_free(b);
	}
	return 0; /* we keep no reference */
}

static const int proto_versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };

static int ctx_common(struct tls_ctx *c, const struct tls_opts *o, struct err *e)
{
	char why[160];
	struct stat sb;

	if (o->min_version != TLS_VER_UNSET)
		SSL_CTX_set_min_proto_version(c->ctx, proto_versions[o->min_version]);
	else
		SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	if (o->max_version != TLS_VER_UNSET)
		SSL_CTX_set_max_proto_version(c->ctx, proto_versions[o->max_version]);
	if (o->ciphers && !SSL_CTX_set_cipher_list(c->ctx, o->ciphers))
		return err_set(e, EXIT_USAGE, "--ciphers %.64s: %s", o->ciphers,
			       tls_err_reason("no cipher matches", why, sizeof(why)));
	if (o->ciphersuites && !SSL_CTX_set_ciphersuites(c->ctx, o->ciphersuites))
		return err_set(e, EXIT_USAGE, "--ciphersuites %.64s: %s", o->ciphersuites,
			       tls_err_reason("no cipher suite matches", why, sizeof(why)));
	if (o->groups && !SSL_CTX_set1_groups_list(c->ctx, o->groups))
		return err_set(e, EXIT_USAGE, "--groups %.64s: %s", o->groups,
			       tls_err_reason("unknown group", why, sizeof(why)));
	if (o->alpn && tls_alpn_wire(o->alpn, c->alpn, &c->alpn_len, e))
		return -1;
	if (o->ca) {
		int dir = !stat(o->ca, &sb) && S_ISDIR(sb.st_mode);

		if (!SSL_CTX_load_verify_locations(c->ctx, dir ? NULL : o->ca, dir ? o->ca : NULL))
			return err_set(e, EXIT_FAIL, "--ca %.200s: %s", o->ca,
				       tls_err_reason("cannot load", why, sizeof(why)));
	}
	if (o->cert) {
		const char *key = o->key ? o->key : o->cert;

		if (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert) != 1)
			return err_set(e, EXIT_FAIL, "--cert %.200s: %s", o->cert,
				       tls_err_reason("cannot load", why, sizeof(why)));
		if (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1)
			return err_set(e, EXIT_FAIL, "--key %.200s: %s", key,
				       tls_err_reason("cannot load", why, sizeof(why)));
		if (SSL_CTX_check_private_key(c->ctx) != 1)
			return err_set(e, EXIT_FAIL, "--key %.200s: does not match --cert", key);
	}
	c->ktls = ktls_offered();
	SSL_CTX_set_options(c->ctx, c->ktls ? SSL_OP_ENABLE_KTLS : 0);
	/* partial writes: the relay and the -k server retry the rest themselves */
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* read many records per read(2), not one header and one body at a time */
	SSL_CTX_set_read_ahead(c->ctx, 1);
	SSL_CTX_set_default_read_buffer_len(c->ctx, TLS_READ_BUF);
	/* without --ciphersuites, AES-128-GCM first: as safe, and the fastest with AES-NI */
	if (!o->ciphersuites)
		SSL_CTX_set_ciphersuites(c->ctx, TLS_SUITES_DEFAULT);
	c->handshake_timeout = o->handshake_timeout > 0 ? o->handshake_timeout
							: TLS_HANDSHAKE_TIMEOUT;
	c->allow_truncation = o->allow_truncation;
	return 0;
}

static int ctx_new(int server, struct tls_ctx **out, struct err *e)
{
	struct tls_ctx *c;

	if (tls_load(e))
		return -1;
	c = calloc(1, sizeof(*c));
	if (!c)
		return err_sys(e, EXIT_FAIL, ENOMEM, "TLS");
	c->server = server;
	c->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!c->ctx) {
		free(c);
		return err_set(e, EXIT_FAIL, "TLS: cannot create a context");
	}
	*out = c;
	return 0;
}

int tls_client_ctx(const struct tls_opts *o, struct tls_ctx **out, struct err *e)
{
	struct tls_ctx *c;
	char why[160];

	if (ctx_new(0, &c, e))
		return -1;
	if (ctx_common(c, o, e))
		goto fail;
	if (!o->ca && !SSL_CTX_set_default_verify_paths(c->ctx)) {
		err_set(e, EXIT_FAIL, "TLS: the system's trust store: %s",
			tls_err_reason("cannot load", why, sizeof(why)));
		goto fail;
	}
	c->no_verify = o->no_verify;
	c->sni = o->sni;
	c->verify_name = o->verify_name;
	c->session = o->session;
	if (o->pin) {
		c->npins = tls_pin_parse(o->pin, c->pins, TLS_PIN_MAX, e);
		if (c->npins < 0)
			goto fail;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, verify_cb);
	if (c->alpn_len && SSL_CTX_set_alpn_protos(c->ctx, c->alpn, c->alpn_len)) {
		err_set(e, EXIT_USAGE, "--alpn %.64s: refused by OpenSSL", o->alpn);
		goto fail;
	}
	if (c->session) {
		SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT |
							       SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(c->ctx, save_session);
	}
	*out = c;
	return 0;
fail:
	tls_ctx_free(c);
	return -1;
}

int tls_server_ctx(const struct tls_opts *o, const char *const *names, struct tls_ctx **out,
		   struct tls_cert_info *eph, struct err *e)
{
	struct tls_ctx *c;

	memset(eph, 0, sizeof(*eph));
	if (ctx_new(1, &c, e))
		return -1;
	if (ctx_common(c, o, e))
		goto fail;
	if (!o->cert && tls_make_ephemeral(c->ctx, names, eph, e))
		goto fail;
	if (o->verify_client)
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
				   verify_cb);
	else
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	if (c->alpn_len)
		SSL_CTX_set_alpn_select_cb(c->ctx, alpn_select, c);
	*out = c;
	return 0;
fail:
	tls_ctx_free(c);
	return -1;
}

void tls_ctx_free(struct tls_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

/* ---- the handshake ---- */

static int is_ip_literal(const char *h)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

void tls_fill_report(struct tls_conn *t, struct tls_report *r)
{
	SSL *ssl = t->ssl;
	const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
	const unsigned char *alpn = NULL;
	unsigned alpn_len = 0;
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	int nid = SSL_get_negotiated_group(ssl), i, n;
	const char *g = nid ? SSL_group_to_name(ssl, nid) : NULL;
	long vr;

	snprintf(r->version, sizeof(r->version), "%s", SSL_get_version(ssl));
	snprintf(r->cipher, sizeof(r->cipher), "%s", ci ? SSL_CIPHER_get_name(ci) : "");
	snprintf(r->group, sizeof(r->group), "%s", g ? g : "");
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	snprintf(r->alpn, sizeof(r->alpn), "%.*s", (int)alpn_len, alpn ? (const char *)alpn : "");
	if (sni)
		snprintf(r->sni, sizeof(r->sni), "%s", sni);
	r->resumed = SSL_session_reused(ssl);
	r->nchain = 0;
	/* the server's view of the chain leaves out the leaf */
	if (leaf && t->c->server)
		tls_cert_info(leaf, &r->chain[r->nchain++]);
	n = chain ? OPENSSL_sk_num((const OPENSSL_STACK *)chain) : 0;
	for (i = 0; i < n && r->nchain < TLS_CHAIN_MAX; i++)
		tls_cert_info(OPENSSL_sk_value((const OPENSSL_STACK *)chain, i),
			      &r->chain[r->nchain++]);
	r->verify_done = leaf != NULL;
	vr = SSL_get_verify_result(ssl);
	r->verify_ok = r->verify_done && vr == X509_V_OK && !t->verr;
	if (!r->verify_done)
		snprintf(r->verify_reason, sizeof(r->verify_reason), "no certificate");
	else if (r->verify_ok)
		snprintf(r->verify_reason, sizeof(r->verify_reason), "ok");
	else {
		snprintf(r->verify_reason, sizeof(r->verify_reason), "%s",
			 X509_verify_cert_error_string(t->verr ? t->verr : vr));
		r->verify_depth = t->verr ? t->vdepth : 0;
	}
	r->ktls_tx = (int)BIO_get_ktls_send(SSL_get_wbio(ssl));
	r->ktls_rx = (int)BIO_get_ktls_recv(SSL_get_rbio(ssl));
	if (!t->c->ktls)
		snprintf(r->ktls_note, sizeof(r->ktls_note),
			 "the kernel offers no tls ULP (tcp_available_ulp)");
	else if (!r->ktls_tx)
		snprintf(r->ktls_note, sizeof(r->ktls_note), "not for this cipher or version");
}

/* The SPKI SHA-256 of the peer's key against --pin. */
static int check_pin(struct tls_conn *t, struct tls_report *r, struct err *e)
{
	X509 *leaf = SSL_get0_peer_certificate(t->ssl);
	unsigned char *der = NULL, md[32];
	unsigned mdlen = 0;
	int len, i, ok = 0;

	if (!t->c->npins)
		return 0;
	if (!leaf)
		return err_set(e, EXIT_FAIL, "TLS: --pin: the server sent no certificate");
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &der);
	if (len <= 0 || !EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL)) {
		OPENSSL_free(der);
		return err_set(e, EXIT_FAIL, "TLS: --pin: cannot hash the server's key");
	}
	OPENSSL_free(der);
	for (i = 0; i < t->c->npins; i++)
		ok |= !memcmp(md, t->c->pins[i], 32);
	if (!ok)
		return err_set(e, EXIT_FAIL, "TLS: the server's public key (%s) matches no --pin "
			       "(subject %s)", r->nchain ? r->chain[0].pin : "?",
			       r->nchain ? r->chain[0].subject : "?");
	return 0;
}

static int handshake_error(struct tls_conn *t, int rc, struct err *e)
{
	int se = SSL_get_error(t->ssl, rc);
	char why[160];

	if (t->verr && !t->c->no_verify) {
		ERR_clear_error();
		return err_set(e, EXIT_FAIL,
			       "TLS: certificate verify failed: %s (depth %d, subject %s)",
			       X509_verify_cert_error_string(t->verr), t->vdepth,
			       t->vsubject[0] ? t->vsubject : "?");
	}
	if (se == SSL_ERROR_SYSCALL && !ERR_peek_error()) {
		if (errno && rc < 0)
			return err_sys(e, EXIT_FAIL, errno, "TLS handshake");
		return err_set(e, EXIT_FAIL,
			       "TLS handshake: the peer closed the connection");
	}
	return err_set(e, EXIT_FAIL, "TLS handshake failed: %s",
		       tls_err_reason("protocol error", why, sizeof(why)));
}

static int handshake(struct tls_conn *t, struct tls_report *r, struct err *e)
{
	int64_t start = clock_mono_ns(), deadline = clock_deadline(t->c->handshake_timeout);
	int fl = fcntl(t->fd, F_GETFL), rc;

	if (fl < 0 || fcntl(t->fd, F_SETFL, fl | O_NONBLOCK))
		return err_sys(e, EXIT_FAIL, errno, "fcntl");
	for (;;) {
		int se;

		ERR_clear_error();
		errno = 0;
		rc = t->c->server ? SSL_accept(t->ssl) : SSL_connect(t->ssl);
		if (rc == 1)
			break;
		se = SSL_get_error(t->ssl, rc);
		if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
			if (tls_wait(t->fd, se == SSL_ERROR_WANT_WRITE, deadline, e,
				     "TLS handshake"))
				return -1;
			continue;
		}
		r->handshake_ns = clock_mono_ns() - start;
		return handshake_error(t, rc, e);
	}
	r->handshake_ns = clock_mono_ns() - start;
	tls_fill_report(t, r);
	return check_pin(t, r, e);
}

struct tls_conn *tls_conn_new(struct tls_ctx *c, int fd, struct tls_report *r, struct err *e)
{
	struct tls_conn *t = calloc(1, sizeof(*t));

	if (r) {
		int64_t tcp = r->tcp_ns;

		memset(r, 0, sizeof(*r));
		r->tcp_ns = tcp;
		r->server = c->server;
	}
	if (!t) {
		err_sys(e, EXIT_FAIL, ENOMEM, "TLS");
		return NULL;
	}
	t->ssl = SSL_new(c->ctx);
	if (!t->ssl || !SSL_set_fd(t->ssl, fd)) {
		SSL_free(t->ssl);
		free(t);
		err_set(e, EXIT_FAIL, "TLS: cannot create a connection");
		return NULL;
	}
	t->fd = fd;
	t->c = c;
	SSL_set_app_data(t->ssl, t);
	return t;
}

static void load_session(struct tls_conn *t)
{
	BIO *b = BIO_new_file(t->c->session, "r");
	SSL_SESSION *s;

	if (!b) {
		ERR_clear_error();
		return; /* not there yet: this run makes it */
	}
	s = PEM_read_bio_SSL_SESSION(b, NULL, NULL, NULL);
	BIO_free(b);
	if (s) {
		SSL_set_session(t->ssl, s);
		SSL_SESSION_free(s);
	}
	ERR_clear_error();
}

/*
 * --session with TLS 1.3: the ticket comes after the handshake.  Wait a
 * little for it (connect -z closes at once otherwise), reading nothing of
 * the application's: SSL_peek leaves data where it is.
 */
static void await_ticket(struct tls_conn *t)
{
	int64_t deadline = clock_deadline(TLS_TICKET_WAIT);
	struct err e = { 0 };
	char b;

	while (!t->saved && SSL_version(t->ssl) == TLS1_3_VERSION && !SSL_session_reused(t->ssl)) {
		size_t n = 0;

		ERR_clear_error();
		if (SSL_peek_ex(t->ssl, &b, 1, &n) == 1 ||
		    SSL_get_error(t->ssl, 0) != SSL_ERROR_WANT_READ ||
		    tls_wait(t->fd, 0, deadline, &e, "ticket"))
			break;
	}
	ERR_clear_error();
}

/* The SNI a client sends for @host: --sni, else the host given unless it is an address. */
static const char *sni_of(const struct tls_ctx *c, const char *host)
{
	return c->sni ? c->sni : (host && !is_ip_literal(host) ? host : NULL);
}

struct tls_conn *tls_client_open(struct tls_ctx *c, int fd, const char *host,
				 struct tls_report *r, struct err *e)
{
	struct tls_conn *t = tls_conn_new(c, fd, r, e);
	const char *name = c->verify_name ? c->verify_name : host;
	const char *sni = sni_of(c, host);

	if (!t)
		return NULL;
	if (sni && !SSL_set_tlsext_host_name(t->ssl, sni)) {
		tls_conn_close(t, 0);
		err_set(e, EXIT_USAGE, "--sni %.64s: not a valid server name", sni);
		return NULL;
	}
	if (name && is_ip_literal(name)) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name);
	} else if (name && !SSL_set1_host(t->ssl, name)) {
		tls_conn_close(t, 0);
		err_set(e, EXIT_USAGE, "--verify-name %.64s: not a valid name", name);
		return NULL;
	}
	SSL_set_connect_state(t->ssl);
	t->start_ns = clock_mono_ns();
	return t;
}

/*
 * What one non-blocking handshake call @rc says: 1 done (start_ns becomes
 * the handshake's duration), 0 with *@want to wait for, -1 with @e.
 */
static int step_result(struct tls_conn *t, int rc, uint32_t *want, struct err *e)
{
	int se;

	if (rc == 1) {
		t->start_ns = clock_mono_ns() - t->start_ns; /* now the handshake's duration */
		return 1;
	}
	se = SSL_get_error(t->ssl, rc);
	if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
		*want = se == SSL_ERROR_WANT_READ ? TLS_WANT_READ : TLS_WANT_WRITE;
		return 0;
	}
	return handshake_error(t, rc, e);
}

int tls_client_step(struct tls_conn *t, uint32_t *want, struct err *e)
{
	struct tls_report r;
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = step_result(t, SSL_connect(t->ssl), want, e);
	if (rc != 1)
		return rc;
	memset(&r, 0, sizeof(r));
	tls_fill_report(t, &r);
	return check_pin(t, &r, e) ? -1 : 1;
}

struct tls_conn *tls_server_open(struct tls_ctx *c, int fd, struct err *e)
{
	struct tls_conn *t = tls_conn_new(c, fd, NULL, e);

	if (!t)
		return NULL;
	SSL_set_accept_state(t->ssl);
	t->start_ns = clock_mono_ns();
	return t;
}

int tls_server_step(struct tls_conn *t, uint32_t *want, struct err *e)
{
	ERR_clear_error();
	errno = 0;
	return step_result(t, SSL_accept(t->ssl), want, e);
}

int64_t tls_conn_handshake_ns(const struct tls_conn *t)
{
	return t->start_ns;
}

int tls_connect(struct tls_ctx *c, int fd, const char *host, struct tls_conn **out,
		struct tls_report *r, struct err *e)
{
	struct tls_conn *t = tls_client_open(c, fd, host, r, e);
	const char *sni = sni_of(c, host);

	if (!t)
		return -1;
	if (c->session)
		load_session(t);
	if (handshake(t, r, e)) {
		tls_conn_close(t, 0);
		return -1;
	}
	if (sni && r)
		snprintf(r->sni, sizeof(r->sni), "%s", sni);
	if (c->session)
		await_ticket(t);
	*out = t;
	return 0;
}

int tls_accept(struct tls_ctx *c, int fd, struct tls_conn **out, struct tls_report *r,
	       struct err *e)
{
	struct tls_conn *t = tls_conn_new(c, fd, r, e);

	if (!t)
		return -1;
	if (handshake(t, r, e)) {
		tls_conn_close(t, 0);
		return -1;
	}
	*out = t;
	return 0;
}

void tls_conn_close(struct tls_conn *t, int notify)
{
	if (!t)
		return;
	if (notify) {
		ERR_clear_error();
		SSL_shutdown(t->ssl);
		(void)BIO_flush(SSL_get_wbio(t->ssl)); /* the relay's write buffer */
	}
	SSL_free(t->ssl);
	ERR_clear_error();
	free(t);
}
