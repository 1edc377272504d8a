/* SPDX-License-Identifier: MIT */
/* listen --forward: every client to its own outbound connection (lib/forward). */
#include "listen_forward.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "clock.h"
#include "err.h"
#include "listen.h"
#include "out.h"
#include "parse.h"
#include "sock.h"

/* A forwarding fd pair and up to two pipes per client, besides the listeners. */
#define FDS_PER_CLIENT 6

static void event_json(const struct forward_event *ev)
{
	char target[ADDR_STRLEN];
	struct jsonw w;

	json_begin(&w, stderr);
	json_str(&w, "event", "forward");
	json_uint(&w, "id", ev->id);
	json_sockaddr(&w, ev->client, ev->clientlen);
	if (ev->target)
		json_str(&w, "target", addr_format(ev->target, ev->targetlen, target,
						   sizeof(target)));
	json_uint(&w, "bytes_up", ev->bytes_up);
	json_uint(&w, "bytes_down", ev->bytes_down);
	json_num(&w, "duration_ms", (double)ev->duration_ns / 1e6, 3);
	json_str(&w, "reason", ev->reason);
	if (ev->side)
		json_str(&w, "side", ev->side);
	if (ev->errnum)
		json_str(&w, "errno", err_errno_name(ev->errnum));
	if (ev->error)
		json_str(&w, "error", ev->error);
	listen_ftls_json(&w, ev);
	json_end(&w);
	fflush(stderr);
}

void forward_show_event(void *ctx, const struct forward_event *ev)
{
	const struct server_show *c = ctx;
	char client[ADDR_STRLEN], target[ADDR_STRLEN], dur[32], why[160];

	if (c->json) {
		event_json(ev);
		return;
	}
	addr_format(ev->client, ev->clientlen, client, sizeof(client));
	if (ev->error) {
		/* the client was reset: say why, -v or not */
		err_warn(c->cmd, "%s: forward failed: %s", client, ev->error);
		if (!ev->target)
			return;
	}
	if (!c->verbose)
		return;
	if (ev->errnum)
		snprintf(why, sizeof(why), "%s by the %s, %s", ev->reason, ev->side,
			 err_errno_name(ev->errnum));
	else
		snprintf(why, sizeof(why), "%s", ev->reason);
	err_msg(c->cmd, "forwarded %s -> %s: %llu bytes up, %llu down, %s (%s)", client,
		ev->target ? addr_format(ev->target, ev->targetlen, target, sizeof(target)) : "?",
		(unsigned long long)ev->bytes_up, (unsigned long long)ev->bytes_down,
		parse_format_duration(ev->duration_ns, dur, sizeof(dur)), why);
	listen_ftls_text(c, ev);
}

/* Without -k the one client's forwarding is the job: its failure is listen's. */
struct one {
	struct server_show *show;
	int failed;
	char why[400];
};

static void one_event(void *ctx, const struct forward_event *ev)
{
	struct one *o = ctx;
	char client[ADDR_STRLEN];

	forward_show_event(o->show, ev);
	if (ev->error)
		snprintf(o->why, sizeof(o->why), "%s", ev->error);
	else if (ev->errnum)
		snprintf(o->why, sizeof(o->why), "%s by the %s after %llu bytes up, %llu down",
			 ev->reason, ev->side, (unsigned long long)ev->bytes_up,
			 (unsigned long long)ev->bytes_down);
	else
		return;
	o->failed = 1;
	addr_format(ev->client, ev->clientlen, client, sizeof(client));
	snprintf(o->why + strlen(o->why), sizeof(o->why) - strlen(o->why), " (client %s)",
		 client);
}

/* --proxy: the outbound leg is a tunnel (blocking: lib/forward's hook says so). */
static int open_via_proxy(const struct forward_server *f, int *fd, struct err *e)
{
	return connect_proxy_open(f->open_ctx, &f->target, &f->co, fd, e);
}

int listen_forward_serve(const struct listen_opts *o, struct server_show *show,
			 const struct server_opts *so, int *fds, int n, struct err *e)
{
	const struct endpoint *target = &o->fwd;
	const struct connect_proxy *px = &o->fpx;
	int64_t connect_timeout = o->connect_timeout;
	struct forward_server f;
	struct server_opts kso = *so;
	struct server_stats st;
	int rc, type = SOCK_STREAM;
	socklen_t tl = sizeof(type);
	struct one one = { .show = show };

	forward_server_init(&f, target, so->keep_open ? forward_show_event : one_event,
			    so->keep_open ? (void *)show : (void *)&one);
	f.co.so = &o->so;
	f.co.timeout = connect_timeout >= 0 ? connect_timeout : FORWARD_CONNECT_TIMEOUT;
	if (px && px->on) {
		f.open_target = open_via_proxy;
		f.open_ctx = (void *)px;
	}
	getsockopt(fds[0], SOL_SOCKET, SO_TYPE, &type, &tl);
	if (type == SOCK_DGRAM) {
		if (listen_sandbox(o, e)) {
			sock_close_all(fds, n);
			return -1;
		}
		rc = forward_udp_run(fds, n, &f, so, e);
		sock_close_all(fds, n);
		if (!rc && one.failed)
			return err_set(e, EXIT_FAIL, "forward failed: %s", one.why);
		return rc;
	}
	/* the TLS contexts (certificates, CA store) are made before the sandbox */
	if (listen_ftls_setup(o, show, fds, n, &f, e) || listen_sandbox(o, e)) {
		listen_ftls_free(&f);
		sock_close_all(fds, n);
		return -1;
	}
	kso.handoff = &f.handoff;
	kso.in_fd = kso.out_fd = -1;
	/* without -m: the open-file limit counted per client, not per socket */
	if (!kso.max_conns && kso.max_serving > FDS_PER_CLIENT)
		kso.max_serving /= FDS_PER_CLIENT;
	rc = server_run_stream(fds, n, &kso, &st, e);
	sock_close_all(fds, n);
	listen_ftls_free(&f);
	if (!rc && one.failed)
		return err_set(e, EXIT_FAIL, "forward failed: %s", one.why);
	return rc;
}
