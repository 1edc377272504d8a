/* SPDX-License-Identifier: MIT */
/*
 * The relay over TLS, under lib/relay's end-of-file rule: stdin's EOF sends
 * close_notify and then shuts down writing; the peer's close_notify is its
 * EOF; a TCP EOF without close_notify is a truncation.  Plaintext moves in
 * 256 KiB SSL_read_ex/SSL_write_ex calls.  And STARTTLS's plaintext dialogue.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "relay.h"
#include "tls_int.h"

#define TLS_BUF ((size_t)256 * 1024)

struct tr {
	struct tls_conn *t;
	const struct relay_opts *o;
	struct relay_stats *st;
	int in_fd, out_fd;
	unsigned char *inb, *outb;
	size_t in_len, in_off, out_len;
	int in_done;      /* no more from stdin (EOF, -d) */
	int shut_done;    /* close_notify sent (or not to be sent) */
	int rd_want, wr_want; /* SSL_ERROR_WANT_READ/WRITE of the last read/write; 0: none */
	int rd_blocked, wr_blocked;
	int stdin_tty;
	int flush_wait;   /* the write buffer has records the socket did not take yet */
	uint64_t after_eof; /* bytes of stdin sent after the peer's EOF */
	/*
	 * out_is_program: out_fd is a program's stdin pipe, made non-blocking
	 * (the program may wait for us to read its stdout while we write).
	 */
	size_t out_off;
	int out_blocked;  /* out_fd took no more: wait for POLLOUT */
	int out_gone;     /* the program left (EPIPE): its direction is dropped */
	/* -C, --delay, the session log: to the peer (plaintext sent), from it */
	struct relay_seen sa, sb;
};

/*
 * Records go out through a 256 KiB buffer BIO: one write(2) for the ~16
 * records of one SSL_write_ex, not one per record.  Flushed after every
 * write and close_notify; -1 if the socket failed.
 */
static int wbuf_push(struct tls_conn *t)
{
	BIO *buf, *sock = SSL_get_wbio(t->ssl);

	/* kTLS: the kernel builds the records; alerts must reach it apart from data */
	if (!sock || BIO_get_ktls_send(sock))
		return 0;
	buf = BIO_new(BIO_f_buffer());
	if (!buf || !sock || BIO_set_write_buffer_size(buf, TLS_BUF) <= 0 || !BIO_up_ref(sock)) {
		BIO_free(buf);
		return 0; /* unbuffered: slower, as correct */
	}
	BIO_push(buf, sock);
	SSL_set0_wbio(t->ssl, buf);
	return 0;
}

static int wflush(struct tr *r)
{
	BIO *b = SSL_get_wbio(r->t->ssl);

	errno = 0;
	if (BIO_flush(b) > 0) {
		r->flush_wait = 0;
		return 0;
	}
	if (BIO_should_retry(b)) {
		r->flush_wait = 1;
		return 0;
	}
	return -1;
}

static int write_all(int fd, const unsigned char *p, size_t n, int *err)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = { .fd = fd, .events = POLLOUT };

				poll(&pf, 1, -1);
				continue;
			}
			*err = errno;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A failed SSL call on the socket: reset, truncation or protocol error. */
static int sock_fail(struct tr *r, int rc, struct err *e)
{
	int se = SSL_get_error(r->t->ssl, rc), en = errno;
	unsigned long code = ERR_peek_error();
	char why[160];

	r->st->sock_error = 1;
	if (se == SSL_ERROR_SYSCALL && en && !code) {
		r->st->sock_errno = en;
		return err_sys(e, EXIT_FAIL, en, "%llu bytes sent, %llu received",
			       (unsigned long long)r->st->to_sock,
			       (unsigned long long)r->st->to_out);
	}
	if (ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
	    (se == SSL_ERROR_SYSCALL && !code)) {
		ERR_clear_error();
		return err_set(e, EXIT_FAIL,
			       "TLS: the peer closed TCP without close_notify (truncation?) "
			       "after %llu bytes received; --tls-allow-truncation accepts it",
			       (unsigned long long)r->st->to_out);
	}
	return err_set(e, EXIT_FAIL, "TLS: %s after %llu bytes sent, %llu received",
		       tls_err_reason("protocol error", why, sizeof(why)),
		       (unsigned long long)r->st->to_sock, (unsigned long long)r->st->to_out);
}

/* One SSL_read_ex; 1 progress, 0 blocked or finished, -1 failure. */
static int tls_in(struct tr *r, struct err *e)
{
	size_t n = 0;
	int rc, se;

	if (r->st->peer_eof || r->out_len || r->rd_blocked)
		return 0;
	ERR_clear_error();
	errno = 0;
	rc = SSL_read_ex(r->t->ssl, r->outb, TLS_BUF, &n);
	if (rc == 1) {
		r->out_len = r->out_gone ? 0 : n;
		return 1;
	}
	se = SSL_get_error(r->t->ssl, rc);
	if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
		r->rd_want = se;
		r->rd_blocked = 1;
		return 0;
	}
	if (se == SSL_ERROR_ZERO_RETURN) { /* close_notify */
		r->st->peer_eof = 1;
		return 1;
	}
	if (r->t->c->allow_truncation &&
	    (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
	     (se == SSL_ERROR_SYSCALL && !errno))) {
		ERR_clear_error();
		r->st->peer_eof = 1;
		return 1;
	}
	return sock_fail(r, rc, e);
}

/* Plaintext to a program's stdin, never blocking: what it does not take waits. */
static int out_flush_program(struct tr *r, struct err *e)
{
	ssize_t w = write(r->out_fd, r->outb + r->out_off, r->out_len - r->out_off);

	if (w < 0) {
		if (errno == EINTR)
			return 0;
		if (errno == EAGAIN) {
			r->out_blocked = 1;
			return 0;
		}
		if (errno == EPIPE) { /* the program is gone: nobody takes this direction */
			r->out_gone = 1;
			r->out_len = r->out_off = 0;
			return 1;
		}
		r->st->out_errno = errno;
		return err_sys(e, EXIT_FAIL, errno, "write to the program");
	}
	if (relay_seen_wrote(&r->sb, r->outb + r->out_off, (size_t)w))
		return err_sys(e, EXIT_FAIL, errno, "session log");
	r->st->to_out += (uint64_t)w;
	r->out_off += (size_t)w;
	if (r->out_off == r->out_len)
		r->out_len = r->out_off = 0;
	return 1;
}

/* Plaintext to stdout. */
static int out_flush(struct tr *r, struct err *e)
{
	int en = 0;

	if (!r->out_len)
		return 0;
	if (r->o->out_is_program)
		return r->out_blocked ? 0 : out_flush_program(r, e);
	if (r->out_fd >= 0 && write_all(r->out_fd, r->outb, r->out_len, &en)) {
		r->st->out_errno = en;
		return err_sys(e, EXIT_FAIL, en, "write to stdout");
	}
	if (r->out_fd >= 0 && relay_seen_wrote(&r->sb, r->outb, r->out_len))
		return err_sys(e, EXIT_FAIL, errno, "session log");
	r->st->to_out += r->out_len;
	r->out_len = 0;
	return 1;
}

/*
 * out_is_program: the program's stdin ends with the peer's close_notify
 * (once everything before it is out), or when the program has left.
 */
static void out_close(struct tr *r)
{
	if (!r->o->out_is_program || r->st->out_closed || r->out_fd < 0 || r->out_len ||
	    !(r->st->peer_eof || r->out_gone))
		return;
	close(r->out_fd);
	r->st->out_closed = 1;
}

static int tls_out(struct tr *r, struct err *e)
{
	size_t n = 0;
	int rc, se;

	if (!r->in_len || r->wr_blocked || r->flush_wait || relay_seen_held(&r->sa))
		return 0;
	ERR_clear_error();
	errno = 0;
	/* the same length again after WANT_*: the same line of the same buffer */
	rc = SSL_write_ex(r->t->ssl, r->inb + r->in_off,
			  relay_seen_chunk(&r->sa, (const char *)r->inb + r->in_off, r->in_len), &n);
	if (rc == 1 && wflush(r)) {
		r->st->sock_error = 1;
		r->st->sock_errno = errno ? errno : EPIPE;
		return err_sys(e, EXIT_FAIL, r->st->sock_errno, "%llu bytes sent, %llu received",
			       (unsigned long long)r->st->to_sock,
			       (unsigned long long)r->st->to_out);
	}
	if (rc == 1 && relay_seen_wrote(&r->sa, r->inb + r->in_off, n))
		return err_sys(e, EXIT_FAIL, errno, "session log");
	if (rc == 1) {
		r->in_off += n;
		r->in_len -= n;
		r->st->to_sock += n;
		if (r->st->peer_eof)
			r->after_eof += n;
		return 1;
	}
	se = SSL_get_error(r->t->ssl, rc);
	if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
		r->wr_want = se;
		r->wr_blocked = 1;
		return 0;
	}
	return sock_fail(r, rc, e);
}

/*
 * Our close_notify met a reset: the peer had closed.  Only bytes stdin sent
 * after the peer's EOF can be lost that way (the rest arrived before it
 * closed); without any, the reset is the normal end of a closed peer.
 */
static int peer_gone(struct tr *r, struct err *e)
{
	ERR_clear_error();
	if (!r->after_eof) {
		r->shut_done = 1;
		return 1;
	}
	r->st->sock_error = 1;
	r->st->sock_errno = ECONNRESET;
	ERR_clear_error();
	return err_sys(e, EXIT_FAIL, ECONNRESET,
		       "the peer had closed: %llu bytes read from stdin after its end "
		       "were not delivered", (unsigned long long)r->after_eof);
}

/*
 * stdin is done and sent: close_notify, then shutdown(SHUT_WR).  A peer
 * that reset meanwhile never took what was sent since it closed: a failure.
 */
static int tls_shut(struct tr *r, struct err *e)
{
	int rc, se;

	if (r->shut_done || !r->in_done || r->in_len || r->wr_blocked || r->flush_wait)
		return 0;
	if (r->o->no_shutdown || r->o->recv_only) {
		r->shut_done = 1;
		return 0;
	}
	ERR_clear_error();
	rc = SSL_shutdown(r->t->ssl);
	if (rc < 0) {
		se = SSL_get_error(r->t->ssl, rc);
		if (se == SSL_ERROR_WANT_WRITE || se == SSL_ERROR_WANT_READ) {
			r->wr_want = se;
			r->wr_blocked = 1;
			return 0;
		}
		if (se == SSL_ERROR_SYSCALL && (errno == EPIPE || errno == ECONNRESET))
			return peer_gone(r, e);
		ERR_clear_error(); /* the peer is gone: its side tells */
	}
	if (wflush(r) || r->flush_wait) {
		/* the socket takes it later; a failed socket shows on the read side */
		if (r->flush_wait)
			return 0;
	}
	/* ENOTCONN: the peer reset the connection (TCP lost its state) */
	if (shutdown(r->t->fd, SHUT_WR) && errno == ENOTCONN)
		return peer_gone(r, e);
	r->shut_done = 1;
	return 1;
}

static int stdin_read(struct tr *r, struct err *e)
{
	ssize_t n = read(r->in_fd, r->inb, relay_seen_room(&r->sa, TLS_BUF));

	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		return err_sys(e, EXIT_FAIL, errno, "read from stdin");
	}
	if (n == 0) {
		r->in_done = 1;
		r->st->stdin_eof = 1;
		return 1;
	}
	r->in_off = 0;
	r->in_len = relay_seen_read(&r->sa, (char *)r->inb, (size_t)n);
	return 1;
}

static int finished(const struct tr *r)
{
	int sending_done = r->in_done && !r->in_len && r->shut_done;
	int receiving_done = (r->st->peer_eof || r->out_gone) && !r->out_len;

	if (r->o->send_only)
		return sending_done;
	if (receiving_done && (r->o->exit_on_peer_eof || r->stdin_tty))
		return 1;
	return sending_done && receiving_done;
}

static int step(struct tr *r, struct err *e)
{
	int progress, rc;

	do {
		progress = 0;
		if (!r->o->send_only && (rc = tls_in(r, e)) != 0) {
			if (rc < 0)
				return -1;
			progress = 1;
		}
		if ((rc = out_flush(r, e)) != 0) {
			if (rc < 0)
				return -1;
			progress = 1;
		}
		if ((rc = tls_out(r, e)) != 0) {
			if (rc < 0)
				return -1;
			progress = 1;
		}
		if ((rc = tls_shut(r, e)) != 0) {
			if (rc < 0)
				return -1;
			progress = 1;
		}
		out_close(r);
	} while (progress && !finished(r));
	return 0;
}

int tls_relay(struct tls_conn *t, int in_fd, int out_fd, const struct relay_opts *o,
	      struct relay_stats *st, struct err *e)
{
	struct tr r = { .t = t, .o = o, .st = st, .in_fd = in_fd, .out_fd = out_fd };
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	int64_t idle_deadline = -1, quit_deadline = -1;
	int rc = -1, out_fl = -1;

	memset(st, 0, sizeof(*st));
	st->start_ns = clock_mono_ns();
	r.inb = malloc(TLS_BUF);
	r.outb = malloc(TLS_BUF);
	if (!r.inb || !r.outb) {
		err_sys(e, EXIT_FAIL, ENOMEM, "relay");
		goto out;
	}
	wbuf_push(t);
	relay_seen_init(&r.sa, o, 1);
	relay_seen_init(&r.sb, o, 0);
	if (o->out_is_program && out_fd >= 0 && (out_fl = fcntl(out_fd, F_GETFL)) >= 0)
		fcntl(out_fd, F_SETFL, out_fl | O_NONBLOCK);
	r.in_done = in_fd < 0 || o->recv_only;
	r.stdin_tty = !r.in_done && isatty(in_fd);
	if (o->idle_timeout > 0)
		idle_deadline = clock_deadline(o->idle_timeout);
	for (;;) {
		struct pollfd p[3];
		int n = 0, si = -1, ii = -1, oi = -1, ms, pr;
		int64_t dl;

		if (step(&r, e))
			goto out;
		if (finished(&r))
			break;
		if (r.in_done && o->quit_after_eof >= 0 && quit_deadline < 0)
			quit_deadline = clock_deadline(o->quit_after_eof);
		if (!r.in_done && !r.in_len) {
			p[n].fd = in_fd;
			p[n].events = POLLIN;
			ii = n++;
		}
		p[n].fd = t->fd;
		p[n].events = 0;
		if (r.rd_blocked)
			p[n].events |= r.rd_want == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
		if (r.wr_blocked)
			p[n].events |= r.wr_want == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		if (r.flush_wait)
			p[n].events |= POLLOUT;
		si = n++;
		if (r.out_blocked || (o->out_is_program && !r.out_len && !r.out_gone &&
				      !st->out_closed && out_fd >= 0)) {
			/* events 0: POLLERR once the program has closed its stdin */
			p[n].fd = out_fd;
			p[n].events = r.out_blocked ? POLLOUT : 0;
			oi = n++;
		}
		dl = clock_earliest(idle_deadline, quit_deadline);
		ms = dl < 0 ? -1 : clock_ms_until(dl);
		if (dl >= 0 && ms == 0) {
			if (quit_deadline >= 0 && clock_ms_until(quit_deadline) == 0)
				break; /* -q: done */
			st->idle_timed_out = 1;
			if (o->idle_ok)
				break;
			err_set(e, EXIT_FAIL, "idle timeout");
			goto out;
		}
		if (r.in_len && relay_seen_held(&r.sa)) { /* --delay: the next line's turn */
			int hold = clock_ms_until(r.sa.hold_until);

			ms = ms < 0 || hold < ms ? hold : ms;
		}
		pr = poll(p, (nfds_t)n, ms);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			err_sys(e, EXIT_FAIL, errno, "poll");
			goto out;
		}
		if (pr == 0)
			continue;
		if (o->idle_timeout > 0)
			idle_deadline = clock_deadline(o->idle_timeout);
		if (p[si].revents) {
			r.rd_blocked = r.wr_blocked = 0;
			if (r.flush_wait && wflush(&r) && !r.st->peer_eof) {
				r.st->sock_error = 1;
				r.st->sock_errno = errno ? errno : EPIPE;
				err_sys(e, EXIT_FAIL, r.st->sock_errno, "%llu bytes sent, %llu received",
					(unsigned long long)st->to_sock, (unsigned long long)st->to_out);
				goto out;
			}
		}
		if (oi >= 0 && p[oi].revents && !p[oi].events)
			r.out_gone = 1; /* the program is gone: its direction is dropped */
		else if (oi >= 0 && p[oi].revents)
			r.out_blocked = 0; /* writable, or an error that the write will tell */
		if (ii >= 0 && p[ii].revents && stdin_read(&r, e) < 0)
			goto out;
	}
	rc = 0;
out:
	if (out_fl >= 0 && !st->out_closed)
		fcntl(out_fd, F_SETFL, out_fl);
	st->end_ns = clock_mono_ns();
	free(r.inb);
	free(r.outb);
	signal(SIGPIPE, old_pipe);
	return rc;
}

/* ---- STARTTLS ---- */

int tls_starttls(int fd, int proto, const char *host, int64_t timeout_ns, struct err *e)
{
	int64_t deadline = clock_deadline(timeout_ns);
	int steps = tls_starttls_steps(proto), s;
	char req[512], buf[8192];
	size_t have = 0;

	for (s = 0; s < steps; s++) {
		int n = tls_starttls_request(proto, s, host ? host : "", req, sizeof(req));
		size_t used = 0;
		int rc = 0;

		if (n < 0)
			return err_set(e, EXIT_USAGE, "--starttls: the name is too long");
		if (n > 0 && send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
			return err_sys(e, EXIT_FAIL, errno, "--starttls %s: send",
				       tls_starttls_names[proto]);
		while ((rc = tls_starttls_reply(proto, s, buf, have, &used)) == 0) {
			ssize_t k;

			if (have == sizeof(buf))
				return err_set(e, EXIT_FAIL, "--starttls %s: the reply is too long",
					       tls_starttls_names[proto]);
			if (tls_wait(fd, 0, deadline, e, "--starttls"))
				return -1;
			k = recv(fd, buf + have, sizeof(buf) - have, 0);
			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k < 0)
				return err_sys(e, EXIT_FAIL, errno, "--starttls %s",
					       tls_starttls_names[proto]);
			if (k == 0)
				return err_set(e, EXIT_FAIL,
					       "--starttls %s: the server closed the connection",
					       tls_starttls_names[proto]);
			have += (size_t)k;
		}
		if (rc < 0) {
			size_t l = used ? used : have;

			while (l && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
				l--;
			if (l > 120)
				l = 120;
			return err_set(e, EXIT_FAIL, "--starttls %s: the server said no: %.*s",
				       tls_starttls_names[proto], (int)l, buf);
		}
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	return 0;
}
