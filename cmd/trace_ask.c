/* SPDX-License-Identifier: MIT */
/*
 * Is this run a trace?  Asked by connect, udp-send and raw-icmp at every
 * start, so it lives apart from the trace recipe (trace_cmd.c).
 */
#include <stddef.h>
#include <string.h>

#include "trace_cmd.h"

/* The trace options: only these words make a run a trace. */
static const char *const trace_words[] = { "trace", "max-ttl", "first-ttl", "queries",
					   "cycles", "cycle-interval", "resolve" };

const char *trace_word(const char *w)
{
	size_t i, n;

	if (strncmp(w, "--", 2) != 0)
		return NULL;
	n = strcspn(w + 2, "=");
	for (i = 0; i < sizeof(trace_words) / sizeof(trace_words[0]); i++)
		if (strlen(trace_words[i]) == n && !strncmp(w + 2, trace_words[i], n))
			return trace_words[i];
	return NULL;
}

int trace_asked(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (trace_word(argv[i]))
			return 1;
	return 0;
}
