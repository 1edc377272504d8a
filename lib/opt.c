/* SPDX-License-Identifier: MIT */
#include "opt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

#define LONG_BASE 256 /* getopt_long values for long-only options */

static const struct opt builtin[] = {
	OPT_FLAG('h', "help", NULL, "show this help and exit"),
	{ .type = OPT_T_FLAG, .longopt = "list-options", .flags = OPT_HIDDEN,
	  .help = "list the options for completion" },
};
#define NBUILTIN 2

const char *const opt_unix_types[] = { "stream", "dgram", "seqpacket", NULL };

static size_t count_opts(const struct opt *opts)
{
	size_t n = 0;

	while (opts[n].type != OPT_T_END)
		n++;
	return n;
}

const char *opt_name(const struct opt *o, char *buf, size_t n)
{
	if (o->shortopt)
		snprintf(buf, n, "-%c/--%s", o->shortopt, o->longopt);
	else
		snprintf(buf, n, "--%s", o->longopt);
	return buf;
}

const struct opt *opt_find(const struct opt *opts, const char *longopt)
{
	for (; opts->type != OPT_T_END; opts++)
		if (!strcmp(opts->longopt, longopt))
			return opts;
	return NULL;
}

static int has_arg(const struct opt *o)
{
	return o->type != OPT_T_FLAG && o->type != OPT_T_SET;
}

/* Prefix an error from a value parser with the option's name. */
static int value_error(const struct opt *o, struct err *e)
{
	char name[64], msg[sizeof(e->msg)];

	snprintf(msg, sizeof(msg), "%s", e->msg);
	return err_set(e, EXIT_USAGE, "%s: %s", opt_name(o, name, sizeof(name)), msg);
}

static int set_conflict(const struct opt *opts, size_t n, const unsigned char *seen,
			const struct opt *o, struct err *e)
{
	char a[64], b[64];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!seen[i] || &opts[i] == o || opts[i].type != OPT_T_SET ||
		    opts[i].value != o->value || opts[i].min == o->min)
			continue;
		return err_set(e, EXIT_USAGE, "%s conflicts with %s",
			       opt_name(o, a, sizeof(a)), opt_name(&opts[i], b, sizeof(b)));
	}
	return 0;
}

static int apply(const struct opt *o, const char *arg, struct err *e)
{
	unsigned long long u;
	char name[64];
	uint16_t port;
	size_t i;

	switch (o->type) {
	case OPT_T_FLAG:
		++*(int *)o->value;
		return 0;
	case OPT_T_SET:
		*(int *)o->value = (int)o->min;
		return 0;
	case OPT_T_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPT_T_INT:
		if (o->min >= 0) {
			if (addr_parse_uint(arg, (unsigned long long)o->min,
					    (unsigned long long)o->max, &u,
					    opt_name(o, name, sizeof(name)), e))
				return -1;
			*(long long *)o->value = (long long)u;
			return 0;
		}
		/* signed ranges are not needed by any command yet */
		return err_set(e, EXIT_USAGE, "%s: negative ranges unsupported",
			       opt_name(o, name, sizeof(name)));
	case OPT_T_DURATION:
		if (addr_parse_duration(arg, (int64_t *)o->value, e))
			return value_error(o, e);
		return 0;
	case OPT_T_SIZE:
		if (addr_parse_size(arg, o->max ? (unsigned long long)o->max : ~0ULL,
				    (unsigned long long *)o->value, e))
			return value_error(o, e);
		return 0;
	case OPT_T_PORT:
		if (addr_parse_port(arg, NULL, &port, e))
			return value_error(o, e);
		*(int *)o->value = port;
		return 0;
	case OPT_T_CHOICE:
		for (i = 0; o->choices[i]; i++)
			if (!strcmp(o->choices[i], arg)) {
				*(int *)o->value = (int)i;
				return 0;
			}
		{
			char list[256] = "";
			size_t len = 0;

			for (i = 0; o->choices[i] && len < sizeof(list); i++)
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
							i ? ", " : "", o->choices[i]);
			return err_set(e, EXIT_USAGE, "%s: unknown value '%.64s' (use %s)",
				       opt_name(o, name, sizeof(name)), arg, list);
		}
	case OPT_T_CALLBACK:
		if (o->cb(o, arg, e))
			return value_error(o, e);
		return 0;
	case OPT_T_END:
		break;
	}
	return 0;
}

static void print_usage_line(const struct opt_cmd *cmd, FILE *f)
{
	fprintf(f, "Usage: sockctl %s [OPTIONS]%s%s\n", cmd->name, *cmd->args ? " " : "",
		cmd->args);
}

void opt_print_help(const struct opt_cmd *cmd, const struct opt *opts, FILE *f)
{
	size_t n = count_opts(opts), i;

	print_usage_line(cmd, f);
	fprintf(f, "%s\n\nOptions:\n", cmd->summary);
	for (i = 0; i < n + NBUILTIN; i++) {
		const struct opt *o = i < n ? &opts[i] : &builtin[i - n];
		char left[80];
		int len;

		if (o->flags & OPT_HIDDEN)
			continue;
		if (o->shortopt)
			len = snprintf(left, sizeof(left), "  -%c, --%s", o->shortopt, o->longopt);
		else
			len = snprintf(left, sizeof(left), "      --%s", o->longopt);
		if (has_arg(o) && len > 0 && (size_t)len < sizeof(left))
			len += snprintf(left + len, sizeof(left) - (size_t)len, " %s",
					o->argname ? o->argname : "ARG");
		if (len < 28)
			fprintf(f, "%-28s%s", left, o->help);
		else
			fprintf(f, "%s\n%-28s%s", left, "", o->help);
		if (o->type == OPT_T_CHOICE) {
			size_t j;

			fputs(" (", f);
			for (j = 0; o->choices[j]; j++)
				fprintf(f, "%s%s", j ? ", " : "", o->choices[j]);
			fputc(')', f);
		}
		fputc('\n', f);
	}
	if (cmd->details)
		fprintf(f, "\n%s\n", cmd->details);
	fputs("\nExit status: 0 success, 1 the operation failed, 2 usage or bad input.\n", f);
}

void opt_print_list(const struct opt *opts, FILE *f)
{
	size_t n = count_opts(opts), i, j;

	for (i = 0; i < n + NBUILTIN; i++) {
		const struct opt *o = i < n ? &opts[i] : &builtin[i - n];

		fprintf(f, "--%s\t", o->longopt);
		if (o->shortopt)
			fprintf(f, "-%c\t", o->shortopt);
		else
			fputs("-\t", f);
		fprintf(f, "%s\t", has_arg(o) ? (o->argname ? o->argname : "ARG") : "-");
		if (o->choices)
			for (j = 0; o->choices[j]; j++)
				fprintf(f, "%s%s", j ? "," : "", o->choices[j]);
		else
			fputc('-', f);
		fputc('\n', f);
	}
}

/* The option getopt rejected, for messages: "-x" or "--foo". */
static const char *bad_word(char **argv, int idx, int optopt_c, char *buf, size_t n)
{
	const char *w = idx > 0 ? argv[idx] : NULL;

	if (optopt_c > 0 && optopt_c < LONG_BASE) {
		snprintf(buf, n, "-%c", optopt_c);
		return buf;
	}
	if (!w)
		return "?";
	snprintf(buf, n, "%.*s", (int)(strcspn(w, "=") > 64 ? 64 : strcspn(w, "=")), w);
	return buf;
}

enum opt_result opt_parse(const struct opt_cmd *cmd, const struct opt *opts, int argc,
			  char **argv, struct opt_args *pos, struct err *e)
{
	size_t n = count_opts(opts), i;
	struct option *lo = calloc(n + NBUILTIN + 1, sizeof(*lo));
	unsigned char *seen = calloc(n + 1, 1);
	char shorts[3 * 64 + 2], word[80], *s = shorts;
	enum opt_result res = OPT_ERROR;
	int c, help = 0, list = 0, idx;

	if (!lo || !seen) {
		err_set(e, EXIT_FAIL, "out of memory");
		goto out;
	}
	*s++ = ':'; /* report a missing argument as ':' */
	for (i = 0; i < n + NBUILTIN; i++) {
		const struct opt *o = i < n ? &opts[i] : &builtin[i - n];

		lo[i].name = o->longopt;
		lo[i].has_arg = has_arg(o) ? required_argument : no_argument;
		lo[i].val = (int)(LONG_BASE + i);
		if (o->shortopt && s < shorts + sizeof(shorts) - 3) {
			*s++ = (char)o->shortopt;
			if (has_arg(o))
				*s++ = ':';
		}
	}
	*s = '\0';

	optind = 0; /* full re-initialisation: commands may be parsed twice */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, &idx)) != -1) {
		const struct opt *o = NULL;

		if (c == '?') {
			err_set(e, EXIT_USAGE, "unknown option '%s' (see 'sockctl %s --help')",
				bad_word(argv, optind - 1, optopt, word, sizeof(word)), cmd->name);
			goto out;
		}
		if (c == ':') {
			const struct opt *m = NULL;

			for (i = 0; i < n + NBUILTIN && !m; i++) {
				const struct opt *cand = i < n ? &opts[i] : &builtin[i - n];

				if ((optopt >= LONG_BASE && (size_t)(optopt - LONG_BASE) == i) ||
				    (optopt < LONG_BASE && optopt && cand->shortopt == optopt))
					m = cand;
			}
			err_set(e, EXIT_USAGE, "option '%s' needs a value (%s)",
				m ? opt_name(m, word, sizeof(word)) : "?",
				m && m->argname ? m->argname : "ARG");
			goto out;
		}
		if (c >= LONG_BASE) {
			i = (size_t)(c - LONG_BASE);
		} else {
			for (i = 0; i < n + NBUILTIN; i++) {
				const struct opt *cand = i < n ? &opts[i] : &builtin[i - n];

				if (cand->shortopt == c)
					break;
			}
		}
		if (i >= n) {
			if (i == n)
				help = 1;
			else
				list = 1;
			continue;
		}
		o = &opts[i];
		if (o->type == OPT_T_SET && set_conflict(opts, n, seen, o, e))
			goto out;
		seen[i] = 1;
		if (apply(o, optarg, e))
			goto out;
	}
	if (list) {
		opt_print_list(opts, stdout);
		res = OPT_DONE;
		goto out;
	}
	if (help) {
		opt_print_help(cmd, opts, stdout);
		res = OPT_DONE;
		goto out;
	}
	pos->argc = argc - optind;
	pos->argv = argv + optind;
	if (pos->argc < cmd->min_args) {
		err_set(e, EXIT_USAGE, "missing arguments (usage: sockctl %s [OPTIONS] %s)",
			cmd->name, cmd->args);
		goto out;
	}
	if (cmd->max_args >= 0 && pos->argc > cmd->max_args) {
		err_set(e, EXIT_USAGE, "unexpected argument '%.64s' (usage: sockctl %s [OPTIONS] %s)",
			pos->argv[cmd->max_args], cmd->name, cmd->args);
		goto out;
	}
	res = OPT_CONTINUE;
out:
	free(lo);
	free(seen);
	return res;
}

int opt_run(const struct opt_cmd *cmd, const struct opt *opts, int argc, char **argv,
	    struct opt_args *pos, int *status)
{
	struct err e = { 0 };

	switch (opt_parse(cmd, opts, argc, argv, pos, &e)) {
	case OPT_CONTINUE:
		return 0;
	case OPT_DONE:
		*status = EXIT_OK;
		return 1;
	case OPT_ERROR:
		break;
	}
	*status = err_report(cmd->name, &e);
	return 1;
}
