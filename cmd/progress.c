/* SPDX-License-Identifier: MIT */
/*
 * --progress for connect and listen: the relay's progress hook
 * (relay_opts.progress) shown as pv shows it, on stderr when it is a
 * terminal, one line rewritten in place: bytes, rate and, when the length
 * is known, percentage and ETA; at most 4 updates a second.  With --json,
 * "progress" events instead, terminal or not.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "out.h"
#include "relay.h"

#define PROGRESS_EVERY (NS_PER_SEC_PROGRESS / 4)
#define NS_PER_SEC_PROGRESS 1000000000LL

/* One relay per process (connect, or listen without -k): its view. */
static struct {
	int json;
	uint64_t total; /* 0: unknown */
} view;

/* 1.5 MiB, 980 B: @v bytes for a person. */
static const char *human(double v, char *buf, size_t n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	size_t i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
	return buf;
}

static void show(void *arg, const struct relay_stats *st, int64_t now_ns, int final)
{
	double secs = (double)(now_ns - st->start_ns) / 1e9;
	uint64_t sent = st->to_sock, moved = st->to_sock + st->to_out;
	double rate = secs > 0 ? (double)moved / secs : 0, srate = secs > 0 ? sent / secs : 0;
	double eta = view.total > sent && srate > 0 ? (double)(view.total - sent) / srate : -1;
	char a[32], b[32], c[32];
	struct jsonw w;

	(void)arg;
	if (view.json) {
		json_begin(&w, stderr);
		json_str(&w, "event", "progress");
		json_uint(&w, "sent", sent);
		json_uint(&w, "received", st->to_out);
		if (view.total)
			json_uint(&w, "total", view.total);
		else
			json_null(&w, "total");
		json_num(&w, "seconds", secs, 3);
		json_num(&w, "rate_bps", rate, 0);
		if (eta >= 0 && !final)
			json_num(&w, "eta_s", eta, 1);
		else
			json_null(&w, "eta_s");
		json_bool(&w, "final", final);
		json_end(&w);
		fflush(stderr);
		return;
	}
	fprintf(stderr, "\r%s sent", human((double)sent, a, sizeof(a)));
	if (view.total)
		fprintf(stderr, " of %s (%.0f%%)", human((double)view.total, b, sizeof(b)),
			100.0 * (double)sent / (double)view.total);
	fprintf(stderr, ", %s received, %s/s", human((double)st->to_out, b, sizeof(b)),
		human(rate, c, sizeof(c)));
	if (eta >= 0 && !final)
		fprintf(stderr, ", ETA %d:%02d", (int)eta / 60, (int)eta % 60);
	fputs(final ? "\033[K\n" : "\033[K", stderr);
	fflush(stderr);
}

void cmd_progress_attach(struct relay_opts *ro, const struct relay_eof_opts *eo, int json,
			 int in_fd)
{
	if (!eo->progress || (!json && !isatty(STDERR_FILENO)))
		return;
	view.json = json;
	view.total = relay_expected_size(eo, ro->recv_only ? -1 : in_fd);
	ro->progress = show;
	ro->progress_every = PROGRESS_EVERY;
}
