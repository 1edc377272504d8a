/* SPDX-License-Identifier: MIT */
/* sockctl connect -z: port checks, many in flight (lib/scan), or one by one through a proxy. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "cmd_sandbox.h"
#include "connect.h"
#include "err.h"
#include "out.h"
#include "scan.h"

struct scan_ctx {
	const struct connect_opts *o;
	long hits; /* open, or for UDP open|filtered */
	char host[ADDR_STRLEN];
};

static void on_scan(void *p, const struct scan_result *r)
{
	struct scan_ctx *c = p;
	struct jsonw w;
	int show;

	if (r->state == SCAN_OPEN || r->state == SCAN_OPEN_FILTERED)
		c->hits++;
	show = r->state == SCAN_OPEN || c->o->verbose ||
		   (c->o->udp && r->state == SCAN_OPEN_FILTERED);
	if (!show)
		return;
	if (c->o->json) {
		json_begin(&w, stdout);
		json_str(&w, "event", "scan");
		json_str(&w, "address", c->host);
		json_uint(&w, "port", r->port);
		json_str(&w, "state", scan_state_name(r->state));
		json_num(&w, "ms", (double)r->ns / 1e6, 3);
		if (r->err)
			json_str(&w, "error", err_errno_name(r->err));
		json_end(&w);
		return;
	}
	printf("%s %u %s\n", c->host, r->port, scan_state_name(r->state));
}

/* The address of @host for -z; a failure names the port list as given. */
static int resolve_one(const char *host, const char *ports, int family, int type,
		       struct sockaddr_storage *ss, socklen_t *len, struct err *e)
{
	struct addrinfo hints;
	char why[sizeof(e->msg)];
	size_t hl = strlen(host);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = type;
	if (!sock_resolve_first(host, NULL, &hints, ss, len, e))
		return 0;
	/* "HOST: EAI_...: text" -> "HOST port LIST: EAI_...: text" */
	snprintf(why, sizeof(why), "%s",
		 !strncmp(e->msg, host, hl) && !strncmp(e->msg + hl, ": ", 2) ? e->msg + hl + 2
									       : e->msg);
	return err_set(e, e->status, "%.64s port %.64s: %s", host, ports, why);
}

int connect_run_scan(const struct connect_opts *o, const struct endpoint *ep, struct err *e)
{
	struct port_list pl;
	struct sockaddr_storage ss, src;
	socklen_t len, srclen = 0;
	struct scan_opts so_scan;
	struct scan_ctx c;
	long limit, open;
	size_t nports;
	int type = o->udp ? SOCK_DGRAM : SOCK_STREAM;
	int64_t timeout = o->connect_timeout >= 0 ? o->connect_timeout
			  : o->timeout >= 0	  ? o->timeout
						  : SCAN_TIMEOUT;

	memset(&c, 0, sizeof(c));
	c.o = o;
	if (o->px.on) {
		struct sock_connect_opts co;
		struct connect_ctx cc = { o };

		connect_fill_co(o, &cc, &co);
		co.timeout = timeout;
		snprintf(c.host, sizeof(c.host), "%s", ep->host);
		open = connect_proxy_scan(&o->px, ep, &co, timeout, on_scan, &c, &nports, e);
		if (open < 0)
			return -1;
		goto tally;
	}
	if (addr_parse_port_list(ep->service, o->udp ? "udp" : "tcp", &pl, e))
		return -1;
	if (resolve_one(ep->host, ep->service, o->family, type, &ss, &len, e) ||
	    sock_source_addr(&o->so, ss.ss_family, type, &src, &srclen, e)) {
		addr_port_list_free(&pl);
		return -1;
	}
	memset(&so_scan, 0, sizeof(so_scan));
	so_scan.parallel = o->parallel > 0 ? (int)o->parallel : SCAN_PARALLEL;
	/* every check holds a descriptor: stay under the limit, keep some spare */
	limit = sock_raise_nofile() - 16;
	if (limit < 1)
		limit = 1;
	if (so_scan.parallel > limit)
		so_scan.parallel = (int)limit;
	so_scan.timeout = timeout;
	so_scan.udp = o->udp;
	so_scan.so = &o->so;
	so_scan.src = srclen ? (struct sockaddr *)&src : NULL;
	so_scan.srclen = srclen;
	addr_ntop((struct sockaddr *)&ss, len, c.host, sizeof(c.host));
	if (cmd_sandbox_plain("connect", o->no_sandbox, o->verbose, &sb_connect_scan, e)) {
		addr_port_list_free(&pl);
		return -1;
	}
	open = scan_run((struct sockaddr *)&ss, len, &pl, &so_scan, on_scan, &c, e);
	nports = pl.count;
	addr_port_list_free(&pl);
	if (open < 0)
		return -1;
tally:
	if (c.hits == 0)
		return err_set(e, EXIT_FAIL, "%s: no open port among %zu checked", c.host,
			       nports);
	return 0;
}
