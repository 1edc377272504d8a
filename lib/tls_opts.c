/* SPDX-License-Identifier: MIT */
/*
 * The TLS options before any TLS: their defaults and their checks against
 * each other.  Apart from lib/tls (which only --tls runs touch), as every
 * connect and listen reads them at start.
 */
#include <string.h>

#include "tls_int.h"

void tls_opts_init(struct tls_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->min_version = o->max_version = TLS_VER_UNSET;
	o->starttls = TLS_STARTTLS_NONE;
	o->handshake_timeout = -1;
}

int tls_opts_check(const struct tls_opts *o, int server, struct err *e)
{
	uint8_t pins[TLS_PIN_MAX][32];
	unsigned char wire[256];
	unsigned wlen;
	const struct {
		int given;
		const char *name;
	} need_tls[] = {
		{ !!o->ca, "--ca" }, { !!o->cert, "--cert" }, { !!o->key, "--key" },
		{ !!o->sni, "--sni" }, { !!o->verify_name, "--verify-name" }, { !!o->pin, "--pin" },
		{ !!o->alpn, "--alpn" }, { !!o->ciphers, "--ciphers" },
		{ !!o->ciphersuites, "--ciphersuites" }, { !!o->groups, "--groups" },
		{ !!o->session, "--session" }, { o->no_verify, "--no-verify" },
		{ o->allow_truncation, "--tls-allow-truncation" },
		{ o->verify_client, "--verify-client" },
		{ o->min_version != TLS_VER_UNSET, "--tls-min" },
		{ o->max_version != TLS_VER_UNSET, "--tls-max" },
		{ o->starttls != TLS_STARTTLS_NONE, "--starttls" },
		{ o->handshake_timeout >= 0, "--handshake-timeout" },
	};
	size_t i;

	for (i = 0; i < sizeof(need_tls) / sizeof(need_tls[0]); i++)
		if (need_tls[i].given && !o->tls)
			return err_set(e, EXIT_USAGE, "%s needs --tls", need_tls[i].name);
	if (!o->tls)
		return 0;
	if (o->min_version != TLS_VER_UNSET && o->max_version != TLS_VER_UNSET &&
	    o->min_version > o->max_version)
		return err_set(e, EXIT_USAGE, "--tls-min %s is above --tls-max %s",
			       tls_version_names[o->min_version], tls_version_names[o->max_version]);
	if (o->key && !o->cert)
		return err_set(e, EXIT_USAGE, "--key needs --cert");
	if (server && o->verify_client && !o->ca)
		return err_set(e, EXIT_USAGE, "--verify-client needs --ca");
	if (o->handshake_timeout == 0)
		return err_set(e, EXIT_USAGE, "--handshake-timeout 0: give a duration greater than 0");
	if (o->alpn && tls_alpn_wire(o->alpn, wire, &wlen, e))
		return -1;
	if (o->pin && tls_pin_parse(o->pin, pins, TLS_PIN_MAX, e) < 0)
		return -1;
	return tls_check_lists(o, e);
}
