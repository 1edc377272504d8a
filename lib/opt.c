/* SPDX-License-Identifier: MIT */
#include "opt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "parse.h"

#define LONG_BASE 256 /* getopt_long values for long-only options */
#define NEG_BASE (1 << 20) /* getopt_long values for generated --no-NAME options */

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

size_t opt_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[34][34];

	if (la > 32 || lb > 32)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

static int has_arg(const struct opt *o)
{
	return o->type != OPT_T_FLAG && o->type != OPT_T_SET && o->type != OPT_T_BOOL;
}

/* Entries that are no option of this table: headings and absent group members. */
static int skipped(const struct opt *o)
{
	return o->type == OPT_T_GROUP || (o->flags & OPT_ABSENT);
}

/* Decimal, or hexadecimal after 0x, in [o->min, o->max]. */
static int int_arg(const struct opt *o, const char *arg, unsigned long long *out,
		   struct err *e)
{
	unsigned long long v = 0;
	char name[64];
	const char *p;

	opt_name(o, name, sizeof(name));
	if (arg[0] != '0' || (arg[1] != 'x' && arg[1] != 'X'))
		return parse_uint(arg, (unsigned long long)o->min,
				  (unsigned long long)o->max, out, name, e);
	for (p = arg + 2; *p; p++) {
		int d = *p >= '0' && *p <= '9'	 ? *p - '0'
			: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
			: *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
						 : -1;

		if (d < 0 || p - arg > 18)
			return err_set(e, EXIT_USAGE, "%s: '%.32s' is not a number", name, arg);
		v = v * 16 + (unsigned)d;
	}
	if (p == arg + 2)
		return err_set(e, EXIT_USAGE, "%s: '%.32s' is not a number", name, arg);
	if (v < (unsigned long long)o->min || v > (unsigned long long)o->max)
		return err_set(e, EXIT_USAGE, "%s: '%.32s' is out of range (%lld-%lld, or 0x%llx-0x%llx)",
			       name, arg, o->min, o->max, (unsigned long long)o->min,
			       (unsigned long long)o->max);
	*out = v;
	return 0;
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
	case OPT_T_BOOL:
		*(int *)o->value = 1;
		return 0;
	case OPT_T_INT:
	case OPT_T_I32:
		/* signed ranges are not needed by any command yet */
		if (o->min < 0)
			return err_set(e, EXIT_USAGE, "%s: negative ranges unsupported",
				       opt_name(o, name, sizeof(name)));
		if (int_arg(o, arg, &u, e))
			return -1;
		if (o->type == OPT_T_I32)
			*(int *)o->value = (int)u;
		else
			*(long long *)o->value = (long long)u;
		return 0;
	case OPT_T_DURATION:
		if (parse_duration(arg, (int64_t *)o->value, e))
			return value_error(o, e);
		return 0;
	case OPT_T_SIZE:
		if (parse_size(arg, o->max ? (unsigned long long)o->max : ~0ULL, &u, e))
			return value_error(o, e);
		if (o->flags & OPT_INTVAL)
			*(int *)o->value = (int)u; /* .max keeps it in range */
		else
			*(unsigned long long *)o->value = u;
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
	case OPT_T_GROUP:
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

/* @o's default as a user would type it: "1024", "250ms", "64k". */
static const char *default_text(const struct opt *o, char *buf, size_t n)
{
	unsigned long long v = (unsigned long long)o->def;

	if (o->type == OPT_T_DURATION)
		return parse_format_duration(o->def, buf, n);
	if (o->type == OPT_T_SIZE && v && !(v % (1024ULL * 1024)))
		snprintf(buf, n, "%lluM", v / (1024ULL * 1024));
	else if (o->type == OPT_T_SIZE && v && !(v % 1024))
		snprintf(buf, n, "%lluk", v / 1024);
	else
		snprintf(buf, n, "%lld", o->def);
	return buf;
}

static void print_option(const struct opt *o, FILE *f)
{
	char left[96];
	int len;

	if (o->shortopt)
		len = snprintf(left, sizeof(left), "  -%c, --%s", o->shortopt, o->longopt);
	else
		len = snprintf(left, sizeof(left), "      --%s", o->longopt);
	if (o->type == OPT_T_BOOL && (o->flags & OPT_NEGATABLE) && len > 0 &&
	    (size_t)len < sizeof(left))
		len += snprintf(left + len, sizeof(left) - (size_t)len, ", --no-%s", o->longopt);
	if (has_arg(o) && len > 0 && (size_t)len < sizeof(left))
		len += snprintf(left + len, sizeof(left) - (size_t)len, " %s",
				o->argname ? o->argname : "ARG");
	if (len < 28)
		fprintf(f, "%-28s%s", left, o->help);
	else
		fprintf(f, "%s\n%-28s%s", left, "", o->help);
	if (o->flags & OPT_DEFAULT)
		fprintf(f, " (default %s)", default_text(o, left, sizeof(left)));
	if (o->type == OPT_T_CHOICE) {
		size_t j;

		fputs(" (", f);
		for (j = 0; o->choices[j]; j++)
			fprintf(f, "%s%s", j ? ", " : "", o->choices[j]);
		fputc(')', f);
	}
	fputc('\n', f);
}

void opt_print_help(const struct opt_cmd *cmd, const struct opt *opts, FILE *f)
{
	size_t n = count_opts(opts), i;

	print_usage_line(cmd, f);
	fprintf(f, "%s: %s\n", cmd->name, cmd->summary);
	if (!n || opts[0].type != OPT_T_GROUP)
		fputs("\nOptions:\n", f);
	for (i = 0; i < n + NBUILTIN; i++) {
		const struct opt *o = i < n ? &opts[i] : &builtin[i - n];

		if (o->type == OPT_T_GROUP)
			fprintf(f, "\n%s:\n", o->help);
		if (skipped(o) || (o->flags & OPT_HIDDEN))
			continue;
		print_option(o, f);
	}
	if (cmd->details)
		fprintf(f, "\n%s\n", cmd->details);
	/* a command whose statuses differ (raw-icmp: ping's) says so in .details */
	if (!cmd->details || !strstr(cmd->details, "Exit status:"))
		fputs("\nExit status: 0 success, 1 the operation failed, 2 usage or bad input.\n",
		      f);
}

enum opt_kind opt_kind_of_word(const char *word)
{
	static const struct {
		const char *name;
		enum opt_kind kind;
	} names[] = {
		{ "FILE", OPT_K_PATH },	    { "PATH", OPT_K_PATH },    { "DIR", OPT_K_PATH },
		{ "IFACE", OPT_K_IFACE },   { "HOST", OPT_K_HOST },    { "ADDR", OPT_K_HOST },
		{ "V6ADDR", OPT_K_HOST },   { "ADDRESS", OPT_K_HOST }, { "PORT", OPT_K_SERVICE },
		{ "SERVICE", OPT_K_SERVICE },
	};
	size_t i, len;

	if (!word)
		return OPT_K_NONE;
	word += strspn(word, "[");
	len = strcspn(word, "]./[");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && !strncmp(names[i].name, word, len))
			return names[i].kind;
	/* CERTFILE, KEYFILE, PIDFILE... */
	if (len > 4 && !strncmp(word + len - 4, "FILE", 4))
		return OPT_K_PATH;
	return OPT_K_NONE;
}

enum opt_kind opt_kind(const struct opt *o)
{
	if (!has_arg(o))
		return OPT_K_NONE;
	if (o->kind != OPT_K_AUTO)
		return o->kind;
	return opt_kind_of_word(o->argname);
}

const char *opt_kind_name(enum opt_kind k)
{
	switch (k) {
	case OPT_K_PATH:
		return "path";
	case OPT_K_IFACE:
		return "iface";
	case OPT_K_HOST:
		return "host";
	case OPT_K_SERVICE:
		return "service";
	case OPT_K_AUTO:
	case OPT_K_NONE:
		break;
	}
	return "-";
}

/* @s on one list line: tabs and newlines would split it. */
static void print_field(const char *s, FILE *f)
{
	if (!s || !*s) {
		fputc('-', f);
		return;
	}
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' ? ' ' : *s, f);
}

void opt_print_list(const struct opt *opts, FILE *f)
{
	size_t n = count_opts(opts), i, j;

	for (i = 0; i < n + NBUILTIN; i++) {
		const struct opt *o = i < n ? &opts[i] : &builtin[i - n];

		if (skipped(o))
			continue;
		if (o->type == OPT_T_BOOL && (o->flags & OPT_NEGATABLE))
			fprintf(f, "--no-%s\t-\t-\t-\t-\tnot %s\n", o->longopt, o->help);
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
		fprintf(f, "\t%s\t", opt_kind_name(opt_kind(o)));
		print_field(o->help, f);
		fputc('\n', f);
	}
}

/* "--X conflicts with --no-X": both spellings of one boolean. */
static int bool_conflict(const struct opt *o, unsigned char was, unsigned char now,
			 struct err *e)
{
	if (!was || was == now)
		return 0;
	return err_set(e, EXIT_USAGE, "--%s conflicts with --no-%s", o->longopt, o->longopt);
}

/* How far @typed (@len bytes) is from @name: 0 when it abbreviates it. */
static size_t name_distance(const char *typed, size_t len, const char *name)
{
	return !strncmp(name, typed, len) ? 0 : opt_distance(typed, name);
}

/*
 * The long option a user most likely meant by @typed (no "--", @len bytes):
 * one it abbreviates, else one at most two edits away, a generated --no-X
 * included; its name goes to @out.  0 if there is one, -1 if none.
 */
static int closest(const struct opt *opts, size_t n, const char *typed, size_t len, char *out,
		   size_t outlen)
{
	size_t bestd = 99, i, k;
	char name[40], neg[48];

	*out = '\0';
	if (!len || len >= sizeof(name))
		return -1;
	memcpy(name, typed, len);
	name[len] = '\0';
	for (i = 0; i < n + NBUILTIN; i++) {
		const struct opt *o = i < n ? &opts[i] : &builtin[i - n];
		int negatable = o->type == OPT_T_BOOL && (o->flags & OPT_NEGATABLE);

		if ((o->flags & OPT_HIDDEN) || skipped(o))
			continue;
		snprintf(neg, sizeof(neg), "no-%s", o->longopt);
		for (k = 0; k < (negatable ? 2U : 1U); k++) {
			const char *cand = k ? neg : o->longopt;
			size_t d = name_distance(name, len, cand);

			/* an abbreviation: its full name, the shortest of several */
			if (d < bestd || (d == bestd && *out && !d && strlen(cand) < strlen(out))) {
				bestd = d;
				snprintf(out, outlen, "%s", cand);
			}
		}
	}
	return bestd <= 2 && 3 * bestd <= len ? 0 : -1;
}

/* "unknown option '--timout'; did you mean '--timeout'?" for @word ("--x[=v]"). */
static int unknown_long(const struct opt_cmd *cmd, const struct opt *opts, size_t n,
			const char *word, struct err *e)
{
	size_t len = strcspn(word + 2, "=");
	char buf[80], best[48];

	parse_quote_n(word + 2, len, buf, sizeof(buf));
	if (!closest(opts, n, word + 2, len, best, sizeof(best)))
		return err_set(e, EXIT_USAGE, "unknown option '--%s'; did you mean '--%s'?", buf,
			       best);
	return err_set(e, EXIT_USAGE, "unknown option '--%s' (see 'sockctl %s --help')", buf,
		       cmd->name);
}

/*
 * The word of the long option getopt_long just returned: argv[optind - 1],
 * or the one before when its value was the separate next word.
 */
static const char *long_word(char **argv, const struct opt *o)
{
	if (has_arg(o) && optind >= 2 && optarg == argv[optind - 1])
		return argv[optind - 2];
	return optind >= 1 ? argv[optind - 1] : NULL;
}

enum opt_result opt_parse(const struct opt_cmd *cmd, const struct opt *opts, int argc,
			  char **argv, struct opt_args *pos, struct err *e)
{
	size_t n = count_opts(opts), i, nlo = 0;
	/* each option: itself and maybe its --no- twin */
	struct option *lo = calloc(2 * (n + NBUILTIN) + 1, sizeof(*lo));
	unsigned char *seen = calloc(n + 1, 1);
	char **neg = calloc(n + 1, sizeof(*neg));
	/* ':' first, then up to two characters per short option, then the NUL */
	char *shorts = malloc(2 * (n + NBUILTIN) + 2), word[80], *s = shorts;
	enum opt_result res = OPT_ERROR;
	int c, help = 0, list = 0, idx;

	if (!lo || !seen || !neg || !shorts) {
		err_set(e, EXIT_FAIL, "out of memory");
		goto out;
	}
	*s++ = ':'; /* report a missing argument as ':' */
	for (i = 0; i < n + NBUILTIN; i++) {
		const struct opt *o = i < n ? &opts[i] : &builtin[i - n];

		if (skipped(o))
			continue;
		lo[nlo].name = o->longopt;
		lo[nlo].has_arg = has_arg(o) ? required_argument : no_argument;
		lo[nlo++].val = (int)(LONG_BASE + i);
		if (o->type == OPT_T_BOOL && (o->flags & OPT_NEGATABLE)) {
			size_t len = strlen(o->longopt) + 4;

			neg[i] = malloc(len);
			if (!neg[i]) {
				err_set(e, EXIT_FAIL, "out of memory");
				goto out;
			}
			snprintf(neg[i], len, "no-%s", o->longopt);
			lo[nlo].name = neg[i];
			lo[nlo].has_arg = no_argument;
			lo[nlo++].val = (int)(NEG_BASE + i);
		}
		if (o->shortopt) {
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
			const char *w = optind >= 1 ? argv[optind - 1] : NULL;

			/* an unknown or ambiguous long option (getopt sets no optopt) */
			if (!optopt && w && !strncmp(w, "--", 2)) {
				unknown_long(cmd, opts, n, w, e);
				goto out;
			}
			if (optopt > 0 && optopt < LONG_BASE)
				snprintf(word, sizeof(word), "-%c", optopt);
			else
				parse_quote_n(w ? w : "?", 64, word, sizeof(word));
			err_set(e, EXIT_USAGE, "unknown option '%s' (see 'sockctl %s --help')",
				word, cmd->name);
			goto out;
		}
		if (c == ':') {
			const struct opt *m = NULL;

			for (i = 0; i < n + NBUILTIN && !m; i++) {
				const struct opt *cand = i < n ? &opts[i] : &builtin[i - n];

				if ((optopt >= LONG_BASE && (size_t)(optopt - LONG_BASE) == i) ||
				    (optopt < LONG_BASE && optopt && !skipped(cand) &&
				     cand->shortopt == optopt))
					m = cand;
			}
			err_set(e, EXIT_USAGE, "option '%s' needs a value (%s)",
				m ? opt_name(m, word, sizeof(word)) : "?",
				m && m->argname ? m->argname : "ARG");
			goto out;
		}
		if (c >= NEG_BASE) {
			const char *w = optind >= 1 ? argv[optind - 1] : NULL;

			i = (size_t)(c - NEG_BASE);
			/* no abbreviations of --no-X either */
			if (w && (strncmp(w, "--", 2) != 0 || strcmp(w + 2, neg[i]) != 0)) {
				unknown_long(cmd, opts, n, w, e);
				goto out;
			}
			if (bool_conflict(&opts[i], seen[i], 2, e))
				goto out;
			seen[i] = 2;
			*(int *)opts[i].value = 0;
			continue;
		}
		if (c >= LONG_BASE) {
			const char *w;

			i = (size_t)(c - LONG_BASE);
			o = i < n ? &opts[i] : &builtin[i - n];
			w = long_word(argv, o);
			/* no abbreviations: a script must not break when a
			 * later option makes its prefix ambiguous */
			if (w && !strncmp(w, "--", 2) &&
			    (strncmp(w + 2, o->longopt, strlen(o->longopt)) != 0 ||
			     (w[2 + strlen(o->longopt)] != '\0' &&
			      w[2 + strlen(o->longopt)] != '='))) {
				unknown_long(cmd, opts, n, w, e);
				goto out;
			}
		} else {
			for (i = 0; i < n + NBUILTIN; i++) {
				const struct opt *cand = i < n ? &opts[i] : &builtin[i - n];

				if (cand->shortopt == c && !skipped(cand))
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
		if (o->type == OPT_T_BOOL && bool_conflict(o, seen[i], 1, e))
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
	for (i = 0; neg && i < n; i++)
		free(neg[i]);
	free(neg);
	free(shorts);
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
