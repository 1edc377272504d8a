/* SPDX-License-Identifier: MIT */
#include "err.h"

#include <ctype.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out.h"

/* Diagnostics as JSON objects (--json) or as text lines: see err_diag_json. */
static int diag_json;

/*
 * A message is reported as ONE line and shows what it names without letting
 * it act on the terminal: user input quoted into it (an argument holding
 * "\n" or "\r", a socket name holding ESC, a peer's text) must not split it,
 * rewrite the line or set the window title.  Control bytes (C0, DEL, C1),
 * bidi controls and invalid UTF-8 become "\xNN"; backslashes are kept, as
 * the message may already hold escaped names (addr_ntop).  Found by tests/fuzz.
 */
static void one_line(char *msg, size_t cap, const char *raw)
{
	out_text_escape_buf(msg, cap, raw, strlen(raw), OUT_UTF8 | OUT_KEEP_BACKSLASH);
}

int(err_set)(struct err *e, int status, const char *fmt, ...)
{
	va_list ap;
	char raw[sizeof(e->msg)];

	e->status = status;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	one_line(e->msg, sizeof(e->msg), raw);
	return -1;
}

int(err_sys)(struct err *e, int status, int errnum, const char *fmt, ...)
{
	va_list ap;
	char cause[128], raw[sizeof(e->msg)];
	size_t n;

	e->status = status;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	n = strlen(raw);
	snprintf(raw + n, sizeof(raw) - n, ": %s", err_strerror(errnum, cause, sizeof(cause)));
	one_line(e->msg, sizeof(e->msg), raw);
	return -1;
}

void err_diag_json(int on)
{
	diag_json = on;
}

int err_diag_is_json(void)
{
	return diag_json;
}

/* One diagnostic line, written with one write(2) so lines never interleave. */
static void diag(const char *event, const char *cmd, const char *msg, int status)
{
	char *line = NULL;
	size_t len = 0;
	FILE *mem;
	FILE *f;
	struct jsonw w;

	if (!diag_json) {
		/* Text: built on the stack and written with one write(2); an
		 * escaped message is at most 4 bytes per byte of msg. */
		char buf[64 + 4 * sizeof(((struct err *)0)->msg)];
		int head = snprintf(buf, sizeof(buf), "sockctl%s%s: ", cmd ? " " : "", cmd ? cmd : "");

		if (head > 0 && (size_t)head < sizeof(buf) - 2) {
			len = (size_t)head + out_text_escape_buf(buf + head, sizeof(buf) - 1 - (size_t)head,
								 msg, strlen(msg),
								 OUT_KEEP_BACKSLASH |
									 (out_locale_utf8() ? OUT_UTF8 : 0));
			buf[len++] = '\n';
			if (write(STDERR_FILENO, buf, len) < 0) {
				/* nowhere left to say it */
			}
			return;
		}
	}
	mem = open_memstream(&line, &len);
	f = mem ? mem : stderr;
	if (diag_json) {
		json_begin(&w, f);
		json_str(&w, "event", event);
		json_str(&w, "command", cmd);
		json_str(&w, "message", msg);
		if (status >= 0)
			json_int(&w, "status", status);
		json_end(&w);
	} else {
		fprintf(f, "sockctl%s%s: ", cmd ? " " : "", cmd ? cmd : "");
		out_text_escape(f, msg, strlen(msg),
				OUT_KEEP_BACKSLASH | (out_locale_utf8() ? OUT_UTF8 : 0));
		putc('\n', f);
	}
	if (!mem)
		return;
	if (!fclose(mem))
		fwrite(line, 1, len, stderr);
	free(line);
}

int err_report(const char *cmd, const struct err *e)
{
	int status = e->status ? e->status : EXIT_FAIL;

	diag("error", cmd, e->msg, status);
	return status;
}

static void vdiag(const char *event, const char *cmd, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	diag(event, cmd, msg, -1);
}

void err_msg(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag("notice", cmd, fmt, ap);
	va_end(ap);
}

void err_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag("warning", cmd, fmt, ap);
	va_end(ap);
}

const char *err_errno_name(int errnum)
{
	const char *s = strerrorname_np(errnum);

	return s ? s : "E?";
}

/*
 * "Connection refused" reads better mid-sentence as "connection refused", but
 * keep acronyms ("No route", "TTL") intact: only lower a capital that is
 * followed by a lower-case letter.
 */
static const char *mid_sentence(const char *text, char *buf, size_t len)
{
	snprintf(buf, len, "%s", text);
	if (len > 1 && isupper((unsigned char)buf[0]) && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

const char *err_strerror(int errnum, char *buf, size_t len)
{
	return mid_sentence(strerror(errnum), buf, len);
}

const char *err_errno_desc(int errnum, char *buf, size_t len)
{
	char text[128];

	snprintf(buf, len, "%s: %s", err_errno_name(errnum),
		 err_strerror(errnum, text, sizeof(text)));
	return buf;
}

const char *err_gai_strerror(int rc, char *buf, size_t len)
{
	return mid_sentence(gai_strerror(rc), buf, len);
}
