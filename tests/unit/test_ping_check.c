/* SPDX-License-Identifier: MIT */
/* lib/ping_check: the request checks, the per-family type, loss and the exit rule. */
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "icmp.h"
#include "ping.h"
#include "unit.h"

static struct ping_request user(void)
{
	struct ping_request r = { .code = -1, .preload = -1, .interval = -1,
				  .size = ICMP_DEFAULT_PAYLOAD };

	return r;
}

static void test_request(void)
{
	struct ping_request r = user();
	struct err e;

	CHECK(!ping_check_request(&r, &e), "defaults are fine for a user");
	r.flood = 1;
	CHECK(ping_check_request(&r, &e) == -1 && e.status == EXIT_USAGE &&
		      strstr(e.msg, "only root may flood"),
	      "user flood: %s", e.msg);
	r.root = 1;
	CHECK(!ping_check_request(&r, &e), "root may flood");
	r = user();
	r.interval = PING_USER_MIN_INTERVAL - 1;
	CHECK(ping_check_request(&r, &e) == -1 && strstr(e.msg, "--interval 1.999999ms: under 2ms"),
	      "1.9ms, named: %s", e.msg);
	r.interval = PING_USER_MIN_INTERVAL;
	CHECK(!ping_check_request(&r, &e), "2ms is fine");
	r = user();
	r.preload = PING_USER_MAX_PRELOAD + 1;
	CHECK(ping_check_request(&r, &e) == -1 && strstr(e.msg, "--preload 4"), "preload 4: %s",
	      e.msg);
	r.preload = PING_USER_MAX_PRELOAD;
	CHECK(!ping_check_request(&r, &e), "preload 3 is fine");
	r = user();
	r.code = 1;
	CHECK(ping_check_request(&r, &e) == -1 && strstr(e.msg, "--code 1"), "code 1: %s", e.msg);
	r = user();
	r.root = 1;
	r.preload = 2;
	r.flood = 1;
	CHECK(ping_check_request(&r, &e) == -1 && strstr(e.msg, "--preload cannot"),
	      "preload with flood: %s", e.msg);
	r = user();
	r.type = "timestamp";
	r.mode = PING_MODE_DGRAM;
	CHECK(ping_check_request(&r, &e) == -1 && strstr(e.msg, "needs a raw socket"),
	      "timestamp over dgram: %s", e.msg);
	r.mode = PING_MODE_AUTO;
	r.size_given = 1;
	CHECK(ping_check_request(&r, &e) == -1 && strstr(e.msg, "--size cannot"),
	      "timestamp with --size: %s", e.msg);
}

static void test_type(void)
{
	const struct icmp_family *f4 = icmp_family_of(AF_INET), *f6 = icmp_family_of(AF_INET6);
	struct ping_request r = user();
	struct err e;
	uint8_t t = 0;

	CHECK(!ping_request_type(&r, f4, &t, &e) && t == f4->echo_request, "echo, IPv4");
	CHECK(!ping_request_type(&r, f6, &t, &e) && t == f6->echo_request, "echo, IPv6");
	r.type = "timestamp";
	CHECK(!ping_request_type(&r, f4, &t, &e) && t == ICMP4_TIMESTAMP, "timestamp, IPv4");
	CHECK(ping_request_type(&r, f6, &t, &e) == -1 && strstr(e.msg, "IPv4 only"),
	      "timestamp, IPv6: %s", e.msg);
	r.type = "17";
	CHECK(ping_request_type(&r, f4, &t, &e) == -1 && strstr(e.msg, "only root"),
	      "user type 17: %s", e.msg);
	r.root = 1;
	CHECK(!ping_request_type(&r, f4, &t, &e) && t == 17, "root type 17");
	CHECK(ping_request_type(&r, f6, &t, &e) == -1 && strstr(e.msg, "numeric types are IPv4"),
	      "numeric type, IPv6: %s", e.msg);
	r.type = "256";
	CHECK(ping_request_type(&r, f4, &t, &e) == -1 && strstr(e.msg, "not echo, timestamp"),
	      "type 256: %s", e.msg);
	r = user();
	r.size = f4->max_payload + 1;
	CHECK(ping_request_type(&r, f4, &t, &e) == -1 && e.status == EXIT_USAGE &&
		      strstr(e.msg, "for IPv4"),
	      "size over the IPv4 limit: %s", e.msg);
	r.size = f4->max_payload;
	CHECK(!ping_request_type(&r, f4, &t, &e), "the IPv4 limit itself");
}

static void test_stats(void)
{
	struct ping p;
	struct ping_target t;

	memset(&p, 0, sizeof(p));
	memset(&t, 0, sizeof(t));
	CHECK(ping_loss_pct(&t) == 0, "nothing sent: 0%% loss");
	t.ntx = 4;
	t.nrx = 3;
	CHECK(ping_loss_pct(&t) == 25.0, "3 of 4: 25%% loss");
	p.cfg.count = 4;
	p.cfg.deadline = -1;
	CHECK(ping_target_met(&p, &t), "a reply, no deadline: met");
	p.cfg.deadline = NS_PER_SEC;
	CHECK(!ping_target_met(&p, &t), "deadline and count, 3 of 4: not met");
	t.nrx = 0;
	p.cfg.deadline = -1;
	CHECK(!ping_target_met(&p, &t), "no reply: not met");
}

int main(void)
{
	test_request();
	test_type();
	test_stats();
	return UNIT_DONE();
}
