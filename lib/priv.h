/* SPDX-License-Identifier: MIT */
/*
 * Privileges for raw sockets, with libcap-ng.  priv_init() keeps only
 * CAP_NET_RAW, and only in the permitted set (a setuid-root binary also
 * gives up root here, keeping that one capability); priv_raise() makes it
 * effective around socket(); priv_drop() then drops every capability,
 * effective and permitted, and checks that they are gone.
 */
#ifndef SOCKCTL_PRIV_H
#define SOCKCTL_PRIV_H

#include "err.h"

struct priv {
	int have_raw;  /* CAP_NET_RAW was permitted at start */
	int setuid;    /* started setuid-root: real uid != 0, effective uid 0 */
	int bounding;  /* the bounding set was cleared */
};

int priv_init(struct priv *pv, struct err *e);
/* Make CAP_NET_RAW effective; a no-op (0) when it is not permitted. */
int priv_raise(const struct priv *pv, struct err *e);
/* Drop every capability and verify none is left. */
int priv_drop(struct priv *pv, struct err *e);

#endif
