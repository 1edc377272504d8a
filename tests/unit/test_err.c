/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "clock.h"
#include "err.h"
#include "unit.h"

int main(void)
{
	struct err e;
	char buf[64];
	int64_t a, b, d;

	CHECK(err_set(&e, EXIT_USAGE, "port '%s' is bad", "x") == -1, "err_set returns -1");
	CHECK(e.status == EXIT_USAGE, "status kept");
	CHECK_STR(e.msg, "port 'x' is bad", "message formatted");
	CHECK(err_sys(&e, EXIT_FAIL, ECONNREFUSED, "127.0.0.1:%d", 9) == -1, "err_sys returns -1");
	CHECK_STR(e.msg, "127.0.0.1:9: connection refused", "errno text lower-cased and appended");
	err_sys(&e, EXIT_FAIL, ETIMEDOUT, "x");
	CHECK_STR(e.msg, "x: connection timed out", "ETIMEDOUT text");
	CHECK_STR(err_errno_name(ECONNREFUSED), "ECONNREFUSED", "errno name");
	CHECK_STR(err_errno_name(EINPROGRESS), "EINPROGRESS", "EINPROGRESS name");
	CHECK_STR(err_errno_name(99999), "E?", "unknown errno");
	CHECK_STR(err_strerror(ENOENT, buf, sizeof(buf)), "no such file or directory", "strerror");
	{
		char big[2000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		err_set(&e, EXIT_FAIL, "%s", big);
		CHECK(strlen(e.msg) == sizeof(e.msg) - 1, "long messages truncated, not overflowed");
	}

	a = clock_mono_ns();
	b = clock_mono_ns();
	CHECK(a > 0 && b >= a, "monotonic clock moves forward");
	CHECK(clock_ms_until(-1) == -1, "no deadline: poll forever");
	CHECK(clock_ms_until(clock_mono_ns() - NS_PER_SEC) == 0, "passed deadline: 0 ms");
	d = clock_deadline(2 * NS_PER_SEC);
	CHECK(clock_ms_until(d) > 1900 && clock_ms_until(d) <= 2000, "2 s deadline ~2000 ms");
	CHECK(clock_ms_until(clock_mono_ns() + NS_PER_MS / 2) == 1, "partial ms rounds up, never busy-loops");
	CHECK(clock_deadline(-1) == -1, "negative duration: no deadline");
	CHECK(clock_earliest(-1, 5) == 5 && clock_earliest(5, -1) == 5, "none loses to any deadline");
	CHECK(clock_earliest(3, 5) == 3 && clock_earliest(-1, -1) < 0, "earliest of two; none of none");
	CHECK(clock_real_ns() > INT64_C(1600000000) * NS_PER_SEC, "realtime is epoch-based");
	return UNIT_DONE();
}
