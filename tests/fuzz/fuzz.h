/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets (tests/fuzz/fuzz_NAME.c, one target each,
 * seeds in tests/fuzz/seeds/NAME/).  FUZZ_ASSERT aborts with a message, so a
 * broken invariant is reported as a crash with its input saved.
 */
#ifndef SOCKCTL_FUZZ_H
#define SOCKCTL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...)                                                        \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: invariant '%s' broken: ", __FILE__,   \
				__LINE__, #cond);                                     \
			fprintf(stderr, __VA_ARGS__);                                 \
			fputc('\n', stderr);                                          \
			abort();                                                      \
		}                                                                     \
	} while (0)

/* A NUL-terminated copy of @data, in its own allocation so ASan sees overreads. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Split @data on NUL bytes into at most @max words, each its own allocation;
 * returns the count.  The words are what a shell would pass as argv.
 */
static inline int fuzz_split(const uint8_t *data, size_t size, char **words, int max)
{
	size_t start = 0, i;
	int n = 0;

	for (i = 0; i <= size && n < max; i++) {
		if (i == size || data[i] == '\0') {
			words[n++] = fuzz_str(data + start, i - start);
			start = i + 1;
		}
	}
	return n;
}

/* An error a command will print as ONE line on stderr: a status and no newline. */
static inline void fuzz_check_err(const struct err *e, int want_status)
{
	FUZZ_ASSERT(e->status == want_status || e->status == EXIT_FAIL, "status %d", e->status);
	FUZZ_ASSERT(e->msg[0] != '\0', "empty message");
	FUZZ_ASSERT(!strchr(e->msg, '\n') && !strchr(e->msg, '\r'), "message spans lines: %s",
		    e->msg);
}

#endif
