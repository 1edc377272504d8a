/* SPDX-License-Identifier: MIT */
/* Round-trip statistics: one accumulator, ping's definitions. */
#include <math.h>
#include <stdlib.h>
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

void rtt_series_init(struct rtt_series *r)
{
	memset(r, 0, sizeof(*r));
	rtt_init(&r->s);
}

int rtt_series_add(struct rtt_series *r, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	if (r->s.n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		int64_t *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	if (r->s.n)
		r->jsum += (double)(ns > r->last ? ns - r->last : r->last - ns);
	r->last = ns;
	r->v[r->s.n] = ns;
	rtt_add(&r->s, ns);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int rtt_series_pct(struct rtt_series *r, double pct, double *ms)
{
	size_t n = (size_t)r->s.n, rank;

	if (!n)
		return -1;
	qsort(r->v, n, sizeof(*r->v), cmp_i64);
	rank = (size_t)ceil(pct / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	*ms = (double)r->v[rank - 1] / 1e6;
	return 0;
}

int rtt_series_jitter(const struct rtt_series *r, double *ms)
{
	if (r->s.n < 2)
		return -1;
	*ms = r->jsum / (double)(r->s.n - 1) / 1e6;
	return 0;
}

void rtt_series_free(struct rtt_series *r)
{
	free(r->v);
	rtt_series_init(r);
}
