/* SPDX-License-Identifier: MIT */
/* listen --forward: the recipe around lib/forward and its events on stderr. */
#ifndef SOCKCTL_LISTEN_FORWARD_H
#define SOCKCTL_LISTEN_FORWARD_H

#include "connect_proxy.h"
#include "forward.h"
#include "server_show.h"

/* The forward_event_fn hook (-v text, JSON "forward"; a failed connect always). */
void forward_show_event(void *ctx, const struct forward_event *ev);

/*
 * Forward every client of the @n listening sockets @fds to @target, each
 * outbound socket with the options @sso, connecting for at most
 * @connect_timeout (-1: FORWARD_CONNECT_TIMEOUT).
 */
int listen_forward_serve(const struct endpoint *target, const struct connect_proxy *px,
			 const struct sockopts *sso, int64_t connect_timeout, struct server_show *show,
			 const struct server_opts *so, int *fds, int n, struct err *e);

/* The outbound connect's timeout unless --connect-timeout says otherwise. */
#define FORWARD_CONNECT_TIMEOUT (10 * NS_PER_SEC)

#endif
