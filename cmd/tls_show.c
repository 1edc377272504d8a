/* SPDX-License-Identifier: MIT */
/* TLS for connect (and the report for listen): the handshake shown, the client recipes. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "cmd_sandbox.h"
#include "err.h"
#include "out.h"
#include "relay.h"
#include "sock.h"
#include "sock_connect.h"
#include "tls_show.h"

static void json_cert(FILE *f, const struct tls_cert_info *c, size_t depth)
{
	struct jsonw w;

	json_begin(&w, f);
	json_uint(&w, "depth", depth);
	json_str(&w, "subject", c->subject);
	json_str(&w, "issuer", c->issuer);
	json_str(&w, "sans", c->sans);
	json_str(&w, "not_before", c->not_before);
	json_str(&w, "not_after", c->not_after);
	json_int(&w, "days_left", c->days_left);
	json_str(&w, "key_type", c->key_type);
	json_int(&w, "key_bits", c->key_bits);
	json_str(&w, "sha256", c->sha256);
	json_str(&w, "pin", c->pin);
	putc('}', f);
}

static void json_report(FILE *f, const struct tls_report *r, const char *peer, unsigned port)
{
	struct jsonw w;
	size_t i;

	json_begin(&w, f);
	json_str(&w, "event", "tls");
	json_str(&w, "peer", peer);
	if (port)
		json_uint(&w, "port", port);
	json_str(&w, "side", r->server ? "server" : "client");
	json_str(&w, "version", r->version);
	json_str(&w, "cipher", r->cipher);
	json_str(&w, "group", r->group);
	json_str(&w, "alpn", r->alpn[0] ? r->alpn : NULL);
	json_str(&w, "sni", r->sni[0] ? r->sni : NULL);
	json_bool(&w, "resumed", r->resumed);
	if (r->tcp_ns >= 0)
		json_num(&w, "tcp_ms", (double)r->tcp_ns / 1e6, 3);
	json_num(&w, "handshake_ms", (double)r->handshake_ns / 1e6, 3);
	json_bool(&w, "verified", r->verify_ok);
	json_str(&w, "verify", r->verify_reason);
	if (r->verify_done && !r->verify_ok)
		json_int(&w, "verify_depth", r->verify_depth);
	json_bool(&w, "ktls", r->ktls_tx);
	fputs(",\"chain\":[", f);
	for (i = 0; i < r->nchain; i++) {
		if (i)
			putc(',', f);
		json_cert(f, &r->chain[i], i);
	}
	putc(']', f);
	json_end(&w);
}

void tls_show_report(const struct tls_show *s, FILE *f, const struct tls_report *r,
		     const char *peer, unsigned port)
{
	char tcp[48] = "";
	size_t i;

	/* a failed verification the user let through is never silent */
	if (r->verify_done && !r->verify_ok)
		err_warn(s->cmd, "%s: certificate not verified: %s (depth %d, subject %s)", peer,
			 r->verify_reason, r->verify_depth,
			 r->nchain ? r->chain[r->verify_depth < (int)r->nchain ? r->verify_depth : 0]
					     .subject
				   : "?");
	if (s->json) {
		json_report(f, r, peer, port);
		fflush(f);
		return;
	}
	if (!s->verbose)
		return;
	if (r->tcp_ns >= 0)
		snprintf(tcp, sizeof(tcp), "tcp %.3fms, ", (double)r->tcp_ns / 1e6);
	err_msg(s->cmd, "tls %s %s, group %s, alpn %s, sni %s, %s%shandshake %.3fms", r->version,
		r->cipher, r->group[0] ? r->group : "-", r->alpn[0] ? r->alpn : "-",
		r->sni[0] ? r->sni : "-", r->resumed ? "resumed, " : "", tcp,
		(double)r->handshake_ns / 1e6);
	err_msg(s->cmd, "tls verify: %s", r->verify_reason);
	for (i = 0; i < r->nchain; i++) {
		const struct tls_cert_info *c = &r->chain[i];

		err_msg(s->cmd, "tls cert %zu: subject %s; issuer %s; san %s; %s to %s (%ld days "
				"left); %s %d; sha256 %s; pin %s",
			i, c->subject, c->issuer, c->sans[0] ? c->sans : "-", c->not_before,
			c->not_after, c->days_left, c->key_type, c->key_bits, c->sha256, c->pin);
	}
	if (r->ktls_tx)
		err_msg(s->cmd, "tls records: kTLS (send%s)", r->ktls_rx ? " and receive" : "");
	else
		err_msg(s->cmd, "tls records: OpenSSL, 256 KiB SSL_read_ex/SSL_write_ex (no kTLS: %s)",
			r->ktls_note);
}

int tls_client_start(const struct tls_show *s, const struct tls_opts *t, int fd,
		     const char *host, const char *peer, int64_t tcp_ns, struct tls_ctx **ctx,
		     struct tls_conn **conn, struct err *e)
{
	struct tls_report r;
	int64_t hs = t->handshake_timeout > 0 ? t->handshake_timeout : TLS_HANDSHAKE_TIMEOUT;

	*ctx = NULL;
	*conn = NULL;
	if (t->starttls != TLS_STARTTLS_NONE && tls_starttls(fd, t->starttls, host, hs, e))
		return -1;
	if (tls_client_ctx(t, ctx, e))
		return -1;
	r.tcp_ns = tcp_ns;
	if (tls_connect(*ctx, fd, host, conn, &r, e)) {
		char msg[sizeof(e->msg)];

		snprintf(msg, sizeof(msg), "%s", e->msg);
		tls_ctx_free(*ctx);
		*ctx = NULL;
		return err_set(e, e->status, "%s: %s", peer, msg);
	}
	tls_show_report(s, stderr, &r, peer, 0);
	return 0;
}

int tls_client_run(const struct tls_show *s, const struct cmd_sandbox *sb,
		   const struct tls_opts *t, int fd,
		   const char *host, const char *peer, int64_t tcp_ns, const struct relay_opts *ro,
		   struct relay_stats *st, struct err *e)
{
	struct tls_ctx *c = NULL;
	struct tls_conn *conn = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	if (tls_client_start(s, t, fd, host, peer, tcp_ns, &c, &conn, e))
		return -1;
	/* libssl, its contexts and the CA store are loaded, the peer verified */
	if (sb && cmd_sandbox_enter(sb, t->session ? &sb_connect_tls_session : &sb_connect_tls,
				       e)) {
		tls_conn_close(conn, 0);
		tls_ctx_free(c);
		return -1;
	}
	rc = tls_relay(conn, ro->recv_only ? -1 : 0, ro->send_only ? -1 : 1, ro, st, e);
	tls_conn_close(conn, rc == 0); /* a polite end: close_notify */
	tls_ctx_free(c);
	return rc;
}

/* One port of -z --tls: 1 verified, 0 not, with its row written. */
static int scan_one(const struct tls_show *s, const struct tls_opts *t, struct tls_ctx *c,
		    const char *host, unsigned port, const struct sock_connect_opts *co)
{
	char svc[8], peer[ADDR_STRLEN];
	struct tls_conn *conn = NULL;
	struct tls_report r;
	struct err e = { 0 };
	int64_t t0 = clock_mono_ns();
	int fd = -1, ok = 0;
	struct jsonw w;

	snprintf(svc, sizeof(svc), "%u", port);
	snprintf(peer, sizeof(peer), "%s", host);
	memset(&r, 0, sizeof(r));
	if (!sock_connect(host, svc, co, &fd, &e)) {
		r.tcp_ns = clock_mono_ns() - t0;
		if ((t->starttls == TLS_STARTTLS_NONE ||
		     !tls_starttls(fd, t->starttls, host, TLS_HANDSHAKE_TIMEOUT, &e)) &&
		    !tls_connect(c, fd, host, &conn, &r, &e)) {
			ok = r.verify_ok || t->no_verify;
			if (s->json)
				tls_show_report(s, stdout, &r, peer, port);
			else {
				printf("%s %u tls %s %s verify %s; subject %s; issuer %s; not after "
				       "%s (%ld days left)\n",
				       host, port, r.version, r.cipher, r.verify_reason,
				       r.nchain ? r.chain[0].subject : "-",
				       r.nchain ? r.chain[0].issuer : "-",
				       r.nchain ? r.chain[0].not_after : "-",
				       r.nchain ? r.chain[0].days_left : 0L);
				tls_show_report(s, stderr, &r, peer, port);
			}
			tls_conn_close(conn, 1);
		}
		close(fd);
	}
	if (e.msg[0]) {
		if (s->json) {
			json_begin(&w, stdout);
			json_str(&w, "event", "tls");
			json_str(&w, "peer", peer);
			json_uint(&w, "port", port);
			json_bool(&w, "verified", 0);
			json_str(&w, "error", e.msg);
			json_end(&w);
		} else {
			printf("%s %u error %s\n", host, port, e.msg);
		}
	}
	fflush(stdout);
	return ok;
}

int tls_client_scan(const struct tls_show *s, struct cmd_sandbox *sb,
		    const struct tls_opts *t, const char *host,
		    const char *ports, int family, int64_t timeout, const struct sockopts *so,
		    struct err *e)
{
	struct port_list pl;
	struct sock_connect_opts co;
	struct tls_ctx *c = NULL;
	size_t i, good = 0;

	if (addr_parse_port_list(ports, "tcp", &pl, e))
		return -1;
	if (tls_client_ctx(t, &c, e) ||
	    (sb && (cmd_sandbox_read_paths(sb, 1, t->ca, 1, e) ||
		    (t->session && cmd_sandbox_dir_of(sb, t->session,
						      SB_FS_READ | SB_FS_WRITE | SB_FS_CREATE, e)) ||
		    cmd_sandbox_enter(sb, t->session ? &sb_connect_scan_tls_session
						     : &sb_connect_scan_tls, e)))) {
		tls_ctx_free(c);
		addr_port_list_free(&pl);
		return -1;
	}
	sock_connect_opts_init(&co);
	co.family = family;
	co.type = SOCK_STREAM;
	co.timeout = timeout > 0 ? timeout : NS_PER_SEC;
	co.so = so;
	for (i = 0; i < pl.n; i++) {
		unsigned p;

		for (p = pl.r[i].lo; p <= pl.r[i].hi; p++)
			good += (size_t)scan_one(s, t, c, host, p, &co);
	}
	tls_ctx_free(c);
	addr_port_list_free(&pl);
	if (!good)
		return err_set(e, EXIT_FAIL, "%s: no port completed a verified TLS handshake", host);
	return 0;
}
