/* SPDX-License-Identifier: MIT */
/* lib/tls's own parsers: --pin, base64, STARTTLS replies (no OpenSSL needed). */
#include <string.h>

#include "tls.h"
#include "unit.h"

#define EMPTY_SHA256 "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

static void test_pin(void)
{
	uint8_t pins[TLS_PIN_MAX][32];
	char b64[64];
	struct err e = { 0 };

	CHECK(tls_pin_parse("sha256:" EMPTY_SHA256, pins, TLS_PIN_MAX, &e) == 1, "one pin");
	CHECK(pins[0][0] == 0xe3 && pins[0][31] == 0x55, "SHA-256 of nothing decoded");
	tls_base64(pins[0], 32, b64, sizeof(b64));
	CHECK_STR(b64, EMPTY_SHA256, "encodes back");
	CHECK(tls_pin_parse("sha256//" EMPTY_SHA256 ";sha256:" EMPTY_SHA256, pins, TLS_PIN_MAX,
			    &e) == 2, "curl's spelling, and a list");
	CHECK(tls_pin_parse("sha256:abc", pins, TLS_PIN_MAX, &e) == -1 && e.status == EXIT_USAGE,
	      "short");
	CHECK(tls_pin_parse("md5:" EMPTY_SHA256, pins, TLS_PIN_MAX, &e) == -1, "other hash");
	CHECK(tls_pin_parse("sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=", pins,
			    TLS_PIN_MAX, &e) == -1, "stray low bits");
	CHECK(tls_pin_parse("", pins, TLS_PIN_MAX, &e) == -1, "empty");
	tls_base64((const uint8_t *)"ab", 2, b64, sizeof(b64));
	CHECK_STR(b64, "YWI=", "padding");
}

static int reply(int proto, int step, const char *s, size_t *used)
{
	return tls_starttls_reply(proto, step, s, strlen(s), used);
}

static void test_starttls(void)
{
	size_t u;

	CHECK(reply(TLS_STARTTLS_SMTP, 0, "220 hi\r\n", &u) == 1 && u == 8, "greeting");
	CHECK(reply(TLS_STARTTLS_SMTP, 0, "220-hi\r\n", &u) == 0, "more lines to come");
	CHECK(reply(TLS_STARTTLS_SMTP, 1, "250-x\r\n250-STARTTLS\r\n250 HELP\r\n", &u) == 1,
	      "EHLO offers STARTTLS");
	CHECK(reply(TLS_STARTTLS_SMTP, 1, "250-x\r\n250 HELP\r\n", &u) == -1, "not offered");
	CHECK(reply(TLS_STARTTLS_SMTP, 2, "454 no\r\n", &u) == -1, "refused");
	CHECK(reply(TLS_STARTTLS_IMAP, 1, "* CAPABILITY x\r\na OK go\r\n", &u) == 1, "imap");
	CHECK(reply(TLS_STARTTLS_POP3, 1, "-ERR no\r\n", &u) == -1, "pop3 refused");
	CHECK(reply(TLS_STARTTLS_FTP, 1, "234 AUTH TLS ok\r\n", &u) == 1, "ftp");
	CHECK(reply(TLS_STARTTLS_XMPP, 1, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
		    &u) == 1, "xmpp proceed");
	CHECK(reply(TLS_STARTTLS_POSTGRES, 0, "N", &u) == -1, "postgres without SSL");
}

int main(void)
{
	test_pin();
	test_starttls();
	return UNIT_DONE();
}
