/* SPDX-License-Identifier: MIT */
/* How a serving command shows lib/server's events: text with -v, or JSON Lines. */
#include "server_show.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "out.h"
#include "parse.h"
#include "sock_rxq.h"

static void event_json(const struct server_event *ev)
{
	static const char *const names[] = { "connection", "closed", "refused", "paused",
					     "resumed" };
	struct jsonw w;

	json_begin(&w, stderr);
	json_str(&w, "event", names[ev->type]);
	if (ev->id)
		json_uint(&w, "id", ev->id);
	if (ev->peer)
		json_sockaddr(&w, ev->peer, ev->peerlen);
	if (ev->type == SERVER_EV_CLOSED) {
		json_uint(&w, "bytes_in", ev->bytes_in);
		json_uint(&w, "bytes_out", ev->bytes_out);
		json_num(&w, "duration_ms", (double)ev->duration_ns / 1e6, 3);
	}
	if (ev->reason)
		json_str(&w, "reason", ev->reason);
	if (ev->errnum)
		json_str(&w, "errno", err_errno_name(ev->errnum));
	if (ev->undelivered)
		json_uint(&w, "undelivered", ev->undelivered);
	if (ev->suppressed)
		json_uint(&w, "suppressed", ev->suppressed);
	json_end(&w);
	fflush(stderr);
}

void server_show_event(void *ctx, const struct server_event *ev)
{
	struct server_show *c = ctx;
	char peer[ADDR_STRLEN + 16], dur[32], why[128];

	if (c->json) {
		event_json(ev);
		return;
	}
	if (ev->type == SERVER_EV_PAUSED && (c->verbose || !c->warned)) {
		c->warned = 1;
		err_msg(c->cmd, "accept: %s; not accepting until a descriptor is free",
			err_errno_desc(ev->errnum, why, sizeof(why)));
		return;
	}
	if (!c->verbose)
		return;
	if (ev->peer)
		addr_format(ev->peer, ev->peerlen, peer, sizeof(peer));
	switch (ev->type) {
	case SERVER_EV_CONNECTION:
		err_msg(c->cmd, "connection from %s", peer);
		break;
	case SERVER_EV_CLOSED:
		if (ev->errnum)
			snprintf(why, sizeof(why), "%s, %s", ev->reason,
				 err_errno_name(ev->errnum));
		else
			snprintf(why, sizeof(why), "%s", ev->reason);
		if (ev->undelivered)
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "; %llu bytes of stdin not delivered",
				 (unsigned long long)ev->undelivered);
		err_msg(c->cmd, "closed %s: %llu bytes in, %llu bytes out, %s (%s)", peer,
			(unsigned long long)ev->bytes_in, (unsigned long long)ev->bytes_out,
			parse_format_duration(ev->duration_ns, dur, sizeof(dur)), why);
		break;
	case SERVER_EV_REFUSED:
		if (ev->suppressed)
			err_msg(c->cmd, "refused %s: %s (%llu more refusals not shown before this one)",
				peer, ev->reason, (unsigned long long)ev->suppressed);
		else
			err_msg(c->cmd, "refused %s: %s", peer, ev->reason);
		break;
	case SERVER_EV_RESUMED:
		err_msg(c->cmd, "accepting again");
		break;
	case SERVER_EV_PAUSED:
		break;
	}
}

void server_show_listening(const struct server_show *s, const int *fds, int n, int udp,
			   const char *unix_path)
{
	int i;

	for (i = 0; i < n; i++) {
		struct sockaddr_storage ss = { 0 };
		socklen_t len = sizeof(ss);
		char buf[ADDR_STRLEN + 16];
		struct jsonw w;

		if (getsockname(fds[i], (struct sockaddr *)&ss, &len))
			continue;
		if (s->json) {
			json_begin(&w, stderr);
			json_str(&w, "event", "listening");
			json_str(&w, "protocol", ss.ss_family == AF_UNIX ? "unix"
						 : udp	       ? "udp"
									: "tcp");
			if (ss.ss_family == AF_UNIX && unix_path)
				json_str(&w, "address", unix_path);
			else
				json_sockaddr(&w, (struct sockaddr *)&ss, len);
			json_end(&w);
		} else if (s->verbose) {
			if (ss.ss_family == AF_UNIX && unix_path)
				snprintf(buf, sizeof(buf), "unix:%s", unix_path);
			else
				addr_format((struct sockaddr *)&ss, len, buf, sizeof(buf));
			err_msg(s->cmd, "listening on %s", buf);
		}
	}
	fflush(stderr);
}

int server_show_rcvbuf(const struct server_show *s, const int *fds, int n, int rcvbuf,
		       struct err *e)
{
	int i;

	for (i = 0; i < n; i++) {
		struct sock_rxq_buf rb;
		char d[160];

		if (rcvbuf < 0 && sock_rxq_flood_default(fds[i], &rb, e))
			return -1;
		if (s->verbose)
			err_msg(s->cmd, "%s", sock_rxq_describe(fds[i], rcvbuf, &rb, d, sizeof(d)));
	}
	return 0;
}

void server_show_drops(const struct server_show *s, const struct server_stats *st)
{
	if (st->sock_drops)
		err_msg(s->cmd, "%llu datagrams were dropped at this socket (receive buffer full): "
				"raise --rcvbuf",
			(unsigned long long)st->sock_drops);
	else if (s->verbose)
		err_msg(s->cmd, "dropped at this socket (receive buffer full): 0");
}
