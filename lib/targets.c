/* SPDX-License-Identifier: MIT */
/* Target lists: CIDR expansion and files of targets. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets.h"

static unsigned addr_bits(const struct cidr *c)
{
	return c->family == AF_INET ? 32 : 128;
}

/* IPv4 /30 and shorter leave out the network and broadcast addresses. */
static int skips_ends(const struct cidr *c)
{
	return c->family == AF_INET && c->prefix <= 30;
}

int targets_cidr_count(const struct cidr *c, const char *as_typed, uint64_t *n, struct err *e)
{
	unsigned host_bits = addr_bits(c) - c->prefix;

	if (host_bits > 17) /* even less the two ends, more than TARGETS_MAX */
		return err_set(e, EXIT_USAGE, "%.64s: 2^%u addresses, more than the %d hosts a "
			       "run may hold", as_typed, host_bits, TARGETS_MAX);
	*n = UINT64_C(1) << host_bits;
	if (skips_ends(c))
		*n -= 2;
	if (*n > TARGETS_MAX)
		return err_set(e, EXIT_USAGE, "%.64s: %llu hosts, more than the %d a run may hold",
			       as_typed, (unsigned long long)*n, TARGETS_MAX);
	return 0;
}

void targets_cidr_nth(const struct cidr *c, uint64_t i, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	unsigned char a[16];
	unsigned bytes = addr_bits(c) / 8, k;
	uint64_t carry = i + (skips_ends(c) ? 1 : 0);

	memcpy(a, c->addr, bytes);
	/* the network address: host bits cleared */
	for (k = 0; k < bytes; k++) {
		unsigned lo = k * 8;

		if (lo >= c->prefix)
			a[k] = 0;
		else if (c->prefix < lo + 8)
			a[k] &= (unsigned char)(0xff << (lo + 8 - c->prefix));
	}
	/* plus i, big-endian (the host bits hold it: no carry into the prefix) */
	for (k = bytes; k-- > 0 && carry;) {
		uint64_t sum = a[k] + (carry & 0xff);

		a[k] = (unsigned char)sum;
		carry = (carry >> 8) + (sum >> 8);
	}
	memset(ss, 0, sizeof(*ss));
	if (c->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		*len = sizeof(*sin6);
	}
}

void targets_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int add_line(char ***v, size_t *n, size_t *cap, const char *s, size_t len, struct err *e)
{
	char *copy;

	if (*n + 1 >= *cap) {
		size_t nc = *cap ? 2 * *cap : 64;
		char **nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return err_set(e, EXIT_FAIL, "out of memory");
		memset(nv + *cap, 0, (nc - *cap) * sizeof(*nv));
		*v = nv;
		*cap = nc;
	}
	copy = strndup(s, len);
	if (!copy)
		return err_set(e, EXIT_FAIL, "out of memory");
	(*v)[(*n)++] = copy;
	(*v)[*n] = NULL;
	return 0;
}

int targets_read(const char *path, char ***v, size_t *n, struct err *e)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	char *line = NULL;
	size_t lcap = 0, cap = 0, lineno = 0;
	int rc = 0;

	*v = NULL;
	*n = 0;
	if (!f)
		return err_sys(e, EXIT_FAIL, errno, "--targets %.200s", path);
	while (!rc && getline(&line, &lcap, f) >= 0) {
		char *s = line, *end;

		lineno++;
		if (strchr(s, '#'))
			*strchr(s, '#') = '\0';
		s += strspn(s, " \t\r\n");
		end = s + strcspn(s, " \t\r\n");
		if (end == s)
			continue;
		if (end - s > 255)
			rc = err_set(e, EXIT_USAGE, "--targets %.200s: line %zu is too long", path,
				     lineno);
		else if (*n >= TARGETS_MAX)
			rc = err_set(e, EXIT_USAGE, "--targets %.200s: more than %d targets", path,
				     TARGETS_MAX);
		else
			rc = add_line(v, n, &cap, s, (size_t)(end - s), e);
	}
	if (!rc && ferror(f))
		rc = err_sys(e, EXIT_FAIL, errno, "--targets %.200s: read failed", path);
	free(line);
	if (f != stdin)
		fclose(f);
	if (!rc && !*n)
		rc = err_set(e, EXIT_USAGE, "--targets %.200s: no target in it", path);
	if (rc) {
		targets_free(*v);
		*v = NULL;
		*n = 0;
	}
	return rc;
}
