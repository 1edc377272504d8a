/* SPDX-License-Identifier: MIT */
#include "err.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * A message is reported as ONE line: user input quoted into it (an argument
 * holding "\n" or "\r", a peer's text) must not split it or rewrite the
 * terminal line, so control bytes become '?'.  Found by tests/fuzz.
 */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

int(err_set)(struct err *e, int status, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	one_line(e->msg);
	return -1;
}

int(err_sys)(struct err *e, int status, int errnum, const char *fmt, ...)
{
	va_list ap;
	char cause[128];
	size_t n;

	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof(e->msg) - n, ": %s",
		 err_strerror(errnum, cause, sizeof(cause)));
	one_line(e->msg);
	return -1;
}

int err_report(const char *cmd, const struct err *e)
{
	fprintf(stderr, "sockctl %s: %s\n", cmd, e->msg);
	return e->status ? e->status : EXIT_FAIL;
}

void err_msg(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sockctl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *err_errno_name(int errnum)
{
	const char *s = strerrorname_np(errnum);

	return s ? s : "E?";
}

const char *err_strerror(int errnum, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(errnum));
	/* "Connection refused" reads better mid-sentence as "connection refused",
	 * but keep acronyms ("No route", "TTL") intact: only lower a capital that
	 * is followed by a lower-case letter. */
	if (len > 1 && isupper((unsigned char)buf[0]) && islower((unsigned char)buf[1]))
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}
