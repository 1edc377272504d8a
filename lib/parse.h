/* SPDX-License-Identifier: MIT */
/*
 * Pure parsers for option values that are not addresses: numbers,
 * durations, sizes, file modes.  They return -1 with an error filled in
 * (status EXIT_USAGE) and never print or exit.
 */
#ifndef SOCKCTL_PARSE_H
#define SOCKCTL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Unsigned decimal in [min, max]; @what names the thing in the error. */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out, const char *what, struct err *e);

/*
 * Duration: "1.5" (seconds), "500ms", "250us", "2s", "1m", "1h"; at most
 * nine fractional digits; non-negative; at most 30 days.  Result in ns.
 */
int parse_duration(const char *s, int64_t *ns, struct err *e);
/* "2.0s", "500ms", "1.250ms": the shortest clear spelling of @ns. */
const char *parse_format_duration(int64_t ns, char *buf, size_t len);

/* Size in bytes: "1500", "64k", "64KiB", "1M", "2G" (binary multiples). */
int parse_size(const char *s, unsigned long long max, unsigned long long *out, struct err *e);

/* File permissions in octal, 0 to 0777: "0660", "660". */
int parse_mode(const char *s, unsigned *mode, struct err *e);

/*
 * At most 64 bytes of user input @s for a message, "..." after a cut,
 * control bytes as '?': one readable line whatever was typed.
 */
const char *parse_quote(const char *s, char *buf, size_t n);
/* parse_quote() of the first @len bytes of @s at most (a word within a word). */
const char *parse_quote_n(const char *s, size_t len, char *buf, size_t n);

#endif
