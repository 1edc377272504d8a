/* SPDX-License-Identifier: MIT */
/* Entering the sandbox after set-up; -v says what is on (see sandbox.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "cmd_sandbox.h"

/*
 * Test builds only (build/.../sockctl-hooks, which `make check` links from
 * the same objects but this one, built with -DSOCKCTL_TEST_HOOKS): with
 * SOCKCTL_TEST_FORBIDDEN=execve or =open the command tries that right after
 * entering the sandbox, and the test expects the kernel to kill it by
 * SIGSYS.  ./sockctl has no such code.
 */
#ifdef SOCKCTL_TEST_HOOKS
static void test_forbidden(void)
{
	const char *what = getenv("SOCKCTL_TEST_FORBIDDEN");
	char *const argv[] = { (char *)"true", NULL };
	int fd;

	if (!what)
		return;
	if (!strcmp(what, "execve")) {
		execve("/bin/true", argv, environ);
		err_msg("sandbox-test", "execve was allowed: %s", strerror(errno));
	} else if (!strcmp(what, "open")) {
		fd = open("/tmp/sockctl-sandbox-test", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		err_msg("sandbox-test", "open was allowed: fd %d (%s)", fd,
			fd < 0 ? strerror(errno) : "created");
	}
}
#endif

static void say(const struct cmd_sandbox *s, const struct sandbox_prog *t,
		const struct sandbox_report *r, int log, int npaths)
{
	char ll[64];

	if (!s->verbose)
		return;
	if (!r->on && s->no_filter_why && !s->off) {
		err_msg(s->cmd, "sandbox: seccomp and landlock off (%s), no_new_privs on",
			s->no_filter_why);
		return;
	}
	if (!r->on) {
		err_msg(s->cmd, "sandbox: off (--no-sandbox)");
		return;
	}
	if (r->landlock_abi)
		snprintf(ll, sizeof(ll), "landlock ABI %d, %d path%s", r->landlock_abi, npaths,
			 npaths == 1 ? "" : "s");
	else
		snprintf(ll, sizeof(ll), "landlock %s (%s)",
			 r->fs_calls ? "unavailable" : "off", r->landlock_why);
	err_msg(s->cmd, "sandbox: seccomp on (%s, %d syscalls allowed, %s), %s", t->name, r->rules,
		log ? "others logged" : "others kill", ll);
}

int cmd_sandbox_plain(const char *cmd, int off, int verbose, const struct sandbox_prog *t,
		      struct err *e)
{
	struct cmd_sandbox s = { .cmd = cmd, .off = off, .verbose = verbose };

	return cmd_sandbox_enter(&s, t, e);
}

int cmd_sandbox_dir_of(struct cmd_sandbox *s, const char *file, unsigned access, struct err *e)
{
	const char *slash = strrchr(file, '/');

	if (s->npaths >= CMD_SANDBOX_PATHS || (slash && (size_t)(slash - file) >= sizeof(s->dir)))
		return err_set(e, EXIT_FAIL, "sandbox: %.200s: path too long", file);
	if (!slash)
		snprintf(s->dir, sizeof(s->dir), ".");
	else /* "/x" lives in "/", "a/b" in "a" */
		snprintf(s->dir, sizeof(s->dir), "%.*s", slash == file ? 1 : (int)(slash - file),
			 file);
	s->paths[s->npaths++] = (struct sandbox_path){ s->dir, access };
	return 0;
}

static int add_read(struct cmd_sandbox *s, const char *path, struct err *e)
{
	if (!path || access(path, F_OK)) /* not on this system: nothing to allow */
		return 0;
	if (s->npaths >= CMD_SANDBOX_PATHS)
		return err_set(e, EXIT_FAIL, "sandbox: too many paths");
	s->paths[s->npaths++] = (struct sandbox_path){ path, SB_FS_READ };
	return 0;
}

int cmd_sandbox_read_paths(struct cmd_sandbox *s, int store, const char *ca, int etc,
			   struct err *e)
{
	static const char *const system_store[] = { "/etc/ssl", "/usr/lib/ssl",
						     "/usr/share/ca-certificates" };
	size_t i;

	for (i = 0; store && i < sizeof(system_store) / sizeof(system_store[0]); i++)
		if (add_read(s, system_store[i], e))
			return -1;
	return add_read(s, ca, e) || add_read(s, etc ? "/etc" : NULL, e) ? -1 : 0;
}

/* The Landlock paths: the command's, then the Unix socket's directory. */
static int fs_paths(const struct cmd_sandbox *s, struct sandbox_path *paths, char *dir,
		    size_t dirlen)
{
	/* an abstract name (@name) has no file to remove */
	const char *unix = s->unix_remove && s->unix_remove[0] != '@' ? s->unix_remove : NULL;
	const char *slash = unix ? strrchr(unix, '/') : NULL;
	int i, n = 0;

	for (i = 0; i < s->npaths && i < CMD_SANDBOX_PATHS; i++)
		paths[n++] = s->paths[i];
	if (slash && (size_t)(slash - unix) < dirlen) {
		/* "/x.sock" lives in "/", "a/b.sock" in "a" */
		snprintf(dir, dirlen, "%.*s", slash == unix ? 1 : (int)(slash - unix), unix);
		paths[n++] = (struct sandbox_path){ dir, SB_FS_REMOVE };
	} else if (unix) {
		paths[n++] = (struct sandbox_path){ ".", SB_FS_REMOVE };
	}
#ifdef SOCKCTL_SANITIZE
	/* LeakSanitizer reads /proc/self at exit; reports go to SAN_LOG_DIR */
	paths[n++] = (struct sandbox_path){ "/proc", SB_FS_READ };
	if (getenv("SAN_LOG_DIR") && !access(getenv("SAN_LOG_DIR"), F_OK))
		paths[n++] = (struct sandbox_path){ getenv("SAN_LOG_DIR"),
						    SB_FS_WRITE | SB_FS_CREATE };
#endif
	return n;
}

int cmd_sandbox_enter(const struct cmd_sandbox *s, const struct sandbox_prog *t, struct err *e)
{
	struct sandbox_path paths[CMD_SANDBOX_PATHS + 3];
	struct sandbox_opts o = { .off = s->off, .no_filter = s->no_filter_why != NULL };
	struct sandbox_report r;
	const char *log = getenv("SOCKCTL_SANDBOX_LOG");
	char dir[4096], msg[sizeof(e->msg)];

	o.log = log && !strcmp(log, "1");
	/* strftime() and localtime() read /etc/localtime once: now, before
	 * Landlock and the filter (-o logs, -D stamps); resolve shows no time */
	if (t != &sb_resolve)
		tzset();
	o.npaths = fs_paths(s, paths, dir, sizeof(dir));
	o.paths = paths;
	if (sandbox_install(t, &o, &r, e)) {
		snprintf(msg, sizeof(msg), "%s", e->msg);
		return err_set(e, EXIT_FAIL, "%s (--no-sandbox runs without it)", msg);
	}
	say(s, t, &r, o.log, o.npaths);
#ifdef SOCKCTL_TEST_HOOKS
	test_forbidden();
#endif
	return 0;
}
