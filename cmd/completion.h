/* SPDX-License-Identifier: MIT */
/* sockctl completion: the option tables as each shell's data, shared by completion.c (bash) and completion_shells.c (zsh, fish). */
#ifndef SOCKCTL_CMD_COMPLETION_H
#define SOCKCTL_CMD_COMPLETION_H

#include <stddef.h>
#include <stdio.h>

#include "opt.h"

#define MAX_OPTS 256
#define MAX_POS 8
#define MAX_SEL 4

struct copt {
	const char *lng, *shrt, *arg, *values, *kind, *help; /* NULL for "-" */
};

/* A flag option that changes what the positional arguments are (-U PATH). */
struct csel {
	const char *opt;
	const char *kinds[MAX_POS];
};

struct ccmd {
	const struct opt_cmd *desc;
	char *text; /* the --list-options lines, cut into fields in place */
	struct copt opts[MAX_OPTS];
	size_t nopts;
	const char *pos[MAX_POS]; /* the kind of each positional argument */
	struct csel sel[MAX_SEL];
	size_t nsel;
	int unix_prefix; /* a host may be written unix:PATH */
	char *args;      /* a copy of desc->args, cut into words */
};

/* The service names and aliases of /etc/services, for the three shells. */
#define SERVICES_CMD "awk '{ sub(/#.*/, \"\"); for (i = 1; i <= NF; i++) if (i != 2) print $i }' /etc/services 2>/dev/null | sort -u"

const struct copt *completion_find_opt(const struct ccmd *cc, const char *word);
/* @s inside single quotes for sh, zsh and fish (fish: \' and \\ only). */
void completion_put_sq(const char *s, int fish, FILE *f);
/* The comma-separated values of @o as a space-separated list. */
void completion_put_values(const struct copt *o, FILE *f);
/* The shell function name of command @cmd ('-' becomes '_'). */
const char *completion_fn_name(const char *cmd, char *buf, size_t n);
void completion_gen_zsh(const struct ccmd *cc, size_t n, FILE *f);
void completion_gen_fish(const struct ccmd *cc, size_t n, FILE *f);

#endif
