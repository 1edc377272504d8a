/* SPDX-License-Identifier: MIT */
/* tls_load(): libssl by dlopen, on first use (see tls_sym.h). */
#include <dlfcn.h>
#include <signal.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"
#define TLS_SYM_NO_DEFINES
#include "tls_sym.h"

#if defined(OPENSSL_VERSION_MAJOR) && OPENSSL_VERSION_MAJOR != 3
#error "lib/tls is written for OpenSSL 3 (libssl.so.3)"
#endif
#define TLS_LIBSSL "libssl.so.3"

struct tls_syms tls_sym;

int tls_load(struct err *e)
{
	static int loaded;
	void *h, *p;
	const char *miss = NULL;

	if (loaded)
		return 0;
	h = dlopen(TLS_LIBSSL, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();

		return err_set(e, EXIT_FAIL, "--tls needs %s: %s", TLS_LIBSSL,
			       why ? why : "cannot load it");
	}
	/* dlsym through libssl's handle finds libcrypto's names too (its dependency) */
#define TLS_SYM_LOAD(n)                                         \
	p = dlsym(h, #n);                                       \
	if (!p && !miss)                                        \
		miss = #n;                                      \
	memcpy(&tls_sym.p_##n, &p, sizeof(p));
	TLS_SYMS(TLS_SYM_LOAD)
#undef TLS_SYM_LOAD
	if (miss) {
		dlclose(h);
		return err_set(e, EXIT_FAIL, "--tls: %s has no %s (OpenSSL 3 is needed)",
			       TLS_LIBSSL, miss);
	}
	/*
	 * No OPENSSL_cleanup() at exit: freeing every table OpenSSL built
	 * costs a short-lived command time for nothing (the process ends).
	 */
	if (!tls_sym.p_OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, NULL)) {
		dlclose(h);
		return err_set(e, EXIT_FAIL, "--tls: OpenSSL failed to initialise");
	}
	loaded = 1;
	/*
	 * OpenSSL writes to sockets with write(2): a peer gone during a handshake
	 * or an alert must be EPIPE, which every caller reports, not a silent
	 * death by SIGPIPE.  (Stdout's reader leaving still ends the process by
	 * SIGPIPE: the output layer raises it on EPIPE; programs run by -e get
	 * the default back.)
	 */
	signal(SIGPIPE, SIG_IGN);
	/* libssl stays loaded for the life of the process: the table points into it */
	// cppcheck-suppress resourceLeak
	return 0;
}
