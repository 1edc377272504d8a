/* SPDX-License-Identifier: MIT */
/* raw-icmp: ping's -p, -A, -O, --rate and the -D formats, as engine settings. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_sandbox.h"
#include "err.h"
#include "opt.h"
#include "raw_icmp.h"

#define ADAPTIVE_USER_MIN (200 * NS_PER_MS) /* ping -A's floor for users */

const char *const raw_icmp_ts_names[] = { "unix", "iso", "ctime", NULL };

/* ---- ping's options, for one target or many ---- */

int raw_icmp_opt_pattern(const struct opt *o, const char *arg, struct err *e)
{
	struct icmp_opts *io = o->value;
	size_t n = strlen(arg), i;

	if (!n || n > 32)
		return err_set(e, EXIT_USAGE, "-p/--pattern %.40s: give 1 to 16 bytes in hex "
			       "(e.g. ff00)", arg);
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)arg[i]))
			return err_set(e, EXIT_USAGE, "-p/--pattern %.40s: not hex", arg);
	/* as ping: an odd digit count reads the last digit as a byte of its own */
	memset(io->pattern, 0, sizeof(io->pattern));
	for (i = 0; i < n; i += 2) {
		char byte[3] = { arg[i], i + 1 < n ? arg[i + 1] : '\0', '\0' };

		io->pattern[i / 2] = (uint8_t)strtoul(byte, NULL, 16);
	}
	io->pattern_len = (n + 1) / 2;
	return 0;
}

void raw_icmp_more_config(const struct icmp_opts *o, int root, struct ping_config *cfg)
{
	cfg->report_timeouts = o->report_outstanding;
	cfg->rate_gap = o->rate > 0 ? NS_PER_SEC / o->rate : 0;
	memcpy(cfg->pattern, o->pattern, sizeof(cfg->pattern));
	cfg->pattern_len = o->pattern_len;
	if (o->adaptive) {
		cfg->adaptive = 1;
		cfg->adaptive_min = o->interval >= 0 ? o->interval : root ? 0 : ADAPTIVE_USER_MIN;
	}
}

int raw_icmp_is_multi(const struct icmp_opts *o, int argc, char **argv)
{
	return argc != 1 || o->targets || o->alive || o->unreachable || strchr(argv[0], '/');
}


/* --openmetrics FILE is written at the end (a temporary name, renamed). */
int raw_icmp_sandbox(const struct icmp_opts *o, struct err *e)
{
	struct cmd_sandbox sb = { .cmd = "raw-icmp", .off = o->no_sandbox, .verbose = o->verbose };

	if (o->openmetrics && cmd_sandbox_dir_of(&sb, o->openmetrics,
						 SB_FS_WRITE | SB_FS_CREATE | SB_FS_REMOVE, e))
		return -1;
	return cmd_sandbox_enter(&sb, o->openmetrics ? &sb_raw_icmp_metrics : &sb_raw_icmp, e);
}
