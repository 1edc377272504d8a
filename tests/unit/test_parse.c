/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "clock.h"
#include "parse.h"
#include "unit.h"

static int64_t dur(const char *s)
{
	struct err e;
	int64_t ns = -7;

	return parse_duration(s, &ns, &e) ? -1 : ns;
}

static void test_durations(void)
{
	CHECK(dur("1.5") == 1500 * NS_PER_MS, "1.5 is 1.5 s");
	CHECK(dur("500ms") == 500 * NS_PER_MS, "500ms");
	CHECK(dur("2s") == 2 * NS_PER_SEC, "2s");
	CHECK(dur("1m") == 60 * NS_PER_SEC, "1m");
	CHECK(dur("1h") == 3600 * NS_PER_SEC, "1h");
	CHECK(dur("250us") == 250000, "250us");
	CHECK(dur("0") == 0, "0");
	CHECK(dur(".5") == 500 * NS_PER_MS, ".5");
	CHECK(dur("0.000000001") == 1, "nine decimals");
	CHECK(dur("1.5m") == 90 * NS_PER_SEC, "1.5m");
	CHECK(dur("0.001ms") == 1000, "0.001ms");
	CHECK(dur("720h") == 720 * 3600 * NS_PER_SEC, "30 days is the limit");
	CHECK(dur("721h") == -1, "beyond 30 days rejected");
	CHECK(dur("99999999999999999999999") == -1, "huge rejected");
	CHECK(dur("0.0000000001") == -1, "ten decimals rejected");
	CHECK(dur("") == -1, "empty rejected");
	CHECK(dur("-1") == -1, "negative rejected");
	CHECK(dur("1x") == -1, "unknown unit rejected");
	CHECK(dur("s") == -1, "unit alone rejected");
	CHECK(dur(".") == -1, "dot alone rejected");
	CHECK(dur("1 s") == -1, "space rejected");
	CHECK(dur("inf") == -1 && dur("nan") == -1 && dur("0x10") == -1, "inf/nan/hex rejected");
}

static void test_format_duration(void)
{
	char b[32];

	CHECK_STR(parse_format_duration(2 * NS_PER_SEC, b, sizeof(b)), "2.0s", "2s");
	CHECK_STR(parse_format_duration(500 * NS_PER_MS, b, sizeof(b)), "500ms", "500ms");
	CHECK_STR(parse_format_duration(1250000, b, sizeof(b)), "1.25ms", "1.25ms");
	CHECK_STR(parse_format_duration(42000, b, sizeof(b)), "42us", "42us");
}

static void test_numbers_sizes(void)
{
	unsigned long long v;
	struct err e;

	CHECK(!parse_uint("42", 0, 100, &v, "n", &e) && v == 42, "uint 42");
	CHECK(parse_uint("101", 0, 100, &v, "count", &e) == -1 &&
		      strstr(e.msg, "count") && strstr(e.msg, "out of range"),
	      "uint range error names the thing: %s", e.msg);
	CHECK(parse_uint("18446744073709551616", 0, ~0ULL, &v, "n", &e) == -1,
	      "uint overflow rejected");
	CHECK(parse_uint("-1", 0, 10, &v, "n", &e) == -1 && e.status == EXIT_USAGE,
	      "uint negative rejected with status 2");
	CHECK(parse_uint("", 0, 10, &v, "n", &e) == -1, "uint empty rejected");
	CHECK(!parse_size("64k", ~0ULL, &v, &e) && v == 65536, "64k");
	CHECK(!parse_size("1MiB", ~0ULL, &v, &e) && v == 1 << 20, "1MiB");
	CHECK(!parse_size("2G", ~0ULL, &v, &e) && v == 2ULL << 30, "2G");
	CHECK(!parse_size("1500", ~0ULL, &v, &e) && v == 1500, "1500");
	CHECK(parse_size("65508", 65507, &v, &e) == -1, "size max enforced");
	CHECK(parse_size("1.5k", ~0ULL, &v, &e) == -1, "fractional size rejected");
	CHECK(parse_size("k", ~0ULL, &v, &e) == -1, "suffix alone rejected");
	CHECK(parse_size("99999999999999999999G", ~0ULL, &v, &e) == -1, "size overflow");
}

static void test_mode(void)
{
	unsigned m = 1;
	struct err e;

	CHECK(!parse_mode("0600", &m, &e) && m == 0600, "0600");
	CHECK(!parse_mode("660", &m, &e) && m == 0660, "660 is octal");
	CHECK(!parse_mode("0", &m, &e) && m == 0, "0");
	CHECK(!parse_mode("0777", &m, &e) && m == 0777, "0777");
	CHECK(parse_mode("0800", &m, &e) == -1 && e.status == EXIT_USAGE && strstr(e.msg, "0800"),
	      "8 is no octal digit: %s", e.msg);
	CHECK(parse_mode("1777", &m, &e) == -1, "sticky bit rejected");
	CHECK(parse_mode("00000000000000000000644", &m, &e) == 0 && m == 0644, "leading zeros");
	CHECK(parse_mode("", &m, &e) == -1 && parse_mode("rw", &m, &e) == -1 &&
		      parse_mode("-1", &m, &e) == -1 && parse_mode("0x1ff", &m, &e) == -1,
	      "junk rejected");
}

static void test_quote(void)
{
	char b[80], longs[200];

	CHECK_STR(parse_quote("a\x1b[2Jb", b, sizeof(b)), "a?[2Jb", "control bytes as ?");
	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	CHECK(strlen(parse_quote(longs, b, sizeof(b))) == 67 && !strcmp(b + 64, "..."),
	      "cut at 64 bytes with ...");
	CHECK_STR(parse_quote_n("time\x01out=3", 8, b, sizeof(b)), "time?out",
		  "a word within a word: its length, control bytes as ?");
	CHECK(strlen(parse_quote_n(longs, 64, b, sizeof(b))) == 64,
	      "cut at the length given: no ...");
}

int main(void)
{
	test_durations();
	test_format_duration();
	test_numbers_sizes();
	test_mode();
	test_quote();
	return UNIT_DONE();
}
