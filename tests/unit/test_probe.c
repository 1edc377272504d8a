/* SPDX-License-Identifier: MIT */
/*
 * The pieces of the probing runs that need no network: percentiles and
 * jitter (lib/rtt), CIDR expansion and target files (lib/targets), the
 * OpenMetrics writer (lib/openmetrics).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "openmetrics.h"
#include "rtt.h"
#include "targets.h"
#include "unit.h"

static void test_series(void)
{
	struct rtt_series r;
	double ms, mn, av, mx, md;
	int i;

	rtt_series_init(&r);
	CHECK(rtt_series_pct(&r, 50, &ms) == -1 && rtt_series_jitter(&r, &ms) == -1,
	      "no samples: no percentile, no jitter");
	CHECK(!rtt_series_add(&r, 2000000), "add");
	CHECK(rtt_series_jitter(&r, &ms) == -1, "one sample: no jitter");
	rtt_series_add(&r, 4000000);
	rtt_series_add(&r, 1000000);
	rtt_series_add(&r, 5000000);
	/* |4-2| + |1-4| + |5-1| = 9 over 3 pairs */
	CHECK(!rtt_series_jitter(&r, &ms) && ms > 2.999 && ms < 3.001, "jitter 3 ms: %g", ms);
	CHECK(!rtt_ms(&r.s, &mn, &av, &mx, &md) && mn == 1 && mx == 5 && av == 3, "sums kept");
	CHECK(!rtt_series_pct(&r, 50, &ms) && ms == 2, "p50 of 1,2,4,5 is 2 (nearest rank): %g",
	      ms);
	CHECK(!rtt_series_pct(&r, 90, &ms) && ms == 5, "p90 is 5");
	CHECK(!rtt_series_pct(&r, 25, &ms) && ms == 1, "p25 is 1");
	/* sorting for a percentile does not change the jitter already summed */
	CHECK(!rtt_series_jitter(&r, &ms) && ms > 2.999 && ms < 3.001, "jitter kept");
	rtt_series_free(&r);
	for (i = 1; i <= 100; i++)
		rtt_series_add(&r, (int64_t)i * 1000000);
	CHECK(!rtt_series_pct(&r, 99, &ms) && ms == 99, "p99 of 1..100 is 99");
	CHECK(!rtt_series_pct(&r, 100, &ms) && ms == 100, "p100 is the max");
	rtt_series_add(&r, -5);
	CHECK(!rtt_series_pct(&r, 0.5, &ms) && ms == 0, "a negative sample counts as 0");
	rtt_series_free(&r);
}

static const char *nth(const char *prefix, uint64_t i, char *buf, size_t n)
{
	struct cidr c;
	struct err e = { 0 };
	struct sockaddr_storage ss;
	socklen_t len;

	if (addr_parse_cidr(prefix, &c, &e))
		return "bad";
	targets_cidr_nth(&c, i, &ss, &len);
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)n);
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, (socklen_t)n);
	return buf;
}

static uint64_t count(const char *prefix, int *status)
{
	struct cidr c;
	struct err e = { 0 };
	uint64_t n = 0;

	*status = addr_parse_cidr(prefix, &c, &e) || targets_cidr_count(&c, prefix, &n, &e)
			  ? e.status
			  : 0;
	return n;
}

static void test_cidr(void)
{
	char b[64];
	int st;

	CHECK(count("198.18.0.0/24", &st) == 254 && !st, "/24: 254 hosts");
	CHECK(count("198.18.0.0/30", &st) == 2 && !st, "/30: 2 hosts");
	CHECK(count("198.18.0.0/31", &st) == 2 && !st, "/31: both");
	CHECK(count("198.18.0.7/32", &st) == 1 && !st, "/32: the one");
	CHECK(count("198.18.0.0/16", &st) == 65534 && !st, "/16: 65534");
	count("198.18.0.0/15", &st);
	CHECK(st == EXIT_USAGE, "/15: too many, status 2");
	CHECK(count("2001:db8::/112", &st) == 65536 && !st, "IPv6 /112: 65536, no ends left out");
	count("2001:db8::/111", &st);
	CHECK(st == EXIT_USAGE, "IPv6 /111: too many");
	count("::/0", &st);
	CHECK(st == EXIT_USAGE, "::/0: too many, no overflow");
	CHECK_STR(nth("198.18.0.77/24", 0, b, sizeof(b)), "198.18.0.1", "host bits cleared");
	CHECK_STR(nth("198.18.0.0/24", 253, b, sizeof(b)), "198.18.0.254", "last host");
	CHECK_STR(nth("198.18.0.0/16", 255, b, sizeof(b)), "198.18.1.0", "carry into the next byte");
	CHECK_STR(nth("198.18.0.0/31", 1, b, sizeof(b)), "198.18.0.1", "/31: both ends");
	CHECK_STR(nth("198.18.3.0/23", 0, b, sizeof(b)), "198.18.2.1", "a /23 starts at .2.0");
	CHECK_STR(nth("2001:db8::ff/120", 255, b, sizeof(b)), "2001:db8::ff", "IPv6: every address");
	CHECK_STR(nth("2001:db8::/112", 65535, b, sizeof(b)), "2001:db8::ffff", "IPv6 /112 last");
}

static void test_read(void)
{
	char path[] = "/tmp/sockctl-targets.XXXXXX";
	int fd = mkstemp(path);
	char **v = NULL;
	size_t n = 0;
	struct err e = { 0 };

	CHECK(fd >= 0, "mkstemp");
	if (fd < 0)
		return;
	CHECK(write(fd, "# hosts\n a  \n\nb # c\n\t198.18.0.0/30\r\n", 36) == 36, "write");
	close(fd);
	CHECK(!targets_read(path, &v, &n, &e) && n == 3, "three targets");
	if (n == 3) {
		CHECK_STR(v[0], "a", "trimmed");
		CHECK_STR(v[1], "b", "comment cut");
		CHECK_STR(v[2], "198.18.0.0/30", "CR cut");
		CHECK(v[3] == NULL, "NULL-terminated");
	}
	targets_free(v);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "# nothing\n\n", 11) == 11, "rewrite");
	if (fd >= 0)
		close(fd);
	CHECK(targets_read(path, &v, &n, &e) && e.status == EXIT_USAGE && !v, "no target: status 2");
	unlink(path);
	CHECK(targets_read(path, &v, &n, &e) && e.status == EXIT_FAIL, "missing file: status 1");
}

static void test_openmetrics(void)
{
	char dir[] = "/tmp/sockctl-om.XXXXXX", path[64], tmp[96], buf[4096];
	struct rtt_stats st;
	struct om_probe_row row = { .host = "a\"b\\c\nd", .family = "inet", .proto = "icmp",
				    .sent = 4, .received = 3, .closed = -1, .stats = &st };
	struct err e = { 0 };
	FILE *f;
	size_t n;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/x.prom", dir);
	rtt_init(&st);
	rtt_add(&st, 1500000);
	CHECK(!om_write_probes(path, &row, 1, &e), "written: %s", e.msg);
	f = fopen(path, "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	CHECK(strstr(buf, "sockctl_probes_sent{host=\"a\\\"b\\\\c\\nd\",family=\"inet\","
			  "proto=\"icmp\"} 4\n") != NULL, "label escaped, no port label");
	CHECK(strstr(buf, "sockctl_probe_loss_ratio{") && strstr(buf, "} 0.25\n"), "loss 0.25");
	CHECK(strstr(buf, "} 0.0015\n") != NULL, "seconds");
	CHECK(!strstr(buf, "sockctl_probes_closed"), "no closed family for ICMP");
	CHECK(n > 6 && !strcmp(buf + n - 6, "# EOF\n"), "ends with # EOF");
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	CHECK(access(tmp, F_OK) != 0, "temporary renamed away");
	unlink(path);
	snprintf(path, sizeof(path), "%s/no/such/x.prom", dir);
	CHECK(om_write_probes(path, &row, 1, &e) && e.status == EXIT_FAIL, "bad directory: status 1");
	rmdir(dir);
}

int main(void)
{
	test_series();
	test_cidr();
	test_read();
	test_openmetrics();
	return UNIT_DONE();
}
