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

static const struct copt *find_opt(const struct ccmd *cc, const char *word)
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
				sel = find_opt(cc, w);
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
static void put_sq(const char *s, int fish, FILE *f)
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
static void put_values(const struct copt *o, FILE *f)
{
	const char *s;

	for (s = o->values; *s; s++)
		fputc(*s == ',' ? ' ' : *s, f);
}

static const char *fn_name(const char *cmd, char *buf, size_t n)
{
	size_t i;

	snprintf(buf, n, "%s", cmd);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '-')
			buf[i] = '_';
	return buf;
}

/* ---------------------------------------------------------------- bash */

/* The service names and aliases of /etc/services, for the three shells. */
#define SERVICES_CMD "awk '{ sub(/#.*/, \"\"); for (i = 1; i <= NF; i++) if (i != 2) print $i }' /etc/services 2>/dev/null | sort -u"

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
	"\tlocal cur prev words cword\n"
	"\tif declare -F _get_comp_words_by_ref >/dev/null; then\n"
	"\t\t_get_comp_words_by_ref -n =: cur prev words cword\n"
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
	"\tlocal kind vals\n"
	"\tif [[ -n $want ]]; then\n"
	"\t\tvals=$(\"$f\" arg \"$want\")\n"
	"\telif [[ $cur == --*=* ]]; then\n"
	"\t\tvals=$(\"$f\" arg \"${cur%%=*}\") cur=${cur#*=}\n"
	"\telif [[ $cur == -* ]]; then\n"
	"\t\tmapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")\n"
	"\t\treturn\n"
	"\telse\n"
	"\t\tlocal -a p=($pos)\n"
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
		fn_name(cc->desc->name, fn, sizeof(fn)));
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
			put_values(o, f);
			fputs("' ;;\n", f);
		} else {
			fprintf(f, "@%s ;;\n", o->kind);
		}
	}
	fputs("\t\tesac ;;\n\tsel)\n\t\tcase $2 in\n", f);
	for (i = 0; i < cc->nsel; i++) {
		const struct copt *o = find_opt(cc, cc->sel[i].opt);

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

/* ---------------------------------------------------------------- zsh */

static const char zsh_head[] =
	"_sockctl_kind() { # [COMPADD-OPTIONS] KIND: offer the words of that kind\n"
	"\tlocal kind=$argv[-1]\n"
	"\targv[-1]=()\n"
	"\tcase $kind in\n"
	"\tpath) _files \"$@\" ;;\n"
	"\tiface)\n"
	"\t\tlocal -a ifs=(/sys/class/net/*(N:t))\n"
	"\t\tcompadd \"$@\" -a ifs ;;\n"
	"\thost)\n"
	"\t\tif [[ $_sockctl_unixp == 1 && $PREFIX == unix:* ]]; then\n"
	"\t\t\tcompset -P 'unix:'\n"
	"\t\t\t_files \"$@\"\n"
	"\t\telse\n"
	"\t\t\t_hosts \"$@\"\n"
	"\t\tfi ;;\n"
	"\tservice)\n"
	"\t\tlocal -a s\n"
	"\t\ts=(${(f)\"$(" SERVICES_CMD ")\"})\n"
	"\t\tcompadd \"$@\" -a s ;;\n"
	"\tesac\n"
	"}\n\n"
	"_sockctl_pos() { # the positional word under the cursor\n"
	"\tlocal kinds=(${=_sockctl_posk}) s\n"
	"\tfor s in ${(k)_sockctl_sel}; do\n"
	"\t\t(( ${+opt_args[$s]} )) && kinds=(${=_sockctl_sel[$s]})\n"
	"\tdone\n"
	"\tlocal n=0 i\n"
	"\tfor ((i = 2; i < CURRENT; i++)); do\n"
	"\t\t[[ $words[i] == -* ]] && continue\n"
	"\t\t(( ${_sockctl_argopts[(Ie)${words[i-1]}]} )) && continue\n"
	"\t\t(( n++ ))\n"
	"\tdone\n"
	"\t(( n < $#kinds )) || return 1\n"
	"\t_sockctl_kind $kinds[n+1]\n"
	"}\n\n";

/* @s inside an _arguments description [...]: ] and : and \\ escaped. */
static void put_zsh_desc(const char *s, FILE *f)
{
	for (; s && *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else if (*s == ']' || *s == '[' || *s == ':' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
}

static void zsh_opt(const struct copt *o, FILE *f)
{
	fputs("\t\t", f);
	/* "--type=": the argument may follow in the same word or the next */
	if (o->shrt)
		fprintf(f, "'(%s %s)'{%s,%s%s}'", o->shrt, o->lng, o->shrt, o->lng,
			o->arg ? "=" : "");
	else
		fprintf(f, "'%s%s", o->lng, o->arg ? "=" : "");
	fputc('[', f);
	put_zsh_desc(o->help, f);
	fputc(']', f);
	if (o->arg) {
		fputc(':', f);
		put_zsh_desc(o->arg, f);
		fputc(':', f);
		if (o->values) {
			fputc('(', f);
			put_values(o, f);
			fputc(')', f);
		} else if (o->kind) {
			fprintf(f, "_sockctl_kind %s", o->kind);
		} else {
			fputs(" ", f);
		}
	}
	fputs("' \\\n", f);
}

static void zsh_cmd(const struct ccmd *cc, FILE *f)
{
	char fn[64];
	size_t i, j;

	fprintf(f, "_sockctl_cmd_%s() {\n", fn_name(cc->desc->name, fn, sizeof(fn)));
	fputs("\tlocal _sockctl_posk='", f);
	for (i = 0; i < MAX_POS && cc->pos[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", cc->pos[i]);
	fprintf(f, "' _sockctl_unixp=%d\n\tlocal -A _sockctl_sel=(", cc->unix_prefix);
	for (i = 0; i < cc->nsel; i++) {
		const struct copt *o = find_opt(cc, cc->sel[i].opt);
		const char *names[2] = { o->shrt, o->lng };
		size_t k;

		for (k = 0; k < 2; k++) {
			if (!names[k])
				continue;
			fprintf(f, " %s '", names[k]);
			for (j = 0; j < MAX_POS && cc->sel[i].kinds[j]; j++)
				fprintf(f, "%s%s", j ? " " : "", cc->sel[i].kinds[j]);
			fputc('\'', f);
		}
	}
	fputs(" )\n\tlocal -a _sockctl_argopts=(", f);
	for (i = 0; i < cc->nopts; i++)
		if (cc->opts[i].arg)
			fprintf(f, " %s%s%s", cc->opts[i].lng, cc->opts[i].shrt ? " " : "",
				cc->opts[i].shrt ? cc->opts[i].shrt : "");
	fputs(" )\n\t_arguments -s -S \\\n", f);
	for (i = 0; i < cc->nopts; i++)
		zsh_opt(&cc->opts[i], f);
	fputs("\t\t'*:argument:_sockctl_pos'\n}\n\n", f);
}

static void gen_zsh(const struct ccmd *cc, size_t n, FILE *f)
{
	size_t i;

	fputs("#compdef sockctl\n"
	      "# zsh completion for sockctl, generated by 'sockctl completion zsh' from\n"
	      "# its option tables: do not edit (make completions writes it again).\n\n",
	      f);
	fputs(zsh_head, f);
	for (i = 0; i < n; i++)
		zsh_cmd(&cc[i], f);
	fputs("_sockctl() {\n"
	      "\t# nothing after --\n"
	      "\tlocal dd=${words[(i)--]}\n"
	      "\t(( dd > 1 && dd < CURRENT )) && return 1\n"
	      "\tif (( CURRENT == 2 )); then\n"
	      "\t\tif [[ $PREFIX == -* ]]; then\n"
	      "\t\t\t_arguments '(- *)--help[show the commands]' "
	      "'(- *)--version[show the version]'\n"
	      "\t\t\treturn\n"
	      "\t\tfi\n"
	      "\t\tlocal -a cmds=(\n",
	      f);
	for (i = 0; i < n; i++) {
		fprintf(f, "\t\t\t'%s:", cc[i].desc->name);
		put_zsh_desc(cc[i].desc->summary, f);
		fputs("'\n", f);
	}
	fputs("\t\t\t'help:show the help of a command'\n"
	      "\t\t\t'completion:print the completion script for a shell'\n"
	      "\t\t)\n"
	      "\t\t_describe -t commands 'sockctl command' cmds\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\tlocal cmd=$words[2]\n"
	      "\tshift words\n"
	      "\t(( CURRENT-- ))\n"
	      "\tcase $cmd in\n"
	      "\thelp)\n"
	      "\t\t(( CURRENT == 2 )) && compadd -- ",
	      f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s ", cc[i].desc->name);
	fputs(";;\n"
	      "\tcompletion) (( CURRENT == 2 )) && compadd -- bash zsh fish ;;\n"
	      "\t*) (( $+functions[_sockctl_cmd_${cmd//-/_}] )) && _sockctl_cmd_${cmd//-/_} ;;\n"
	      "\tesac\n"
	      "}\n\n"
	      "# autoloaded from $fpath by compinit: complete now; sourced: register\n"
	      "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
	      "\t_sockctl \"$@\"\n"
	      "else\n"
	      "\tcompdef _sockctl sockctl\n"
	      "fi\n",
	      f);
}

/* ---------------------------------------------------------------- fish */

static const char fish_head[] =
	"function __sockctl_cmd -d 'the command typed, if any'\n"
	"\tfor t in (commandline -opc)[2..-1]\n"
	"\t\tstring match -q -- '-*' $t; or begin; echo $t; return; end\n"
	"\tend\n"
	"end\n\n"
	"function __sockctl_nocmd\n"
	"\ttest -z \"$(__sockctl_cmd)\"\n"
	"end\n\n"
	"function __sockctl_is -a cmd -d 'is the command CMD, with no -- before the cursor?'\n"
	"\ttest \"$(__sockctl_cmd)\" = \"$cmd\"; or return 1\n"
	"\tnot contains -- -- (commandline -opc)\n"
	"end\n\n"
	"function __sockctl_services\n"
	"\t" SERVICES_CMD "\n"
	"end\n\n"
	"function __sockctl_unix_paths\n"
	"\tset -l cur (string replace -r '^unix:' '' -- (commandline -ct))\n"
	"\tfor p in (__fish_complete_path $cur)\n"
	"\t\techo unix:$p\n"
	"\tend\n"
	"end\n\n"
	"# 0 if the word under the cursor is a positional argument of kind WANT;\n"
	"# 2 if it is a host written unix:PATH\n"
	"function __sockctl_pos -a want\n"
	"\tset -l cmd (__sockctl_cmd)\n"
	"\tand __sockctl_is $cmd\n"
	"\tor return 1\n"
	"\tset -l pos\n"
	"\tset -l argopts\n"
	"\tset -l sel\n"
	"\tset -l unixp 0\n"
	"\t__sockctl_data $cmd; or return 1\n"
	"\tset -l n 0\n"
	"\tset -l skip 0\n"
	"\tset -l seen 0\n"
	"\tfor t in (commandline -opc)[2..-1]\n"
	"\t\tif test $seen = 0\n"
	"\t\t\tstring match -q -- '-*' $t; or set seen 1\n"
	"\t\telse if test $skip = 1\n"
	"\t\t\tset skip 0\n"
	"\t\telse if contains -- $t $argopts\n"
	"\t\t\tset skip 1\n"
	"\t\telse if string match -q -- '-*' $t\n"
	"\t\t\tset -l i (contains -i -- $t $sel)\n"
	"\t\t\tand set pos (string split ' ' -- $sel[(math $i + 1)])\n"
	"\t\telse\n"
	"\t\t\tset n (math $n + 1)\n"
	"\t\tend\n"
	"\tend\n"
	"\ttest $skip = 0; or return 1\n"
	"\tset -l k $pos[(math $n + 1)]\n"
	"\ttest \"$k\" = $want; or return 1\n"
	"\tif test $want = host; and test $unixp = 1\n"
	"\t\tstring match -q -- 'unix:*' (commandline -ct); and return 2\n"
	"\tend\n"
	"\treturn 0\n"
	"end\n\n";

static void fish_kind(const char *kind, FILE *f)
{
	if (!strcmp(kind, "path"))
		fputs(" -r -F", f);
	else if (!strcmp(kind, "iface"))
		fputs(" -x -a '(__fish_print_interfaces)'", f);
	else if (!strcmp(kind, "host"))
		fputs(" -x -a '(__fish_print_hostnames)'", f);
	else if (!strcmp(kind, "service"))
		fputs(" -x -a '(__sockctl_services)'", f);
	else
		fputs(" -x", f);
}

/* The case of __sockctl_data that sets what __sockctl_pos needs for @cc. */
static void fish_data(const struct ccmd *cc, FILE *f)
{
	size_t i, j;

	fprintf(f, "\tcase %s\n\t\tset pos", cc->desc->name);
	for (i = 0; i < MAX_POS && cc->pos[i]; i++)
		fprintf(f, " %s", cc->pos[i]);
	fputs("\n\t\tset argopts --", f);
	for (i = 0; i < cc->nopts; i++)
		if (cc->opts[i].arg)
			fprintf(f, " %s%s%s", cc->opts[i].lng, cc->opts[i].shrt ? " " : "",
				cc->opts[i].shrt ? cc->opts[i].shrt : "");
	fputs("\n\t\tset sel --", f);
	for (i = 0; i < cc->nsel; i++) {
		const struct copt *o = find_opt(cc, cc->sel[i].opt);
		const char *names[2] = { o->shrt, o->lng };
		size_t k;

		for (k = 0; k < 2; k++) {
			if (!names[k])
				continue;
			fprintf(f, " %s '", names[k]);
			for (j = 0; j < MAX_POS && cc->sel[i].kinds[j]; j++)
				fprintf(f, "%s%s", j ? " " : "", cc->sel[i].kinds[j]);
			fputc('\'', f);
		}
	}
	fprintf(f, "\n\t\tset unixp %d\n", cc->unix_prefix);
}

static void fish_cmd(const struct ccmd *cc, FILE *f)
{
	char cond[96];
	size_t i;

	snprintf(cond, sizeof(cond), "__sockctl_is %s", cc->desc->name);
	for (i = 0; i < cc->nopts; i++) {
		const struct copt *o = &cc->opts[i];

		fputs("complete -c sockctl -n ", f);
		put_sq(cond, 1, f);
		fprintf(f, " -l %s", o->lng + 2);
		if (o->shrt)
			fprintf(f, " -s %s", o->shrt + 1);
		if (o->arg && o->values) {
			fputs(" -x -a '", f);
			put_values(o, f);
			fputc('\'', f);
		} else if (o->arg) {
			fish_kind(o->kind ? o->kind : "-", f);
		}
		if (o->help) {
			fputs(" -d ", f);
			put_sq(o->help, 1, f);
		}
		fputc('\n', f);
	}
	fputc('\n', f);
}

static void gen_fish(const struct ccmd *cc, size_t n, FILE *f)
{
	static const char *const kinds[] = { "path", "iface", "host", "service" };
	size_t i;

	fputs("# fish completion for sockctl, generated by 'sockctl completion fish' from\n"
	      "# its option tables: do not edit (make completions writes it again).\n"
	      "complete -c sockctl -f\n\n",
	      f);
	fputs(fish_head, f);
	fputs("complete -c sockctl -n '__sockctl_nocmd' -l help -d 'show the commands'\n"
	      "complete -c sockctl -n '__sockctl_nocmd' -l version -d 'show the version'\n",
	      f);
	for (i = 0; i < n; i++) {
		fprintf(f, "complete -c sockctl -n '__sockctl_nocmd' -a %s -d ",
			cc[i].desc->name);
		put_sq(cc[i].desc->summary, 1, f);
		fputc('\n', f);
	}
	fputs("complete -c sockctl -n '__sockctl_nocmd' -a help -d 'show the help of a command'\n"
	      "complete -c sockctl -n '__sockctl_nocmd' -a completion "
	      "-d 'print the completion script for a shell'\n"
	      "complete -c sockctl -n '__sockctl_is help; and test (count "
	      "(commandline -opc)) = 2' -a '",
	      f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", cc[i].desc->name);
	fputs("'\n"
	      "complete -c sockctl -n '__sockctl_is completion; and test (count "
	      "(commandline -opc)) = 2' -a 'bash zsh fish'\n\n",
	      f);
	fputs("function __sockctl_data --no-scope-shadowing\n\tswitch $argv[1]\n", f);
	for (i = 0; i < n; i++)
		fish_data(&cc[i], f);
	fputs("\tcase '*'\n\t\treturn 1\n\tend\nend\n\n", f);
	for (i = 0; i < n; i++)
		fish_cmd(&cc[i], f);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		fprintf(f, "complete -c sockctl -n '__sockctl_pos %s'", kinds[i]);
		fish_kind(kinds[i], f);
		fputc('\n', f);
	}
	fputs("complete -c sockctl -n '__sockctl_pos host; test $status = 2' "
	      "-x -a '(__sockctl_unix_paths)'\n",
	      f);
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
			gen_zsh(cc, n, stdout);
		else
			gen_fish(cc, n, stdout);
	}
	for (i = 0; i < n; i++) {
		free(cc[i].text);
		free(cc[i].args);
	}
	free(cc);
	return rc;
}
