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

/*
 * A series of samples kept whole, for what needs more than sums:
 * percentiles and jitter (the mean absolute difference of consecutive
 * samples, as RFC 3550 and tcping users define it, without smoothing).
 * The sums are in .s, so rtt_ms() works on it too.  8 bytes a sample.
 */
struct rtt_series {
	struct rtt_stats s;
	int64_t *v;
	size_t cap;
	int64_t last;
	double jsum; /* sum of |sample - previous| in ns, over s.n - 1 pairs */
};
void rtt_series_init(struct rtt_series *r);
/* Add a sample (negative counts as 0); -1 when out of memory (nothing added). */
int rtt_series_add(struct rtt_series *r, int64_t ns);
/*
 * The @pct-th percentile (0 < @pct <= 100, nearest rank: the smallest
 * sample with at least @pct% of the samples at or below it) in ms into
 * *@ms; -1 with no sample.  Sorts the samples in place (order is not kept).
 */
int rtt_series_pct(struct rtt_series *r, double pct, double *ms);
/* The jitter in ms; -1 with fewer than two samples. */
int rtt_series_jitter(const struct rtt_series *r, double *ms);
void rtt_series_free(struct rtt_series *r);

#endif
