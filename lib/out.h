/* SPDX-License-Identifier: MIT */
/* Output formats: aligned text tables, JSON Lines, hex dumps, escaped text. */
#ifndef SOCKCTL_OUT_H
#define SOCKCTL_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* ---- JSON Lines: one object per line, keys in the order written ---- */
struct jsonw {
	FILE *f;
	int n; /* members written so far */
};
void json_begin(struct jsonw *w, FILE *f);
void json_str(struct jsonw *w, const char *key, const char *val);
/* @n bytes of @val; bytes that are not valid UTF-8 become U+FFFD. */
void json_strn(struct jsonw *w, const char *key, const void *val, size_t n);
void json_int(struct jsonw *w, const char *key, long long val);
void json_uint(struct jsonw *w, const char *key, unsigned long long val);
/* A finite number with @prec decimals (NaN and infinities become null). */
void json_num(struct jsonw *w, const char *key, double val, int prec);
void json_bool(struct jsonw *w, const char *key, int val);
void json_null(struct jsonw *w, const char *key);
struct rtt_stats;
/* "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms", "rtt_mdev_ms" of @s (3 decimals), null without a sample. */
void json_rtt(struct jsonw *w, const struct rtt_stats *s);
/* Lower-case hex of @n bytes, as a string. */
void json_hex(struct jsonw *w, const char *key, const void *val, size_t n);
/* An array of @n numbers with @prec decimals (NaN and infinities become null). */
void json_nums(struct jsonw *w, const char *key, const double *val, size_t n, int prec);
/* An array of @n strings (NULL ones become null). */
void json_strs(struct jsonw *w, const char *key, const char *const *val, size_t n);
/* Close the object and end the line. */
void json_end(struct jsonw *w);
/* "address" (numeric, or the Unix path) and, for IPv4 and IPv6, "port" of @sa. */
void json_sockaddr(struct jsonw *w, const struct sockaddr *sa, socklen_t len);

/*
 * A JSON string literal (with quotes) for @n bytes of @s: C0 controls, DEL,
 * C1 controls (U+0080-U+009F) and bidi controls (U+202A-U+202E,
 * U+2066-U+2069) as \\u escapes, so JSON shown on a terminal cannot act on
 * it; other UTF-8 as is; bytes that are not valid UTF-8 as U+FFFD.
 */
void out_json_string(FILE *f, const void *s, size_t n);
/*
 * Length of the well-formed UTF-8 sequence at @s (at most @n > 0 bytes), its
 * code point in *@cp; 0 if the bytes there are not one.
 */
size_t out_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* 1 for the code points a terminal acts on: C1 controls, bidi controls. */
int out_cp_unsafe(uint32_t cp);
/* 1 if @n bytes of @s are well-formed UTF-8 (no overlongs, no surrogates). */
int out_utf8_valid(const void *s, size_t n);

/* ---- Text tables: columns padded to their widest cell ---- */
struct table {
	size_t ncols, nrows, cap;
	char **cells; /* nrows * ncols, owned */
	int failed;   /* an allocation failed: table_print reports it */
};
void table_init(struct table *t, size_t ncols);
/* Append a row of exactly ncols strings (copied). */
void table_add(struct table *t, const char *const *cells);
/* Print, two spaces between columns, last column unpadded; -1 on ENOMEM. */
int table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

/* ---- Bytes for humans ---- */
/* "00000000  68 65 6c 6c 6f ...  |hello|", 16 bytes a line, like hexdump -C. */
void out_hexdump(FILE *f, const void *buf, size_t n, size_t offset);
/* Printable ASCII as is, "\\" "\n" "\r" "\t" escaped, other bytes "\xNN". */
void out_escaped(FILE *f, const void *buf, size_t n);

/*
 * Text for a terminal, from bytes anyone may have chosen (a peer's payload, a
 * socket name, an NSS name).  Printable ASCII is written as is; "\\" "\n"
 * "\r" "\t" are escaped; every other C0 control and DEL become "\xNN".
 * With OUT_UTF8 (pass it when out_locale_utf8() says the terminal takes
 * UTF-8), well-formed UTF-8 is written as text, except the characters a
 * terminal acts on: C1 controls (U+0080-U+009F) and the bidi controls
 * (U+202A-U+202E, U+2066-U+2069), whose bytes become "\xNN".  Bytes that are
 * not well-formed UTF-8 (and, without OUT_UTF8, every byte above 0x7f) become
 * "\xNN".  OUT_KEEP_BACKSLASH leaves "\" as is: for messages that may already
 * hold escapes (diagnostics), where a doubled backslash would only confuse.
 */
#define OUT_UTF8 1u
#define OUT_KEEP_BACKSLASH 2u
void out_text_escape(FILE *f, const void *buf, size_t n, unsigned flags);
/*
 * The same into @dst (@cap bytes, always NUL-terminated when @cap > 0); what
 * does not fit is left out, never half an escape or half a character.
 * Returns the length written.
 */
size_t out_text_escape_buf(char *dst, size_t cap, const void *src, size_t n, unsigned flags);
/*
 * 1 if the locale's charset is UTF-8: the codeset of the first of LC_ALL,
 * LC_CTYPE and LANG that is set ("C.UTF-8", "ru_RU.utf8"), as setlocale(3)
 * would choose it, read without loading a locale.
 */
int out_locale_utf8(void);

#endif
