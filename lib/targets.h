/* SPDX-License-Identifier: MIT */
/*
 * Target lists for probing runs: a CIDR prefix expanded to its hosts, and
 * a file (or stdin) of one target per line.  Parsing only: resolving and
 * probing are the caller's.
 */
#ifndef SOCKCTL_TARGETS_H
#define SOCKCTL_TARGETS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"
#include "err.h"

#define TARGETS_MAX 65536 /* hosts in one run, a CIDR's included */

/*
 * The hosts of @c: every address of the prefix but, for IPv4 prefixes of
 * /30 and shorter, the network and broadcast addresses (as fping -g).
 * Status 2 when there are more than TARGETS_MAX.
 */
int targets_cidr_count(const struct cidr *c, const char *as_typed, uint64_t *n, struct err *e);
/* The @i-th host (0-based) of @c, as targets_cidr_count counts them. */
void targets_cidr_nth(const struct cidr *c, uint64_t i, struct sockaddr_storage *ss,
		      socklen_t *len);

/*
 * Every line of @path ("-": stdin) that holds a target, trimmed; blank
 * lines and "#" comments skipped.  *@v (NULL-terminated, freed with
 * targets_free) and *@n.  Status 1 if the file cannot be read, 2 if a line
 * is too long or there are more than TARGETS_MAX lines.
 */
int targets_read(const char *path, char ***v, size_t *n, struct err *e);
void targets_free(char **v);

#endif
