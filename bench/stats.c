/*
 * Measuring: the clock and a latency histogram.
 */
#include <time.h>

#include "bench.h"

/* Now on the monotonic clock, in nanoseconds. */
uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The bucket of v nanoseconds. */
static size_t
hist_index(uint64_t v)
{
	int e;

	if (v < HIST_SUB)
		return (size_t)v;
	e = 63 - __builtin_clzll(v) - 6;
	return HIST_SUB + (size_t)e * HIST_SUB + (size_t)((v >> e) - HIST_SUB);
}

/* The middle of bucket i, in nanoseconds. */
static double
hist_value(size_t i)
{
	size_t e, m;

	if (i < HIST_SUB)
		return (double)i;
	e = (i - HIST_SUB) / HIST_SUB;
	m = HIST_SUB + (i - HIST_SUB) % HIST_SUB;
	return ((double)m + 0.5) * (double)(1ull << e);
}

/* Count one latency of ns nanoseconds. */
void
hist_add(struct hist *h, uint64_t ns)
{
	h->b[hist_index(ns)]++;
	h->count++;
}

/* The q-quantile (0..1) in microseconds, 0 when empty. */
double
hist_quantile_us(const struct hist *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)h->count + 0.5), seen = 0;

	if (h->count == 0)
		return 0;
	if (want < 1)
		want = 1;
	for (size_t i = 0; i < HIST_SIZE; i++) {
		seen += h->b[i];
		if (seen >= want)
			return hist_value(i) / 1000.0;
	}
	return 0;
}
