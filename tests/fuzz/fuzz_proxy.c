/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for lib/proxy's parsers of hostile bytes: the replies a
 * proxy sends its client (every step, fed as the client feeds them: only
 * the bytes asked for), the requests a client sends the proxy server, and
 * base64; and proxy URLs (argv, not hostile, but one-line errors).  Invariants: a reply never asks for more than PROXY_REPLY_MAX in
 * all, "more" always asks for at least one byte, and every text is one
 * printable line.
 */
#include "fuzz.h"
#include "proxy.h"

static void one_line(const char *s)
{
	for (; *s; s++)
		FUZZ_ASSERT(*s >= 0x20 && *s < 0x7f, "unprintable byte 0x%02x in a text",
			    (unsigned char)*s);
}

static void reply(enum proxy_step step, const uint8_t *data, size_t size)
{
	struct proxy_reply r;
	enum proxy_verdict v;
	size_t have = 0;

	/* the client's way: read exactly what is asked for */
	for (;;) {
		uint8_t *copy = malloc(have ? have : 1);

		memcpy(copy, data, have);
		v = proxy_reply_parse(step, copy, have, &r);
		free(copy);
		if (v != PROXY_MORE)
			break;
		FUZZ_ASSERT(r.need >= 1, "more with need 0");
		FUZZ_ASSERT(have + r.need <= PROXY_REPLY_MAX, "asks for %zu bytes in all",
			    have + r.need);
		if (have + r.need > size)
			return;
		have += r.need;
	}
	if (v == PROXY_BAD)
		FUZZ_ASSERT(r.text[0], "invalid without a reason");
	one_line(r.text);
	one_line(r.auth);
}

static void request(enum proxy_kind kind, enum proxy_sreq_step step, const uint8_t *data,
		    size_t size)
{
	struct proxy_request q;
	uint8_t *copy = malloc(size ? size : 1);
	enum proxy_verdict v;

	memcpy(copy, data, size);
	v = proxy_request_parse(kind, step, copy, size, &q);
	free(copy);
	if (v == PROXY_MORE)
		FUZZ_ASSERT(q.need >= 1, "more with need 0");
	if (v == PROXY_OK)
		FUZZ_ASSERT(q.len <= size, "request of %zu bytes in %zu", q.len, size);
	if (v == PROXY_BAD) {
		FUZZ_ASSERT(q.text[0], "invalid without a reason");
		one_line(q.text);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t dec[64];
	size_t dl;
	int s;

	for (s = PROXY_STEP_S5_METHOD; s <= PROXY_STEP_HTTP; s++)
		reply((enum proxy_step)s, data, size);
	for (s = PROXY_SREQ_GREETING; s <= PROXY_SREQ_REQUEST; s++)
		request(PROXY_SOCKS5, (enum proxy_sreq_step)s, data, size);
	request(PROXY_HTTP, PROXY_SREQ_GREETING, data, size);
	if (!proxy_base64_decode((const char *)data, size, dec, sizeof(dec), &dl))
		FUZZ_ASSERT(dl < sizeof(dec), "decoded %zu bytes into %zu", dl, sizeof(dec));
	{
		char *url = fuzz_str(data, size);
		struct proxy_url u;
		struct err e = { 0 };

		if (proxy_url_parse(url, &u, &e))
			fuzz_check_err(&e, EXIT_USAGE);
		else
			FUZZ_ASSERT(u.host[0] && u.port[0], "a URL without host or port");
		free(url);
	}
	return 0;
}
