/* SPDX-License-Identifier: MIT */
/*
 * The sandbox as commands enter it (lib/sandbox.h has the mechanism): each
 * command calls cmd_sandbox_enter() once, at the end of its set-up, with
 * the program of the mode it runs (cmd/sandbox_tables.c, compiled to BPF
 * at build time into $(BUILD)/gen/sandbox_progs.c).
 */
#ifndef SOCKCTL_CMD_SANDBOX_H
#define SOCKCTL_CMD_SANDBOX_H

#include "sandbox.h"

#define CMD_SANDBOX_PATHS 8

struct cmd_sandbox {
	const char *cmd;   /* for -v and errors */
	int off;           /* --no-sandbox */
	int verbose;       /* -v: say what is on */
	/* -e/-c: the programs run would inherit the filter: no_new_privs only */
	const char *no_filter_why;
	/* A Unix socket file the command removes at the end: its directory
	 * gets Landlock's REMOVE_FILE (an abstract @name: nothing). */
	const char *unix_remove;
	/* Files the command still opens after set-up (-o logs, --cert files). */
	struct sandbox_path paths[CMD_SANDBOX_PATHS];
	int npaths;
	char dir[1024]; /* cmd_sandbox_dir_of()'s directory */
};

/*
 * Landlock: reading the CA store, for modes whose handshakes run under the
 * filter (a hashed directory is read per handshake): with @store the
 * system's (/etc/ssl, /usr/lib/ssl, /usr/share/ca-certificates, where present) and
 * @ca (--ca FILE|DIR; NULL: none).  With @etc, /etc too (names looked up).
 */
int cmd_sandbox_read_paths(struct cmd_sandbox *s, int store, const char *ca, int etc,
			   struct err *e);

/* Landlock: let @access be done in the directory of @file (one such call). */
int cmd_sandbox_dir_of(struct cmd_sandbox *s, const char *file, unsigned access, struct err *e);

/*
 * Confine the process as @t says (SOCKCTL_SANDBOX_LOG=1 in the environment:
 * log, do not kill).  -v says "sandbox: seccomp on (MODE, N syscalls),
 * landlock ABI N" or why either is off.  0, or -1 with @e set: the command
 * ends with status 1 rather than run unconfined.
 */
int cmd_sandbox_enter(const struct cmd_sandbox *s, const struct sandbox_prog *t, struct err *e);

/* The same for a command that gives no paths (the usual case). */
int cmd_sandbox_plain(const char *cmd, int off, int verbose, const struct sandbox_prog *t,
		      struct err *e);

/* The programs, one per row of cmd/sandbox_tables.c (generated). */
extern const struct sandbox_prog sb_resolve,
	sb_connect_relay, sb_connect_tls, sb_connect_tls_session,
	sb_connect_scan, sb_connect_scan_tls, sb_connect_scan_tls_session,
	sb_connect_count, sb_connect_count_files, sb_trace, sb_trace_files,
	sb_listen_one, sb_listen_stream, sb_listen_tls, sb_listen_tls_ca, sb_listen_forward,
	sb_listen_forward_tls, 	sb_listen_proxy, sb_listen_dgram,
	sb_udp_send, sb_udp_recv, sb_raw_icmp, sb_raw_icmp_metrics,
	sb_test_base, sb_test_relay;

#endif
