/* SPDX-License-Identifier: MIT */
/*
 * sockctl completion bash|zsh|fish: the completion script for a shell,
 * generated from the commands' own option tables.  Each command answers
 * --list-options (lib/opt: option, short option, argument, values, kind,
 * help) into a memory file; the script is written from those lines and the
 * commands' argument summaries, so a new option or command reaches all
 * three shells with no edit here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "opt.h"
#include "completion.h"

/* --list-options of @c, run in this process with stdout sent to memory. */
static char *list_options(const struct command *c, struct err *e)
{
	char name[64], lo[] = "--list-options";
	char *argv[] = { name, lo, NULL };
	int mfd, saved, status;
	off_t len;
	char *text;

	snprintf(name, sizeof(name), "%s", c->desc->name);
	if (fflush(stdout) || (mfd = memfd_create("sockctl-options", MFD_CLOEXEC)) < 0)
		return err_sys(e, EXIT_FAIL, errno, "completion: memfd"), NULL;
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(mfd, STDOUT_FILENO) < 0) {
		err_sys(e, EXIT_FAIL, errno, "completion: dup");
		if (saved >= 0)
			close(saved);
		close(mfd);
		return NULL;
	}
	status = c->fn(2, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	len = lseek(mfd, 0, SEEK_CUR);
	text = status || len < 0 ? NULL : calloc(1, (size_t)len + 1);
	if (!text || pread(mfd, text, (size_t)len, 0) != len) {
		close(mfd);
		free(text);
		return err_set(e, EXIT_FAIL, "completion: %s --list-options failed", c->desc->name),
		       NULL;
	}
	close(mfd);
	return text;
}

static const char *field(char **p)
{
	char *f = strsep(p, "\t");

	return !f || !strcmp(f, "-") ? NULL : f;
}

const struct copt *completion_find_opt(const struct ccmd *cc, const char *word)
{
	size_t i;

	for (i = 0; i < cc->nopts; i++)
		if ((cc->opts[i].lng && !strcmp(cc->opts[i].lng, word)) ||
		    (cc->opts[i].shrt && !strcmp(cc->opts[i].shrt, word)))
			return &cc->opts[i];
	return NULL;
}

/*
 * The positional arguments from the summary "HOST PORT  |  HOST:PORT  |
 * -U PATH  |  unix:PATH  |  --fd N": the first plain alternative gives the
 * default kinds; one led by a flag option gives the kinds when that option
 * is present; a unix: word lets a host be unix:PATH; the rest (HOST:PORT,
 * options with an argument) adds nothing.
 */
static void parse_args(struct ccmd *cc)
{
	char *alt, *rest = cc->args, *w;
	int have_default = 0;

	while ((alt = strsep(&rest, "|"))) {
		const char *kinds[MAX_POS] = { 0 };
		const struct copt *sel = NULL;
		size_t n = 0;
		int plain = 1;

		while ((w = strsep(&alt, " "))) {
			if (!*w)
				continue;
			if (!strncmp(w, "unix:", 5))
				cc->unix_prefix = 1;
			if (strchr(w, ':'))
				plain = 0;
			if (w[0] == '-' && n == 0 && !sel) {
				sel = completion_find_opt(cc, w);
				if (!sel || sel->arg)
					plain = 0;
				continue;
			}
			if (n < MAX_POS)
				kinds[n++] = opt_kind_name(opt_kind_of_word(w));
		}
		if (!plain)
			continue;
		if (sel && cc->nsel < MAX_SEL) {
			cc->sel[cc->nsel].opt = sel->lng;
			memcpy(cc->sel[cc->nsel++].kinds, kinds, sizeof(kinds));
		} else if (!sel && !have_default) {
			memcpy(cc->pos, kinds, sizeof(kinds));
			have_default = 1;
		}
	}
}

static int load(struct ccmd *cc, const struct command *c, struct err *e)
{
	char *p, *line;

	cc->desc = c->desc;
	if (!(cc->text = list_options(c, e)))
		return -1;
	for (p = cc->text; (line = strsep(&p, "\n"));) {
		struct copt *o;

		if (!*line)
			continue;
		if (cc->nopts == MAX_OPTS)
			return err_set(e, EXIT_FAIL, "completion: %s: too many options",
				       c->desc->name);
		o = &cc->opts[cc->nopts];
		o->lng = field(&line);
		o->shrt = field(&line);
		o->arg = field(&line);
		o->values = field(&line);
		o->kind = field(&line);
		o->help = field(&line);
		if (o->lng && strcmp(o->lng, "--list-options") != 0)
			cc->nopts++;
	}
	if (!(cc->args = strdup(c->desc->args)))
		return err_sys(e, EXIT_FAIL, ENOMEM, "completion");
	parse_args(cc);
	return 0;
}

/* @s inside single quotes for sh, zsh and fish (fish: \' and \\ only). */
void completion_put_sq(const char *s, int fish, FILE *f)
{
	fputc('\'', f);
	for (; s && *s; s++) {
		if (*s == '\'')
			fputs(fish ? "\\'" : "'\\''", f);
		else if (*s == '\\' && fish)
			fputs("\\\\", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* The comma-separated values of @o as a space-separated list. */
void completion_put_values(const struct copt *o, FILE *f)
{
	const char *s;

	for (s = o->values; *s; s++)
		fputc(*s == ',' ? ' ' : *s, f);
}

const char *completion_fn_name(const char *cmd, char *buf, size_t n)
{
	size_t i;

	snprintf(buf, n, "%s", cmd);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '-')
			buf[i] = '_';
	return buf;
}

/* ---------------------------------------------------------------- bash */


static const char bash_head[] =
	"_sockctl_services() {\n\t" SERVICES_CMD "\n}\n\n"
	"_sockctl_kind() { # KIND CUR: what a word of that kind can be\n"
	"\tcase $1 in\n"
	"\tpath) compgen -f -- \"$2\" ;;\n"
	"\tiface) compgen -W \"$(ls /sys/class/net 2>/dev/null)\" -- \"$2\" ;;\n"
	"\thost) compgen -A hostname -- \"$2\" ;;\n"
	"\tservice) compgen -W \"$(_sockctl_services)\" -- \"$2\" ;;\n"
	"\tesac\n"
	"}\n\n"
	"_sockctl() {\n"
	"\tlocal cur words cword\n"
	"\tif declare -F _get_comp_words_by_ref >/dev/null; then\n"
	"\t\t_get_comp_words_by_ref -n =: cur words cword\n"
	"\telse\n"
	"\t\tcur=${COMP_WORDS[COMP_CWORD]} words=(\"${COMP_WORDS[@]}\") cword=$COMP_CWORD\n"
	"\tfi\n"
	"\tCOMPREPLY=()\n"
	"\tlocal i cmd=\"\" at=0\n"
	"\tfor ((i = 1; i < cword; i++)); do\n"
	"\t\t[[ ${words[i]} == -* ]] && continue\n"
	"\t\tcmd=${words[i]} at=$i\n"
	"\t\tbreak\n"
	"\tdone\n"
	"\tif [[ -z $cmd ]]; then\n"
	"\t\tif [[ $cur == -* ]]; then\n"
	"\t\t\tmapfile -t COMPREPLY < <(compgen -W '--help --version' -- \"$cur\")\n"
	"\t\telse\n"
	"\t\t\tmapfile -t COMPREPLY < <(compgen -W \"$_sockctl_commands help completion\" "
	"-- \"$cur\")\n"
	"\t\tfi\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tcase $cmd in\n"
	"\thelp) ((cword == at + 1)) && mapfile -t COMPREPLY < <(compgen -W "
	"\"$_sockctl_commands\" -- \"$cur\"); return ;;\n"
	"\tcompletion) ((cword == at + 1)) && mapfile -t COMPREPLY < <(compgen -W "
	"'bash zsh fish' -- \"$cur\"); return ;;\n"
	"\tesac\n"
	"\tlocal f=_sockctl_${cmd//-/_}\n"
	"\tdeclare -F \"$f\" >/dev/null || return\n"
	"\tlocal opts argopts pos unixp sel\n"
	"\t\"$f\" data\n"
	"\t# where the cursor is: an option's argument, or which positional slot\n"
	"\tlocal n=0 w want=\"\"\n"
	"\tfor ((i = at + 1; i < cword; i++)); do\n"
	"\t\tw=${words[i]}\n"
	"\t\tif [[ -n $want ]]; then want=\"\"; continue; fi\n"
	"\t\t[[ $w == -- ]] && return # nothing after --\n"
	"\t\tif [[ \" $argopts \" == *\" $w \"* ]]; then want=$w\n"
	"\t\telif [[ $w == -* ]]; then\n"
	"\t\t\tsel=$(\"$f\" sel \"${w%%=*}\")\n"
	"\t\t\t[[ -n $sel ]] && pos=$sel\n"
	"\t\telse n=$((n + 1)); fi\n"
	"\tdone\n"
	"\tlocal vals\n"
	"\tif [[ -n $want ]]; then\n"
	"\t\tvals=$(\"$f\" arg \"$want\")\n"
	"\telif [[ $cur == --*=* ]]; then\n"
	"\t\tvals=$(\"$f\" arg \"${cur%%=*}\") cur=${cur#*=}\n"
	"\telif [[ $cur == -* ]]; then\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")\n"
	"\t\treturn\n"
	"\telse\n"
	"\t\tlocal -a p\n\t\tread -ra p <<<\"$pos\"\n"
	"\t\tvals=\"@${p[n]:--}\"\n"
	"\t\tif [[ $vals == @host && -n $unixp && $cur == unix:* ]]; then\n"
	"\t\t\tcompopt -o filenames 2>/dev/null\n"
	"\t\t\tmapfile -t COMPREPLY < <(compgen -f -- \"${cur#unix:}\" | sed 's/^/unix:/')\n"
	"\t\t\tdeclare -F __ltrim_colon_completions >/dev/null && "
	"__ltrim_colon_completions \"$cur\"\n"
	"\t\t\treturn\n"
	"\t\tfi\n"
	"\tfi\n"
	"\tcase $vals in\n"
	"\t@path) compopt -o filenames 2>/dev/null\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -f -- \"$cur\") ;;\n"
	"\t@*) mapfile -t COMPREPLY < <(_sockctl_kind \"${vals#@}\" \"$cur\") ;;\n"
	"\t?*) mapfile -t COMPREPLY < <(compgen -W \"$vals\" -- \"$cur\") ;;\n"
	"\tesac\n"
	"}\n\n";

static void bash_cmd(const struct ccmd *cc, FILE *f)
{
	char fn[64];
	size_t i, j;

	fprintf(f, "_sockctl_%s() { # data | arg OPTION | sel OPTION\n\tcase $1 in\n\tdata)\n",
		completion_fn_name(cc->desc->name, fn, sizeof(fn)));
	fputs("\t\topts='", f);
	for (i = 0; i < cc->nopts; i++)
		fprintf(f, "%s%s", i ? " " : "", cc->opts[i].lng);
	fputs("'\n\t\targopts='", f);
	for (i = j = 0; i < cc->nopts; i++) {
		if (!cc->opts[i].arg)
			continue;
		fprintf(f, "%s%s", j++ ? " " : "", cc->opts[i].lng);
		if (cc->opts[i].shrt)
			fprintf(f, " %s", cc->opts[i].shrt);
	}
	fputs("'\n\t\tpos='", f);
	for (i = 0; i < MAX_POS && cc->pos[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", cc->pos[i]);
	fprintf(f, "' unixp=%s ;;\n\targ)\n\t\tcase $2 in\n", cc->unix_prefix ? "1" : "''");
	for (i = 0; i < cc->nopts; i++) {
		const struct copt *o = &cc->opts[i];

		if (!o->arg || (!o->values && !o->kind))
			continue;
		fprintf(f, "\t\t%s%s%s) echo ", o->shrt ? o->shrt : "", o->shrt ? " | " : "",
			o->lng);
		if (o->values) {
			fputc('\'', f);
			completion_put_values(o, f);
			fputs("' ;;\n", f);
		} else {
			fprintf(f, "@%s ;;\n", o->kind);
		}
	}
	fputs("\t\tesac ;;\n\tsel)\n\t\tcase $2 in\n", f);
	for (i = 0; i < cc->nsel; i++) {
		const struct copt *o = completion_find_opt(cc, cc->sel[i].opt);

		fprintf(f, "\t\t%s%s%s) echo '", o->shrt ? o->shrt : "", o->shrt ? " | " : "",
			o->lng);
		for (j = 0; j < MAX_POS && cc->sel[i].kinds[j]; j++)
			fprintf(f, "%s%s", j ? " " : "", cc->sel[i].kinds[j]);
		fputs("' ;;\n", f);
	}
	fputs("\t\tesac ;;\n\tesac\n}\n\n", f);
}

static void gen_bash(const struct ccmd *cc, size_t n, FILE *f)
{
	size_t i;

	fputs("# bash completion for sockctl, generated by 'sockctl completion bash' from\n"
	      "# its option tables: do not edit (make completions writes it again).\n", f);
	fputs("_sockctl_commands='", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", cc[i].desc->name);
	fputs("'\n\n", f);
	fputs(bash_head, f);
	for (i = 0; i < n; i++)
		bash_cmd(&cc[i], f);
	fputs("complete -F _sockctl sockctl\n", f);
}

int cmd_completion(int argc, char **argv, const struct command *cmds, size_t n)
{
	static const char *const shells[] = { "bash", "zsh", "fish" };
	struct ccmd *cc;
	struct err e;
	size_t i, sh;
	int rc = EXIT_OK;

	for (sh = 0; sh < 3 && argc == 2; sh++)
		if (!strcmp(argv[1], shells[sh]))
			break;
	if (argc != 2 || sh == 3) {
		err_set(&e, EXIT_USAGE, "expected one SHELL: bash, zsh or fish");
		return err_report("completion", &e);
	}
	if (!(cc = calloc(n, sizeof(*cc)))) {
		err_sys(&e, EXIT_FAIL, ENOMEM, "completion");
		return err_report(NULL, &e);
	}
	for (i = 0; i < n && rc == EXIT_OK; i++)
		if (load(&cc[i], &cmds[i], &e))
			rc = err_report(NULL, &e);
	if (rc == EXIT_OK) {
		if (sh == 0)
			gen_bash(cc, n, stdout);
		else if (sh == 1)
			completion_gen_zsh(cc, n, stdout);
		else
			completion_gen_fish(cc, n, stdout);
	}
	for (i = 0; i < n; i++) {
		free(cc[i].text);
		free(cc[i].args);
	}
	free(cc);
	return rc;
}
