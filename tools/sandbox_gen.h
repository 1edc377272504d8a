/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's allow-lists as the build-time generator sees them
 * (tools/sandbox_gen.c, linked with libseccomp; ./sockctl is not).
 * cmd/sandbox_tables.c declares one struct sandbox_table per command and
 * mode from the shared groups below; the generator builds each table's
 * filter with libseccomp, exports it with seccomp_export_bpf() and writes
 * the programs as C arrays into $(BUILD)/gen/sandbox_progs.c, which the
 * binary installs with one seccomp(2) call (lib/sandbox.h).
 */
#ifndef SOCKCTL_SANDBOX_GEN_H
#define SOCKCTL_SANDBOX_GEN_H

/* The shared groups of syscalls: see the lists in tools/sandbox_gen.c. */
enum sandbox_group {
	SB_STDIO = 1 << 0,    /* read/write/close/fstat/fcntl/lseek/ioctl; if_indextoname */
	SB_TIME = 1 << 1,     /* clocks, sleeps */
	SB_SIGNALS = 1 << 2,  /* handlers, masks, raise(): the end by SIGPIPE */
	SB_MEMORY = 1 << 3,   /* brk, mmap/mprotect without PROT_EXEC, munmap, madvise */
	SB_RELAY = 1 << 4,    /* poll, splice, sendfile, pipes, send/recv, shutdown */
	SB_EPOLL = 1 << 5,    /* epoll_* : the stream and datagram servers */
	SB_ACCEPT = 1 << 6,   /* accept4, getpeername/getsockname, setsockopt on clients */
	SB_DGRAM = 1 << 7,    /* sendmmsg/recvmmsg/sendmsg/recvmsg/sendto/recvfrom */
	SB_ICMP = 1 << 8,     /* the ping engine: getrandom, the datagram calls */
	SB_CONNECT = 1 << 9,  /* socket/connect/bind/setsockopt: connects after set-up */
	SB_RESOLVE = 1 << 10, /* name lookups after set-up (files, DNS): avoid if possible */
	SB_UNLINK = 1 << 11,  /* fstatat/unlinkat: removing our Unix socket file at the end */
	SB_EXIT = 1 << 12,    /* exit, exit_group */
	SB_PATH_MTU = 1 << 13, /* an IPv4/IPv6 datagram socket + connect: the route's MTU */
	SB_TLS = 1 << 14,     /* OpenSSL after its handshakes' set-up: getrandom, futex */
	SB_THREADS = 1 << 15, /* pthread_create/join: clone3, futex, set_robust_list, rseq */
	SB_FILES = 1 << 16,   /* open files read-only (CA stores): Landlock names the paths */
	SB_WRITE_FILES = 1 << 17, /* create/rename files (--openmetrics): Landlock names them */
	SB_PRINT = 1 << 18,   /* the least that prints and ends (resolve): stdio, malloc, raise */
};

/* Every command's filter has these. */
#define SB_BASE (SB_STDIO | SB_TIME | SB_SIGNALS | SB_MEMORY | SB_EXIT)

struct sandbox_table {
	const char *id;    /* the C name of its program: sb_<id> */
	const char *name;  /* the mode, for -v: "connect relay", "listen -k" */
	unsigned groups;   /* enum sandbox_group bits */
	const int *extra;  /* more syscall numbers (SCMP_SYS(x)), ended by -1; may be NULL */
};

/* cmd/sandbox_tables.c: every table, ended by one with a NULL id. */
extern const struct sandbox_table sandbox_tables[];

#endif
