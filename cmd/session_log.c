/* SPDX-License-Identifier: MIT */
/* -C, --delay, -o, --hex-dump: what connect and listen do with the relayed bytes. */
#include "session_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "out.h"
#include "server.h"

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
	/* O_APPEND: listen -k's relay processes share it, one write(2) per record */
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0666);
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
	return 0;
}

void session_log_close(struct session_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->hex >= 0)
		close(l->hex);
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

/* "> 0 5 2026-12-01T18:00:00.123456Z\n"; with a client @id " ID PEER" before the "\n" */
static size_t header(char *buf, size_t len, int to_sock, uint64_t off, size_t n, uint64_t id,
		     const char *who)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	int k;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (id)
		k = snprintf(buf, len, "%c %llu %zu %s.%06ldZ %llu %s\n", to_sock ? '>' : '<',
			     (unsigned long long)off, n, when, ts.tv_nsec / 1000,
			     (unsigned long long)id, who);
	else
		k = snprintf(buf, len, "%c %llu %zu %s.%06ldZ\n", to_sock ? '>' : '<',
			     (unsigned long long)off, n, when, ts.tv_nsec / 1000);
	return k < 0 ? 0 : (size_t)k >= len ? len - 1 : (size_t)k;
}

static int log_raw(int fd, const char *head, size_t hl, const void *data, size_t n)
{
	struct iovec iov[3] = { { (void *)head, hl }, { (void *)data, n }, { "\n", 1 } };
	size_t total = hl + n + 1, done = 0, i;
	ssize_t w;

	do
		w = writev(fd, iov, 3);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return -1;
	/* short (a full disk): the rest in order, the record may then be split */
	for (done = (size_t)w, i = 0; done < total && i < 3; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		if (write_all(fd, (const char *)iov[i].iov_base + done, iov[i].iov_len - done))
			return -1;
		done = 0;
	}
	return 0;
}

/* --hex-dump: the record is made in memory, then goes out in one write(2). */
static int log_hex(int fd, const char *head, size_t hl, const void *data, size_t n,
		   uint64_t off)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int rc;

	if (!m)
		return -1;
	fwrite(head, 1, hl, m);
	out_hexdump(m, data, n, off);
	rc = fclose(m);
	if (!rc)
		rc = write_all(fd, buf, len);
	free(buf);
	return rc ? -1 : 0;
}

/* One record in each log, written out before the relay goes on: a crash loses nothing. */
static int record(const struct session_log *l, int to_sock, uint64_t off, uint64_t id,
		  const char *who, const void *data, size_t n)
{
	char head[96 + ADDR_STRLEN];
	size_t hl = header(head, sizeof(head), to_sock, off, n, id, who);

	if (l->fd >= 0 && log_raw(l->fd, head, hl, data, n))
		return -1;
	return l->hex >= 0 ? log_hex(l->hex, head, hl, data, n, off) : 0;
}

static int tap(void *ctx, int to_sock, const void *data, size_t n)
{
	struct session_log *l = ctx;
	uint64_t off = l->off[to_sock];

	l->off[to_sock] += n;
	return record(l, to_sock, off, l->client, l->who, data, n);
}

/* listen -k without -e: lib/server's tap, every client named */
static int server_tap(void *ctx, uint64_t id, const struct sockaddr *peer, socklen_t peerlen,
		      int to_client, uint64_t off, const void *data, size_t n)
{
	char who[ADDR_STRLEN] = "-";

	if (peer && peerlen)
		addr_format(peer, peerlen, who, sizeof(who));
	return record(ctx, to_client, off, id, who, data, n);
}

void session_log_server(struct session_log *l, const struct session_opts *s,
			struct server_opts *so)
{
	so->line_delay = s->delay > 0 ? s->delay : 0;
	if (l->fd >= 0 || l->hex >= 0) {
		so->tap = server_tap;
		so->tap_ctx = l;
	}
}

void session_log_name(struct session_log *l, uint64_t id, const struct sockaddr *peer,
		      socklen_t peerlen)
{
	l->client = id;
	l->off[0] = l->off[1] = 0;
	if (peer && peerlen)
		addr_format(peer, peerlen, l->who, sizeof(l->who));
	else
		snprintf(l->who, sizeof(l->who), "-");
}

void session_log_apply(struct session_log *l, const struct session_opts *s,
		       struct relay_opts *ro)
{
	ro->crlf = s->crlf;
	ro->line_delay = s->delay > 0 ? s->delay : 0;
	if (l->fd >= 0 || l->hex >= 0) {
		ro->tap = tap;
		ro->tap_ctx = l;
	}
}
