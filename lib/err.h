/* SPDX-License-Identifier: MIT */
/* Error values returned by lib/ and reported by cmd/. */
#ifndef SOCKCTL_ERR_H
#define SOCKCTL_ERR_H

#include <stddef.h>

/* Exit statuses shared by every command. */
enum exit_status {
	EXIT_OK = 0,    /* success */
	EXIT_FAIL = 1,  /* the operation failed: refused, timeout, not found */
	EXIT_USAGE = 2, /* usage or bad input */
};

/*
 * An error as lib/ returns it: the exit status it deserves and a message
 * naming the thing and the cause ("127.0.0.1:80: connection refused").
 * The command name is added when it is reported.
 */
struct err {
	int status;
	char msg[512];
};

#if defined(__GNUC__)
#define ERR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ERR_PRINTF(a, b)
#endif

/*
 * Fill @e and return -1, so lib code can write "return err_set(...)".
 * Control bytes in the result (from quoted user input: C0, DEL, C1), bidi
 * controls and invalid UTF-8 become "\xNN", so the message is always one
 * line and cannot act on a terminal; backslashes are left as they are.
 */
int err_set(struct err *e, int status, const char *fmt, ...) ERR_PRINTF(3, 4);
/* Like err_set, then append ": " and the lower-cased strerror(errnum). */
int err_sys(struct err *e, int status, int errnum, const char *fmt, ...) ERR_PRINTF(4, 5);
/*
 * Both always return -1; saying so here lets the compiler and the static
 * analysers (make lint) see it in every caller, so "if (parse(...)) return
 * -1;" is not mistaken for a path where the output was left unwritten.
 */
static inline int err_minus_one(int rc)
{
	(void)rc;
	return -1;
}
#define err_set(...) err_minus_one(err_set(__VA_ARGS__))
#define err_sys(...) err_minus_one(err_sys(__VA_ARGS__))

/*
 * Diagnostics on stderr, one line each, written with one write(2).  Text:
 * "sockctl CMD: MESSAGE" ("sockctl: MESSAGE" when @cmd is NULL), controls
 * escaped (and, unless the locale's charset is UTF-8, every non-ASCII byte).
 * After err_diag_json(1) (main() calls it when argv holds --json), one JSON
 * object instead:
 *   {"event":"error","command":"connect","message":"...","status":1}
 * "event" is "error", "warning" or "notice"; "command" is null before a
 * command was chosen; only errors carry "status", the exit status.
 */
void err_diag_json(int on);
int err_diag_is_json(void);
/* An error (event "error"); returns the exit status: e->status, or 1 if unset. */
int err_report(const char *cmd, const struct err *e);
/* A notice: -v traces and other news (event "notice"). */
void err_msg(const char *cmd, const char *fmt, ...) ERR_PRINTF(2, 3);
/* A warning: something went wrong but the command carries on (event "warning"). */
void err_warn(const char *cmd, const char *fmt, ...) ERR_PRINTF(2, 3);

/* Symbolic errno name ("ECONNREFUSED"), or "E?" for unknown numbers. */
const char *err_errno_name(int errnum);
/*
 * The one text of an errno, the same in every command: strerror(errnum) with
 * its first letter lower-cased, into @buf ("resource temporarily
 * unavailable").  Never call strerror() directly.
 */
const char *err_strerror(int errnum, char *buf, size_t len);
/* Name and text, where the name matters: "EAGAIN: resource temporarily unavailable". */
#define ERR_DESC_LEN 160
const char *err_errno_desc(int errnum, char *buf, size_t len);
/* gai_strerror(rc), lower-cased as err_strerror does ("name or service not known"). */
const char *err_gai_strerror(int rc, char *buf, size_t len);

#endif
