/* SPDX-License-Identifier: MIT */
/*
 * Round-trip time statistics, as ping computes them: min, average, max and
 * mdev (the standard deviation), over nanosecond samples.  One accumulator
 * for every engine that times round trips (ICMP echo, UDP probes).
 */
#ifndef SOCKCTL_RTT_H
#define SOCKCTL_RTT_H

#include <stdint.h>

struct rtt_stats {
	uint64_t n;
	int64_t min, max; /* ns */
	double sum, sum2; /* ns, ns^2 */
};

void rtt_init(struct rtt_stats *s);
/* Add one sample; a negative one (clock step) counts as 0. */
void rtt_add(struct rtt_stats *s, int64_t ns);
/* In milliseconds; -1 when there is no sample. */
int rtt_ms(const struct rtt_stats *s, double *min, double *avg, double *max, double *mdev);

#endif
