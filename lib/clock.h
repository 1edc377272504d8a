/* SPDX-License-Identifier: MIT */
/* Monotonic time in nanoseconds, and deadlines built on it. */
#ifndef SOCKCTL_CLOCK_H
#define SOCKCTL_CLOCK_H

#include <stdint.h>

#define NS_PER_MS INT64_C(1000000)
#define NS_PER_SEC INT64_C(1000000000)

/* CLOCK_MONOTONIC now, in ns. */
int64_t clock_mono_ns(void);
/* CLOCK_REALTIME now, in ns. */
int64_t clock_real_ns(void);
/* The resolution of CLOCK_REALTIME in ns (at least 1). */
int64_t clock_res_ns(void);
/*
 * Milliseconds left until @deadline (a clock_mono_ns value), rounded up, for
 * poll/epoll_wait: -1 when @deadline is negative (no deadline), 0 when passed.
 */
int clock_ms_until(int64_t deadline);
/* now + @ns, or -1 when @ns is negative (meaning "no timeout"). */
int64_t clock_deadline(int64_t ns);
/* The earlier of two deadlines, where a negative one means "none". */
int64_t clock_earliest(int64_t a, int64_t b);

#endif
