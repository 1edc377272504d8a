/* SPDX-License-Identifier: MIT */
/* SOCKS4/4a/5 and HTTP CONNECT: URLs, requests, hostile-input reply parsers, the client. */
#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "sock.h"
#include "sock_connect.h"

static const struct {
	const char *name;
	enum proxy_kind kind;
	const char *port;
} schemes[] = {
	{ "socks5", PROXY_SOCKS5, "1080" },   { "socks5h", PROXY_SOCKS5H, "1080" },
	{ "socks4", PROXY_SOCKS4, "1080" },   { "socks4a", PROXY_SOCKS4A, "1080" },
	{ "http", PROXY_HTTP, "8080" },
};

const char *proxy_kind_name(enum proxy_kind k)
{
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i].kind == k)
			return schemes[i].name;
	return "none";
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %-decode @n bytes of @s into @out (NUL-terminated): -1 if bad, too long or a NUL. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= n)
				return -1;
			h = hexval((unsigned char)s[i + 1]);
			l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int parse_port(const char *s, char *out, struct err *e)
{
	unsigned long v = 0;
	const char *p;

	if (!*s || strlen(s) > 5)
		return err_set(e, EXIT_USAGE, "proxy port '%.16s': give a number 1-65535", s);
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return err_set(e, EXIT_USAGE, "proxy port '%.16s': give a number 1-65535",
				       s);
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return err_set(e, EXIT_USAGE, "proxy port '%.16s': give a number 1-65535", s);
	snprintf(out, 6, "%lu", v);
	return 0;
}

/* HOST[:PORT] or [V6]:PORT of @n bytes at @s; the port defaults to @defport. */
static int parse_hostport(const char *s, size_t n, const char *defport, struct proxy_url *u,
			  struct err *e)
{
	char buf[PROXY_FIELD_MAX + 8];
	char *port = NULL, *host = buf;

	if (n == 0 || n >= sizeof(buf))
		return err_set(e, EXIT_USAGE, "proxy address: give HOST:PORT (%zu bytes given)",
			       n);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');

		if (!close)
			return err_set(e, EXIT_USAGE, "proxy address '%s': missing ']'", buf);
		*close = '\0';
		host = buf + 1;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return err_set(e, EXIT_USAGE, "proxy address '%s]%s': junk after ']'", host,
				       close + 1);
		if (addr_numeric_family(host) != AF_INET6)
			return err_set(e, EXIT_USAGE, "proxy address '[%s]': not an IPv6 address",
				       host);
	} else {
		port = strchr(buf, ':');
		if (port) {
			if (strchr(port + 1, ':'))
				return err_set(e, EXIT_USAGE, "proxy address '%s': put an IPv6 "
					       "address in brackets ([::1]:1080)", buf);
			*port++ = '\0';
		}
	}
	if (!*host)
		return err_set(e, EXIT_USAGE, "proxy address '%s': no host", s[0] ? buf : "");
	if (strlen(host) > PROXY_FIELD_MAX)
		return err_set(e, EXIT_USAGE, "proxy address: host name longer than %d bytes",
			       PROXY_FIELD_MAX);
	if (addr_check_host(host, e))
		return -1;
	memcpy(u->host, host, strlen(host) + 1);
	return parse_port(port ? port : defport, u->port, e);
}

int proxy_url_parse(const char *url, struct proxy_url *u, struct err *e)
{
	const char *sep = strstr(url, "://"), *auth, *at, *end;
	size_t i, sl;

	memset(u, 0, sizeof(*u));
	if (!sep)
		return err_set(e, EXIT_USAGE, "--proxy: give SCHEME://HOST:PORT (socks5, socks5h, "
			       "socks4, socks4a or http)");
	sl = (size_t)(sep - url);
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i].name) == sl && !strncasecmp(url, schemes[i].name, sl))
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0]))
		return err_set(e, EXIT_USAGE, "--proxy: unknown scheme '%.*s' (socks5, socks5h, "
			       "socks4, socks4a or http)", (int)(sl > 16 ? 16 : sl), url);
	u->kind = schemes[i].kind;
	auth = sep + 3;
	end = auth + strcspn(auth, "/?#");
	if (*end && strcmp(end, "/") != 0)
		return err_set(e, EXIT_USAGE, "--proxy: a proxy URL has no path (%.32s)", end);
	at = NULL;
	for (sep = auth; sep < end; sep++)
		if (*sep == '@')
			at = sep;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		size_t ul = (size_t)((colon ? colon : at) - auth);

		if (ul == 0 || pct_decode(auth, ul, u->user, sizeof(u->user)))
			return err_set(e, EXIT_USAGE, "--proxy: the user name in the URL is empty, "
				       "too long or badly %%-encoded");
		if (colon) {
			if (pct_decode(colon + 1, (size_t)(at - colon - 1), u->pass, sizeof(u->pass)))
				return err_set(e, EXIT_USAGE, "--proxy: the password in the URL is "
					       "too long or badly %%-encoded");
			u->has_pass = 1;
		}
		auth = at + 1;
	}
	if ((u->kind == PROXY_SOCKS4 || u->kind == PROXY_SOCKS4A) && u->has_pass)
		return err_set(e, EXIT_USAGE, "--proxy: SOCKS4 has a user id but no password");
	if (u->kind == PROXY_SOCKS5 || u->kind == PROXY_SOCKS5H) {
		if (strlen(u->user) > PROXY_FIELD_MAX)
			return err_set(e, EXIT_USAGE, "--proxy: user name too long");
	}
	return parse_hostport(auth, (size_t)(end - auth), schemes[i].port, u, e);
}

int proxy_nc_parse(const char *addr, const char *proto, const char *user,
		   struct proxy_url *u, struct err *e)
{
	const char *defport = "1080";

	memset(u, 0, sizeof(*u));
	if (!proto || !strcmp(proto, "5")) {
		u->kind = PROXY_SOCKS5H;
	} else if (!strcmp(proto, "4")) {
		u->kind = PROXY_SOCKS4; /* nc resolves the target for SOCKS4 */
	} else if (!strcasecmp(proto, "connect")) {
		u->kind = PROXY_HTTP;
		defport = "3128"; /* nc's default for CONNECT */
	} else {
		return err_set(e, EXIT_USAGE, "-X/--proxy-type '%.16s': give 5, 4 or connect",
			       proto);
	}
	if (user) {
		if (!*user || strlen(user) > PROXY_FIELD_MAX)
			return err_set(e, EXIT_USAGE, "-P/--proxy-user: give a name of 1-%d bytes",
				       PROXY_FIELD_MAX);
		snprintf(u->user, sizeof(u->user), "%s", user);
	}
	return parse_hostport(addr, strlen(addr), defport, u, e);
}

/* ---- words for codes ---- */

const char *proxy_socks5_rep_text(int rep)
{
	static const char *const t[] = {
		"succeeded",
		"general SOCKS server failure",
		"connection not allowed by ruleset",
		"network unreachable",
		"host unreachable",
		"connection refused by destination",
		"TTL expired",
		"command not supported",
		"address type not supported",
	};

	if (rep >= 0 && rep < (int)(sizeof(t) / sizeof(t[0])))
		return t[rep];
	return "unassigned reply code";
}

const char *proxy_socks4_cd_text(int cd)
{
	switch (cd) {
	case 90:
		return "request granted";
	case 91:
		return "request rejected or failed";
	case 92:
		return "request rejected: the proxy cannot reach our identd";
	case 93:
		return "request rejected: identd reports another user id";
	default:
		return "unassigned reply code";
	}
}

/* ---- replies ---- */

static enum proxy_verdict more(struct proxy_reply *r, size_t n, size_t want)
{
	r->need = want - n;
	return PROXY_MORE;
}

static enum proxy_verdict bad(struct proxy_reply *r, const char *why)
{
	snprintf(r->text, sizeof(r->text), "%s", why);
	return PROXY_BAD;
}

static enum proxy_verdict parse_s5_connect(const uint8_t *b, size_t n, struct proxy_reply *r)
{
	size_t want;

	if (n < 5)
		return more(r, n, 5);
	if (b[0] != 5) {
		snprintf(r->text, sizeof(r->text), "version %u in the reply, not 5", b[0]);
		return PROXY_BAD;
	}
	r->code = b[1];
	if (b[2] != 0)
		return bad(r, "reserved byte is not 0");
	switch (b[3]) {
	case 1:
		want = 4 + 4 + 2;
		break;
	case 4:
		want = 4 + 16 + 2;
		break;
	case 3:
		want = 4 + 1 + (size_t)b[4] + 2;
		break;
	default:
		snprintf(r->text, sizeof(r->text), "address type %u in the reply", b[3]);
		return PROXY_BAD;
	}
	if (n < want)
		return more(r, n, want);
	if (n > want)
		return bad(r, "longer than a reply");
	snprintf(r->text, sizeof(r->text), "%s", proxy_socks5_rep_text(r->code));
	return r->code == 0 ? PROXY_OK : PROXY_REFUSED;
}

/* A header's value, trimmed and sanitised, into @out. */
static void header_value(const char *v, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
		n--;
	for (; n && o + 1 < cap; v++, n--)
		out[o++] = (*v >= 0x20 && *v < 0x7f) ? *v : '?';
	out[o] = '\0';
}

/* The header block ends with an empty line: "\n\n" or "\n\r\n". */
static int http_ended(const uint8_t *b, size_t n)
{
	return (n >= 2 && b[n - 1] == '\n' && b[n - 2] == '\n') ||
	       (n >= 3 && b[n - 1] == '\n' && b[n - 2] == '\r' && b[n - 3] == '\n');
}

/* Bytes that surely do not pass the end of the header block. */
static size_t http_need(const uint8_t *b, size_t n)
{
	if (n && (b[n - 1] == '\n' || (n >= 2 && b[n - 1] == '\r' && b[n - 2] == '\n')))
		return 1;
	return 2;
}

static enum proxy_verdict parse_http(const uint8_t *b, size_t n, struct proxy_reply *r)
{
	const char *s = (const char *)b, *eol, *line, *end = s + n;
	size_t rl;
	int code, i;

	if (n < 12 || !http_ended(b, n)) {
		if (n >= 5 && memcmp(b, "HTTP/", 5) != 0)
			return bad(r, "not an HTTP reply");
		if (n + http_need(b, n) > PROXY_REPLY_MAX)
			return bad(r, "reply headers longer than 8 KiB");
		return more(r, n, n + http_need(b, n));
	}
	if (memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
		return bad(r, "not an HTTP/1.x status line");
	code = 0;
	for (i = 9; i < 12; i++) {
		if (s[i] < '0' || s[i] > '9')
			return bad(r, "status code is not 3 digits");
		code = code * 10 + (s[i] - '0');
	}
	if (code < 100 || (n > 12 && s[12] != ' ' && s[12] != '\r' && s[12] != '\n'))
		return bad(r, "bad status code");
	r->code = code;
	eol = memchr(s, '\n', n);
	rl = (size_t)(eol - s) > 13 ? (size_t)(eol - s) - 13 : 0;
	header_value(s + 13, (size_t)(eol - s) > 13 ? rl : 0, r->text, sizeof(r->text));
	for (line = eol + 1; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			break;
		if (eol - line >= 19 && !r->auth[0] &&
		    strncasecmp(line, "Proxy-Authenticate:", 19) == 0)
			header_value(line + 19, (size_t)(eol - line) - 19, r->auth, sizeof(r->auth));
	}
	if (!r->text[0])
		snprintf(r->text, sizeof(r->text), "(no reason phrase)");
	return code >= 200 && code < 300 ? PROXY_OK : PROXY_REFUSED;
}

enum proxy_verdict proxy_reply_parse(enum proxy_step step, const uint8_t *b, size_t n,
				     struct proxy_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->code = -1;
	switch (step) {
	case PROXY_STEP_S5_METHOD:
	case PROXY_STEP_S5_AUTH:
		if (n < 2)
			return more(r, n, 2);
		if (n > 2)
			return bad(r, "longer than a reply");
		if (step == PROXY_STEP_S5_METHOD && b[0] != 5) {
			snprintf(r->text, sizeof(r->text), "version %u in the reply, not 5", b[0]);
			return PROXY_BAD;
		}
		/* RFC 1929 says 1; some proxies answer with the SOCKS version */
		if (step == PROXY_STEP_S5_AUTH && b[0] != 1 && b[0] != 5) {
			snprintf(r->text, sizeof(r->text),
				 "version %u in the authentication reply, not 1", b[0]);
			return PROXY_BAD;
		}
		r->code = b[1];
		if (step == PROXY_STEP_S5_AUTH) {
			snprintf(r->text, sizeof(r->text), "%s",
				 r->code ? "user name or password rejected" : "authenticated");
			return r->code ? PROXY_REFUSED : PROXY_OK;
		}
		if (r->code == 0xff) {
			snprintf(r->text, sizeof(r->text), "no acceptable authentication method");
			return PROXY_REFUSED;
		}
		if (r->code != 0 && r->code != 2) {
			snprintf(r->text, sizeof(r->text), "chose method 0x%02x, not offered",
				 r->code);
			return PROXY_BAD;
		}
		return PROXY_OK;
	case PROXY_STEP_S5_CONNECT:
		return parse_s5_connect(b, n, r);
	case PROXY_STEP_S4:
		if (n < 8)
			return more(r, n, 8);
		if (n > 8)
			return bad(r, "longer than a reply");
		if (b[0] != 0) {
			snprintf(r->text, sizeof(r->text), "version %u in the reply, not 0", b[0]);
			return PROXY_BAD;
		}
		r->code = b[1];
		snprintf(r->text, sizeof(r->text), "%s", proxy_socks4_cd_text(r->code));
		if (r->code < 90 || r->code > 93)
			return PROXY_BAD;
		return r->code == 90 ? PROXY_OK : PROXY_REFUSED;
	case PROXY_STEP_HTTP:
		return parse_http(b, n, r);
	}
	return bad(r, "unknown step");
}

/* ---- requests ---- */

int proxy_req_s5_greeting(const struct proxy_url *u, uint8_t *buf)
{
	if (u->user[0]) {
		static const uint8_t m[] = { 5, 2, 0, 2 };

		memcpy(buf, m, sizeof(m));
		return 4;
	}
	static const uint8_t m1[] = { 5, 1, 0 };

	memcpy(buf, m1, sizeof(m1));
	return 3;
}

int proxy_req_s5_auth(const struct proxy_url *u, uint8_t *buf, struct err *e)
{
	size_t ul = strlen(u->user), pl = strlen(u->pass);

	if (ul < 1 || ul > 255 || pl > 255)
		return err_set(e, EXIT_USAGE, "SOCKS5 user name and password: 1-255 bytes each");
	buf[0] = 1;
	buf[1] = (uint8_t)ul;
	memcpy(buf + 2, u->user, ul);
	buf[2 + ul] = (uint8_t)pl;
	memcpy(buf + 3 + ul, u->pass, pl);
	return (int)(3 + ul + pl);
}

int proxy_req_s5_connect(const struct proxy_target *t, uint8_t *buf, struct err *e)
{
	size_t n = 4;

	buf[0] = 5;
	buf[1] = 1;
	buf[2] = 0;
	if (!t->addr) {
		size_t hl = strlen(t->host);

		if (hl < 1 || hl > 255)
			return err_set(e, EXIT_USAGE, "SOCKS5 host name: 1-255 bytes");
		buf[3] = 3;
		buf[4] = (uint8_t)hl;
		memcpy(buf + 5, t->host, hl);
		n = 5 + hl;
	} else if (t->addr->sa_family == AF_INET) {
		buf[3] = 1;
		memcpy(buf + 4, &((const struct sockaddr_in *)(const void *)t->addr)->sin_addr, 4);
		n = 8;
	} else {
		buf[3] = 4;
		memcpy(buf + 4, &((const struct sockaddr_in6 *)(const void *)t->addr)->sin6_addr,
		       16);
		n = 20;
	}
	buf[n] = (uint8_t)(t->port >> 8);
	buf[n + 1] = (uint8_t)(t->port & 0xff);
	return (int)(n + 2);
}

int proxy_req_s4(const struct proxy_url *u, const struct proxy_target *t, uint8_t *buf,
		 struct err *e)
{
	size_t ul = strlen(u->user), n;

	buf[0] = 4;
	buf[1] = 1;
	buf[2] = (uint8_t)(t->port >> 8);
	buf[3] = (uint8_t)(t->port & 0xff);
	if (t->addr) {
		if (t->addr->sa_family != AF_INET)
			return err_set(e, EXIT_USAGE, "SOCKS4 reaches IPv4 addresses only");
		memcpy(buf + 4, &((const struct sockaddr_in *)(const void *)t->addr)->sin_addr, 4);
	} else {
		buf[4] = buf[5] = buf[6] = 0; /* SOCKS4a: 0.0.0.x, the name follows */
		buf[7] = 1;
	}
	memcpy(buf + 8, u->user, ul + 1);
	n = 9 + ul;
	if (!t->addr) {
		size_t hl = strlen(t->host);

		if (hl < 1 || hl > 255)
			return err_set(e, EXIT_USAGE, "SOCKS4a host name: 1-255 bytes");
		memcpy(buf + n, t->host, hl + 1);
		n += hl + 1;
	}
	return (int)n;
}

void proxy_base64(const uint8_t *in, size_t n, char *out)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = a[(in[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int proxy_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t i, o = 0;
	uint32_t acc = 0;
	int bits = 0, pad = 0;

	for (i = 0; i < n; i++) {
		int v;

		if (in[i] == '=') {
			pad++;
			continue;
		}
		if (pad)
			return -1;
		v = b64val((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (pad > 2 || (n % 4 && pad))
		return -1;
	out[o] = '\0';
	*outlen = o;
	return 0;
}

int proxy_req_http(const struct proxy_url *u, const struct proxy_target *t, char *buf,
		   struct err *e)
{
	char hp[PROXY_FIELD_MAX + 16], cred[2 * PROXY_FIELD_MAX + 2];
	char b64[((2 * PROXY_FIELD_MAX + 2) / 3 + 1) * 4 + 1];
	int n;

	if (strchr(t->host, ':'))
		snprintf(hp, sizeof(hp), "[%s]:%u", t->host, t->port);
	else
		snprintf(hp, sizeof(hp), "%s:%u", t->host, t->port);
	if (strpbrk(t->host, " \r\n\t/"))
		return err_set(e, EXIT_USAGE, "HTTP CONNECT: the host name holds a space, a "
			       "slash or a line break");
	n = snprintf(buf, PROXY_REQ_MAX, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", hp, hp);
	if (u->user[0]) {
		int cl = snprintf(cred, sizeof(cred), "%s:%s", u->user, u->pass);

		proxy_base64((const uint8_t *)cred, (size_t)cl, b64);
		n += snprintf(buf + n, PROXY_REQ_MAX - (size_t)n,
			      "Proxy-Authorization: Basic %s\r\n", b64);
		memset(cred, 0, sizeof(cred));
	}
	n += snprintf(buf + n, PROXY_REQ_MAX - (size_t)n, "\r\n");
	return n;
}

/* ---- the client ---- */

struct hs {
	int fd;
	const struct proxy_url *u;
	const struct proxy_client_opts *o;
	enum proxy_fail *why;
	struct err *e;
	char name[PROXY_FIELD_MAX + 32]; /* "socks5 proxy HOST:PORT" */
};

static int fail(struct hs *h, enum proxy_fail why, const char *fmt, const char *a,
		const char *b)
{
	*h->why = why;
	return err_set(h->e, EXIT_FAIL, "%s: %s%s%s", h->name, fmt, a ? a : "", b ? b : "");
}

static int wait_fd(struct hs *h, short ev, const char *doing)
{
	struct pollfd p = { .fd = h->fd, .events = ev };
	int rc;

	do
		rc = poll(&p, 1, clock_ms_until(h->o->deadline));
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return err_sys(h->e, EXIT_FAIL, errno, "%s: poll", h->name);
	if (rc == 0)
		return fail(h, PROXY_F_TIMEOUT, "timed out ", doing, NULL);
	return 0;
}

static int send_all(struct hs *h, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t k = send(h->fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(h, POLLOUT, "sending the request"))
				return -1;
			continue;
		}
		if (k < 0) {
			char why[ERR_DESC_LEN];

			*h->why = PROXY_F_IO;
			return err_set(h->e, EXIT_FAIL, "%s: sending the request: %s", h->name,
				       err_strerror(errno, why, sizeof(why)));
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Read the reply to @step, never a byte past it; the verdict, or -1 with the error set. */
static int read_reply(struct hs *h, enum proxy_step step, struct proxy_reply *r)
{
	uint8_t buf[PROXY_REPLY_MAX];
	size_t n = 0;
	enum proxy_verdict v;
	char why[ERR_DESC_LEN], got[32];

	/* each round reads at least one byte or waits for the deadline */
	while ((v = proxy_reply_parse(step, buf, n, r)) == PROXY_MORE) {
		ssize_t k = recv(h->fd, buf + n, r->need, 0);

		if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(h, POLLIN, "waiting for its reply"))
				return -1;
			continue;
		}
		snprintf(got, sizeof(got), "%zu", n);
		if (k == 0)
			return fail(h, PROXY_F_IO, "closed the connection after ", got,
				    " bytes of its reply");
		if (k < 0)
			return fail(h, PROXY_F_IO, "reading its reply: ",
				    err_strerror(errno, why, sizeof(why)), NULL);
		n += (size_t)k;
	}
	if (v == PROXY_BAD)
		return fail(h, PROXY_F_PROTOCOL, "invalid reply: ", r->text, NULL);
	return (int)v;
}

static int socks5(struct hs *h, const struct proxy_target *t)
{
	uint8_t buf[PROXY_REQ_MAX];
	struct proxy_reply r;
	char code[48];
	int n, v;

	n = proxy_req_s5_greeting(h->u, buf);
	if (send_all(h, buf, (size_t)n) || (v = read_reply(h, PROXY_STEP_S5_METHOD, &r)) < 0)
		return -1;
	if (v == PROXY_REFUSED)
		return fail(h, PROXY_F_DENIED, r.text,
			    h->u->user[0] ? " (offered: none, user/password)"
					  : " (offered: none; give a user: -P USER or user@ in the URL)",
			    NULL);
	if (r.code == 2) {
		if (!h->u->user[0])
			return fail(h, PROXY_F_PROTOCOL, "asks for a user name we did not offer",
				    NULL, NULL);
		n = proxy_req_s5_auth(h->u, buf, h->e);
		if (n < 0)
			return -1;
		v = send_all(h, buf, (size_t)n);
		memset(buf, 0, sizeof(buf));
		if (v || (v = read_reply(h, PROXY_STEP_S5_AUTH, &r)) < 0)
			return -1;
		if (v == PROXY_REFUSED) {
			snprintf(code, sizeof(code), "user %.32s: ", h->u->user);
			return fail(h, PROXY_F_DENIED, code, r.text, NULL);
		}
	}
	n = proxy_req_s5_connect(t, buf, h->e);
	if (n < 0 || send_all(h, buf, (size_t)n) ||
	    (v = read_reply(h, PROXY_STEP_S5_CONNECT, &r)) < 0)
		return -1;
	if (v == PROXY_OK)
		return 0;
	snprintf(code, sizeof(code), "REP 0x%02x: ", r.code);
	return fail(h,
		    r.code == 5		     ? PROXY_F_REFUSED
		    : r.code == 3 || r.code == 4 || r.code == 6 ? PROXY_F_UNREACHABLE
							       : PROXY_F_DENIED,
		    code, r.text, NULL);
}

static int socks4(struct hs *h, const struct proxy_target *t)
{
	uint8_t buf[PROXY_REQ_MAX];
	struct proxy_reply r;
	char code[48];
	int n, v;

	n = proxy_req_s4(h->u, t, buf, h->e);
	if (n < 0 || send_all(h, buf, (size_t)n) || (v = read_reply(h, PROXY_STEP_S4, &r)) < 0)
		return -1;
	if (v == PROXY_OK)
		return 0;
	snprintf(code, sizeof(code), "CD %d: ", r.code);
	/* SOCKS4 cannot tell a refused port from a rule: 91 is both */
	return fail(h, r.code == 91 ? PROXY_F_REFUSED : PROXY_F_DENIED, code, r.text, NULL);
}

static int http(struct hs *h, const struct proxy_target *t)
{
	char buf[PROXY_REQ_MAX], code[48];
	struct proxy_reply r;
	int n, v;

	n = proxy_req_http(h->u, t, buf, h->e);
	if (n < 0)
		return -1;
	v = send_all(h, buf, (size_t)n);
	memset(buf, 0, sizeof(buf));
	if (v || (v = read_reply(h, PROXY_STEP_HTTP, &r)) < 0)
		return -1;
	if (v == PROXY_OK)
		return 0;
	snprintf(code, sizeof(code), "HTTP %d ", r.code);
	if (r.code == 407) {
		*h->why = PROXY_F_DENIED;
		if (!r.auth[0])
			return err_set(h->e, EXIT_FAIL, "%s: HTTP 407 %s (no Proxy-Authenticate)",
				       h->name, r.text);
		return err_set(h->e, EXIT_FAIL, "%s: HTTP 407 %s; Proxy-Authenticate: %s", h->name,
			       r.text, r.auth);
	}
	return fail(h,
		    r.code == 502 || r.code == 503 || r.code == 500 ? PROXY_F_REFUSED
		    : r.code == 504			      ? PROXY_F_UNREACHABLE
							      : PROXY_F_DENIED,
		    code, r.text, NULL);
}

/* The target's address, for the kinds where the client resolves. */
static int resolve_target(struct hs *h, const char *host, struct sockaddr_storage *ss)
{
	struct addrinfo hints;
	socklen_t len;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = h->u->kind == PROXY_SOCKS4 ? AF_INET : h->o->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = h->o->numeric ? AI_NUMERICHOST : 0;
	if (h->u->kind == PROXY_SOCKS4 && h->o->family == AF_INET6)
		return err_set(h->e, EXIT_USAGE, "SOCKS4 reaches IPv4 addresses only (-6 given)");
	return sock_resolve_first(host, NULL, &hints, ss, &len, h->e);
}

int proxy_handshake(int fd, const struct proxy_url *u, const char *host, uint16_t port,
		    const struct proxy_client_opts *o, enum proxy_fail *why, struct err *e)
{
	struct hs h = { .fd = fd, .u = u, .o = o, .why = why, .e = e };
	struct sockaddr_storage ss;
	struct proxy_target t = { .host = host, .port = port };

	*why = PROXY_F_NONE;
	snprintf(h.name, sizeof(h.name), strchr(u->host, ':') ? "%s proxy [%s]:%s"
							      : "%s proxy %s:%s",
		 proxy_kind_name(u->kind), u->host, u->port);
	if (u->kind == PROXY_SOCKS5 || u->kind == PROXY_SOCKS4 ||
	    (u->kind != PROXY_HTTP && addr_numeric_family(host))) {
		if (resolve_target(&h, host, &ss)) {
			*h.why = PROXY_F_IO;
			return -1;
		}
		t.addr = (const struct sockaddr *)&ss;
	}
	switch (u->kind) {
	case PROXY_SOCKS5:
	case PROXY_SOCKS5H:
		return socks5(&h, &t);
	case PROXY_SOCKS4:
	case PROXY_SOCKS4A:
		return socks4(&h, &t);
	case PROXY_HTTP:
		return http(&h, &t);
	default:
		return err_set(e, EXIT_USAGE, "no proxy");
	}
}

/* ---- the server's side: requests from clients ---- */

static enum proxy_verdict qbad(struct proxy_request *q, const char *why)
{
	snprintf(q->text, sizeof(q->text), "%s", why);
	return PROXY_BAD;
}

static enum proxy_verdict qmore(struct proxy_request *q, size_t n, size_t want)
{
	q->need = want - n;
	return PROXY_MORE;
}

/* A length-prefixed field at @b[0] into @out; 0 if all there, else the bytes wanted. */
static size_t field(const uint8_t *b, size_t n, size_t at, char *out)
{
	size_t l;

	if (n <= at)
		return at + 1;
	l = b[at];
	if (n < at + 1 + l)
		return at + 1 + l;
	memcpy(out, b + at + 1, l);
	out[l] = '\0';
	return 0;
}

static enum proxy_verdict s5_request(const uint8_t *b, size_t n, struct proxy_request *q)
{
	size_t want;

	if (n < 5)
		return qmore(q, n, 5);
	if (b[0] != 5)
		return qbad(q, "not SOCKS version 5");
	q->cmd = b[1];
	if (b[2] != 0)
		return qbad(q, "reserved byte is not 0");
	switch (b[3]) {
	case 1:
		want = 10;
		if (n >= want)
			inet_ntop(AF_INET, b + 4, q->host, sizeof(q->host));
		break;
	case 4:
		want = 22;
		if (n >= want)
			inet_ntop(AF_INET6, b + 4, q->host, sizeof(q->host));
		break;
	case 3:
		want = 5 + (size_t)b[4] + 2;
		if (b[4] == 0)
			return qbad(q, "empty host name");
		if (n >= want) {
			memcpy(q->host, b + 5, b[4]);
			q->host[b[4]] = '\0';
			if (memchr(b + 5, 0, b[4]))
				return qbad(q, "host name holds a NUL byte");
		}
		break;
	default:
		return qbad(q, "unknown address type");
	}
	if (n < want)
		return qmore(q, n, want);
	q->port = (uint16_t)(b[want - 2] << 8 | b[want - 1]);
	q->len = want;
	return PROXY_OK;
}

static enum proxy_verdict http_request(const uint8_t *b, size_t n, struct proxy_request *q)
{
	const char *s = (const char *)b, *end = NULL, *eol, *line, *sp, *hp;
	size_t i, hl;
	char auth[2 * PROXY_FIELD_MAX + 4];

	for (i = 1; i < n && !end; i++)
		if (b[i] == '\n' && (b[i - 1] == '\n' || (i >= 2 && b[i - 1] == '\r' &&
							  b[i - 2] == '\n')))
			end = s + i + 1;
	if (!end) {
		if (n >= 8 && memcmp(b, "CONNECT ", 8) != 0)
			return qbad(q, "not a CONNECT request");
		if (n >= PROXY_REPLY_MAX)
			return qbad(q, "request headers longer than 8 KiB");
		return qmore(q, n, n + 1);
	}
	q->len = (size_t)(end - s);
	if (q->len < 8 || memcmp(b, "CONNECT ", 8) != 0)
		return qbad(q, "not a CONNECT request");
	eol = memchr(s, '\n', q->len);
	hp = s + 8;
	sp = memchr(hp, ' ', (size_t)(eol - hp));
	if (!sp || (size_t)(eol - sp) < 9 || memcmp(sp + 1, "HTTP/1.", 7) != 0 ||
	    (sp[8] != '0' && sp[8] != '1'))
		return qbad(q, "request line is not CONNECT HOST:PORT HTTP/1.x");
	q->http_version = sp[8] - '0';
	hl = (size_t)(sp - hp);
	{
		const char *colon = NULL, *h = hp;
		size_t k, nl;
		unsigned long port = 0;

		if (hl && hp[0] == '[') {
			const char *cb = memchr(hp, ']', hl);

			if (!cb || cb + 1 >= sp || cb[1] != ':')
				return qbad(q, "bad [IPv6]:PORT");
			h = hp + 1;
			nl = (size_t)(cb - h);
			colon = cb + 1;
		} else {
			for (k = 0; k < hl; k++)
				if (hp[k] == ':')
					colon = hp + k;
			if (!colon)
				return qbad(q, "no port in the CONNECT target");
			nl = (size_t)(colon - hp);
		}
		if (nl < 1 || nl > PROXY_FIELD_MAX)
			return qbad(q, "CONNECT host name empty or too long");
		if (colon + 1 >= sp || sp - colon - 1 > 5)
			return qbad(q, "bad port in the CONNECT target");
		for (k = 1; colon + k < sp; k++) {
			if (colon[k] < '0' || colon[k] > '9')
				return qbad(q, "bad port in the CONNECT target");
			port = port * 10 + (unsigned long)(colon[k] - '0');
		}
		if (port < 1 || port > 65535)
			return qbad(q, "bad port in the CONNECT target");
		memcpy(q->host, h, nl);
		q->host[nl] = '\0';
		if (strpbrk(q->host, " \t\r/"))
			return qbad(q, "bad CONNECT host name");
		q->port = (uint16_t)port;
	}
	for (line = eol + 1; line < end; line = eol + 1) {
		const char *v, *colon;
		char val[1024];
		size_t dl;
		uint8_t dec[sizeof(auth)];

		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			break;
		if ((size_t)(eol - line) < 26 || strncasecmp(line, "Proxy-Authorization:", 20) != 0)
			continue;
		header_value(line + 20, (size_t)(eol - line) - 20, val, sizeof(val));
		if (strncasecmp(val, "Basic ", 6) != 0)
			return qbad(q, "Proxy-Authorization is not Basic");
		for (v = val + 6; *v == ' '; v++)
			;
		if (proxy_base64_decode(v, strlen(v), dec, sizeof(dec), &dl) ||
		    memchr(dec, 0, dl) || !(colon = memchr(dec, ':', dl)))
			return qbad(q, "Proxy-Authorization: bad Basic credentials");
		if ((size_t)((const uint8_t *)colon - dec) > PROXY_FIELD_MAX ||
		    dl - (size_t)((const uint8_t *)colon - dec) - 1 > PROXY_FIELD_MAX)
			return qbad(q, "Proxy-Authorization: credentials too long");
		memcpy(q->user, dec, (size_t)((const uint8_t *)colon - dec));
		q->user[(const uint8_t *)colon - dec] = '\0';
		snprintf(q->pass, sizeof(q->pass), "%s", (const char *)colon + 1);
		q->has_auth = 1;
		memset(dec, 0, sizeof(dec));
	}
	return PROXY_OK;
}

enum proxy_verdict proxy_request_parse(enum proxy_kind kind, enum proxy_sreq_step step,
				       const uint8_t *b, size_t n, struct proxy_request *q)
{
	size_t w;

	memset(q, 0, sizeof(*q));
	if (kind == PROXY_HTTP)
		return http_request(b, n, q);
	switch (step) {
	case PROXY_SREQ_GREETING:
		if (n < 2)
			return qmore(q, n, 2);
		if (b[0] != 5)
			return qbad(q, "not SOCKS version 5");
		if (b[1] == 0)
			return qbad(q, "no methods offered");
		if (n < 2 + (size_t)b[1])
			return qmore(q, n, 2 + (size_t)b[1]);
		for (w = 0; w < b[1]; w++) {
			q->no_auth |= b[2 + w] == 0;
			q->userpass |= b[2 + w] == 2;
		}
		q->len = 2 + (size_t)b[1];
		return PROXY_OK;
	case PROXY_SREQ_AUTH:
		if (n < 2)
			return qmore(q, n, 2);
		if (b[0] != 1)
			return qbad(q, "not RFC 1929 version 1");
		w = field(b, n, 1, q->user);
		if (w)
			return qmore(q, n, w);
		w = field(b, n, 2 + b[1], q->pass);
		if (w)
			return qmore(q, n, w);
		if (!q->user[0] || memchr(b + 2, 0, b[1]))
			return qbad(q, "empty user name or a NUL byte in it");
		q->len = 3 + (size_t)b[1] + b[2 + b[1]];
		return PROXY_OK;
	case PROXY_SREQ_REQUEST:
		return s5_request(b, n, q);
	}
	return qbad(q, "unknown step");
}

int proxy_connect(const struct proxy_url *u, const char *host, uint16_t port,
		  const struct sock_connect_opts *co, int64_t timeout, int *fd,
		  enum proxy_fail *why, struct err *e)
{
	struct proxy_client_opts po = { .family = co->family };

	*why = PROXY_F_IO;
	po.deadline = clock_deadline(timeout >= 0 ? timeout : PROXY_TIMEOUT);
	if (sock_connect(u->host, u->port, co, fd, e))
		return -1;
	if (proxy_handshake(*fd, u, host, port, &po, why, e)) {
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}
