/* SPDX-License-Identifier: MIT */
/*
 * listen --forward with TLS on a leg: --tls (termination: the clients speak
 * TLS to us) and --forward-tls (we speak TLS to the target), the options'
 * checks, the contexts, and the TLS facts of the forward event.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "listen.h"
#include "listen_forward.h"
#include "out.h"
#include "tls_show.h"

int listen_ftls_check(const struct listen_opts *o, struct err *e)
{
	const struct listen_ftls *t = &o->ftls;

	if ((t->ca || t->sni || t->insecure) && !t->on)
		return err_set(e, EXIT_USAGE,
			       "--forward-ca, --forward-sni and --forward-insecure need --forward-tls");
	if (!t->on)
		return 0;
	if (!o->forward)
		return err_set(e, EXIT_USAGE, "--forward-tls needs --forward HOST:PORT");
	if (o->udp)
		return err_set(e, EXIT_USAGE, "--forward-tls needs a stream listener (not -u)");
	if (t->ca && t->insecure)
		return err_set(e, EXIT_USAGE, "--forward-ca and --forward-insecure exclude each other");
	if (o->fwd.kind == EP_UNIX && !t->sni && !t->insecure)
		return err_set(e, EXIT_USAGE, "--forward-tls to a unix: target needs --forward-sni "
					      "NAME (the name to check) or --forward-insecure");
	return 0;
}

/* The clients' handshakes: listen --tls's "tls" event, as without --forward. */
static void client_tls(void *ctx, uint64_t id, const struct sockaddr *client, socklen_t len,
		       const struct tls_report *r)
{
	const struct server_show *ss = ctx;
	const struct tls_show s = { ss->cmd, ss->verbose, ss->json };
	char who[ADDR_STRLEN];

	(void)id;
	addr_format(client, len, who, sizeof(who));
	tls_show_report(&s, stderr, r, who, 0);
}

int listen_ftls_setup(const struct listen_opts *o, struct server_show *show, const int *fds,
		      int n, struct forward_server *f, struct err *e)
{
	const struct tls_show s = { "listen", o->verbose, o->json };
	struct tls_opts to;
	char msg[sizeof(e->msg)];

	if (!o->tls.tls && !o->ftls.on)
		return 0;
	/* a leg's peer gone mid-record: EPIPE from SSL_write, not the end of listen */
	signal(SIGPIPE, SIG_IGN);
	if (o->tls.tls) {
		if (listen_tls_ctx(&s, &o->tls, fds, n, &f->tls_client, e))
			return -1;
		f->on_tls_client = client_tls;
		f->tls_hook_ctx = show;
	}
	if (!o->ftls.on)
		return 0;
	tls_opts_init(&to);
	to.tls = 1;
	to.ca = o->ftls.ca;
	to.sni = to.verify_name = o->ftls.sni;
	to.no_verify = o->ftls.insecure;
	if (forward_tls_target_ctx(&to, &f->tls_target, e)) {
		snprintf(msg, sizeof(msg), "%s", e->msg);
		err_set(e, e->status, "--forward-tls: %s", msg);
		listen_ftls_free(f);
		return -1;
	}
	f->tls_host = o->fwd.kind == EP_INET ? o->fwd.host : NULL;
	if (o->ftls.insecure)
		err_warn("listen", "--forward-insecure: the target's certificate is not verified "
				   "(each forward event shows what verification said)");
	return 0;
}

void listen_ftls_free(struct forward_server *f)
{
	tls_ctx_free(f->tls_client);
	tls_ctx_free(f->tls_target);
	f->tls_client = f->tls_target = NULL;
}

void listen_ftls_json(struct jsonw *w, const struct forward_event *ev)
{
	const struct forward_tls_leg *c = ev->tls_client, *t = ev->tls_target;

	if (c) {
		json_str(w, "client_tls_version", c->version);
		json_str(w, "client_tls_cipher", c->cipher);
		if (c->verify_done)
			json_str(w, "client_verify", c->verify);
	}
	if (t) {
		json_str(w, "target_tls_version", t->version);
		json_str(w, "target_tls_cipher", t->cipher);
		json_str(w, "target_verify", t->verify);
	}
}

void listen_ftls_text(const struct server_show *c, const struct forward_event *ev)
{
	const struct forward_tls_leg *cl = ev->tls_client, *t = ev->tls_target;

	if (cl)
		err_msg(c->cmd, "  client leg: %s %s%s%s", cl->version, cl->cipher,
			cl->verify_done ? ", client certificate " : "",
			cl->verify_done ? cl->verify : "");
	if (t)
		err_msg(c->cmd, "  target leg: %s %s, certificate %s", t->version, t->cipher,
			t->verify);
}
