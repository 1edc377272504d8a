/* SPDX-License-Identifier: MIT */
/* --resolve: reverse lookups of a trace's hops, in parallel threads. */
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

#define NAME_THREADS 16

struct lookup {
	const struct sockaddr_storage *addr;
	char *name;
};

static void *look_up(void *arg)
{
	struct lookup *l = arg;
	char host[NI_MAXHOST];
	socklen_t len = l->addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						       : sizeof(struct sockaddr_in);

	if (!getnameinfo((const struct sockaddr *)l->addr, len, host, sizeof(host), NULL, 0,
			 NI_NAMEREQD))
		l->name = strdup(host);
	return NULL;
}

void trace_names(const struct sockaddr_storage *addrs, size_t n, char **names)
{
	struct lookup l[NAME_THREADS];
	pthread_t th[NAME_THREADS];
	int started[NAME_THREADS];
	size_t base, i, m;

	for (base = 0; base < n; base += m) {
		m = n - base;
		if (m > NAME_THREADS)
			m = NAME_THREADS;
		for (i = 0; i < m; i++) {
			l[i].addr = &addrs[base + i];
			l[i].name = NULL;
			started[i] = !pthread_create(&th[i], NULL, look_up, &l[i]);
			if (!started[i])
				look_up(&l[i]); /* no thread: look it up here */
		}
		for (i = 0; i < m; i++) {
			if (started[i])
				pthread_join(th[i], NULL);
			names[base + i] = l[i].name;
		}
	}
}
