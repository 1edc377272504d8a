/* SPDX-License-Identifier: MIT */
/* -C, --delay, -o, --hex-dump: what connect and listen do with the relayed bytes. */
#include "session_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "out.h"

void session_opts_init(struct session_opts *s)
{
	memset(s, 0, sizeof(*s));
	s->delay = -1;
}

int session_opts_any(const struct session_opts *s)
{
	return s->crlf || s->delay > 0 || s->output || s->hex_dump;
}

static int open_log(const char *path, const char *opt, int *fd, struct err *e)
{
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (*fd < 0)
		return err_sys(e, EXIT_FAIL, errno, "%s %.200s", opt, path);
	return 0;
}

int session_log_open(struct session_log *l, const struct session_opts *s, struct err *e)
{
	memset(l, 0, sizeof(*l));
	l->fd = l->hex = -1;
	if (s->output && open_log(s->output, "-o", &l->fd, e))
		return -1;
	if (s->hex_dump && open_log(s->hex_dump, "--hex-dump", &l->hex, e)) {
		session_log_close(l);
		return -1;
	}
	if (l->hex >= 0 && !(l->hexf = fdopen(l->hex, "w"))) {
		session_log_close(l);
		return err_sys(e, EXIT_FAIL, errno, "--hex-dump %.200s", s->hex_dump);
	}
	return 0;
}

void session_log_close(struct session_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->hexf)
		fclose(l->hexf); /* closes l->hex */
	else if (l->hex >= 0)
		close(l->hex);
	l->hexf = NULL;
	l->fd = l->hex = -1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* "> 0 5 2026-12-01T18:00:00.123456Z\n" */
static size_t header(char *buf, size_t len, int to_sock, uint64_t off, size_t n)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	return (size_t)snprintf(buf, len, "%c %llu %zu %s.%06ldZ\n", to_sock ? '>' : '<',
				(unsigned long long)off, n, when, ts.tv_nsec / 1000);
}

static int tap(void *ctx, int to_sock, const void *data, size_t n)
{
	struct session_log *l = ctx;
	uint64_t off = l->off[to_sock];
	char head[96];
	size_t hl = header(head, sizeof(head), to_sock, off, n);

	l->off[to_sock] += n;
	if (l->fd >= 0 && (write_all(l->fd, head, hl) || write_all(l->fd, data, n) ||
			   write_all(l->fd, "\n", 1)))
		return -1;
	if (!l->hexf)
		return 0;
	fwrite(head, 1, hl, l->hexf);
	out_hexdump(l->hexf, data, n, off);
	/* out before the relay goes on: a crash loses nothing already relayed */
	return fflush(l->hexf) ? -1 : 0;
}

void session_log_apply(struct session_log *l, const struct session_opts *s,
		       struct relay_opts *ro)
{
	ro->crlf = s->crlf;
	ro->line_delay = s->delay > 0 ? s->delay : 0;
	if (l->fd >= 0 || l->hexf) {
		ro->tap = tap;
		ro->tap_ctx = l;
	}
}
