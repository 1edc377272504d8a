/* SPDX-License-Identifier: MIT */
/*
 * Before anything else: give up what a setuid-root or cap_net_raw+p install
 * grants, except on the ICMP paths, which keep CAP_NET_RAW until their
 * sockets are open (lib/priv.h has the whole model).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "err.h"
#include "priv.h"

/*
 * The runs that may keep CAP_NET_RAW: a command, and the option that makes
 * it send ICMP (NULL: the command always does).  An ICMP --trace on another
 * command is one more row, e.g. { "connect", "--trace" }.
 */
static const struct icmp_path {
	const char *command;
	const char *option;
} icmp_paths[] = {
	{ "raw-icmp", NULL },
};

/* The command this run is: a "sockctl-NAME" link, or the first argument. */
static const char *command_of(int argc, char **argv)
{
	const char *self = argc > 0 ? strrchr(argv[0], '/') : NULL;

	self = self ? self + 1 : argc > 0 ? argv[0] : "";
	if (!strncmp(self, "sockctl-", 8))
		return self + 8;
	return argc > 1 ? argv[1] : "";
}

/* @word is one of the arguments before "--" (a plain comparison, no parsing). */
static int has_word(int argc, char **argv, const char *word)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (!strcmp(argv[i], word))
			return 1;
	return 0;
}

static int icmp_path(int argc, char **argv)
{
	const char *name = command_of(argc, argv);
	size_t i;

	for (i = 0; i < sizeof(icmp_paths) / sizeof(icmp_paths[0]); i++)
		if (!strcmp(name, icmp_paths[i].command) &&
		    (!icmp_paths[i].option || has_word(argc, argv, icmp_paths[i].option)))
			return 1;
	return 0;
}

int cmd_priv_start(int argc, char **argv)
{
	struct priv pv;
	struct err e = { 0 };

	if (!priv_start(icmp_path(argc, argv) ? PRIV_KEEP_NET_RAW : PRIV_KEEP_NOTHING, &pv, &e))
		return 0;
	/* before argv is read: no command name, no --json */
	fprintf(stderr, "sockctl: %s\n", e.msg);
	return EXIT_FAIL;
}
