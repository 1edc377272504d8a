/* SPDX-License-Identifier: MIT */
/*
 * Echo load generator for make bench, one thread, epoll:
 *   echo_load HOST PORT CLIENTS ROUNDS SIZE   CLIENTS connections each do ROUNDS
 *       round trips of SIZE bytes; prints "ROUND_TRIPS SECONDS RATE" on stdout.
 *       Every echoed byte is checked; a mismatch or a lost client is status 1.
 *   echo_load --hold HOST PORT CLIENTS SECONDS   open CLIENTS idle connections,
 *       print "held N" once they are all up, keep them SECONDS, then exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
	int fd;
	long rounds_left;
	size_t got;
	unsigned char seed;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		perror("echo_load: connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void fill(unsigned char *buf, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)(seed + i);
}

static void send_round(struct conn *c, size_t size)
{
	unsigned char buf[65536];

	fill(buf, size, c->seed);
	if (write(c->fd, buf, size) != (ssize_t)size) {
		perror("echo_load: write");
		exit(1);
	}
	c->got = 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int hold(const struct sockaddr_in *sa, long n, long seconds)
{
	long i;

	for (i = 0; i < n; i++)
		dial(sa);
	printf("held %ld\n", n);
	fflush(stdout);
	sleep((unsigned)seconds);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event evs[512];
	struct conn *cs;
	long n, rounds, i, active;
	size_t size;
	double t0, t;
	int ep, hold_mode = argc > 1 && !strcmp(argv[1], "--hold");

	if (argc != 6 || inet_pton(AF_INET, argv[1 + hold_mode], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: echo_load HOST PORT CLIENTS ROUNDS SIZE | "
				"--hold HOST PORT CLIENTS SECONDS\n");
		return 2;
	}
	sa.sin_port = htons((unsigned short)atoi(argv[2 + hold_mode]));
	n = atol(argv[3 + hold_mode]);
	raise_nofile();
	if (hold_mode)
		return hold(&sa, n, atol(argv[5]));
	rounds = atol(argv[4]);
	size = (size_t)atol(argv[5]);
	if (n < 1 || rounds < 1 || size < 1 || size > 65536)
		return 2;
	cs = calloc((size_t)n, sizeof(*cs));
	ep = epoll_create1(0);
	for (i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &cs[i] };

		cs[i].fd = dial(&sa);
		cs[i].rounds_left = rounds;
		cs[i].seed = (unsigned char)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
	}
	t0 = now();
	for (i = 0; i < n; i++)
		send_round(&cs[i], size);
	active = n;
	while (active > 0) {
		int k = epoll_wait(ep, evs, 512, 30000);

		if (k <= 0) {
			fprintf(stderr, "echo_load: stalled with %ld clients left\n", active);
			return 1;
		}
		for (i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			unsigned char buf[65536], want[65536];
			ssize_t r = read(c->fd, buf, size - c->got);

			if (r <= 0) {
				fprintf(stderr, "echo_load: a client lost its connection\n");
				return 1;
			}
			fill(want, size, c->seed);
			if (memcmp(buf, want + c->got, (size_t)r)) {
				fprintf(stderr, "echo_load: wrong bytes echoed\n");
				return 1;
			}
			c->got += (size_t)r;
			if (c->got < size)
				continue;
			if (--c->rounds_left == 0) {
				close(c->fd);
				active--;
				continue;
			}
			c->seed++;
			send_round(c, size);
		}
	}
	t = now() - t0;
	printf("%ld %.3f %.0f\n", n * rounds, t, (double)(n * rounds) / t);
	return 0;
}
