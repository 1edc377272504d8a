/* SPDX-License-Identifier: MIT */
/* Certificates: what the report shows of each, and the listener's ephemeral one. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tls_int.h"

void tls_name_text(const X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long k;

	buf[0] = '\0';
	if (!b)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	k = BIO_get_mem_data(b, &p);
	if (k > 0)
		snprintf(buf, len, "%.*s", (int)k, p);
	BIO_free(b);
}

static void time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm)) {
		snprintf(buf, len, "?");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void sans_text(X509 *x, char *buf, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t pos = 0;
	int i, n;

	buf[0] = '\0';
	if (!gens)
		return;
	n = sk_GENERAL_NAME_num(gens);
	for (i = 0; i < n && pos < len; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char ip[INET6_ADDRSTRLEN] = "";
		int k = 0;

		if (g->type == GEN_DNS) {
			const ASN1_STRING *s = g->d.dNSName;

			k = snprintf(buf + pos, len - pos, "%sDNS:%.*s", pos ? ", " : "",
				     ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
		} else if (g->type == GEN_IPADD) {
			const ASN1_STRING *s = g->d.iPAddress;
			int l = ASN1_STRING_length(s);

			if (l == 4 || l == 16)
				inet_ntop(l == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), ip,
					  sizeof(ip));
			k = snprintf(buf + pos, len - pos, "%sIP:%s", pos ? ", " : "", ip);
		}
		if (k > 0)
			pos += (size_t)k;
	}
	GENERAL_NAMES_free(gens);
}

static void hex_colon(const unsigned char *md, unsigned n, char *buf, size_t len)
{
	unsigned i;
	size_t pos = 0;

	buf[0] = '\0';
	for (i = 0; i < n && pos + 4 <= len; i++)
		pos += (size_t)snprintf(buf + pos, len - pos, "%s%02X", i ? ":" : "", md[i]);
}

void tls_cert_info(X509 *x, struct tls_cert_info *ci)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned mdlen = 0;
	int days = 0, secs = 0, len;
	const char *tn;

	memset(ci, 0, sizeof(*ci));
	tls_name_text(X509_get_subject_name(x), ci->subject, sizeof(ci->subject));
	tls_name_text(X509_get_issuer_name(x), ci->issuer, sizeof(ci->issuer));
	sans_text(x, ci->sans, sizeof(ci->sans));
	time_text(X509_get0_notBefore(x), ci->not_before, sizeof(ci->not_before));
	time_text(X509_get0_notAfter(x), ci->not_after, sizeof(ci->not_after));
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
		ci->days_left = days; /* secs has the same sign: whole days */
	tn = pk ? EVP_PKEY_get0_type_name(pk) : NULL;
	snprintf(ci->key_type, sizeof(ci->key_type), "%s", tn ? tn : "?");
	ci->key_bits = pk ? EVP_PKEY_get_bits(pk) : 0;
	if (X509_digest(x, EVP_sha256(), md, &mdlen))
		hex_colon(md, mdlen, ci->sha256, sizeof(ci->sha256));
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL)) {
		memcpy(ci->pin, "sha256:", 7);
		tls_base64(md, mdlen, ci->pin + 7, sizeof(ci->pin) - 7);
	}
	OPENSSL_free(der);
}

/* SAN entries for @names: addresses as IP:, the rest as DNS:. */
static int add_sans(X509 *x, X509V3_CTX *v3, const char *const *names)
{
	char list[2048];
	size_t pos = 0;
	X509_EXTENSION *ext;
	unsigned char a[16];
	int i, ok;

	list[0] = '\0';
	for (i = 0; names && names[i] && pos < sizeof(list) - 300; i++) {
		int ip = inet_pton(AF_INET, names[i], a) == 1 || inet_pton(AF_INET6, names[i], a) == 1;

		if (!*names[i] || strpbrk(names[i], ",\n%"))
			continue;
		pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%s:%s", pos ? "," : "",
					ip ? "IP" : "DNS", names[i]);
	}
	if (!pos)
		return 0;
	ext = X509V3_EXT_conf_nid(NULL, v3, NID_subject_alt_name, list);
	if (!ext)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

int tls_make_ephemeral(SSL_CTX *ctx, const char *const *names, struct tls_cert_info *ci,
		       struct err *e)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *nm;
	X509V3_CTX v3;
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int rc = -1;
	const char *cn = names && names[0] ? names[0] : "sockctl";

	if (!pk || !x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 86400) || !X509_set_pubkey(x, pk))
		goto out;
	nm = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0) ||
	    !X509_set_issuer_name(x, nm))
		goto out;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (add_sans(x, &v3, names) || !X509_sign(x, pk, EVP_sha256()))
		goto out;
	if (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, pk) != 1)
		goto out;
	tls_cert_info(x, ci);
	rc = 0;
out:
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pk);
	if (rc)
		err_set(e, EXIT_FAIL, "TLS: cannot make an ephemeral certificate");
	ERR_clear_error();
	return rc;
}
