/* SPDX-License-Identifier: MIT */
/*
 * What lib/tls parses itself: --pin (tls_pin_parse) and STARTTLS server
 * replies (tls_starttls_reply).  Input: one byte choosing the parser and the
 * protocol, one the dialogue step, then the text.
 */
#include "fuzz.h"
#include "tls.h"

static void pin(const uint8_t *data, size_t size)
{
	uint8_t pins[TLS_PIN_MAX][32];
	char b64[64], *s = fuzz_str(data, size);
	struct err e = { 0 };
	int n = tls_pin_parse(s, pins, TLS_PIN_MAX, &e), i;

	if (n < 0) {
		fuzz_check_err(&e, EXIT_USAGE);
	} else {
		FUZZ_ASSERT(n >= 1 && n <= TLS_PIN_MAX, "%d pins", n);
		/* each pin encodes back to text that the input holds */
		for (i = 0; i < n; i++) {
			FUZZ_ASSERT(tls_base64(pins[i], 32, b64, sizeof(b64)) == 44, "length");
			FUZZ_ASSERT(strstr(s, b64) != NULL, "pin %d does not round-trip", i);
		}
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t used = 99999;
	int proto, step, rc;

	if (size < 2)
		return 0;
	if (data[0] == 0xff) {
		pin(data + 2, size - 2);
		return 0;
	}
	proto = data[0] % 6;
	step = data[1] % (tls_starttls_steps(proto) + 1);
	rc = tls_starttls_reply(proto, step, (const char *)data + 2, size - 2, &used);
	FUZZ_ASSERT(rc >= -1 && rc <= 1, "rc %d", rc);
	FUZZ_ASSERT(used <= size - 2, "used %zu of %zu", used, size - 2);
	FUZZ_ASSERT(rc != 0 || used == 0, "incomplete, but %zu used", used);
	FUZZ_ASSERT(rc != 1 || used > 0, "complete, but nothing used");
	return 0;
}
