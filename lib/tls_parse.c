/* SPDX-License-Identifier: MIT */
/* The parts of TLS that sockctl parses itself: --pin and STARTTLS replies.  No OpenSSL. */
#include <stdio.h>
#include <string.h>

#include "tls.h"

const char *const tls_version_names[] = { "1.2", "1.3", NULL };
const char *const tls_starttls_names[] = { "smtp", "imap", "pop3", "ftp", "xmpp", "postgres",
					   NULL };

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t tls_base64(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 <= cap; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	if (cap)
		out[o < cap ? o : cap - 1] = '\0';
	return o;
}

static int b64_val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* Exactly 32 bytes from the 44 characters of @s (one '=' of padding). */
static int pin_decode(const char *s, size_t n, uint8_t out[32])
{
	size_t i, o = 0;
	unsigned acc = 0;
	int bits = 0;

	if (n != 44 || s[43] != '=')
		return -1;
	for (i = 0; i < 43; i++) {
		int v = b64_val(s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= 32)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* 43 * 6 = 258 bits: 32 bytes and 2 bits that must be zero */
	return o == 32 && acc == 0 ? 0 : -1;
}

int tls_pin_parse(const char *s, uint8_t pins[][32], int max, struct err *e)
{
	int n = 0;

	while (*s) {
		const char *end = strchr(s, ';');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		size_t skip;

		if (!strncmp(s, "sha256:", 7))
			skip = 7;
		else if (!strncmp(s, "sha256//", 8))
			skip = 8;
		else
			return err_set(e, EXIT_USAGE, "--pin %.*s: give sha256:BASE64",
				       (int)(len > 64 ? 64 : len), s);
		if (n >= max)
			return err_set(e, EXIT_USAGE, "--pin: at most %d keys", max);
		if (len < skip || pin_decode(s + skip, len - skip, pins[n]))
			return err_set(e, EXIT_USAGE,
				       "--pin %.*s: not the base64 of a SHA-256 (44 characters)",
				       (int)(len > 64 ? 64 : len), s);
		n++;
		s += len;
		if (*s == ';')
			s++;
	}
	if (!n)
		return err_set(e, EXIT_USAGE, "--pin: give sha256:BASE64");
	return n;
}

/* ---- STARTTLS ---- */

int tls_starttls_steps(int proto)
{
	switch (proto) {
	case TLS_STARTTLS_SMTP:
		return 3; /* greeting, EHLO, STARTTLS */
	case TLS_STARTTLS_IMAP:
	case TLS_STARTTLS_POP3:
	case TLS_STARTTLS_FTP:
	case TLS_STARTTLS_XMPP:
		return 2;
	case TLS_STARTTLS_POSTGRES:
		return 1;
	default:
		return 0;
	}
}

int tls_starttls_request(int proto, int step, const char *host, char *buf, size_t cap)
{
	static const char pg_ssl_request[8] = { 0, 0, 0, 8, 0x04, (char)0xd2, 0x16, 0x2f };
	const char *s = "";
	int n;

	switch (proto) {
	case TLS_STARTTLS_SMTP:
		s = step == 1 ? "EHLO sockctl\r\n" : step == 2 ? "STARTTLS\r\n" : "";
		break;
	case TLS_STARTTLS_IMAP:
		s = step == 1 ? "a STARTTLS\r\n" : "";
		break;
	case TLS_STARTTLS_POP3:
		s = step == 1 ? "STLS\r\n" : "";
		break;
	case TLS_STARTTLS_FTP:
		s = step == 1 ? "AUTH TLS\r\n" : "";
		break;
	case TLS_STARTTLS_XMPP:
		if (step == 0) {
			n = snprintf(buf, cap,
				     "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
				     "xmlns:stream='http://etherx.jabber.org/streams' to='%s' "
				     "version='1.0'>",
				     host);
			return n < 0 || (size_t)n >= cap ? -1 : n;
		}
		s = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
		break;
	case TLS_STARTTLS_POSTGRES:
		if (cap < sizeof(pg_ssl_request))
			return -1;
		memcpy(buf, pg_ssl_request, sizeof(pg_ssl_request));
		return (int)sizeof(pg_ssl_request);
	default:
		return -1;
	}
	n = snprintf(buf, cap, "%s", s);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/*
 * An SMTP/FTP reply: lines "ddd-text" then a last "ddd text" (or "ddd").
 * 1 if the last line's code is @code, -1 another code or a malformed line,
 * 0 incomplete.  With @need, a line must also name it (EHLO's STARTTLS).
 */
static int coded_reply(const char *buf, size_t n, const char *code, const char *need,
		       size_t *used)
{
	size_t pos = 0;
	int seen = !need;

	while (pos < n) {
		const char *nl = memchr(buf + pos, '\n', n - pos);
		size_t len;

		if (!nl)
			return 0;
		len = (size_t)(nl - (buf + pos)) + 1;
		if (len < 4 || buf[pos] < '0' || buf[pos] > '9' || buf[pos + 1] < '0' ||
		    buf[pos + 1] > '9' || buf[pos + 2] < '0' || buf[pos + 2] > '9')
			return -1;
		if (need && len >= 4 + strlen(need) && !strncmp(buf + pos + 4, need, strlen(need)))
			seen = 1;
		pos += len;
		if (buf[pos - len + 3] != '-') {
			*used = pos;
			if (memcmp(buf + pos - len, code, 3) != 0)
				return -1;
			return seen ? 1 : -1;
		}
	}
	return 0;
}

/* One line starting with @ok (1), or anything else but untagged "* " lines (-1). */
static int line_reply(const char *buf, size_t n, const char *ok, int skip_untagged,
		      size_t *used)
{
	size_t pos = 0, k = strlen(ok);

	while (pos < n) {
		const char *nl = memchr(buf + pos, '\n', n - pos);
		size_t len;

		if (!nl)
			return 0;
		len = (size_t)(nl - (buf + pos)) + 1;
		if (skip_untagged && len >= 2 && !memcmp(buf + pos, "* ", 2)) {
			pos += len;
			continue;
		}
		*used = pos + len;
		return len >= k && !memcmp(buf + pos, ok, k) ? 1 : -1;
	}
	return 0;
}

static const char *find(const char *buf, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k ? memmem(buf, n, s, k) : NULL;
}

int tls_starttls_reply(int proto, int step, const char *buf, size_t n, size_t *used)
{
	const char *p;

	*used = 0;
	switch (proto) {
	case TLS_STARTTLS_SMTP:
		return coded_reply(buf, n, step == 1 ? "250" : "220",
				   step == 1 ? "STARTTLS" : NULL, used);
	case TLS_STARTTLS_FTP:
		return coded_reply(buf, n, step == 0 ? "220" : "234", NULL, used);
	case TLS_STARTTLS_IMAP:
		return step == 0 ? line_reply(buf, n, "* OK", 0, used)
				 : line_reply(buf, n, "a OK", 1, used);
	case TLS_STARTTLS_POP3:
		return line_reply(buf, n, "+OK", 0, used);
	case TLS_STARTTLS_XMPP:
		if (step == 0) {
			p = find(buf, n, "</stream:features>");
			if (!p)
				return find(buf, n, "</stream:stream>") ? -1 : 0;
			*used = (size_t)(p - buf) + strlen("</stream:features>");
			return find(buf, *used, "urn:ietf:params:xml:ns:xmpp-tls") ? 1 : -1;
		}
		if ((p = find(buf, n, "<proceed")) != NULL) {
			const char *gt = memchr(p, '>', n - (size_t)(p - buf));

			if (!gt)
				return 0;
			*used = (size_t)(gt - buf) + 1;
			return 1;
		}
		return find(buf, n, "<failure") ? -1 : 0;
	case TLS_STARTTLS_POSTGRES:
		if (!n)
			return 0;
		*used = 1;
		return buf[0] == 'S' ? 1 : -1;
	default:
		return -1;
	}
}
