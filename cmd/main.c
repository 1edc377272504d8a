/* SPDX-License-Identifier: MIT */
/* sockctl: dispatch a subcommand, then make sure its output really went out. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "opt.h"

#ifndef SOCKCTL_VERSION
#define SOCKCTL_VERSION "0.0.0"
#endif

static const struct command commands[] = {
	{ &cmd_resolve_desc, cmd_resolve },
	{ &cmd_connect_desc, cmd_connect },
	{ &cmd_listen_desc, cmd_listen },
	{ &cmd_udp_send_desc, cmd_udp_send },
	{ &cmd_udp_recv_desc, cmd_udp_recv },
	{ &cmd_raw_icmp_desc, cmd_raw_icmp },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].desc->name, name))
			return &commands[i];
	return NULL;
}

/* At most 64 bytes of @s for a message (err_set escapes its control bytes). */
static const char *shown(const char *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s", s);
	return buf;
}

static int unknown(const char *name)
{
	const struct command *best = NULL;
	size_t i, bestd = 99;
	char buf[65];
	struct err e;

	for (i = 0; i < NCOMMANDS; i++) {
		size_t dd = opt_distance(name, commands[i].desc->name);

		if (dd < bestd) {
			bestd = dd;
			best = &commands[i];
		}
	}
	if (best && (bestd <= 2 || !strncmp(best->desc->name, name, strlen(name) ? strlen(name) : 1)))
		err_set(&e, EXIT_USAGE, "'%s' is not a command; did you mean '%s'?",
			shown(name, buf, sizeof(buf)), best->desc->name);
	else
		err_set(&e, EXIT_USAGE, "'%s' is not a command (see 'sockctl help')",
			shown(name, buf, sizeof(buf)));
	return err_report(NULL, &e);
}

/*
 * --json anywhere among the options (before "--") makes every diagnostic
 * JSON, the complaint about a bad option before it included, so a script
 * reading stderr with jq never meets a text line.
 */
static int argv_wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (!strcmp(argv[i], "--json"))
			return 1;
	return 0;
}

static void usage(FILE *f)
{
	size_t i;

	fputs("Usage: sockctl COMMAND [OPTIONS] [ARGS]\n"
	      "The socket API from the shell: resolve, connect, listen, datagrams, ICMP.\n\n"
	      "Commands:\n",
	      f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s  %s\n", commands[i].desc->name, commands[i].desc->summary);
	fputs("\n'sockctl help COMMAND' or 'sockctl COMMAND --help' shows a command's options.\n"
	      "'sockctl --version' shows the version.\n"
	      "'sockctl completion bash|zsh|fish' prints the completion script for a shell.\n",
	      f);
}

void cmd_end_by_sigpipe(void)
{
	signal(SIGPIPE, SIG_DFL);
	raise(SIGPIPE);
}

int cmd_stdout_flush(struct err *e)
{
	int errnum;

	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	/* a failure seen by an earlier, unchecked flush has lost its errno */
	errnum = errno;
	clearerr(stdout);
	if (errnum == EPIPE)
		cmd_end_by_sigpipe();
	if (!errnum)
		return err_set(e, EXIT_FAIL, "write error on stdout");
	return err_sys(e, EXIT_FAIL, errnum, "write error on stdout");
}

/*
 * A command's output is not done until it has reached the file: flush and
 * check, as git does (see cmd_stdout_flush).
 */
static int finish(const char *name, int status)
{
	struct err e = { 0 };

	if (!cmd_stdout_flush(&e))
		return status;
	return err_report(name, &e);
}

/*
 * A closed stdin/stdout/stderr would hand its number to the first socket a
 * command opens, which would then be read as stdin or written as stdout:
 * every command gets /dev/null in their place first.
 */
static void std_fds_open(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", fd ? O_WRONLY : O_RDONLY) < 0)
			return;
}

static int run(const struct command *c, int argc, char **argv)
{
	return finish(c->desc->name, c->fn(argc, argv));
}

int main(int argc, char **argv)
{
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const struct command *c;

	if (cmd_priv_start(argc, argv))
		return EXIT_FAIL;
	std_fds_open();
	err_diag_json(argv_wants_json(argc, argv));
	/* multi-call: a link named "sockctl-resolve" runs resolve */
	if (!strncmp(self, "sockctl-", 8) && (c = find(self + 8))) {
		argv[0] = (char *)c->desc->name;
		return run(c, argc, argv);
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("sockctl %s\n", SOCKCTL_VERSION);
		return finish(NULL, EXIT_OK);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return finish(NULL, EXIT_OK);
	}
	if (!strcmp(argv[1], "help")) {
		char help[] = "--help";
		char *hargv[3];

		if (argc == 2) {
			usage(stdout);
			return finish(NULL, EXIT_OK);
		}
		if (argc > 3) {
			struct err e;

			err_set(&e, EXIT_USAGE, "expected one COMMAND");
			return err_report("help", &e);
		}
		if (!(c = find(argv[2])))
			return unknown(argv[2]);
		hargv[0] = (char *)c->desc->name;
		hargv[1] = help;
		hargv[2] = NULL;
		return run(c, 2, hargv);
	}
	if (!strcmp(argv[1], "completion"))
		return finish("completion", cmd_completion(argc - 1, argv + 1, commands, NCOMMANDS));
	if (!strcmp(argv[1], "--list-commands")) {
		size_t i;

		for (i = 0; i < NCOMMANDS; i++)
			printf("%s\n", commands[i].desc->name);
		return finish(NULL, EXIT_OK);
	}
	if (argv[1][0] == '-') {
		char buf[65];
		struct err e;

		err_set(&e, EXIT_USAGE, "unknown option '%s' (see 'sockctl help')",
			shown(argv[1], buf, sizeof(buf)));
		return err_report(NULL, &e);
	}
	if (!(c = find(argv[1])))
		return unknown(argv[1]);
	return run(c, argc - 1, argv + 1);
}
