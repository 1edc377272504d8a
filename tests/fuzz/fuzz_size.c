/* SPDX-License-Identifier: MIT */
/*
 * parse_size and parse_uint.  Input: 8 bytes of the maximum
 * (little-endian), then the text.
 */
#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long long max = 0, v = 0;
	struct err e = { 0 };
	size_t i;
	char *s;

	if (size < 8)
		return 0;
	for (i = 0; i < 8; i++)
		max |= (unsigned long long)data[i] << (8 * i);
	s = fuzz_str(data + 8, size - 8);
	if (parse_size(s, max, &v, &e))
		fuzz_check_err(&e, EXIT_USAGE);
	else
		FUZZ_ASSERT(v <= max, "'%s' gave %llu > max %llu", s, v, max);
	memset(&e, 0, sizeof(e));
	if (parse_uint(s, max / 2, max, &v, "value", &e))
		fuzz_check_err(&e, EXIT_USAGE);
	else
		FUZZ_ASSERT(v >= max / 2 && v <= max, "'%s' gave %llu", s, v);
	free(s);
	return 0;
}
