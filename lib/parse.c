/* SPDX-License-Identifier: MIT */
#include "parse.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "clock.h"

#define MAX_DURATION_NS (INT64_C(30) * 24 * 3600 * NS_PER_SEC)

const char *parse_quote(const char *s, char *buf, size_t n)
{
	return parse_quote_n(s, SIZE_MAX, buf, n);
}

const char *parse_quote_n(const char *s, size_t len, char *buf, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < len && s[i] && j + 4 < n && i < 64; i++)
		buf[j++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (i < len && s[i] && j + 4 < n) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = '\0';
	return buf;
}

int parse_uint(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out, const char *what, struct err *e)
{
	unsigned long long v = 0;
	int overflow = 0;
	char q[80];
	const char *p;

	if (!*s)
		return err_set(e, EXIT_USAGE, "%s: empty value", what);
	for (p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return err_set(e, EXIT_USAGE, "%s: '%s' is not a number", what,
				       parse_quote(s, q, sizeof(q)));
		if (v > (ULLONG_MAX - 9) / 10)
			overflow = 1;
		else
			v = v * 10 + (unsigned)(*p - '0');
	}
	if (overflow || v < min || v > max)
		return err_set(e, EXIT_USAGE, "%s: '%s' is out of range (%llu-%llu)", what,
			       parse_quote(s, q, sizeof(q)), min, max);
	*out = v;
	return 0;
}

int parse_duration(const char *s, int64_t *ns, struct err *e)
{
	static const struct {
		const char *suffix;
		int64_t mul;
	} units[] = {
		{ "", NS_PER_SEC },       { "s", NS_PER_SEC }, { "ms", NS_PER_MS },
		{ "us", 1000 },           { "ns", 1 },         { "m", 60 * NS_PER_SEC },
		{ "h", 3600 * NS_PER_SEC },
	};
	const char *p = s;
	int64_t whole = 0, frac = 0, fscale = 1;
	int digits = 0;
	char q[80];
	size_t i;

	while (isdigit((unsigned char)*p)) {
		if (whole > MAX_DURATION_NS)
			goto range;
		whole = whole * 10 + (*p++ - '0');
		digits++;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			if (fscale >= NS_PER_SEC)
				goto bad;
			frac = frac * 10 + (*p++ - '0');
			fscale *= 10;
			digits++;
		}
	}
	if (!digits)
		goto bad;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (whole > MAX_DURATION_NS / units[i].mul)
			goto range;
		/* frac scaled to ns-of-a-unit: exact for every unit, no overflow
		 * (units of a second or more are whole multiples of 1e9). */
		frac *= NS_PER_SEC / fscale;
		if (units[i].mul >= NS_PER_SEC)
			frac *= units[i].mul / NS_PER_SEC;
		else
			frac = frac * units[i].mul / NS_PER_SEC;
		*ns = whole * units[i].mul + frac;
		if (*ns > MAX_DURATION_NS)
			goto range;
		return 0;
	}
bad:
	return err_set(e, EXIT_USAGE,
		       "bad duration '%s' (use e.g. 1.5, 500ms, 2s, 1m)", parse_quote(s, q, sizeof(q)));
range:
	return err_set(e, EXIT_USAGE, "duration '%s' is too long (at most 30 days)",
		       parse_quote(s, q, sizeof(q)));
}

const char *parse_format_duration(int64_t ns, char *buf, size_t len)
{
	if (ns >= NS_PER_SEC || ns == 0)
		snprintf(buf, len, "%.1fs", (double)ns / NS_PER_SEC);
	else if (ns >= NS_PER_MS)
		snprintf(buf, len, "%.3gms", (double)ns / NS_PER_MS);
	else
		snprintf(buf, len, "%.3gus", (double)ns / 1000);
	return buf;
}

int parse_size(const char *s, unsigned long long max, unsigned long long *out, struct err *e)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {
		{ "", 0 },     { "b", 0 },     { "k", 10 },    { "kb", 10 }, { "kib", 10 },
		{ "m", 20 },   { "mb", 20 },   { "mib", 20 },  { "g", 30 },  { "gb", 30 },
		{ "gib", 30 },
	};
	char num[32], q[80];
	const char *p = s;
	unsigned long long v;
	size_t n = 0, i;
	struct err tmp;

	while (isdigit((unsigned char)*p) && n + 1 < sizeof(num))
		num[n++] = *p++;
	num[n] = '\0';
	if (!n || isdigit((unsigned char)*p))
		goto bad;
	if (parse_uint(num, 0, ULLONG_MAX >> 30, &v, "size", &tmp))
		goto bad;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(p, units[i].suffix) != 0)
			continue;
		v <<= units[i].shift;
		if (v > max)
			return err_set(e, EXIT_USAGE, "size '%s' is too large (at most %llu)",
				       parse_quote(s, q, sizeof(q)), max);
		*out = v;
		return 0;
	}
bad:
	return err_set(e, EXIT_USAGE, "bad size '%s' (use e.g. 1500, 64k, 1M)",
		       parse_quote(s, q, sizeof(q)));
}

int parse_mode(const char *s, unsigned *mode, struct err *e)
{
	unsigned v = 0;
	const char *p;
	char q[80];

	for (p = s; *p >= '0' && *p <= '7' && v <= 0777; p++)
		v = v * 8 + (unsigned)(*p - '0');
	if (!*s || *p || v > 0777)
		return err_set(e, EXIT_USAGE, "bad mode '%s' (octal, 0 to 0777, e.g. 0660)",
			       parse_quote(s, q, sizeof(q)));
	*mode = v;
	return 0;
}
