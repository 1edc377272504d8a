/* SPDX-License-Identifier: MIT */
/*
 * The datagram formatter alone (lib/dgram_show): lines per second for text
 * and JSON over one recorded recvmmsg batch of 64-byte probes from
 * 127.0.0.1, formatted into the batch buffer again and again (nothing is
 * written: this measures the formatting, the part that was printf).
 *   fmt_lines [LINES]   prints "text N" and "json N", lines/s
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dgram.h"
#include "dgram_recv.h"
#include "dgram_show.h"

#define BATCH DGRAM_RX_BATCH
#define SIZE 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(enum dgram_fmt fmt, const unsigned char (*data)[SIZE],
		  const struct sockaddr_in *from, long lines)
{
	struct dgram_out o;
	struct dgram_shown d;
	double t0, t;
	long n = 0;
	size_t bytes = 0;
	int64_t real = (int64_t)1796140000 * 1000000000;

	memset(&o, 0, sizeof(o));
	t0 = now();
	while (n < lines) {
		int i;

		for (i = 0; i < BATCH; i++, n++) {
			dgram_shown_set(&d, (const struct sockaddr *)from, sizeof(*from), data[i],
					SIZE, SIZE, real + n * 2000, -1, 1);
			dgram_out_add(&o, fmt, &d);
		}
		bytes += o.b.len;
		outbuf_reset(&o.b); /* the batch is "written" */
	}
	t = now() - t0;
	fprintf(stderr, "# %s: %ld lines, %zu bytes, %.3fs\n", fmt == DGRAM_JSON ? "json" : "text",
		n, bytes, t);
	dgram_out_free(&o);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	static unsigned char data[BATCH][SIZE];
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(40000) };
	long lines = argc > 1 ? atol(argv[1]) : 10000000;
	struct dgram_probe p = { .total = 1000000 };
	int i;

	from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* what udp-send --size 64 sends: the probe header, then the pattern */
	for (i = 0; i < BATCH; i++) {
		p.seq = (uint64_t)i + 123456;
		p.ts_ns = (uint64_t)1796140000 * 1000000000 + (uint64_t)i * 2000;
		dgram_probe_encode(data[i], SIZE, &p);
	}
	printf("text %.0f\n", run(DGRAM_TEXT, (const unsigned char (*)[SIZE])data, &from, lines));
	printf("json %.0f\n", run(DGRAM_JSON, (const unsigned char (*)[SIZE])data, &from, lines));
	return 0;
}
