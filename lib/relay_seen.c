/* SPDX-License-Identifier: MIT */
/*
 * -C, --delay and the session log's tap, one direction at a time: the same
 * code for every relay that moves bytes through a user-space buffer
 * (relay_run's buffered channels, tls_relay's plaintext).
 */
#include "relay.h"

#include <string.h>

#include "clock.h"

size_t relay_crlf(char *p, size_t n, int *last_cr)
{
	size_t add = 0, i, j;
	int cr = *last_cr;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' && !cr)
			add++;
		cr = p[i] == '\r';
	}
	if (add) {
		/* from the end back: each lone LF gets its CR */
		for (i = n, j = n + add; i > 0; i--) {
			char ch = p[i - 1];

			p[--j] = ch;
			if (ch == '\n' && !(i >= 2 ? p[i - 2] == '\r' : *last_cr))
				p[--j] = '\r';
		}
	}
	*last_cr = cr;
	return n + add;
}

void relay_seen_init(struct relay_seen *s, const struct relay_opts *o, int to_sock)
{
	memset(s, 0, sizeof(*s));
	s->to_sock = to_sock;
	s->tap = o->tap;
	s->tap_ctx = o->tap_ctx;
	/* what stdin (or the program) sends, never what the peer sends */
	s->crlf = to_sock && o->crlf;
	s->line_delay = to_sock ? o->line_delay : 0;
}

int relay_seen_any(const struct relay_opts *o)
{
	return o->tap || o->crlf || o->line_delay > 0;
}

size_t relay_seen_room(const struct relay_seen *s, size_t room)
{
	return s->crlf ? room / 2 : room; /* every byte may become two */
}

size_t relay_seen_read(struct relay_seen *s, char *p, size_t n)
{
	return s->crlf ? relay_crlf(p, n, &s->last_cr) : n;
}

size_t relay_seen_chunk(const struct relay_seen *s, const char *p, size_t n)
{
	const char *nl;

	if (s->line_delay <= 0)
		return n;
	/* one line at a time, the delay after each */
	nl = memchr(p, '\n', n);
	return nl ? (size_t)(nl - p) + 1 : n;
}

int relay_seen_held(const struct relay_seen *s)
{
	return s->hold_until && clock_mono_ns() < s->hold_until;
}

int relay_seen_wrote(struct relay_seen *s, const void *p, size_t n)
{
	if (!n)
		return 0;
	if (s->tap && s->tap(s->tap_ctx, s->to_sock, p, n))
		return -1;
	if (s->line_delay > 0 && ((const char *)p)[n - 1] == '\n')
		s->hold_until = clock_mono_ns() + s->line_delay;
	return 0;
}
