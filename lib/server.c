/* SPDX-License-Identifier: MIT */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

#include "clock.h"
#include "dgram_guard.h"
#include "parse.h"
#include "relay.h"

#define PEND_LIMIT SERVER_PEND_LIMIT
/* After EMFILE with nothing of ours to close, try accepting again this often. */
#define EMFILE_RETRY_NS (250 * NS_PER_MS)
#define MAX_LISTENERS 16
#define MAX_EVENTS 256
#define ACCEPT_BATCH 64
/* seqpacket: the largest message read whole; a longer one closes its client */
#define MSG_MAX ((size_t)64 * 1024 * 1024)

enum src_kind { SRC_LISTENER, SRC_INPUT, SRC_CLIENT, SRC_WATCH };

/*
 * What an epoll event points at: every source begins with one of these, or
 * is a handler's struct server_watch, which begins with the same int.
 */
struct src {
	int kind; /* enum src_kind */
	int fd;
};

/* Any address a stream listener accepts from, 16 bytes short of sockaddr_storage. */
union peer_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_un un;
};

struct client {
	struct src src;
	uint32_t events; /* registered epoll events */
	/* the client sent EOF: close once pend is drained (and, unless
	 * exit_on_peer_eof, once stdin has ended: it still gets stdin) */
	unsigned eof : 1;
	unsigned dead : 1;           /* closed; freed after the current batch of events */
	unsigned blocked : 1;        /* counted in srv.nblocked */
	unsigned reset_on_close : 1; /* close with an RST (dropped) */
	unsigned handshaking : 1;    /* the layer's handshake is under way */
	unsigned mid_line : 1;       /* chat: the last byte from it was not a newline */
	socklen_t peerlen;
	uint32_t lwant; /* the epoll events the layer waits for */
	int64_t blocked_since; /* when it went over PEND_LIMIT */
	uint64_t id, in, out;
	uint64_t lost;   /* stdin bytes it was owed when it failed */
	int64_t acked_base; /* relay_sock_acked at accept */
	int64_t start, last;
	struct client *prev, *next; /* oldest activity first when idle timeouts apply */
	char *pend;                 /* bytes owed to the client */
	size_t plen, poff, pcap;
	void *lconn;    /* server_opts.layer's state of this client (TLS) */
	union peer_addr peer; /* last: 1000 idle clients are 1000 of these */
};

struct srv {
	const struct server_opts *o;
	struct server_stats *st;
	struct err *e;
	int ep;
	struct src lsrc[MAX_LISTENERS];
	int nl;
	int accepting;      /* listeners are in the epoll set */
	int paused;         /* accept failed with EMFILE and friends */
	int full;           /* max_serving clients: accepting pauses until one leaves */
	int64_t retry_at;   /* when paused: try again then */
	int64_t accept_deadline;
	struct src in;
	int in_open;        /* in_fd not at EOF */
	int in_pollable;    /* epoll accepts in_fd (not a regular file) */
	int in_registered;
	int in_last_cr;     /* --crlf: the last byte of stdin was a CR */
	char *held;         /* line_delay: stdin read, not yet sent (from hoff to hlen) */
	size_t hoff, hlen;
	int64_t hold_until; /* line_delay: a line went out; the next bytes wait until then */
	int keep_sending;   /* a client's EOF ends only its direction (relay.h's rule) */
	size_t nblocked;    /* clients over PEND_LIMIT */
	struct client *head, *tail;
	struct client *dead; /* closed during this batch, linked by next */
	size_t nclients;
	uint64_t next_id;
	int done;
	int msg;            /* seqpacket listeners: every read and send is one message */
	int failed;         /* without keep_open: the client reset (errno) */
	uint64_t fail_in, fail_out, fail_lost;
	union peer_addr fail_peer;
	socklen_t fail_peerlen;
	char *buf;
	size_t bufsize;
	void **grave;       /* server_defer_free: freed after this batch */
	size_t ngrave, capgrave;
};

void server_opts_init(struct server_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->accept_timeout = o->idle_timeout = o->stall_timeout = -1;
	o->in_fd = o->out_fd = -1;
	o->echo_rate = DGRAM_ECHO_RATE_DEFAULT;
}

static void emit(struct srv *s, enum server_ev_type type, const struct client *c,
		 const char *reason, int errnum)
{
	struct server_event ev;

	if (!s->o->on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.reason = reason;
	ev.errnum = errnum;
	if (c) {
		ev.undelivered = c->lost;
		ev.id = c->id;
		ev.peer = (const struct sockaddr *)&c->peer;
		ev.peerlen = c->peerlen;
		ev.bytes_in = c->in;
		ev.bytes_out = c->out;
		if (type == SERVER_EV_CLOSED)
			ev.duration_ns = clock_mono_ns() - c->start;
	}
	s->o->on_event(s->o->ctx, &ev);
}

int server_write_all(int fd, const void *data, size_t n, struct err *e)
{
	const char *buf = data;

	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, -1);
			continue;
		}
		if (w < 0)
			return err_sys(e, EXIT_FAIL, errno, "write error on stdout");
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- the client list: oldest activity first ---- */

static void list_unlink(struct srv *s, struct client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	c->prev = c->next = NULL;
}

static void list_append(struct srv *s, struct client *c)
{
	c->prev = s->tail;
	c->next = NULL;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
}

static void touch(struct srv *s, struct client *c)
{
	if (s->o->idle_timeout < 0)
		return;
	c->last = clock_mono_ns();
	if (s->tail != c) {
		list_unlink(s, c);
		list_append(s, c);
	}
}

/* ---- what epoll watches ---- */

static int ep_set(struct srv *s, int op, struct src *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(s->ep, op, src->fd, &ev);
}

static void set_accepting(struct srv *s, int on)
{
	int i;

	if (s->accepting == on)
		return;
	for (i = 0; i < s->nl; i++)
		ep_set(s, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, &s->lsrc[i], EPOLLIN);
	s->accepting = on;
}

/* Read stdin only while someone can take it and nobody is too far behind. */
/* line_delay: stdin bytes wait to be sent, or a line went out too recently */
static int input_held(const struct srv *s)
{
	return s->o->line_delay > 0 &&
	       (s->hoff < s->hlen || (s->hold_until && clock_mono_ns() < s->hold_until));
}

static int input_wanted(const struct srv *s)
{
	return s->in_open && s->nclients > 0 && s->nblocked == 0 && !input_held(s);
}

/* server_opts.tap: @n bytes at @p just moved to (@to_client) or from @c. */
static void tap(struct srv *s, const struct client *c, int to_client, uint64_t off,
		const void *p, size_t n)
{
	if (!s->o->tap || !n || s->done == 2)
		return;
	if (s->o->tap(s->o->tap_ctx, c->id, &c->peer.sa, c->peerlen, to_client, off, p, n)) {
		err_sys(s->e, EXIT_FAIL, errno, "session log");
		s->done = 2;
	}
}

static void update_input(struct srv *s)
{
	int want = input_wanted(s) && s->in_pollable;

	if (want == s->in_registered)
		return;
	if (ep_set(s, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, &s->in, EPOLLIN) && want &&
	    errno == EPERM) {
		/* epoll refuses it (/dev/null, other devices that are always
		 * ready): read it directly, as a regular file */
		s->in_pollable = 0;
		return;
	}
	s->in_registered = want;
}

static uint32_t client_events(const struct srv *s, const struct client *c)
{
	uint32_t ev = c->lwant;

	if (c->handshaking) /* a server speaks after the ClientHello */
		return ev ? ev : EPOLLIN;

	/* echo: stop reading a client that does not take its echo (back-pressure);
	 * broker: stop reading everyone while someone is too far behind */
	if (!c->eof && !(s->o->echo && c->plen) && !(s->o->broker && s->nblocked))
		ev |= EPOLLIN;
	if (c->plen)
		ev |= EPOLLOUT;
	return ev;
}

static void update_client(struct srv *s, struct client *c);

/* broker: someone fell behind, or caught up: every client's reading changes */
static void update_all(struct srv *s)
{
	struct client *c;

	for (c = s->head; c; c = c->next) {
		uint32_t ev = client_events(s, c);

		if (ev != c->events) {
			ep_set(s, EPOLL_CTL_MOD, &c->src, ev);
			c->events = ev;
		}
	}
}

static void update_client(struct srv *s, struct client *c)
{
	uint32_t ev = client_events(s, c);
	/* a message is owed whole: with one owed, nothing more is queued behind it */
	int blocked = c->plen > (s->msg ? 0 : PEND_LIMIT);

	if (ev != c->events) {
		ep_set(s, EPOLL_CTL_MOD, &c->src, ev);
		c->events = ev;
	}
	if (blocked != (int)c->blocked) {
		c->blocked = blocked;
		if (blocked) {
			s->nblocked++;
			c->blocked_since = clock_mono_ns();
		} else {
			s->nblocked--;
		}
		if (s->o->broker && s->nblocked == (blocked ? 1u : 0u))
			update_all(s);
		update_input(s);
	}
}

/* ---- clients ---- */

/* A client that sent EOF stays for the broadcast until stdin ends. */
static int eof_client_waits(const struct srv *s)
{
	return s->in_open && s->keep_sending;
}

/* @c failed with @errnum while @extra more bytes were on their way to it. */
static void client_fail(struct srv *s, struct client *c, int errnum, size_t extra);

static void chat_announce(struct srv *s, const struct client *who, const char *what);

/* A client left: without -k the server is done; else accepting resumes if it had paused. */
static void slot_freed(struct srv *s)
{
	if (!s->o->keep_open)
		s->done = 1;
	if (s->paused) {
		/* a descriptor is free again */
		s->paused = 0;
		if (!s->full)
			set_accepting(s, 1);
		emit(s, SERVER_EV_RESUMED, NULL, NULL, 0);
	}
	if (s->full && s->o->keep_open) {
		s->full = 0;
		if (!s->paused)
			set_accepting(s, 1);
	}
}

static void client_close(struct srv *s, struct client *c, const char *reason, int errnum)
{
	emit(s, SERVER_EV_CLOSED, c, reason, errnum);
	if (c->lconn)
		s->o->layer->close(c->lconn, !c->reset_on_close && !errnum && !c->handshaking);
	if (c->reset_on_close)
		server_reset_close(c->src.fd);
	else
		close(c->src.fd);
	if (c->blocked)
		s->nblocked--;
	list_unlink(s, c);
	s->nclients--;
	s->st->bytes_in += c->in;
	s->st->bytes_out += c->out;
	/* a later event of this batch may still point at it */
	c->dead = 1;
	c->next = s->dead;
	s->dead = c;
	chat_announce(s, c, "left");
	slot_freed(s);
	update_input(s);
}

static int queue(struct client *c, const char *buf, size_t n)
{
	if (c->poff && c->poff == c->plen)
		c->poff = c->plen = 0;
	if (c->plen + n > c->pcap) {
		size_t cap = c->pcap ? c->pcap : 4096;
		char *p;

		if (c->poff) {
			memmove(c->pend, c->pend + c->poff, c->plen - c->poff);
			c->plen -= c->poff;
			c->poff = 0;
		}
		while (cap < c->plen + n)
			cap *= 2;
		if (cap != c->pcap) {
			if (!(p = realloc(c->pend, cap)))
				return -1;
			c->pend = p;
			c->pcap = cap;
		}
	}
	memcpy(c->pend + c->plen, buf, n);
	c->plen += n;
	return 0;
}

/* Bytes still owed to the client, counting from poff. */
static size_t owed(const struct client *c)
{
	return c->plen - c->poff;
}

/* Send @buf to @c now, queue what the socket does not take.  -1: the client is gone. */
/* send(2), or the layer's write */
static ssize_t client_write(struct client *c, const struct server_layer *l, const char *buf,
			    size_t n)
{
	if (!l)
		return send(c->src.fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	c->lwant = 0;
	return l->write(c->lconn, buf, n, &c->lwant);
}

static int client_send(struct srv *s, struct client *c, const char *buf, size_t n)
{
	ssize_t w = 0;

	if (!owed(c) && !c->handshaking) {
		w = client_write(c, s->o->layer, buf, n);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			client_fail(s, c, errno, n);
			return -1;
		}
		if (w < 0)
			w = 0;
		c->out += (size_t)w;
		tap(s, c, 1, c->out - (size_t)w, buf, (size_t)w);
	}
	if ((size_t)w < n && queue(c, buf + w, n - (size_t)w)) {
		client_close(s, c, "out of memory", ENOMEM);
		return -1;
	}
	if (!owed(c))
		c->plen = c->poff = 0;
	return 0;
}

static void client_flush(struct srv *s, struct client *c)
{
	while (owed(c)) {
		ssize_t w = client_write(c, s->o->layer, c->pend + c->poff, owed(c));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0) {
			client_fail(s, c, errno, 0);
			return;
		}
		c->poff += (size_t)w;
		c->out += (size_t)w;
		tap(s, c, 1, c->out - (size_t)w, c->pend + c->poff - w, (size_t)w);
	}
	if (!owed(c)) {
		c->plen = c->poff = 0;
		if (c->eof && !eof_client_waits(s)) {
			client_close(s, c, "eof", 0);
			return;
		}
		/* a drained client no longer needs a big buffer */
		if (c->pcap > PEND_LIMIT) {
			free(c->pend);
			c->pend = NULL;
			c->pcap = 0;
		}
	}
	touch(s, c);
	update_client(s, c);
}

/*
 * seqpacket: make room for the next message whole (recv would cut it short
 * and drop the rest).  -1 with @c closed if it is beyond MSG_MAX.
 */
static int msg_room(struct srv *s, struct client *c)
{
	char none, *p;
	/* MSG_TRUNC: the whole length, though nothing is copied */
	ssize_t n = recv(c->src.fd, &none, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);

	if (n <= 0 || (size_t)n <= s->bufsize)
		return 0; /* errors and EOF show again in the read */
	if ((size_t)n > MSG_MAX || !(p = realloc(s->buf, (size_t)n))) {
		client_close(s, c, "message too long", EMSGSIZE);
		if (!s->o->keep_open) {
			err_set(s->e, EXIT_FAIL, "a message of %zd bytes could not be read", n);
			s->done = 2;
		}
		return -1;
	}
	s->buf = p;
	s->bufsize = (size_t)n;
	return 0;
}

/*
 * chat: @n bytes from @c as lines for the others: @prefix ("<userN> ", @pl
 * bytes) at the start of each line, control characters (but the newline and
 * tab) dropped.  @out has room for n * (pl + 1); returns the length.
 */
static size_t chat_lines(struct client *c, const char *in, size_t n, const char *prefix,
			 size_t pl, char *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];

		if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
			continue;
		if (!c->mid_line) {
			memcpy(out + k, prefix, pl);
			k += pl;
		}
		out[k++] = (char)ch;
		c->mid_line = ch != '\n';
	}
	return k;
}

/* broker: @c's bytes to stdout (as any client's) and to every other client. */
static int broker_send(struct srv *s, struct client *from, const char *buf, size_t n)
{
	struct client *c, *next;
	char *line = NULL;

	if (s->o->chat) {
		char prefix[32];
		size_t pl = (size_t)snprintf(prefix, sizeof(prefix), "<user%llu> ",
					     (unsigned long long)from->id);

		/* a prefix per line at most: every byte a line of its own */
		if (!(line = malloc(n * (pl + 1))))
			return 0;
		n = chat_lines(from, buf, n, prefix, pl, line);
		buf = line;
	}
	if (n && s->o->out_fd >= 0 && server_write_all(s->o->out_fd, buf, n, s->e)) {
		free(line);
		return -1;
	}
	for (c = s->head; c && n; c = next) {
		next = c->next;
		if (c != from && !c->dead && client_send(s, c, buf, n) == 0)
			update_client(s, c);
	}
	free(line);
	return 0;
}

/* chat: "<announce> userN joined/left" to everyone else. */
static void chat_announce(struct srv *s, const struct client *who, const char *what)
{
	struct client *c, *next;
	char msg[64];
	int n;

	if (!s->o->chat)
		return;
	n = snprintf(msg, sizeof(msg), "<announce> user%llu %s\n", (unsigned long long)who->id,
		     what);
	for (c = s->head; c; c = next) {
		next = c->next;
		if (c != who && !c->dead && client_send(s, c, msg, (size_t)n) == 0)
			update_client(s, c);
	}
}

/* Returns -1 only when the whole server must stop (output write error). */
static int client_read(struct srv *s, struct client *c)
{
	ssize_t n;

	if (s->msg && msg_room(s, c))
		return s->done == 2 ? -1 : 0;
	if (s->o->layer) {
		c->lwant = 0;
		n = s->o->layer->read(c->lconn, s->buf, SERVER_CHUNK, &c->lwant);
		if (c->lwant)
			update_client(s, c);
	} else {
		n = s->msg ? recv(c->src.fd, s->buf, s->bufsize, 0)
			   : read(c->src.fd, s->buf, SERVER_CHUNK);
	}

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n < 0) {
		client_fail(s, c, errno, 0);
		return 0;
	}
	if (n == 0) {
		c->eof = 1;
		if (!owed(c) && !eof_client_waits(s))
			client_close(s, c, "eof", 0);
		else
			update_client(s, c);
		return 0;
	}
	c->in += (size_t)n;
	touch(s, c);
	tap(s, c, 0, c->in - (size_t)n, s->buf, (size_t)n);
	if (s->o->echo) {
		if (client_send(s, c, s->buf, (size_t)n) == 0)
			update_client(s, c);
		return 0;
	}
	if (s->o->broker)
		return broker_send(s, c, s->buf, (size_t)n);
	if (s->o->out_fd >= 0 && server_write_all(s->o->out_fd, s->buf, (size_t)n, s->e))
		return -1;
	return 0;
}

static void client_fail(struct srv *s, struct client *c, int errnum, size_t extra)
{
	uint64_t took = relay_sock_delivered(c->src.fd, c->acked_base, c->out);

	c->lost = owed(c) + extra + (c->out - took);
	if (!s->o->keep_open) {
		/* one client was the whole job: its failure is the command's */
		s->failed = errnum ? errnum : ECONNRESET;
		s->fail_in = c->in;
		s->fail_out = c->out;
		s->fail_lost = c->lost;
		s->fail_peer = c->peer;
		s->fail_peerlen = c->peerlen;
	}
	client_close(s, c, errnum == ECONNRESET || errnum == EPIPE ? "reset" : "error", errnum);
}

/* The layer's handshake, one step: done, waiting, or the client is closed. */
static void client_handshake(struct srv *s, struct client *c)
{
	const struct server_layer *l = s->o->layer;
	struct server_event ev;
	char why[96] = "";
	int rc;

	c->lwant = 0;
	rc = l->handshake(c->lconn, &c->lwant, why, sizeof(why));
	if (rc < 0) {
		client_close(s, c, why[0] ? why : "tls-handshake", 0);
		return;
	}
	if (rc == 0) {
		update_client(s, c);
		return;
	}
	c->handshaking = 0;
	touch(s, c);
	if (l->ready) {
		memset(&ev, 0, sizeof(ev));
		ev.type = SERVER_EV_CONNECTION;
		ev.id = c->id;
		ev.peer = (const struct sockaddr *)&c->peer;
		ev.peerlen = c->peerlen;
		ev.duration_ns = clock_mono_ns() - c->start;
		l->ready(s->o->ctx, c->lconn, &ev);
	}
	if (owed(c))
		client_flush(s, c); /* what stdin sent meanwhile */
	else
		update_client(s, c);
}

static void client_event(struct srv *s, struct client *c, uint32_t ev)
{
	if (c->dead)
		return;
	if (c->handshaking) {
		client_handshake(s, c);
		if (c->dead || c->handshaking)
			return;
		ev = 0; /* only what the layer already holds (below) */
	}
	if (c->lwant && (ev & c->lwant)) {
		/* the layer waited for this: both directions try again */
		c->lwant = 0;
		ev |= EPOLLIN | (owed(c) ? EPOLLOUT : 0);
	}
	if (c->eof && (ev & (EPOLLHUP | EPOLLERR))) {
		/* it sent EOF, then went away for good: nothing more can reach it */
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(c->src.fd, SOL_SOCKET, SO_ERROR, &err, &len) || !err)
			err = EPIPE;
		client_fail(s, c, err, 0);
		return;
	}
	if ((ev & EPOLLOUT) && owed(c))
		client_flush(s, c);
	if (c->dead)
		return;
	if ((ev & (EPOLLHUP | EPOLLERR)) || ((ev & EPOLLIN) && (client_events(s, c) & EPOLLIN)))
		if (client_read(s, c) < 0)
			s->done = 2;
	/* bytes the layer holds raise no epoll event: read them now */
	while (s->o->layer && !c->dead && !c->eof && s->done != 2 &&
	       (client_events(s, c) & EPOLLIN) && s->o->layer->pending(c->lconn))
		if (client_read(s, c) < 0)
			s->done = 2;
}

static void bury(struct srv *s)
{
	while (s->ngrave)
		free(s->grave[--s->ngrave]);
	while (s->dead) {
		struct client *c = s->dead;

		s->dead = c->next;
		free(c->pend);
		free(c);
	}
}

/* ---- accepting ---- */

int server_allowed(const struct server_opts *o, const struct sockaddr *sa, const char **why)
{
	size_t i;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return 1;
	for (i = 0; i < o->ndeny; i++)
		if (addr_cidr_match(&o->deny[i], sa)) {
			*why = "denied";
			return 0;
		}
	if (!o->nallow)
		return 1;
	for (i = 0; i < o->nallow; i++)
		if (addr_cidr_match(&o->allow[i], sa))
			return 1;
	*why = "not allowed";
	return 0;
}

#define ACCEPT_MAX_FDS 64

int server_accept_first(const int *fds, int n, const struct server_opts *o, int nonblock,
			struct sockaddr_storage *ss, socklen_t *sslen, struct err *e)
{
	int64_t deadline = clock_deadline(o->accept_timeout);
	struct pollfd p[ACCEPT_MAX_FDS];
	char dur[32];
	int i;

	if (n > ACCEPT_MAX_FDS)
		n = ACCEPT_MAX_FDS;
	for (i = 0; i < n; i++)
		p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	for (;;) {
		int rc = nonblock ? n : poll(p, (nfds_t)n, clock_ms_until(deadline));

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return err_sys(e, EXIT_FAIL, errno, "poll");
		if (rc == 0)
			return err_set(e, EXIT_FAIL, "no client within %s",
				       parse_format_duration(o->accept_timeout, dur, sizeof(dur)));
		for (i = 0; i < n; i++) {
			struct server_event ev = { .type = SERVER_EV_CONNECTION };
			socklen_t len = sizeof(*ss);
			const char *why = NULL;
			int fd;

			if (!nonblock && !(p[i].revents & POLLIN))
				continue;
			/* nonblock: the listeners are non-blocking, so this may say EAGAIN */
			fd = accept4(fds[i], (struct sockaddr *)ss, &len, SOCK_CLOEXEC);
			if (fd < 0 && nonblock && errno == EAGAIN && i + 1 < n)
				continue;
			if (fd < 0 && nonblock)
				return err_sys(e, EXIT_FAIL, errno, "accept: %s",
					       err_errno_name(errno));
			if (fd < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED))
				continue;
			if (fd < 0)
				return err_sys(e, EXIT_FAIL, errno, "accept");
			if (len > sizeof(*ss))
				len = sizeof(*ss);
			*sslen = len;
			ev.peer = (struct sockaddr *)ss;
			ev.peerlen = len;
			ev.id = 1;
			if (!server_allowed(o, ev.peer, &why)) {
				ev.type = SERVER_EV_REFUSED;
				ev.reason = "denied";
				ev.id = 0;
				if (o->on_event)
					o->on_event(o->ctx, &ev);
				server_reset_close(fd);
				continue;
			}
			if (o->on_event)
				o->on_event(o->ctx, &ev);
			return fd;
		}
	}
}

void server_event_closed(struct server_event *ev, const struct sockaddr *peer, socklen_t len,
			 int rc, const struct relay_stats *rs)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = SERVER_EV_CLOSED;
	ev->id = 1;
	ev->peer = peer;
	ev->peerlen = len;
	ev->bytes_in = rs->to_out;
	ev->bytes_out = rs->to_sock;
	ev->duration_ns = rs->end_ns - rs->start_ns;
	ev->reason = relay_end_reason(rc, rs);
	ev->errnum = relay_end_errno(rc, rs);
	ev->undelivered = rs->undelivered;
}

void server_reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	/* an RST, not a FIN: the client must not take "refused" for "done" */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void refuse(struct srv *s, int fd, struct client *tmp, const char *why)
{
	s->st->refused++;
	emit(s, SERVER_EV_REFUSED, tmp, why, 0);
	server_reset_close(fd);
}

static void pause_accepting(struct srv *s, int errnum)
{
	set_accepting(s, 0);
	s->paused = 1;
	s->retry_at = clock_mono_ns() + EMFILE_RETRY_NS;
	emit(s, SERVER_EV_PAUSED, NULL, "accept paused", errnum);
}

/* The client is counted until server_release(); accepting pauses at max_serving. */
static void count_client(struct srv *s)
{
	s->nclients++;
	s->st->clients++;
	s->accept_deadline = -1;
	if (!s->o->keep_open)
		set_accepting(s, 0);
	if (s->o->max_serving > 0 && s->nclients >= (size_t)s->o->max_serving) {
		s->full = 1; /* the next ones wait in the backlog */
		set_accepting(s, 0);
	}
}

static int hand_off(struct srv *s, int fd, const union peer_addr *peer, socklen_t len)
{
	struct client tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.id = ++s->next_id;
	tmp.peer = *peer;
	tmp.peerlen = len;
	emit(s, SERVER_EV_CONNECTION, &tmp, NULL, 0);
	count_client(s);
	if (s->o->handoff->start(s->o->handoff->ctx, (struct server_loop *)(void *)s, fd, tmp.id,
				 (const struct sockaddr *)peer, len))
		server_release((struct server_loop *)(void *)s);
	return 1;
}

static int add_client(struct srv *s, int fd, const union peer_addr *peer, socklen_t len)
{
	struct client *c;

	if (s->o->handoff)
		return hand_off(s, fd, peer, len);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return 0;
	}
	c->src.kind = SRC_CLIENT;
	c->src.fd = fd;
	c->id = ++s->next_id;
	c->peer = *peer;
	c->peerlen = len;
	c->start = c->last = clock_mono_ns();
	c->acked_base = relay_sock_acked(fd);
	c->events = EPOLLIN;
	if (s->o->layer) {
		c->lconn = s->o->layer->open(s->o->layer->ctx, fd);
		c->handshaking = 1;
	}
	if ((s->o->layer && !c->lconn) || ep_set(s, EPOLL_CTL_ADD, &c->src, EPOLLIN)) {
		if (c->lconn)
			s->o->layer->close(c->lconn, 0);
		close(fd);
		free(c);
		return 0;
	}
	list_append(s, c);
	count_client(s);
	emit(s, SERVER_EV_CONNECTION, c, NULL, 0);
	chat_announce(s, c, "joined");
	update_input(s);
	return 1;
}

static int accept_some(struct srv *s, int lfd)
{
	int i;

	for (i = 0; i < ACCEPT_BATCH && s->accepting; i++) {
		struct client tmp;
		const char *why = NULL;
		int fd;

		memset(&tmp, 0, sizeof(tmp));
		tmp.peerlen = sizeof(tmp.peer);
		fd = accept4(lfd, (struct sockaddr *)&tmp.peer, &tmp.peerlen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				pause_accepting(s, errno);
				return 0;
			}
			if (errno == ECONNABORTED || errno == EPROTO || errno == EPERM)
				continue;
			return err_sys(s->e, EXIT_FAIL, errno, "accept");
		}
		if (tmp.peerlen > sizeof(tmp.peer))
			tmp.peerlen = sizeof(tmp.peer);
		if (!server_allowed(s->o, (struct sockaddr *)&tmp.peer, &why)) {
			refuse(s, fd, &tmp, why);
			continue;
		}
		if (s->o->max_conns > 0 && s->nclients >= (size_t)s->o->max_conns) {
			refuse(s, fd, &tmp, "max-conns");
			continue;
		}
		add_client(s, fd, &tmp.peer, tmp.peerlen);
	}
	return 0;
}

/* ---- handed-off clients ---- */

/* struct server_loop is struct srv to the handlers, opaque. */
static struct srv *loop_srv(struct server_loop *l)
{
	return (struct srv *)(void *)l;
}

int server_watch_add(struct server_loop *l, struct server_watch *w, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	w->kind = SRC_WATCH;
	w->fd = fd;
	return epoll_ctl(loop_srv(l)->ep, EPOLL_CTL_ADD, fd, &ev);
}

int server_watch_mod(struct server_loop *l, struct server_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(loop_srv(l)->ep, EPOLL_CTL_MOD, w->fd, &ev);
}

void server_watch_del(struct server_loop *l, struct server_watch *w)
{
	epoll_ctl(loop_srv(l)->ep, EPOLL_CTL_DEL, w->fd, NULL);
}

void server_release(struct server_loop *l)
{
	struct srv *s = loop_srv(l);

	s->nclients--;
	slot_freed(s);
}

void server_defer_free(struct server_loop *l, void *p)
{
	struct srv *s = loop_srv(l);

	if (s->ngrave == s->capgrave) {
		size_t cap = s->capgrave ? s->capgrave * 2 : 16;
		void **g = realloc(s->grave, cap * sizeof(*g));

		if (!g)
			return; /* leaked rather than freed under a pending event */
		s->grave = g;
		s->capgrave = cap;
	}
	s->grave[s->ngrave++] = p;
}

/* ---- stdin, broadcast ---- */

static void broadcast(struct srv *s, const char *p, size_t n)
{
	struct client *c, *next;

	for (c = s->head; c; c = next) {
		next = c->next;
		if (client_send(s, c, p, n) == 0)
			update_client(s, c);
	}
}

/* line_delay: send what stdin gave one line at a time, waiting after each. */
static void input_drain(struct srv *s)
{
	while (s->hoff < s->hlen && clock_mono_ns() >= s->hold_until) {
		char *p = s->held + s->hoff, *nl = memchr(p, '\n', s->hlen - s->hoff);
		size_t n = nl ? (size_t)(nl - p) + 1 : s->hlen - s->hoff;

		broadcast(s, p, n);
		s->hoff += n;
		if (nl)
			s->hold_until = clock_mono_ns() + s->o->line_delay;
	}
	if (s->hoff == s->hlen)
		s->hoff = s->hlen = 0;
	update_input(s);
}

static void input_read(struct srv *s)
{
	/* --crlf: every byte may become two */
	char *buf = s->held ? s->held : s->buf;
	ssize_t n = read(s->in.fd, buf, s->o->crlf ? SERVER_CHUNK / 2 : SERVER_CHUNK);
	struct client *c, *next;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF or an unreadable stdin: stop reading it, keep serving */
		s->in_open = 0;
		update_input(s);
		/* clients that sent EOF were waiting for the rest of stdin */
		for (c = s->head; c; c = next) {
			next = c->next;
			if (c->eof && !owed(c))
				client_close(s, c, "eof", 0);
		}
		return;
	}
	if (s->o->crlf)
		n = (ssize_t)relay_crlf(buf, (size_t)n, &s->in_last_cr);
	if (!s->held) {
		broadcast(s, buf, (size_t)n);
		return;
	}
	s->hoff = 0;
	s->hlen = (size_t)n;
	input_drain(s);
}

/* ---- the loop ---- */

/* The earliest moment a blocked client runs out of stall_timeout; -1: none. */
static int64_t stall_deadline(const struct srv *s)
{
	const struct client *c;
	int64_t d = -1;

	if (s->o->stall_timeout < 0 || !s->nblocked)
		return -1;
	for (c = s->head; c; c = c->next)
		if (c->blocked)
			d = clock_earliest(d, c->blocked_since + s->o->stall_timeout);
	return d;
}

/*
 * A client that has not taken the broadcast for stall_timeout holds up
 * stdin for everyone: reset it (an RST also frees its kernel queue).
 */
static void drop_stalled(struct srv *s, int64_t now)
{
	struct client *c, *next;

	if (s->o->stall_timeout < 0 || !s->nblocked)
		return;
	for (c = s->head; c; c = next) {
		next = c->next;
		if (!c->blocked || now < c->blocked_since + s->o->stall_timeout)
			continue;
		c->lost = owed(c) + (c->out - relay_sock_delivered(c->src.fd, c->acked_base,
								     c->out));
		c->reset_on_close = 1;
		client_close(s, c, "stall-timeout", 0);
	}
}

/* The earliest handshake deadline of the clients still shaking hands; -1: none. */
static int64_t handshake_deadline(const struct srv *s)
{
	const struct client *c;
	int64_t d = -1;

	if (!s->o->layer)
		return -1;
	for (c = s->head; c; c = c->next)
		if (c->handshaking)
			d = clock_earliest(d, c->start + s->o->layer->handshake_timeout);
	return d;
}

static void drop_slow_handshakes(struct srv *s, int64_t now)
{
	struct client *c, *next;

	if (!s->o->layer)
		return;
	for (c = s->head; c; c = next) {
		next = c->next;
		if (c->handshaking && now >= c->start + s->o->layer->handshake_timeout)
			client_close(s, c, "handshake-timeout", ETIMEDOUT);
	}
}

static int next_timeout(const struct srv *s)
{
	int64_t d = clock_earliest(clock_earliest(s->accept_deadline, stall_deadline(s)),
				   handshake_deadline(s));

	if (s->o->idle_timeout >= 0 && s->head) {
		int64_t t = s->head->last + s->o->idle_timeout;

		if (d < 0 || t < d)
			d = t;
	}
	if (s->paused && (d < 0 || s->retry_at < d))
		d = s->retry_at;
	if (s->held && (s->hoff < s->hlen || s->hold_until > clock_mono_ns()))
		d = clock_earliest(d, s->hold_until);
	if (input_wanted(s) && !s->in_pollable)
		return 0;
	return clock_ms_until(d);
}

static int timeouts(struct srv *s)
{
	int64_t now = clock_mono_ns();
	char dur[32];

	if (s->accept_deadline >= 0 && now >= s->accept_deadline)
		return err_set(s->e, EXIT_FAIL, "no client within %s",
			       parse_format_duration(s->o->accept_timeout, dur, sizeof(dur)));
	while (s->o->idle_timeout >= 0 && s->head && now >= s->head->last + s->o->idle_timeout)
		client_close(s, s->head, "idle-timeout", 0);
	drop_stalled(s, now);
	drop_slow_handshakes(s, now);
	if (s->held)
		input_drain(s);
	if (s->paused && now >= s->retry_at) {
		s->paused = 0;
		if (!s->full)
			set_accepting(s, 1);
		emit(s, SERVER_EV_RESUMED, NULL, NULL, 0);
	}
	return 0;
}

static int srv_init(struct srv *s, const int *lfds, int nl, const struct server_opts *o,
		    struct server_stats *st, struct err *e)
{
	struct stat sb;
	int i, type = 0;
	socklen_t tl = sizeof(type);

	memset(s, 0, sizeof(*s));
	memset(st, 0, sizeof(*st));
	s->o = o;
	s->st = st;
	s->e = e;
	if (nl > MAX_LISTENERS)
		return err_set(e, EXIT_USAGE, "too many listening sockets (%d)", nl);
	s->nl = nl;
	for (i = 0; i < nl; i++) {
		int fl = fcntl(lfds[i], F_GETFL);

		s->lsrc[i].kind = SRC_LISTENER;
		s->lsrc[i].fd = lfds[i];
		/* accept and recv loop until EAGAIN: never block the loop */
		if (fl < 0 || fcntl(lfds[i], F_SETFL, fl | O_NONBLOCK))
			return err_sys(e, EXIT_FAIL, errno, "fcntl O_NONBLOCK");
	}
	s->in.kind = SRC_INPUT;
	s->in.fd = o->in_fd;
	s->in_open = o->in_fd >= 0;
	s->in_pollable = s->in_open && !(fstat(o->in_fd, &sb) == 0 &&
					 (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)));
	/* a terminal's user typed what there is: a client's EOF ends it */
	s->keep_sending = s->in_open && !o->exit_on_peer_eof && !isatty(o->in_fd);
	s->accept_deadline = clock_deadline(o->accept_timeout);
	s->msg = nl > 0 && !getsockopt(lfds[0], SOL_SOCKET, SO_TYPE, &type, &tl) &&
		 type == SOCK_SEQPACKET;
	s->bufsize = SERVER_CHUNK;
	if (!(s->buf = malloc(s->bufsize)))
		return err_set(e, EXIT_FAIL, "out of memory");
	if (o->line_delay > 0 && s->in_open && !(s->held = malloc(SERVER_CHUNK))) {
		free(s->buf);
		s->buf = NULL;
		return err_set(e, EXIT_FAIL, "out of memory");
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0) {
		free(s->held);
		s->held = NULL;
		free(s->buf);
		s->buf = NULL;
		return err_sys(e, EXIT_FAIL, errno, "epoll_create1");
	}
	return 0;
}

static void srv_free(struct srv *s)
{
	while (s->head) {
		struct client *c = s->head;

		s->head = c->next;
		emit(s, SERVER_EV_CLOSED, c, "shutdown", 0);
		if (c->lconn)
			s->o->layer->close(c->lconn, 0);
		close(c->src.fd);
		free(c->pend);
		free(c);
	}
	bury(s);
	free(s->grave);
	close(s->ep);
	free(s->held);
	free(s->buf);
}

/* Without keep_open, the one client failed: say so as a relay would. */
static int client_failure(const struct srv *s, struct err *e)
{
	char who[ADDR_STRLEN], cause[128];
	int errnum = s->failed;

	addr_format((const struct sockaddr *)&s->fail_peer, s->fail_peerlen, who, sizeof(who));
	err_strerror(errnum == EPIPE ? ECONNRESET : errnum, cause, sizeof(cause));
	if (s->fail_lost)
		return err_set(e, EXIT_FAIL, "%s: %s after %llu bytes sent; %llu bytes not "
			       "delivered", who, cause, (unsigned long long)s->fail_out,
			       (unsigned long long)s->fail_lost);
	return err_set(e, EXIT_FAIL, "%s: %s after %llu bytes sent, %llu received", who, cause,
		       (unsigned long long)s->fail_out, (unsigned long long)s->fail_in);
}

int server_run_stream(const int *lfds, int nl, const struct server_opts *o,
		      struct server_stats *st, struct err *e)
{
	struct epoll_event evs[MAX_EVENTS];
	struct srv s;
	int rc = 0;

	if (srv_init(&s, lfds, nl, o, st, e))
		return -1;
	set_accepting(&s, 1);
	while (!s.done) {
		int n, i;

		if (input_wanted(&s) && !s.in_pollable)
			input_read(&s);
		n = epoll_wait(s.ep, evs, MAX_EVENTS, next_timeout(&s));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_sys(e, EXIT_FAIL, errno, "epoll_wait");
			break;
		}
		for (i = 0; i < n && !s.done; i++) {
			struct src *src = evs[i].data.ptr;

			/* both kinds of source begin with the int kind */
			if (*(const int *)evs[i].data.ptr == SRC_WATCH)
				((struct server_watch *)evs[i].data.ptr)->ready(evs[i].data.ptr,
										 evs[i].events);
			else if (src->kind == SRC_LISTENER && s.accepting)
				rc = accept_some(&s, src->fd);
			else if (src->kind == SRC_INPUT && s.in_registered)
				input_read(&s);
			else if (src->kind == SRC_CLIENT)
				client_event(&s, (struct client *)src, evs[i].events);
			if (rc)
				break;
		}
		bury(&s);
		if (rc || s.done == 2 || (rc = timeouts(&s)))
			break;
	}
	if (s.done == 2)
		rc = -1;
	if (!rc && s.failed)
		rc = client_failure(&s, e);
	srv_free(&s);
	return rc;
}
