/* SPDX-License-Identifier: MIT */
/*
 * Two channels, each a source, a buffer and a destination: A moves stdin to
 * the socket, B the socket to stdout.  A channel's buffer is a kernel pipe
 * fed and drained with splice(2) when both of its ends allow it (no copy
 * through user space), else a user-space buffer.  A source is read only
 * while its buffer has room (back-pressure); a destination is polled only
 * while its buffer holds bytes.  Everything is non-blocking, so one slow
 * side never stalls the other.
 */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* glibc's struct tcp_info lacks tcpi_bytes_acked */
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "clock.h"
#include "dgram.h"
#include "parse.h"
#include "sock.h"

#define RELAY_BUF ((size_t)256 * 1024)
#define RELAY_PIPE ((size_t)1024 * 1024)
#define PUMP_ROUNDS 64      /* then let the other channel have a turn */

enum { CH_PIPE, CH_BUF, CH_SENDFILE, CH_DISCARD };
#define DISCARD_CHUNK ((size_t)64 * 1024 * 1024)
#define SENDFILE_CHUNK ((size_t)16 * 1024 * 1024)
enum { MOVED_EMPTY = -4, WOULD_BLOCK = -2 };

struct chan {
	const char *src_name, *dst_name;
	int src, dst;
	int src_sock, dst_sock; /* recv/send rather than read/write */
	int src_nb, dst_nb;     /* never blocks: try without asking poll first */
	int mode;
	int pfd[2];             /* CH_PIPE */
	char *buf;              /* CH_BUF: data is buf[off..len) */
	size_t off, len, cap;
	size_t pending;         /* CH_PIPE: bytes in the pipe */
	size_t max_msg;         /* dgram: the largest read that is one message */
	int pipe_full;          /* the pipe refused more although not at cap */
	int src_ready, dst_ready;
	int eof;                /* the source said EOF */
	int stopped;            /* the source is not to be read any more */
	int dgram, zero_is_eof; /* message mode; a 0 recv is EOF (seqpacket) */
	uint64_t *count;
	struct relay_seen see;  /* -C, --delay, the tap (CH_BUF only) */
	int may_vanish;         /* the destination is a program's stdin: EPIPE ends it */
};

int relay_cut_notice(const struct relay_stats *st, char *buf, size_t len)
{
	if (!st->stdin_cut || st->stdin_tty || st->stdin_left == 0)
		return 0;
	if (st->stdin_left < 0)
		snprintf(buf, len, "closed the connection before stdin ended: "
			 "stdin had more bytes ready, not sent (--exit-on-peer-eof)");
	else
		snprintf(buf, len, "closed the connection before stdin ended: "
			 "%lld bytes ready on stdin were not sent (--exit-on-peer-eof)",
			 (long long)st->stdin_left);
	return 1;
}

static int is_reset(int errnum)
{
	return errnum == ECONNRESET || errnum == EPIPE;
}

const char *relay_end_reason(int rc, const struct relay_stats *st)
{
	if (st->idle_timed_out)
		return "idle-timeout";
	if (!rc)
		return "eof";
	return st->sock_error && is_reset(st->sock_errno) ? "reset" : "error";
}

int relay_end_errno(int rc, const struct relay_stats *st)
{
	if (!rc || st->idle_timed_out)
		return 0;
	return st->sock_error ? st->sock_errno : st->out_errno;
}

int64_t relay_sock_acked(int sock)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int proto = 0;
	socklen_t plen = sizeof(proto);

	if (getsockopt(sock, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) || proto != IPPROTO_TCP)
		return -1;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(sock, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked))
		return -1;
	return (int64_t)ti.tcpi_bytes_acked;
}

uint64_t relay_sock_delivered(int sock, int64_t base, uint64_t written)
{
	int64_t now = base >= 0 ? relay_sock_acked(sock) : -1;
	uint64_t acked;

	if (now < base)
		return written;
	/* our FIN takes a sequence number too: never more than was written */
	acked = (uint64_t)(now - base);
	return acked < written ? acked : written;
}

void relay_opts_init(struct relay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->idle_timeout = -1;
	o->quit_after_eof = -1;
}

void relay_eof_opts_init(struct relay_eof_opts *eo)
{
	memset(eo, 0, sizeof(*eo));
	eo->idle_timeout = -1;
	eo->quit_after_eof = -1;
}

uint64_t relay_expected_size(const struct relay_eof_opts *eo, int in_fd)
{
	struct stat sb;
	off_t at;

	if (eo->size)
		return eo->size;
	if (in_fd < 0 || fstat(in_fd, &sb) || !S_ISREG(sb.st_mode))
		return 0;
	at = lseek(in_fd, 0, SEEK_CUR);
	return at >= 0 && sb.st_size > at ? (uint64_t)(sb.st_size - at) : 0;
}

int relay_eof_opts_check(const struct relay_eof_opts *eo, struct err *e)
{
	if (eo->exit_on_peer_eof && eo->keep_sending)
		return err_set(e, EXIT_USAGE, "--exit-on-peer-eof and --keep-sending exclude "
			       "each other");
	if (eo->exit_on_peer_eof && eo->recv_only)
		return err_set(e, EXIT_USAGE, "--exit-on-peer-eof needs stdin (not -d/--recv-only)");
	return 0;
}

void relay_opts_from_eof(struct relay_opts *o, const struct relay_eof_opts *eo,
			 int64_t timeout)
{
	relay_opts_init(o);
	o->idle_timeout = eo->idle_timeout >= 0 ? eo->idle_timeout : timeout;
	o->quit_after_eof = eo->quit_after_eof;
	o->no_shutdown = eo->no_shutdown;
	o->recv_only = eo->recv_only;
	o->send_only = eo->send_only;
	o->exit_on_peer_eof = eo->exit_on_peer_eof;
}

static size_t chan_pending(const struct chan *c)
{
	if (c->mode == CH_SENDFILE || c->mode == CH_DISCARD)
		return 0;
	return c->mode == CH_PIPE ? c->pending : c->len - c->off;
}

static int chan_can_read(const struct chan *c)
{
	if (c->eof || c->stopped || c->mode == CH_SENDFILE)
		return 0;
	if (c->dgram)
		return chan_pending(c) == 0; /* one message at a time */
	if (c->mode == CH_DISCARD)
		return 1;
	if (c->mode == CH_PIPE)
		return c->pending < c->cap && !c->pipe_full;
	return c->len + (c->see.crlf ? 1 : 0) < c->cap; /* --crlf reads room / 2 */
}

/* --delay: a line went out, the next waits. */
static int chan_held(const struct chan *c)
{
	return relay_seen_held(&c->see);
}

/* The destination has to be written: buffered bytes, or a file to send. */
static int chan_wants_dst(const struct chan *c)
{
	if (c->mode == CH_SENDFILE)
		return !c->eof && !c->stopped;
	return chan_pending(c) != 0 && !chan_held(c);
}

static int chan_finished(const struct chan *c)
{
	return (c->eof || c->stopped) && chan_pending(c) == 0;
}

static int is_dev_null(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

/* What an fd is, learnt once per relay: one fstat(2) and one F_GETFL. */
enum {
	FD_PIPE = 1 << 0,
	FD_SOCK = 1 << 1,
	FD_REG = 1 << 2,
	FD_NULL = 1 << 3,
	FD_APPEND = 1 << 4,
	/* reads and writes of these never block once O_NONBLOCK is set */
	FD_NEVER_BLOCKS = FD_PIPE | FD_SOCK | FD_REG | FD_NULL,
};

static unsigned fd_kind(int fd)
{
	struct stat st;
	unsigned k = 0;
	int fl;

	if (fd < 0 || fstat(fd, &st))
		return 0;
	if (S_ISFIFO(st.st_mode))
		k = FD_PIPE;
	else if (S_ISSOCK(st.st_mode))
		k = FD_SOCK;
	else if (S_ISREG(st.st_mode))
		k = FD_REG;
	else if (is_dev_null(&st))
		k = FD_NULL;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && (fl & O_APPEND))
		k |= FD_APPEND;
	return k;
}

static int splice_in_ok(unsigned k)
{
	return (k & (FD_PIPE | FD_SOCK | FD_REG)) != 0;
}

static int splice_out_ok(unsigned k)
{
	if (k & FD_REG)
		return !(k & FD_APPEND); /* splice refuses O_APPEND files */
	return (k & (FD_PIPE | FD_SOCK | FD_NULL)) != 0;
}

static int chan_use_buf(struct chan *c, size_t cap)
{
	c->buf = malloc(cap);
	if (!c->buf)
		return -1;
	c->cap = cap;
	c->mode = CH_BUF;
	c->off = c->len = 0;
	return 0;
}

static int chan_use_pipe(struct chan *c)
{
	int sz;

	if (pipe2(c->pfd, O_NONBLOCK | O_CLOEXEC))
		return -1;
	/* a bigger pipe means fewer wake-ups; the default 64 KiB if refused */
	fcntl(c->pfd[1], F_SETPIPE_SZ, RELAY_PIPE);
	sz = fcntl(c->pfd[1], F_GETPIPE_SZ);
	c->cap = sz > 0 ? (size_t)sz : 65536;
	c->mode = CH_PIPE;
	c->pending = 0;
	return 0;
}

/*
 * splice(2) refused one end after all (EINVAL): carry on with a plain
 * buffer, taking over what the pipe already holds so no byte is lost.
 */
static int chan_pipe_to_buf(struct chan *c)
{
	size_t held = c->pending;
	ssize_t n;

	if (chan_use_buf(c, held > RELAY_BUF ? held : RELAY_BUF))
		return -1;
	while (c->len < held) {
		n = read(c->pfd[0], c->buf + c->len, held - c->len);
		if (n <= 0 && errno != EINTR)
			return -1;
		if (n > 0)
			c->len += (size_t)n;
	}
	close(c->pfd[0]);
	close(c->pfd[1]);
	c->pfd[0] = c->pfd[1] = -1;
	c->pending = 0;
	return 0;
}

static void chan_free(struct chan *c)
{
	if (c->mode == CH_PIPE && c->pfd[0] >= 0) {
		close(c->pfd[0]);
		close(c->pfd[1]);
	}
	free(c->buf);
	c->buf = NULL;
}

static int chan_error(const struct chan *c, int side_is_src, int errnum, struct relay_stats *st,
		      struct err *e)
{
	int sock = side_is_src ? c->src_sock : c->dst_sock;
	char cause[128];

	err_strerror(errnum, cause, sizeof(cause));
	if (sock) {
		/* relay_run words it, once it knows what was not delivered */
		st->sock_error = 1;
		st->sock_errno = errnum;
		return err_set(e, EXIT_FAIL, "%s", cause);
	}
	if (!side_is_src)
		st->out_errno = errnum;
	return err_set(e, EXIT_FAIL, "%s error on %s: %s", side_is_src ? "read" : "write",
		       side_is_src ? c->src_name : c->dst_name, cause);
}

/* Source -> buffer: >0 bytes, 0 EOF, MOVED_EMPTY, WOULD_BLOCK, -1 error. */
static ssize_t chan_fill(struct chan *c, struct relay_stats *st, struct err *e)
{
	ssize_t n;
	size_t room = 0;

	for (;;) {
		if (c->mode == CH_DISCARD) {
			/* TCP to /dev/null: the kernel drops the bytes, no copy at all
			 * (MSG_TRUNC on TCP, tcp(7)); the NULL buffer is never written. */
			// cppcheck-suppress nullPointer
			n = recv(c->src, NULL, DISCARD_CHUNK, MSG_TRUNC | MSG_DONTWAIT);
			if (n > 0) {
				*c->count += (uint64_t)n;
				return n;
			}
		} else if (c->mode == CH_PIPE) {
			n = splice(c->src, NULL, c->pfd[1], NULL, c->cap - c->pending,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0 && errno == EINVAL && c->pending == 0 && !chan_pipe_to_buf(c))
				continue;
		} else {
			room = c->cap - c->len;
			if (c->dgram && c->max_msg && room > c->max_msg)
				room = c->max_msg;
			room = relay_seen_room(&c->see, room);
			/* MSG_TRUNC: a message longer than room says so, not cut silently */
			n = c->src_sock ? recv(c->src, c->buf + c->len, room, c->dgram ? MSG_TRUNC : 0)
					: read(c->src, c->buf + c->len, room);
		}
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n > 0 && c->mode == CH_BUF && (size_t)n > room)
		return err_set(e, EXIT_FAIL, "a message of %zd bytes is larger than the %zu-byte "
			       "buffer: %zu bytes of it were lost", n, room, (size_t)n - room);
	if (n > 0) {
		if (c->mode == CH_PIPE)
			c->pending += (size_t)n;
		else
			c->len += relay_seen_read(&c->see, c->buf + c->len, (size_t)n);
		return n;
	}
	if (n == 0)
		return c->src_sock && c->dgram && !c->zero_is_eof ? MOVED_EMPTY : 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		if (c->mode == CH_PIPE && c->pending)
			c->pipe_full = 1; /* pipe slots used up by partial pages */
		return WOULD_BLOCK;
	}
	return chan_error(c, 1, errno, st, e);
}

/* Buffer -> destination: >0 bytes, WOULD_BLOCK, -1 error. */
static ssize_t chan_drain(struct chan *c, struct relay_stats *st, struct err *e)
{
	ssize_t n;
	size_t len;

	for (;;) {
		if (c->mode == CH_PIPE) {
			n = splice(c->pfd[0], NULL, c->dst, NULL, c->pending,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0 && errno == EINVAL && !chan_pipe_to_buf(c))
				continue;
		} else {
			len = relay_seen_chunk(&c->see, c->buf + c->off, c->len - c->off);
			n = c->dst_sock ? send(c->dst, c->buf + c->off, len, MSG_NOSIGNAL)
					: write(c->dst, c->buf + c->off, len);
		}
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n > 0 && c->mode == CH_BUF && relay_seen_wrote(&c->see, c->buf + c->off, (size_t)n))
		return err_sys(e, EXIT_FAIL, errno, "session log");
	if (n > 0) {
		if (c->mode == CH_PIPE) {
			c->pending -= (size_t)n;
		} else {
			c->off += (size_t)n;
			if (c->off == c->len)
				c->off = c->len = 0;
		}
		c->pipe_full = 0;
		*c->count += (uint64_t)n;
		return n;
	}
	if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
		return WOULD_BLOCK;
	if (errno == EPIPE && c->may_vanish) {
		/* the program is gone: nobody takes this direction any more */
		c->stopped = 1;
		c->off = c->len = 0;
		return WOULD_BLOCK;
	}
	if (c->dgram && errno == EMSGSIZE) {
		int mtu = sock_path_mtu(c->dst, NULL, 0); /* --pmtu do: say what the path takes */

		if (mtu > 0)
			return err_set(e, EXIT_FAIL, "datagram of %zu bytes: EMSGSIZE: larger than "
						     "the path MTU of %d bytes",
				       c->len - c->off, mtu);
		return err_sys(e, EXIT_FAIL, EMSGSIZE, "datagram of %zu bytes", c->len - c->off);
	}
	return chan_error(c, 0, errno, st, e);
}

/* File -> socket in the kernel: >0 bytes, 0 EOF, WOULD_BLOCK, -1 error. */
static ssize_t chan_sendfile(struct chan *c, struct relay_stats *st, struct err *e)
{
	ssize_t n;
	int err;

	do
		n = sendfile(c->dst, c->src, NULL, SENDFILE_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		*c->count += (uint64_t)n;
		return n;
	}
	if (n == 0)
		return 0;
	err = errno; /* chan_use_pipe may change it */
	if (err == EAGAIN || err == EWOULDBLOCK)
		return WOULD_BLOCK;
	if ((err == EINVAL || err == ENOSYS) && *c->count == 0 && !chan_use_pipe(c))
		return MOVED_EMPTY; /* no sendfile here after all: splice instead */
	return chan_error(c, 0, err, st, e);
}

/* Move bytes on @c until it has to wait; sets *moved when anything went. */
static int chan_pump(struct chan *c, int *moved, struct relay_stats *st, struct err *e)
{
	int round, progress;
	ssize_t n;

	for (round = 0; round < PUMP_ROUNDS; round++) {
		progress = 0;
		if (c->mode == CH_SENDFILE) {
			if (c->stopped || c->eof || !c->dst_ready)
				return 0;
			n = chan_sendfile(c, st, e);
			if (n == -1)
				return -1;
			if (n == WOULD_BLOCK) {
				c->dst_ready = 0;
				return 0;
			}
			if (n == 0)
				c->eof = 1;
			*moved = 1;
			continue;
		}
		if (c->src_ready && chan_can_read(c)) {
			n = chan_fill(c, st, e);
			if (n == -1)
				return -1;
			if (n == WOULD_BLOCK)
				c->src_ready = 0;
			else if (n == 0)
				c->eof = 1;
			else
				progress = 1;
			if (!c->src_nb)
				c->src_ready = 0; /* a tty: read again only when poll says so */
		}
		if (c->dst_ready && chan_pending(c) && !chan_held(c)) {
			n = chan_drain(c, st, e);
			if (n == -1)
				return -1;
			if (n == WOULD_BLOCK)
				c->dst_ready = 0;
			else
				progress = 1;
			if (!c->dst_nb)
				c->dst_ready = 0;
		}
		if (!progress)
			return 0;
		*moved = 1;
	}
	return 0;
}

static int chan_busy(const struct chan *c)
{
	return (c->src_ready && chan_can_read(c)) || (c->dst_ready && chan_wants_dst(c));
}

struct saved_fl {
	int fd, fl;
};

struct relay {
	const struct relay_opts *o;
	struct relay_stats *st;
	struct chan a, b; /* a: in -> sock, b: sock -> out */
	int sock, sock_type;
	int sock_inet; /* AF_INET or AF_INET6 (not unix) */
	int shut_done;
	int keep_sending; /* after the peer's EOF, stdin goes on to its own EOF */
	unsigned k_in;    /* what stdin is (fd_kind) */
	int64_t acked_base; /* relay_sock_acked before anything was sent */
	int64_t last_ns, eof_ns;
	int64_t progress_ns; /* when the progress hook was last called */
	struct saved_fl saved[3];
	int nsaved;
};

static void set_nonblock(struct relay *r, int fd, unsigned kind)
{
	int fl;

	if (fd < 0 || !(kind & FD_NEVER_BLOCKS) || (fl = fcntl(fd, F_GETFL)) < 0)
		return;
	r->saved[r->nsaved].fd = fd;
	r->saved[r->nsaved++].fl = fl;
	if (!(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void restore_flags(struct relay *r)
{
	while (r->nsaved-- > 0)
		fcntl(r->saved[r->nsaved].fd, F_SETFL, r->saved[r->nsaved].fl);
}

static int chan_setup(struct relay *r, struct chan *c, int src, unsigned ksrc, int dst,
		      unsigned kdst, struct err *e)
{
	int stream = !r->o->dgram;

	c->src = src;
	c->dst = dst;
	c->pfd[0] = c->pfd[1] = -1;
	c->src_sock = src == r->sock;
	c->dst_sock = dst == r->sock;
	c->src_nb = src < 0 || (ksrc & FD_NEVER_BLOCKS);
	c->dst_nb = dst < 0 || (kdst & FD_NEVER_BLOCKS);
	c->src_ready = c->src_nb;
	c->dst_ready = c->dst_nb;
	c->dgram = r->o->dgram;
	c->zero_is_eof = r->sock_type != SOCK_DGRAM;
	if (src < 0 || dst < 0) {
		c->stopped = 1;
		return 0;
	}
	if (c->dgram && c->dst_sock && r->sock_type == SOCK_DGRAM)
		c->max_msg = r->sock_inet ? DGRAM_MAX_V4 : 0;
	relay_seen_init(&c->see, r->o, c->dst_sock);
	c->may_vanish = !c->dst_sock && r->o->out_is_program;
	if (relay_seen_any(r->o))
		stream = 0; /* the bytes are seen: a plain buffer for both directions */
	if (stream && c->src_sock && r->sock_inet && r->sock_type == SOCK_STREAM &&
	    (kdst & FD_NULL)) {
		c->mode = CH_DISCARD;
		return 0;
	}
	if (stream && c->dst_sock && (ksrc & FD_REG)) {
		c->mode = CH_SENDFILE; /* no buffer: the page cache is the buffer */
		r->st->spliced = 1;
		return 0;
	}
	if (stream && splice_in_ok(ksrc) && splice_out_ok(kdst) && !chan_use_pipe(c)) {
		r->st->spliced = 1;
		return 0;
	}
	if (chan_use_buf(c, RELAY_BUF))
		return err_sys(e, EXIT_FAIL, errno, "relay buffer");
	return 0;
}

/* stdin is done: tell the peer, once (stream and seqpacket only). */
static void finish_sending(struct relay *r)
{
	if (r->shut_done)
		return;
	r->shut_done = 1;
	if (r->a.eof) {
		r->st->stdin_eof = 1;
		r->eof_ns = clock_mono_ns();
	}
	if (!r->o->no_shutdown && !r->o->recv_only && r->a.eof && r->sock_type != SOCK_DGRAM)
		shutdown(r->sock, SHUT_WR);
}

static int64_t next_deadline(const struct relay *r)
{
	int64_t d = -1;

	if (r->o->progress)
		d = r->progress_ns + r->o->progress_every;
	if (r->o->idle_timeout >= 0)
		d = r->last_ns + r->o->idle_timeout;
	if (r->o->quit_after_eof >= 0 && r->eof_ns && !r->b.stopped)
		d = clock_earliest(d, r->eof_ns + r->o->quit_after_eof);
	if (chan_held(&r->a) && chan_pending(&r->a))
		d = clock_earliest(d, r->a.see.hold_until);
	return d;
}

/* 1: a timer ended the relay; 0: go on; -1: error. */
static int check_timers(struct relay *r, int64_t now, struct err *e)
{
	char dur[32];

	if (r->o->quit_after_eof >= 0 && r->eof_ns && now >= r->eof_ns + r->o->quit_after_eof) {
		/* quit, but hand over what already arrived */
		r->b.stopped = 1;
		r->a.stopped = 1;
	}
	if (r->o->idle_timeout >= 0 && now >= r->last_ns + r->o->idle_timeout) {
		r->st->idle_timed_out = 1;
		if (r->o->idle_ok)
			return 1;
		return err_set(e, EXIT_FAIL, "idle timeout after %s",
			       parse_format_duration(r->o->idle_timeout, dur, sizeof(dur)));
	}
	return 0;
}

/*
 * Bytes @fd (stdin, of kind @k) has ready to read now, without reading them:
 * -1 if some but the count is unknown.  Says "none" rather than cry wolf.
 */
static int64_t fd_ready_bytes(int fd, unsigned k)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct stat sb;
	off_t at;
	int n = 0;

	if (k & FD_NULL)
		return 0;
	if (k & FD_REG) {
		at = lseek(fd, 0, SEEK_CUR);
		if (at < 0 || fstat(fd, &sb))
			return -1;
		return sb.st_size > at ? (int64_t)(sb.st_size - at) : 0;
	}
	if (ioctl(fd, FIONREAD, &n) == 0)
		return n > 0 ? n : 0;
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) ? -1 : 0;
}

/*
 * The peer said EOF and everything it sent is out.  It will send nothing
 * more; that does not mean "stop sending": stdin goes on to its own EOF,
 * unless a person types it or exit_on_peer_eof asks to stop.
 */
static void on_peer_eof(struct relay *r)
{
	r->st->peer_eof = 1;
	if (r->keep_sending || r->a.eof || r->a.stopped)
		return;
	r->a.stopped = 1;
	r->st->stdin_cut = 1;
	r->st->stdin_left = fd_ready_bytes(r->a.src, r->k_in);
}

/* The socket failed: count what stdin gave that the peer never took, and say so. */
static void sock_failed(struct relay *r, struct err *e)
{
	struct relay_stats *st = r->st;
	char cause[128];

	st->delivered = relay_sock_delivered(r->sock, r->acked_base, st->to_sock);
	st->undelivered = chan_pending(&r->a) + (st->to_sock - st->delivered);
	if (is_reset(st->sock_errno))
		err_strerror(ECONNRESET, cause, sizeof(cause));
	else
		err_strerror(st->sock_errno, cause, sizeof(cause));
	if (st->undelivered)
		err_set(e, EXIT_FAIL, "%s after %llu bytes sent; %llu bytes read from stdin "
			"were not delivered", cause, (unsigned long long)st->delivered,
			(unsigned long long)st->undelivered);
	else
		err_set(e, EXIT_FAIL, "%s after %llu bytes sent, %llu received", cause,
			(unsigned long long)st->delivered, (unsigned long long)st->to_out);
}

/*
 * The idle timeout ended a relay that still held stdin's bytes (a peer with
 * a zero window): nothing is lost silently, the count joins the message.
 */
static void idle_failed(struct relay *r, struct err *e)
{
	struct relay_stats *st = r->st;
	char msg[sizeof(e->msg)];

	st->delivered = relay_sock_delivered(r->sock, r->acked_base, st->to_sock);
	st->undelivered = chan_pending(&r->a) + (st->to_sock - st->delivered);
	if (!st->undelivered)
		return;
	snprintf(msg, sizeof(msg), "%s", e->msg);
	err_set(e, EXIT_FAIL, "%s: %llu bytes sent; %llu bytes read from stdin were not "
		"delivered", msg, (unsigned long long)st->delivered,
		(unsigned long long)st->undelivered);
}

static int relay_loop(struct relay *r, struct err *e)
{
	struct pollfd p[3];
	int moved, rc, busy, timeout;
	int64_t now;

	for (;;) {
		moved = 0;
		if (chan_pump(&r->a, &moved, r->st, e) || chan_pump(&r->b, &moved, r->st, e))
			return -1;
		now = clock_mono_ns();
		if (moved)
			r->last_ns = now;
		if (r->b.eof && chan_pending(&r->b) == 0 && !r->st->peer_eof)
			on_peer_eof(r);
		if (r->o->out_is_program && chan_finished(&r->b) && !r->st->out_closed &&
		    r->b.dst >= 0) {
			/* the program's stdin EOF: the peer's, or the program is gone */
			close(r->b.dst);
			r->st->out_closed = 1;
		}
		if (chan_finished(&r->a))
			finish_sending(r);
		if (chan_finished(&r->a) && chan_finished(&r->b))
			return 0;
		if (r->o->progress && now - r->progress_ns >= r->o->progress_every) {
			r->o->progress(r->o->progress_arg, r->st, now, 0);
			r->progress_ns = now;
		}
		rc = check_timers(r, now, e);
		if (rc)
			return rc < 0 ? -1 : 0;
		if (chan_finished(&r->a) && chan_finished(&r->b))
			return 0;
		busy = chan_busy(&r->a) || chan_busy(&r->b);
		timeout = busy ? 0 : clock_ms_until(next_deadline(r));

		memset(p, 0, sizeof(p));
		p[0].fd = p[1].fd = p[2].fd = -1;
		if (chan_can_read(&r->a) && !r->a.src_ready) {
			p[0].fd = r->a.src;
			p[0].events = POLLIN;
		}
		p[1].fd = r->sock;
		if (chan_can_read(&r->b) && !r->b.src_ready)
			p[1].events |= POLLIN;
		if (chan_wants_dst(&r->a) && !r->a.dst_ready)
			p[1].events |= POLLOUT;
		if (chan_pending(&r->b) && !r->b.dst_ready) {
			p[2].fd = r->b.dst;
			p[2].events = POLLOUT;
		} else if (r->b.may_vanish && !chan_finished(&r->b)) {
			/* the program's stdin: POLLERR when it has closed it (or exited) */
			p[2].fd = r->b.dst;
		}
		if (!p[1].events)
			p[1].fd = -1;
		rc = poll(p, 3, timeout);
		if (rc < 0 && errno != EINTR)
			return err_sys(e, EXIT_FAIL, errno, "poll");
		if (rc <= 0)
			continue;
		if (p[0].revents)
			r->a.src_ready = 1;
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR | POLLRDHUP))
			r->b.src_ready = 1;
		if (p[1].revents & (POLLOUT | POLLHUP | POLLERR))
			r->a.dst_ready = 1;
		if (p[2].revents && !p[2].events) {
			/* the program is gone: nobody takes this direction any more */
			r->b.stopped = 1;
		} else if (p[2].revents) {
			r->b.dst_ready = 1;
		}
	}
}

int relay_run(int sock, int in_fd, int out_fd, const struct relay_opts *o,
	      struct relay_stats *st, struct err *e)
{
	struct relay r;
	struct sigaction ign, old;
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(r.sock_type), sslen = sizeof(ss);
	unsigned k_in = fd_kind(in_fd), k_out = fd_kind(out_fd);
	int rc = -1;

	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	r.o = o;
	r.st = st;
	r.sock = sock;
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &r.sock_type, &len))
		r.sock_type = o->dgram ? SOCK_DGRAM : SOCK_STREAM;
	r.sock_inet = !getsockname(sock, (struct sockaddr *)&ss, &sslen) &&
		      (ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	r.k_in = k_in;
	r.acked_base = o->dgram ? -1 : relay_sock_acked(sock);
	st->stdin_tty = in_fd >= 0 && !o->recv_only && isatty(in_fd);
	/* a terminal's user typed what there is: the peer's EOF ends it all */
	r.keep_sending = !o->exit_on_peer_eof && !st->stdin_tty; /* seqpacket too */
	r.a.src_name = "stdin";
	r.b.dst_name = "stdout";
	r.a.count = &st->to_sock;
	r.b.count = &st->to_out;
	if (chan_setup(&r, &r.a, o->recv_only ? -1 : in_fd, k_in, sock, FD_SOCK, e) ||
	    chan_setup(&r, &r.b, o->send_only ? -1 : sock, FD_SOCK, out_fd, k_out, e))
		goto out;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	set_nonblock(&r, sock, FD_SOCK);
	if (in_fd != sock)
		set_nonblock(&r, r.a.src, k_in);
	if (out_fd != sock && out_fd != in_fd)
		set_nonblock(&r, r.b.dst, k_out);
	st->start_ns = r.last_ns = r.progress_ns = clock_mono_ns();
	rc = relay_loop(&r, e);
	st->end_ns = clock_mono_ns();
	if (o->progress)
		o->progress(o->progress_arg, st, st->end_ns, 1);
	if (rc && st->sock_error)
		sock_failed(&r, e);
	else if (rc && st->idle_timed_out)
		idle_failed(&r, e);
	else
		st->delivered = st->to_sock;
	restore_flags(&r);
	sigaction(SIGPIPE, &old, NULL);
out:
	chan_free(&r.a);
	chan_free(&r.b);
	return rc;
}
