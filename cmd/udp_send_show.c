/* SPDX-License-Identifier: MIT */
/* sockctl udp-send's output: the replies of -W as they come, and the summary. */
#include <stdio.h>

#include "cmd.h"
#include "out.h"
#include "udp_send.h"

/* What the engine reports: replies to stdout, notes to stderr. */
int udp_send_on_tx(void *ctx, const struct dgram_tx_event *ev)
{
	struct send_ctx *c = ctx;
	struct dgram_shown d;

	switch (ev->type) {
	case DGRAM_TX_REPLY:
		dgram_shown_set(&d, ev->from, ev->fromlen, ev->data, ev->len, ev->cap, ev->real_ns,
				ev->rtt_ns, c->utf8);
		d.event = "reply";
		dgram_out_add(&c->out, c->o->json ? DGRAM_JSON : DGRAM_TEXT, &d);
		if (c->live && cmd_dgram_flush(&c->out, &c->out_err)) {
			c->out_failed = 1;
			return -1;
		}
		return 0;
	case DGRAM_TX_BATCH_END:
		if (cmd_dgram_flush(&c->out, &c->out_err)) {
			c->out_failed = 1;
			return -1;
		}
		return 0;
	case DGRAM_TX_NOTE:
		if (c->o->verbose)
			err_msg("udp-send", "%s", ev->text);
		return 0;
	case DGRAM_TX_PEER_LEFT:
		/* without -W, a receiver leaving at the end marker (--until-end) is the protocol */
		if (!c->o->quiet && (c->o->wait >= 0 || c->o->verbose))
			err_msg("udp-send", "%s after %s (not an error: the receiver has left)",
				ev->text, ev->after_marker ? "the end marker" : "the last reply");
		return 0;
	}
	return 0;
}

void udp_send_summary(const struct send_ctx *c)
{
	const struct send_opts *o = c->o;
	const struct dgram_tx *tx = &c->tx;
	char host[ADDR_STRLEN];
	double mn, av, mx, md;
	int have_rtt = !rtt_ms(&tx->rtt, &mn, &av, &mx, &md);

	if (o->json) {
		struct jsonw w;

		json_begin(&w, stdout);
		json_str(&w, "event", "summary");
		json_str(&w, "to", addr_ntop((struct sockaddr *)&c->dst, c->dstlen, host,
					     sizeof(host)));
		json_uint(&w, "port", addr_port((struct sockaddr *)&c->dst));
		json_uint(&w, "sent", tx->sent);
		json_uint(&w, "bytes", tx->bytes);
		if (o->wait >= 0) {
			json_uint(&w, "replies", tx->replies);
			json_uint(&w, "bad_stamps", tx->bad_stamps);
		}
		if (have_rtt) {
			json_num(&w, "rtt_min_ms", mn, 3);
			json_num(&w, "rtt_avg_ms", av, 3);
			json_num(&w, "rtt_max_ms", mx, 3);
		}
		json_end(&w);
		return;
	}
	if (o->quiet)
		return;
	fflush(stdout);
	fprintf(stderr, "sockctl udp-send: %llu datagram%s, %llu bytes sent to %s",
		(unsigned long long)tx->sent, tx->sent == 1 ? "" : "s", (unsigned long long)tx->bytes,
		c->dstname);
	if (o->wait >= 0)
		fprintf(stderr, "; %llu repl%s", (unsigned long long)tx->replies,
			tx->replies == 1 ? "y" : "ies");
	if (have_rtt)
		fprintf(stderr, ", rtt min/avg/max %.3f/%.3f/%.3f ms", mn, av, mx);
	if (tx->bad_stamps)
		fprintf(stderr, "; %llu repl%s stamped in the future or over an hour ago (no rtt)",
			(unsigned long long)tx->bad_stamps, tx->bad_stamps == 1 ? "y" : "ies");
	fputc('\n', stderr);
}
