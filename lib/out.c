/* SPDX-License-Identifier: MIT */
#include "out.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "rtt.h"

/*
 * Length of the well-formed UTF-8 sequence at @s (at most @n bytes), or 0;
 * its code point in *@out.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *out)
{
	unsigned c = s[0];
	size_t len, i;
	uint32_t cp;

	*out = c;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*out = cp;
	return len;
}

size_t out_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	return utf8_decode(s, n, cp);
}

static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;

	return utf8_decode(s, n, &cp);
}

/*
 * Code points above ASCII that a terminal acts on instead of showing: the C1
 * controls (U+009B is CSI) and the bidi embeddings, overrides and isolates,
 * which reorder what follows them on the line.
 */
static int cp_unsafe(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

int out_cp_unsafe(uint32_t cp)
{
	return cp_unsafe(cp);
}

int out_utf8_valid(const void *s, size_t n)
{
	const unsigned char *p = s;
	size_t i = 0, len;

	while (i < n) {
		len = utf8_seq(p + i, n - i);
		if (!len)
			return 0;
		i += len;
	}
	return 1;
}

void out_json_string(FILE *f, const void *s, size_t n)
{
	const unsigned char *p = s;
	size_t i = 0, len;
	uint32_t cp;

	putc('"', f);
	while (i < n) {
		unsigned c = p[i];

		if (c == '"' || c == '\\') {
			putc('\\', f);
			putc((int)c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else if (c < 0x80) {
			putc((int)c, f);
		} else if ((len = utf8_decode(p + i, n - i, &cp))) {
			/* valid JSON either way, but a terminal showing it acts on these */
			if (cp_unsafe(cp))
				fprintf(f, "\\u%04x", (unsigned)cp);
			else
				fwrite(p + i, 1, len, f);
			i += len;
			continue;
		} else {
			fputs("\\ufffd", f);
		}
		i++;
	}
	putc('"', f);
}

void json_begin(struct jsonw *w, FILE *f)
{
	w->f = f;
	w->n = 0;
	putc('{', f);
}

static void key(struct jsonw *w, const char *k)
{
	if (w->n++)
		putc(',', w->f);
	out_json_string(w->f, k, strlen(k));
	putc(':', w->f);
}

void json_str(struct jsonw *w, const char *k, const char *val)
{
	if (!val) {
		json_null(w, k);
		return;
	}
	json_strn(w, k, val, strlen(val));
}

void json_strn(struct jsonw *w, const char *k, const void *val, size_t n)
{
	key(w, k);
	out_json_string(w->f, val, n);
}

void json_int(struct jsonw *w, const char *k, long long val)
{
	key(w, k);
	fprintf(w->f, "%lld", val);
}

void json_uint(struct jsonw *w, const char *k, unsigned long long val)
{
	key(w, k);
	fprintf(w->f, "%llu", val);
}

void json_num(struct jsonw *w, const char *k, double val, int prec)
{
	key(w, k);
	if (isfinite(val))
		fprintf(w->f, "%.*f", prec, val);
	else
		fputs("null", w->f);
}

void json_bool(struct jsonw *w, const char *k, int val)
{
	key(w, k);
	fputs(val ? "true" : "false", w->f);
}

void json_null(struct jsonw *w, const char *k)
{
	key(w, k);
	fputs("null", w->f);
}

void json_rtt(struct jsonw *w, const struct rtt_stats *s)
{
	static const char *const keys[] = { "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms",
					    "rtt_mdev_ms" };
	double v[4];
	int have = !rtt_ms(s, &v[0], &v[1], &v[2], &v[3]);
	size_t i;

	for (i = 0; i < 4; i++) {
		if (have)
			json_num(w, keys[i], v[i], 3);
		else
			json_null(w, keys[i]);
	}
}

void json_hex(struct jsonw *w, const char *k, const void *val, size_t n)
{
	const unsigned char *p = val;
	size_t i;

	key(w, k);
	putc('"', w->f);
	for (i = 0; i < n; i++)
		fprintf(w->f, "%02x", p[i]);
	putc('"', w->f);
}

void json_nums(struct jsonw *w, const char *k, const double *val, size_t n, int prec)
{
	size_t i;

	key(w, k);
	putc('[', w->f);
	for (i = 0; i < n; i++) {
		if (i)
			putc(',', w->f);
		if (isfinite(val[i]))
			fprintf(w->f, "%.*f", prec, val[i]);
		else
			fputs("null", w->f);
	}
	putc(']', w->f);
}

void json_strs(struct jsonw *w, const char *k, const char *const *val, size_t n)
{
	size_t i;

	key(w, k);
	putc('[', w->f);
	for (i = 0; i < n; i++) {
		if (i)
			putc(',', w->f);
		if (val[i])
			out_json_string(w->f, val[i], strlen(val[i]));
		else
			fputs("null", w->f);
	}
	putc(']', w->f);
}

void json_end(struct jsonw *w)
{
	fputs("}\n", w->f);
}

void json_sockaddr(struct jsonw *w, const struct sockaddr *sa, socklen_t len)
{
	char host[ADDR_STRLEN];

	json_str(w, "address", addr_ntop(sa, len, host, sizeof(host)));
	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		json_uint(w, "port", addr_port(sa));
}

void table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

void table_add(struct table *t, const char *const *cells)
{
	size_t i;

	if (t->failed)
		return;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));

		if (!grown) {
			t->failed = 1;
			return;
		}
		t->cells = grown;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		char *c = strdup(cells[i] ? cells[i] : "");

		if (!c) {
			while (i--)
				free(t->cells[t->nrows * t->ncols + i]);
			t->failed = 1;
			return;
		}
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
}

int table_print(const struct table *t, FILE *f)
{
	size_t *width, r, c;

	if (t->failed)
		return -1;
	width = calloc(t->ncols ? t->ncols : 1, sizeof(*width));
	if (!width)
		return -1;
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t len = strlen(t->cells[r * t->ncols + c]);

			if (len > width[c])
				width[c] = len;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			if (c + 1 == t->ncols)
				fprintf(f, "%s\n", cell);
			else
				fprintf(f, "%-*s  ", (int)width[c], cell);
		}
	}
	free(width);
	return 0;
}

void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

void out_hexdump(FILE *f, const void *buf, size_t n, size_t offset)
{
	const unsigned char *p = buf;
	size_t i, j;

	for (i = 0; i < n; i += 16) {
		fprintf(f, "%08zx ", offset + i);
		for (j = 0; j < 16; j++) {
			if (j == 8)
				putc(' ', f);
			if (i + j < n)
				fprintf(f, " %02x", p[i + j]);
			else
				fputs("   ", f);
		}
		fputs("  |", f);
		for (j = 0; j < 16 && i + j < n; j++)
			putc(p[i + j] >= 0x20 && p[i + j] < 0x7f ? p[i + j] : '.', f);
		fputs("|\n", f);
	}
}

/*
 * Read from the environment as setlocale(3) would pick it (LC_ALL, then
 * LC_CTYPE, then LANG), not through setlocale: loading a locale costs every
 * command a dozen syscalls and 350 KiB of LC_CTYPE tables at startup, and
 * only this one bit of it is ever used.
 */
int out_locale_utf8(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
	const char *v = NULL, *dot;
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]) && !(v && *v); i++)
		v = getenv(vars[i]);
	if (!v || !*v || !(dot = strchr(v, '.')))
		return 0;
	dot++;
	return !strncasecmp(dot, "UTF-8", 5) || !strncasecmp(dot, "UTF8", 4);
}

/* Where escaped text goes: a stream, or a buffer that never takes half a piece. */
struct sink {
	FILE *f;
	char *buf;
	size_t cap, len;
	int full;
};

static void put(struct sink *k, const void *s, size_t n)
{
	if (k->f) {
		fwrite(s, 1, n, k->f);
		return;
	}
	if (k->full || k->len + n >= k->cap) {
		k->full = 1;
		return;
	}
	memcpy(k->buf + k->len, s, n);
	k->len += n;
	k->buf[k->len] = '\0';
}

/* Plain text may be cut anywhere: a full buffer keeps what fits. */
static void put_run(struct sink *k, const unsigned char *s, size_t n)
{
	if (!k->f && !k->full && k->len + n >= k->cap) {
		put(k, s, k->cap - 1 - k->len);
		k->full = 1;
		return;
	}
	put(k, s, n);
}

static void put_hex(struct sink *k, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = { '\\', 'x', 0, 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		e[2] = hex[p[i] >> 4];
		e[3] = hex[p[i] & 15];
		put(k, e, 4);
	}
}

static void text_escape(struct sink *k, const unsigned char *p, size_t n, unsigned flags)
{
	size_t i = 0, len;
	uint32_t cp;

	while (i < n) {
		unsigned c = p[i];
		size_t run = i;

		/* The common case, a run of printable ASCII, goes out in one piece. */
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f &&
		       (p[run] != '\\' || (flags & OUT_KEEP_BACKSLASH)))
			run++;
		if (run > i) {
			put_run(k, p + i, run - i);
			i = run;
			continue;
		}
		if (c == '\\' && !(flags & OUT_KEEP_BACKSLASH))
			put(k, "\\\\", 2);
		else if (c == '\n')
			put(k, "\\n", 2);
		else if (c == '\r')
			put(k, "\\r", 2);
		else if (c == '\t')
			put(k, "\\t", 2);
		else if (c >= 0x20 && c < 0x7f)
			put(k, p + i, 1);
		else if (c < 0x80 || !(flags & OUT_UTF8) || !(len = utf8_decode(p + i, n - i, &cp)))
			put_hex(k, p + i, 1);
		else {
			if (cp_unsafe(cp))
				put_hex(k, p + i, len);
			else
				put(k, p + i, len);
			i += len;
			continue;
		}
		i++;
	}
}

void out_text_escape(FILE *f, const void *buf, size_t n, unsigned flags)
{
	struct sink k = { .f = f };

	text_escape(&k, buf, n, flags);
}

size_t out_text_escape_buf(char *dst, size_t cap, const void *src, size_t n, unsigned flags)
{
	struct sink k = { .buf = dst, .cap = cap };

	if (!cap)
		return 0;
	dst[0] = '\0';
	text_escape(&k, src, n, flags);
	return k.len;
}

void out_escaped(FILE *f, const void *buf, size_t n)
{
	out_text_escape(f, buf, n, 0);
}
