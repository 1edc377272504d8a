/* SPDX-License-Identifier: MIT */
/* sockctl connect's output: each connect attempt, both ends, the end of the relay, TCP_INFO. */
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* glibc's struct tcp_info lacks tcpi_delivery_rate */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "connect.h"
#include "err.h"
#include "out.h"
#include "parse.h"

/* Each connect attempt, for -v, --json and --nonblock. */
void connect_on_attempt(void *p, const struct sock_attempt *a)
{
	const struct connect_ctx *c = p;
	char where[ADDR_STRLEN], dur[32], why[ERR_DESC_LEN];
	struct jsonw w;

	addr_format(a->addr, a->addrlen, where, sizeof(where));
	parse_format_duration(a->ns, dur, sizeof(dur));
	if (c->o->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", a->ev == SOCK_EV_START ? "attempt" : "result");
		json_sockaddr(&w, a->addr, a->addrlen);
		json_str(&w, a->ev == SOCK_EV_START ? "connect" : "so_error",
			 a->err ? err_errno_name(a->err) : "0");
		json_int(&w, "errno", a->err);
		json_num(&w, "ms", (double)a->ns / 1e6, 3);
		json_num(&w, "start_ms", (double)a->at_ns / 1e6, 3);
		json_end(&w);
		return;
	}
	if (c->o->nonblock) {
		if (a->ev == SOCK_EV_START)
			err_msg("connect", "connect(%s) = %s (%s %d)", where, a->err ? "-1" : "0",
				a->err ? err_errno_name(a->err) : "OK", a->err);
		else
			err_msg("connect", "%s: SO_ERROR = %s (%d) after %s", where,
				a->err ? err_errno_name(a->err) : "0", a->err, dur);
		return;
	}
	if (!c->o->verbose)
		return;
	if (a->ev == SOCK_EV_START && (!a->err || a->err == EINPROGRESS))
		err_msg("connect", "trying %s at +%.3fs", where, (double)a->at_ns / 1e9);
	else if (a->ev == SOCK_EV_RESULT && !a->err)
		err_msg("connect", "connected to %s in %s", where, dur);
	else if (a->ev == SOCK_EV_RESULT || a->err != EINPROGRESS)
		err_msg("connect", "%s: %s after %s", where,
			a->timed_out ? "timed out" : err_errno_desc(a->err, why, sizeof(why)), dur);
}

void connect_show_tcp_info(const struct connect_opts *o, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct jsonw w;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return;
	if (o->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", "tcp_info");
		json_num(&w, "rtt_ms", ti.tcpi_rtt / 1e3, 3);
		json_num(&w, "rttvar_ms", ti.tcpi_rttvar / 1e3, 3);
		json_uint(&w, "retransmits", ti.tcpi_total_retrans);
		json_uint(&w, "cwnd", ti.tcpi_snd_cwnd);
		json_uint(&w, "pmtu", ti.tcpi_pmtu);
		json_uint(&w, "mss", ti.tcpi_snd_mss);
		json_uint(&w, "delivery_rate", ti.tcpi_delivery_rate);
		json_end(&w);
		return;
	}
	err_msg("connect", "tcp_info: rtt %.3fms rttvar %.3fms retransmits %u cwnd %u pmtu %u "
			   "mss %u delivery_rate %llu B/s",
		ti.tcpi_rtt / 1e3, ti.tcpi_rttvar / 1e3, ti.tcpi_total_retrans, ti.tcpi_snd_cwnd,
		ti.tcpi_pmtu, ti.tcpi_snd_mss, (unsigned long long)ti.tcpi_delivery_rate);
}

/* Show both ends (-v, --json); the peer's name goes to @pb for later messages. */
void connect_show_ends(const struct connect_opts *o, int fd, char *pb)
{
	struct sockaddr_storage l, p;
	socklen_t ll = sizeof(l), pl = sizeof(p);
	char lb[ADDR_STRLEN];
	struct jsonw w;

	if (getsockname(fd, (struct sockaddr *)&l, &ll) ||
	    getpeername(fd, (struct sockaddr *)&p, &pl))
		return;
	addr_format((struct sockaddr *)&p, pl, pb, ADDR_STRLEN);
	if (o->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", "connected");
		json_str(&w, "local", addr_format((struct sockaddr *)&l, ll, lb, sizeof(lb)));
		json_str(&w, "peer", pb);
		json_end(&w);
	} else if (o->verbose) {
		err_msg("connect", "local %s, peer %s",
			addr_format((struct sockaddr *)&l, ll, lb, sizeof(lb)),
			pb);
	}
}

void connect_show_end(const struct connect_opts *o, const struct relay_stats *st, int rc)
{
	char dur[32];
	struct jsonw w;
	int64_t took = st->end_ns - st->start_ns;
	int errnum = relay_end_errno(rc, st);

	if (o->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", "closed");
		json_uint(&w, "sent", st->to_sock);
		json_uint(&w, "received", st->to_out);
		json_num(&w, "ms", (double)took / 1e6, 3);
		json_bool(&w, "peer_closed", st->peer_eof);
		json_bool(&w, "ok", rc == 0);
		json_str(&w, "reason", relay_end_reason(rc, st));
		if (errnum)
			json_str(&w, "errno", err_errno_name(errnum));
		if (st->undelivered)
			json_uint(&w, "undelivered", st->undelivered);
		json_end(&w);
	} else if (o->verbose) {
		err_msg("connect", "%llu bytes sent, %llu received in %s%s",
			(unsigned long long)st->to_sock, (unsigned long long)st->to_out,
			parse_format_duration(took, dur, sizeof(dur)),
			st->peer_eof ? " (peer closed)" : "");
	}
}
