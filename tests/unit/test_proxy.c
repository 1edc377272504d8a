/* SPDX-License-Identifier: MIT */
/* lib/proxy: URLs, requests, and the parsers of hostile replies and requests. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proxy.h"
#include "unit.h"

static enum proxy_verdict feed(enum proxy_step step, const char *b, size_t n,
			       struct proxy_reply *r)
{
	return proxy_reply_parse(step, (const uint8_t *)b, n, r);
}

/* Feeding a reply as the client does (only .need bytes at a time) ends at its end. */
static size_t consumed(enum proxy_step step, const char *b, size_t n, enum proxy_verdict *v)
{
	struct proxy_reply r;
	size_t have = 0;

	while ((*v = feed(step, b, have, &r)) == PROXY_MORE) {
		if (have + r.need > n)
			return (size_t)-1;
		have += r.need;
	}
	return have;
}

static void urls(void)
{
	struct proxy_url u;
	struct err e;

	CHECK(!proxy_url_parse("socks5://127.0.0.1:1080", &u, &e), "socks5 URL");
	CHECK(u.kind == PROXY_SOCKS5 && !strcmp(u.host, "127.0.0.1") && !strcmp(u.port, "1080"),
	      "socks5 host and port");
	CHECK(!proxy_url_parse("SOCKS5H://bob:s%3Acret@proxy.example:9", &u, &e), "user:pass@");
	CHECK(u.kind == PROXY_SOCKS5H && !strcmp(u.user, "bob") && !strcmp(u.pass, "s:cret") &&
		      u.has_pass && !strcmp(u.port, "9"),
	      "%%-decoded password");
	CHECK(!proxy_url_parse("http://[::1]:3128/", &u, &e) && !strcmp(u.host, "::1") &&
		      u.kind == PROXY_HTTP,
	      "[v6]:port and a trailing slash");
	CHECK(!proxy_url_parse("http://h", &u, &e) && !strcmp(u.port, "8080"), "http default port");
	CHECK(!proxy_url_parse("socks4a://alice@h", &u, &e) && !strcmp(u.port, "1080") &&
		      !strcmp(u.user, "alice"),
	      "socks4a user id");
	CHECK(proxy_url_parse("socks9://h:1", &u, &e) && e.status == EXIT_USAGE, "bad scheme");
	CHECK(proxy_url_parse("h:1", &u, &e) && e.status == EXIT_USAGE, "no scheme");
	CHECK(proxy_url_parse("socks5://h:0", &u, &e), "port 0");
	CHECK(proxy_url_parse("socks5://h:65536", &u, &e), "port 65536");
	CHECK(proxy_url_parse("socks5://h:1/path", &u, &e), "a path");
	CHECK(proxy_url_parse("socks5://::1:80", &u, &e), "bare IPv6");
	CHECK(proxy_url_parse("socks5://a:%zz@h", &u, &e), "bad %%-encoding");
	CHECK(proxy_url_parse("socks5://a:%00@h", &u, &e), "%%00");
	CHECK(proxy_url_parse("socks4://a:b@h", &u, &e), "socks4 has no password");
	CHECK(!proxy_url_parse("socks5://u:hunter2@h:x", &u, &e) || !strstr(e.msg, "hunter2"),
	      "the password never in a message");
	CHECK(!proxy_nc_parse("h:1", "connect", "bob", &u, &e) && u.kind == PROXY_HTTP &&
		      !strcmp(u.user, "bob"),
	      "nc -X connect -P");
	CHECK(!proxy_nc_parse("h", NULL, NULL, &u, &e) && u.kind == PROXY_SOCKS5H &&
		      !strcmp(u.port, "1080"),
	      "nc -x without -X: SOCKS5, port 1080");
	CHECK(proxy_nc_parse("h:1", "6", NULL, &u, &e) && e.status == EXIT_USAGE, "-X 6");
}

static void replies(void)
{
	struct proxy_reply r;
	enum proxy_verdict v;
	static const char ok4[] = "\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38";
	static const char name[] = "\x05\x00\x00\x03\x03" "abc\x00\x50" "TUNNEL";
	static const char http[] = "HTTP/1.1 200 Connection established\r\nX: y\r\n\r\nTUNNEL";
	static const char h407[] = "HTTP/1.0 407 Proxy Authentication Required\r\n"
				   "Proxy-Authenticate: Basic realm=\"p\x01x\"\r\n\r\n";

	CHECK(feed(PROXY_STEP_S5_METHOD, "", 0, &r) == PROXY_MORE && r.need == 2, "empty: 2 more");
	CHECK(feed(PROXY_STEP_S5_METHOD, "\x05\x00", 2, &r) == PROXY_OK, "method 0");
	CHECK(feed(PROXY_STEP_S5_METHOD, "\x05\xff", 2, &r) == PROXY_REFUSED, "method 0xff");
	CHECK(feed(PROXY_STEP_S5_METHOD, "\x04\x00", 2, &r) == PROXY_BAD &&
		      strstr(r.text, "version 4"),
	      "wrong version named");
	CHECK(feed(PROXY_STEP_S5_METHOD, "\x05\x03", 2, &r) == PROXY_BAD, "method not offered");
	CHECK(feed(PROXY_STEP_S5_AUTH, "\x01\x01", 2, &r) == PROXY_REFUSED, "auth failed");
	CHECK(consumed(PROXY_STEP_S5_CONNECT, ok4, 10, &v) == 10 && v == PROXY_OK, "IPv4 reply");
	CHECK(consumed(PROXY_STEP_S5_CONNECT, name, sizeof(name) - 1, &v) == 10 && v == PROXY_OK,
	      "name reply read exactly, tunnel bytes left");
	CHECK(feed(PROXY_STEP_S5_CONNECT, "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00", 10, &r) ==
			      PROXY_REFUSED &&
		      r.code == 5 && !strcmp(r.text, "connection refused by destination"),
	      "REP 5 in words");
	CHECK(feed(PROXY_STEP_S5_CONNECT, "\x05\x00\x00\x09\x00", 5, &r) == PROXY_BAD,
	      "bad address type");
	CHECK(feed(PROXY_STEP_S5_CONNECT, ok4, 11, &r) == PROXY_BAD, "oversized");
	CHECK(feed(PROXY_STEP_S4, "\x00\x5a\x00\x00\x00\x00\x00\x00", 8, &r) == PROXY_OK, "socks4 ok");
	CHECK(feed(PROXY_STEP_S4, "\x00\x5b\x00\x00\x00\x00\x00\x00", 8, &r) == PROXY_REFUSED &&
		      r.code == 91,
	      "socks4 91");
	CHECK(feed(PROXY_STEP_S4, "\x05\x5a\x00\x00\x00\x00\x00\x00", 8, &r) == PROXY_BAD,
	      "socks4 wrong version");
	CHECK(consumed(PROXY_STEP_HTTP, http, sizeof(http) - 1, &v) == sizeof(http) - 7 &&
		      v == PROXY_OK,
	      "HTTP 200 read up to the empty line only");
	CHECK(feed(PROXY_STEP_HTTP, h407, sizeof(h407) - 1, &r) == PROXY_REFUSED && r.code == 407 &&
		      !strcmp(r.auth, "Basic realm=\"p?x\""),
	      "407 with a sanitised Proxy-Authenticate");
	CHECK(feed(PROXY_STEP_HTTP, "SSH-2.0-x\r\n\r\n", 13, &r) == PROXY_BAD, "not HTTP");
	CHECK(feed(PROXY_STEP_HTTP, "HTTP/1.1 2x0 OK\r\n\r\n", 19, &r) == PROXY_BAD, "bad code");
	{
		static char big[PROXY_REPLY_MAX + 16];

		memset(big, 'a', sizeof(big));
		memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
		CHECK(feed(PROXY_STEP_HTTP, big, PROXY_REPLY_MAX - 1, &r) == PROXY_BAD,
		      "headers over 8 KiB");
	}
}

static void requests(void)
{
	struct proxy_url u;
	struct proxy_request q;
	struct sockaddr_in sin;
	struct proxy_target t = { .host = "example.org", .port = 443 };
	uint8_t b[PROXY_REQ_MAX];
	char h[PROXY_REQ_MAX];
	struct err e;
	int n;

	proxy_url_parse("socks5://bob:pw@h", &u, &e);
	CHECK(proxy_req_s5_greeting(&u, b) == 4 && !memcmp(b, "\x05\x02\x00\x02", 4),
	      "greeting offers user/password");
	n = proxy_req_s5_auth(&u, b, &e);
	CHECK(n == 8 && !memcmp(b, "\x01\x03" "bob\x02" "pw", 8), "RFC 1929 request");
	n = proxy_req_s5_connect(&t, b, &e);
	CHECK(n == 18 && b[3] == 3 && b[4] == 11 && b[16] == 1 && b[17] == 187, "by name");
	CHECK(proxy_request_parse(PROXY_SOCKS5, PROXY_SREQ_REQUEST, b, (size_t)n, &q) == PROXY_OK &&
		      !strcmp(q.host, "example.org") && q.port == 443 && q.cmd == 1 &&
		      q.len == (size_t)n,
	      "the server reads it back");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "198.18.0.2", &sin.sin_addr);
	t.addr = (const struct sockaddr *)&sin;
	n = proxy_req_s4(&u, &t, b, &e);
	CHECK(n == 12 && b[0] == 4 && b[4] == 198 && !strcmp((char *)b + 8, "bob"), "socks4");
	t.addr = NULL;
	n = proxy_req_s4(&u, &t, b, &e);
	CHECK(n == 24 && b[7] == 1 && !strcmp((char *)b + 12, "example.org"), "socks4a");
	n = proxy_req_http(&u, &t, h, &e);
	CHECK(n > 0 && strstr(h, "CONNECT example.org:443 HTTP/1.1\r\n") &&
		      strstr(h, "Proxy-Authorization: Basic Ym9iOnB3\r\n") &&
		      !strcmp(h + n - 4, "\r\n\r\n"),
	      "HTTP CONNECT with Basic");
	CHECK(proxy_request_parse(PROXY_HTTP, 0, (uint8_t *)h, (size_t)n, &q) == PROXY_OK &&
		      q.port == 443 && !strcmp(q.user, "bob") && !strcmp(q.pass, "pw") &&
		      q.has_auth,
	      "the server reads CONNECT and its credentials");
	CHECK(proxy_request_parse(PROXY_HTTP, 0, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, &q) ==
		      PROXY_BAD,
	      "GET is refused");
	CHECK(proxy_request_parse(PROXY_HTTP, 0,
				  (const uint8_t *)"CONNECT h:99999 HTTP/1.1\r\n\r\n", 28,
				  &q) == PROXY_BAD,
	      "port out of range");
	CHECK(proxy_request_parse(PROXY_SOCKS5, PROXY_SREQ_GREETING, (const uint8_t *)"\x05\x02\x00",
				  3, &q) == PROXY_MORE && q.need == 1,
	      "greeting: one more method byte");
	CHECK(proxy_request_parse(PROXY_SOCKS5, PROXY_SREQ_AUTH,
				  (const uint8_t *)"\x01\x01u\x01p", 5, &q) == PROXY_OK &&
		      !strcmp(q.user, "u") && !strcmp(q.pass, "p") && q.len == 5,
	      "RFC 1929 request read");
}

int main(void)
{
	char out[16];
	uint8_t dec[16];
	size_t dl;

	urls();
	replies();
	requests();
	proxy_base64((const uint8_t *)"ab", 2, out);
	CHECK_STR(out, "YWI=", "base64 padding");
	CHECK(!proxy_base64_decode("YWI=", 4, dec, sizeof(dec), &dl) && dl == 2 &&
		      !memcmp(dec, "ab", 2),
	      "base64 decode");
	CHECK(proxy_base64_decode("Y*I=", 4, dec, sizeof(dec), &dl), "bad base64");
	return UNIT_DONE();
}
