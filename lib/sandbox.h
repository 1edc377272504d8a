/* SPDX-License-Identifier: MIT */
/*
 * Least privilege at run time: after a command's set-up (options parsed,
 * names resolved, sockets and files open, privileges dropped) it calls
 * sandbox_install(), which
 *  1. sets PR_SET_NO_NEW_PRIVS;
 *  2. where the kernel has Landlock (ABI >= 1), forbids every filesystem
 *     access the ABI knows, except those the command lists in its paths
 *     (a Unix socket's directory, to remove the socket file at the end;
 *     later -o logs and --cert files);
 *  3. loads a seccomp-bpf filter (libseccomp) whose default action kills the
 *     process (SECCOMP_RET_KILL_PROCESS; SECCOMP_RET_LOG with .log) and that
 *     allows exactly the syscalls of the groups and extras the command's
 *     table names.
 *
 * A command declares one struct sandbox_table per mode next to its recipe
 * (cmd/<command>.c), built from the shared groups below.  A new feature that
 * needs another syscall after set-up adds a group bit or an .extra entry to
 * the table of the mode that needs it, never a syscall to a group that other
 * commands use unless all of them need it.
 *
 * A filter is inherited by every child and cannot be removed: a command that
 * runs programs (--exec) forks its spawner BEFORE installing the filter.
 * The design (for lib/server's exec, not built yet): before sandbox_install()
 * the parent creates a socketpair(AF_UNIX, SOCK_SEQPACKET) and forks a small
 * spawner that installs no filter, closes everything but its end, and loops:
 * recvmsg() one request (the client fd by SCM_RIGHTS, plus the argv index),
 * fork(), in the child dup2() the fd onto 0/1 and execve() the program; it
 * sends the pid back and reaps children (SIGCHLD), reporting exit statuses
 * on the same socket.  The filtered parent then needs only sendmsg/recvmsg
 * on that socket (SB_RELAY has them) and no fork, clone or execve.  The
 * spawner holds no network fd and parses nothing from the network, so
 * leaving it unfiltered keeps the parser that sees hostile bytes confined.
 */
#ifndef SOCKCTL_SANDBOX_H
#define SOCKCTL_SANDBOX_H

#include "err.h"

/* The shared groups of syscalls: see the lists in lib/sandbox.c. */
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
};

/* Every command's filter has these. */
#define SB_BASE (SB_STDIO | SB_TIME | SB_SIGNALS | SB_MEMORY | SB_EXIT)

struct sandbox_table {
	const char *name;  /* the mode, for -v: "connect relay", "listen -k" */
	unsigned groups;   /* enum sandbox_group bits */
	const int *extra;  /* more syscall numbers (SCMP_SYS(x)), ended by -1; may be NULL */
};

enum sandbox_access {
	SB_FS_READ = 1 << 0,   /* read files under the path */
	SB_FS_WRITE = 1 << 1,  /* write (and truncate) files under the path */
	SB_FS_REMOVE = 1 << 2, /* remove files in the directory */
	SB_FS_CREATE = 1 << 3, /* create regular files and sockets in the directory */
};

struct sandbox_path {
	const char *path; /* opened O_PATH at install time: must exist */
	unsigned access;  /* enum sandbox_access bits */
};

struct sandbox_opts {
	int off;                         /* --no-sandbox */
	int log;                         /* SECCOMP_RET_LOG instead of kill */
	const struct sandbox_path *paths; /* for Landlock; may be NULL */
	int npaths;
};

struct sandbox_report {
	int on;            /* the seccomp filter is loaded */
	int rules;         /* syscalls it allows */
	int landlock_abi;  /* 0: Landlock not available (or off) */
	const char *landlock_why; /* when landlock_abi is 0: why (static text) */
};

/*
 * Install both; fill @r.  With @o->off nothing is done (r->on = 0).
 * Returns 0, or -1 with @e set (status EXIT_FAIL): the command must not go
 * on unconfined when confinement was asked for and failed.  Landlock being
 * absent is not a failure (see r->landlock_why).
 */
int sandbox_install(const struct sandbox_table *t, const struct sandbox_opts *o,
		    struct sandbox_report *r, struct err *e);

/* How many syscalls @t allows (what sandbox_install() would load). */
int sandbox_count(const struct sandbox_table *t);

#endif
