/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "opt.h"
#include "unit.h"

static int one_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int main(void)
{
	struct err e = { 0 };
	struct port_list pl;
	struct endpoint ep;
	struct opt_args pos;
	static const struct opt_cmd cmd = { .name = "t", .args = "A", .max_args = 1 };
	struct opt opts[] = { OPT_END };
	char a0[] = "t", a1[] = "--nonb\r", a2[] = "x", a3[] = "y\nz";
	char *argv[] = { a0, a1, NULL };
	char *ep_argv[] = { a3, NULL };

	CHECK(err_set(&e, EXIT_USAGE, "bad '%s'", "a\nb\rc\td\x7f") == -1, "err_set returns -1");
	CHECK_STR(e.msg, "bad 'a\\nb\\rc\\td\\x7f'", "err_set: control bytes escaped");
	CHECK(e.status == EXIT_USAGE, "err_set keeps the status");
	err_sys(&e, EXIT_FAIL, ECONNREFUSED, "host\n%d", 80);
	CHECK_STR(e.msg, "host\\n80: connection refused", "err_sys: one line, cause appended");
	err_set(&e, EXIT_USAGE, "h\xc3\xa9");
	CHECK_STR(e.msg, "h\xc3\xa9", "bytes >= 0x80 (UTF-8) kept");
	err_set(&e, EXIT_USAGE, "%s", "\x1b]0;t\x07 \xc2\x9b" "2J \xe2\x80\xae \xff \\x41");
	CHECK_STR(e.msg, "\\x1b]0;t\\x07 \\xc2\\x9b" "2J \\xe2\\x80\\xae \\xff \\x41",
		  "err_set: ESC, BEL, C1 CSI, bidi override, invalid UTF-8 escaped; backslash kept");

	/* regressions found by tests/fuzz (seeds regress-* keep them too) */
	CHECK(addr_parse_port_list(",\n", NULL, &pl, &e) == -1 && one_line(e.msg),
	      "port list with a newline: one-line error (%s)", e.msg);
	CHECK(addr_parse_endpoint(1, ep_argv, ADDR_EP_PORT_LIST, NULL, &ep, &e) == -1 &&
		      one_line(e.msg),
	      "endpoint with a newline: one-line error (%s)", e.msg);
	CHECK(opt_parse(&cmd, opts, 2, argv, &pos, &e) == OPT_ERROR && one_line(e.msg),
	      "unknown option with a CR: one-line error (%s)", e.msg);
	argv[1] = a2;
	argv[2] = a3;
	CHECK(opt_parse(&cmd, opts, 3, argv, &pos, &e) == OPT_ERROR && one_line(e.msg),
	      "unexpected argument with a newline: one-line error (%s)", e.msg);
	return UNIT_DONE();
}
