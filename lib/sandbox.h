/* SPDX-License-Identifier: MIT */
/*
 * Least privilege at run time: after a command's set-up (options parsed,
 * names resolved, sockets and files open, privileges dropped) it calls
 * sandbox_install(), which
 *  1. sets PR_SET_NO_NEW_PRIVS;
 *  2. where the kernel has Landlock (ABI >= 1), forbids every filesystem
 *     access the ABI knows, except those the command lists in its paths
 *     (a Unix socket's directory, to remove the socket file at the end;
 *     the CA store a TLS mode may still read);
 *  3. loads a seccomp-bpf program with one seccomp(2) call.  The programs
 *     are compiled at BUILD time: tools/sandbox_gen (linked with
 *     libseccomp; ./sockctl is not) builds every table of
 *     cmd/sandbox_tables.c and writes it with seccomp_export_bpf() into
 *     $(BUILD)/gen/sandbox_progs.c.  Their default action kills the
 *     process (SECCOMP_RET_KILL_PROCESS); with .log, a copy of the program
 *     has every such return patched to SECCOMP_RET_LOG at run time (one
 *     program per mode in the binary, the copy only when asked).
 *  Landlock is skipped for a program that allows no call naming a file
 *  (struct sandbox_prog's fs): the filter already forbids every such call.
 *
 * A filter is inherited by every child and cannot be removed: a command that
 * runs programs (-e/-c) does not load one (no_new_privs only; see
 * cmd/sandbox_tables.c).  The better design, for later: before
 * sandbox_install() the parent creates a socketpair(AF_UNIX, SOCK_SEQPACKET)
 * and forks a small spawner that installs no filter, closes everything but
 * its end, and loops: recvmsg() one request (the client fd by SCM_RIGHTS,
 * plus the argv index), fork(), in the child dup2() the fd onto 0/1 and
 * execve() the program; it sends the pid back and reaps children (SIGCHLD),
 * reporting exit statuses on the same socket.  The filtered parent then
 * needs only sendmsg/recvmsg on that socket (SB_RELAY has them) and no fork,
 * clone or execve.  The spawner holds no network fd and parses nothing from
 * the network, so leaving it unfiltered keeps the parser that sees hostile
 * bytes confined.
 */
#ifndef SOCKCTL_SANDBOX_H
#define SOCKCTL_SANDBOX_H

#include "err.h"

struct sock_filter;

/* One mode's program, as tools/sandbox_gen wrote it. */
struct sandbox_prog {
	const char *name;                 /* the mode, for -v: "connect relay", "listen -k" */
	int rules;                        /* syscalls it allows */
	const struct sock_filter *insns;
	unsigned short len;
	/*
	 * 1: it allows a call that names a file (open, unlink, rename, bind of
	 * a Unix socket...), so Landlock is applied too; 0: Landlock would add
	 * nothing to the filter and is skipped (one ruleset less at startup),
	 * unless the filter only logs.
	 */
	unsigned char fs;
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
	int no_filter;                   /* no_new_privs only: no Landlock, no seccomp (-e/-c) */
	int log;                         /* SECCOMP_RET_LOG instead of kill */
	const struct sandbox_path *paths; /* for Landlock; may be NULL */
	int npaths;
};

struct sandbox_report {
	int on;            /* the seccomp filter is loaded */
	int rules;         /* syscalls it allows */
	int landlock_abi;  /* 0: Landlock not available (or off) */
	const char *landlock_why; /* when landlock_abi is 0: why (static text) */
	int fs_calls;      /* Landlock was wanted (the program lets files be named) */
};

/*
 * Install both; fill @r.  With @o->off nothing is done (r->on = 0).
 * Returns 0, or -1 with @e set (status EXIT_FAIL): the command must not go
 * on unconfined when confinement was asked for and failed.  Landlock being
 * absent is not a failure (see r->landlock_why).
 */
int sandbox_install(const struct sandbox_prog *p, const struct sandbox_opts *o,
		    struct sandbox_report *r, struct err *e);

#endif
