/* SPDX-License-Identifier: MIT */
/* parse_duration, and parse_format_duration of whatever it accepts. */
#include "clock.h"
#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = { 0 };
	char buf[32];
	int64_t ns = -1;
	char *s = fuzz_str(data, size);

	if (parse_duration(s, &ns, &e)) {
		fuzz_check_err(&e, EXIT_USAGE);
	} else {
		FUZZ_ASSERT(ns >= 0 && ns <= INT64_C(30) * 24 * 3600 * NS_PER_SEC,
			    "'%s' gave %lld ns", s, (long long)ns);
		parse_format_duration(ns, buf, sizeof(buf));
		FUZZ_ASSERT(buf[0] != '\0', "empty format");
	}
	free(s);
	return 0;
}
