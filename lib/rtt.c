/* SPDX-License-Identifier: MIT */
/* Round-trip statistics: one accumulator, ping's definitions. */
#include <math.h>
#include <string.h>

#include "rtt.h"

void rtt_init(struct rtt_stats *s)
{
	memset(s, 0, sizeof(*s));
}

void rtt_add(struct rtt_stats *s, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	if (!s->n || ns < s->min)
		s->min = ns;
	if (!s->n || ns > s->max)
		s->max = ns;
	s->n++;
	s->sum += (double)ns;
	s->sum2 += (double)ns * (double)ns;
}

int rtt_ms(const struct rtt_stats *s, double *min, double *avg, double *max, double *mdev)
{
	double mean, var;

	if (!s->n)
		return -1;
	mean = s->sum / (double)s->n;
	var = s->sum2 / (double)s->n - mean * mean;
	*min = (double)s->min / 1e6;
	*max = (double)s->max / 1e6;
	*avg = mean / 1e6;
	*mdev = var > 0 ? sqrt(var) / 1e6 : 0;
	return 0;
}
