/* SPDX-License-Identifier: MIT */
/* The subcommands: each is cmd_NAME(argc, argv) with argv[0] = "NAME". */
#ifndef SOCKCTL_CMD_H
#define SOCKCTL_CMD_H

#include <stddef.h>

int cmd_resolve(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_listen(int argc, char **argv);
int cmd_udp_send(int argc, char **argv);
int cmd_udp_recv(int argc, char **argv);
int cmd_raw_icmp(int argc, char **argv);

/*
 * Each command's name, arguments and one-line summary (lib/opt.h), defined
 * in its file next to its option table: "sockctl help" lists these, --help
 * shows them, and nothing else repeats them.
 */
struct opt_cmd;
/* An entry of main's dispatch table. */
struct command {
	const struct opt_cmd *desc; /* name and summary, from the command's file */
	int (*fn)(int argc, char **argv);
};
extern const struct opt_cmd cmd_resolve_desc, cmd_connect_desc, cmd_listen_desc,
	cmd_udp_send_desc, cmd_udp_recv_desc, cmd_raw_icmp_desc;

/*
 * The first call in main(): give up every privilege a setuid or file-capability
 * install grants, except CAP_NET_RAW on the ICMP paths (see lib/priv.h).
 * 0, or EXIT_FAIL after saying why on stderr: the process must not go on.
 */
int cmd_priv_start(int argc, char **argv);

/*
 * sockctl completion SHELL: the completion script for bash, zsh or fish,
 * generated from the option tables of the @n commands @cmds (argv[0] is
 * "completion").  The exit status.
 */
int cmd_completion(int argc, char **argv, const struct command *cmds, size_t n);

struct relay_opts;
struct relay_eof_opts;
/*
 * --progress (in @eo): attach cmd/progress.c's hook to @ro, the relay of
 * @in_fd (stdin), when stderr is a terminal or @json asks for events.
 */
void cmd_progress_attach(struct relay_opts *ro, const struct relay_eof_opts *eo, int json,
			 int in_fd);

struct err;
/*
 * Flush stdout and check that everything written to it so far went out.
 * 0 if so; a reader that left (EPIPE) ends the process by SIGPIPE, quietly,
 * as it ends other tools; any other failure fills @e ("write error on
 * stdout: CAUSE", status 1) and returns -1.  The stream's error flag is
 * cleared, so one failure is reported once.  Commands that write as they go
 * call it after each line or batch and stop on failure (in cmd/main.c).
 */
int cmd_stdout_flush(struct err *e);
struct dgram_out;
/* Write @o's lines to stdout and flush it, as cmd_stdout_flush (cmd/dgram_out.c). */
int cmd_dgram_flush(struct dgram_out *o, struct err *e);
/*
 * Stdout is a pipe: make it hold 1 MiB (F_SETPIPE_SZ), so that a reader
 * that lags for a moment does not stop a flood's receiver.  The pipe's size
 * in bytes, 0 if stdout is no pipe (cmd/dgram_out.c).
 */
int cmd_stdout_pipe_grow(void);
/* The reader of stdout went away: end the way other tools do, by SIGPIPE. */
void cmd_end_by_sigpipe(void);

#endif
