/* SPDX-License-Identifier: MIT */
/*
 * Privileges, with libcap-ng.  sockctl may be installed setuid-root or with
 * cap_net_raw+p so that users can send ICMP echo; nothing else may run with
 * what that install grants.
 *
 * priv_start() is the first thing the process does, before argv is parsed:
 *  - a process holding nothing (real ids == effective ids, no permitted
 *    capability) is left alone: one capget(2), nothing else;
 *  - a real uid of 0 is the caller being root: an ordinary command keeps
 *    what root has (dropping would protect nothing); an ICMP path is
 *    reduced as below;
 *  - otherwise every privilege is given up: supplementary groups (when
 *    privileged), the setuid/setgid ids (set back to the real ones), the
 *    effective, permitted, inheritable and ambient sets, and the bounding
 *    set where CAP_SETPCAP allows; PR_SET_NO_NEW_PRIVS is set.  An ICMP
 *    path (PRIV_KEEP_NET_RAW) keeps CAP_NET_RAW in the permitted set only,
 *    for priv_raise() around socket() and priv_drop() right after.
 * Everything is read back from the kernel; anything still held is an error.
 */
#ifndef SOCKCTL_PRIV_H
#define SOCKCTL_PRIV_H

#include "err.h"

enum priv_keep {
	PRIV_KEEP_NOTHING, /* every command but the ICMP paths */
	PRIV_KEEP_NET_RAW, /* CAP_NET_RAW permitted (not effective) until priv_drop() */
};

struct priv {
	int have_raw;  /* CAP_NET_RAW is permitted, for priv_raise() */
	int setuid;    /* started setuid/setgid: the ids were set back to the real ones */
	int bounding;  /* the bounding set was cleared */
	int dropped;   /* priv_start() found privileges and gave them up */
};

/* See above.  Returns 0, or -1 with @e set (status EXIT_FAIL): refuse to run. */
int priv_start(enum priv_keep keep, struct priv *pv, struct err *e);
/* What priv_start() found and did, for a command to pick up. */
void priv_current(struct priv *pv);
/* Make CAP_NET_RAW effective; a no-op (0) when it is not permitted. */
int priv_raise(const struct priv *pv, struct err *e);
/* Drop every capability and verify none is left. */
int priv_drop(struct priv *pv, struct err *e);

#endif
