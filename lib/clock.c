/* SPDX-License-Identifier: MIT */
#include "clock.h"

#include <limits.h>
#include <time.h>

static int64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t clock_mono_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

int64_t clock_real_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}

int clock_ms_until(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - clock_mono_ns();
	if (left <= 0)
		return 0;
	left = (left + NS_PER_MS - 1) / NS_PER_MS;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int64_t clock_earliest(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int64_t clock_deadline(int64_t ns)
{
	return ns < 0 ? -1 : clock_mono_ns() + ns;
}

int64_t clock_res_ns(void)
{
	struct timespec r;

	if (clock_getres(CLOCK_REALTIME, &r) || (r.tv_sec == 0 && r.tv_nsec <= 0))
		return 1;
	return (int64_t)r.tv_sec * NS_PER_SEC + r.tv_nsec;
}
