/* SPDX-License-Identifier: MIT */
/* connect --proxy / -x: the recipe and its output; lib/proxy speaks the protocols. */
#include "connect_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "clock.h"
#include "out.h"
#include "parse.h"

const char *const connect_proxy_types[] = { "5", "4", "connect", NULL };

static int check(struct connect_proxy *p, int not_tcp, struct err *e)
{
	p->on = p->url || p->addr;
	if (!p->on) {
		if (p->type || p->user)
			return err_set(e, EXIT_USAGE, "-X/--proxy-type and -P/--proxy-user need "
				       "-x/--proxy-addr");
		return 0;
	}
	if (p->url && (p->addr || p->type))
		return err_set(e, EXIT_USAGE, "--proxy URL conflicts with -x/-X (the URL says "
			       "both)");
	if (not_tcp)
		return err_set(e, EXIT_USAGE, "a proxy (--proxy, -x) carries TCP: not with -u, "
			       "-U, unix:, --fd or --nonblock");
	if (p->addr)
		return proxy_nc_parse(p->addr, p->type, p->user, &p->u, e);
	if (proxy_url_parse(p->url, &p->u, e))
		return -1;
	if (p->user) {
		if (p->u.user[0])
			return err_set(e, EXIT_USAGE, "-P/--proxy-user conflicts with the user in "
				       "--proxy URL");
		if (!*p->user || strlen(p->user) > PROXY_FIELD_MAX)
			return err_set(e, EXIT_USAGE, "-P/--proxy-user: give a name of 1-%d bytes",
				       PROXY_FIELD_MAX);
		snprintf(p->u.user, sizeof(p->u.user), "%s", p->user);
	}
	return 0;
}

/* The password of a SOCKS5 or HTTP user: the environment, else a prompt on the terminal. */
static int get_password(struct connect_proxy *p, struct err *e)
{
	const char *env = getenv("SOCKCTL_PROXY_PASSWORD");
	struct termios t, quiet;
	char prompt[PROXY_FIELD_MAX * 2 + 48];
	ssize_t n;
	int tty, echo_off;

	if (p->u.has_pass || !p->u.user[0] || p->u.kind == PROXY_SOCKS4 ||
	    p->u.kind == PROXY_SOCKS4A)
		return 0;
	if (env) {
		if (strlen(env) > PROXY_FIELD_MAX)
			return err_set(e, EXIT_USAGE, "SOCKCTL_PROXY_PASSWORD: longer than %d bytes",
				       PROXY_FIELD_MAX);
		snprintf(p->u.pass, sizeof(p->u.pass), "%s", env);
		p->u.has_pass = 1;
		return 0;
	}
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0)
		return err_set(e, EXIT_USAGE, "proxy user %.64s: no password: set "
			       "SOCKCTL_PROXY_PASSWORD (no terminal to ask on)", p->u.user);
	echo_off = !tcgetattr(tty, &t);
	if (echo_off) {
		quiet = t;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(tty, TCSAFLUSH, &quiet);
	}
	n = snprintf(prompt, sizeof(prompt), "Password for proxy user %s at %s: ", p->u.user,
		     p->u.host);
	if (write(tty, prompt, (size_t)n) < 0)
		n = -1;
	else
		n = read(tty, p->u.pass, sizeof(p->u.pass) - 1);
	if (echo_off)
		tcsetattr(tty, TCSANOW, &t); /* keep what was typed after the password */
	close(tty);
	if (n < 0)
		return err_sys(e, EXIT_FAIL, errno, "reading the proxy password from /dev/tty");
	p->u.pass[n] = '\0';
	p->u.pass[strcspn(p->u.pass, "\r\n")] = '\0';
	p->u.has_pass = 1;
	return 0;
}

int connect_proxy_prepare(struct connect_proxy *p, int not_tcp, int verbose, int json,
			  struct err *e)
{
	p->verbose = verbose;
	p->json = json;
	if (!p->cmd)
		p->cmd = "connect";
	if (check(p, not_tcp, e))
		return -1;
	return p->on ? get_password(p, e) : 0;
}

static void show_tunnel(const struct connect_proxy *p, const struct endpoint *ep,
			uint16_t port, int64_t ns)
{
	char dur[32];
	struct jsonw w;

	if (p->json) {
		json_begin(&w, stderr);
		json_str(&w, "event", "proxy");
		json_str(&w, "type", proxy_kind_name(p->u.kind));
		json_str(&w, "proxy_host", p->u.host);
		json_str(&w, "proxy_port", p->u.port);
		json_str(&w, "target", ep->host);
		json_uint(&w, "port", port);
		json_num(&w, "ms", (double)ns / 1e6, 3);
		json_end(&w);
	} else if (p->verbose) {
		err_msg(p->cmd, "%s proxy %s port %s: tunnel to %s port %u open in %s",
			proxy_kind_name(p->u.kind), p->u.host, p->u.port, ep->host, port,
			parse_format_duration(ns, dur, sizeof(dur)));
	}
}

/* One tunnel to @port: 0, or -1 with @e and *@why. */
static int tunnel(const struct connect_proxy *p, const struct endpoint *ep, uint16_t port,
		  const struct sock_connect_opts *co, int64_t timeout, int *fd,
		  enum proxy_fail *why, struct err *e)
{
	int64_t t0 = clock_mono_ns();

	if (proxy_connect(&p->u, ep->host, port, co, timeout, fd, why, e))
		return -1;
	show_tunnel(p, ep, port, clock_mono_ns() - t0);
	return 0;
}

int connect_proxy_open(const struct connect_proxy *p, const struct endpoint *ep,
		       const struct sock_connect_opts *co, int *fd, struct err *e)
{
	enum proxy_fail why;
	uint16_t port;

	if (addr_parse_port(ep->service, "tcp", &port, e))
		return -1;
	return tunnel(p, ep, port, co, co->timeout, fd, &why, e);
}

long connect_proxy_scan(const struct connect_proxy *p, const struct endpoint *ep,
			const struct sock_connect_opts *co, int64_t timeout, scan_cb cb,
			void *ctx, size_t *nports, struct err *e)
{
	struct port_list pl;
	struct scan_result r;
	enum proxy_fail why;
	size_t i;
	long open = 0;
	unsigned port;
	int fd;

	if (addr_parse_port_list(ep->service, "tcp", &pl, e))
		return -1;
	*nports = pl.count;
	for (i = 0; i < pl.n; i++) {
		for (port = pl.r[i].lo; port <= pl.r[i].hi; port++) {
			int64_t t0 = clock_mono_ns();
			int rc = tunnel(p, ep, (uint16_t)port, co, timeout, &fd, &why, e);

			memset(&r, 0, sizeof(r));
			r.port = (uint16_t)port;
			r.ns = clock_mono_ns() - t0;
			if (!rc) {
				close(fd);
				r.state = SCAN_OPEN;
				open++;
			} else if (why == PROXY_F_REFUSED) {
				r.state = SCAN_CLOSED;
				r.err = ECONNREFUSED;
			} else if (why == PROXY_F_UNREACHABLE || why == PROXY_F_TIMEOUT) {
				r.state = SCAN_FILTERED;
				r.err = why == PROXY_F_TIMEOUT ? ETIMEDOUT : EHOSTUNREACH;
			} else {
				addr_port_list_free(&pl);
				return -1; /* the proxy itself failed: no port can be checked */
			}
			cb(ctx, &r);
		}
	}
	addr_port_list_free(&pl);
	return open;
}
