/* SPDX-License-Identifier: MIT */
/* lib/sandbox: the build-time programs (rule counts, installed in a child process). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_sandbox.h"
#include "unit.h"

/* Run @fn in a child under table @t; its wait status. */
static int in_child(const struct sandbox_prog *t, int (*fn)(void))
{
	struct sandbox_opts o = { 0 };
	struct sandbox_report r;
	struct err e;
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		if (sandbox_install(t, &o, &r, &e))
			_exit(99);
		_exit(fn());
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

static int try_open(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 3;
}

static int try_execve(void)
{
	char *const argv[] = { (char *)"true", NULL };

	execve("/bin/true", argv, argv + 1);
	return 3;
}

static int try_write(void)
{
	return write(STDOUT_FILENO, "", 0) == 0 ? 7 : 3;
}

static int try_mmap_exec(void)
{
	/* PROT_READ|PROT_WRITE|PROT_EXEC on a page of ours: refused */
	static char page[4096] __attribute__((aligned(4096)));

	return mprotect(page, sizeof(page), PROT_READ | PROT_WRITE | PROT_EXEC) == 0 ? 0 : 3;
}

static int try_unix_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		close(fd);
		return 3;
	}
	return errno == EAFNOSUPPORT ? 5 : 3;
}

static int try_log_open(void)
{
	struct sandbox_opts o = { .log = 1 };
	struct sandbox_report r;
	struct err e;

	if (sandbox_install(&sb_test_base, &o, &r, &e))
		return 99;
	/* getppid(2) is in no group (and Landlock does not see it) */
	return getppid() > 0 ? 9 : 3;
}

int main(void)
{
	struct sandbox_opts off = { .off = 1 };
	struct sandbox_report r;
	struct err e;
	pid_t pid;
	int st = -1;

	CHECK(sb_test_base.rules > 20 && sb_test_base.len > sb_test_base.rules,
	      "the base program has its rules (%d rules, %u instructions)", sb_test_base.rules,
	      sb_test_base.len);
	CHECK(sb_test_relay.rules > sb_test_base.rules, "a group adds syscalls (%d > %d)",
	      sb_test_relay.rules, sb_test_base.rules);
	CHECK(!sandbox_install(&sb_test_base, &off, &r, &e) && !r.on && !r.rules,
	      "off: nothing installed, nothing counted");

	st = in_child(&sb_test_base, try_write);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "an allowed call works (status %#x)", st);
	st = in_child(&sb_test_base, try_execve);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "execve(2) kills by SIGSYS (status %#x)",
	      st);
#ifndef SOCKCTL_SANITIZE /* the sanitizers' build allows these for their reports */
	st = in_child(&sb_test_base, try_open);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "open(2) kills by SIGSYS (status %#x)",
	      st);
	st = in_child(&sb_test_base, try_mmap_exec);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
	      "mprotect with PROT_EXEC kills by SIGSYS (status %#x)", st);
	/* the log copy: the same program, a forbidden call logged and allowed */
	pid = fork();
	if (pid == 0)
		_exit(try_log_open());
	st = -1;
	if (pid > 0)
		waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 9,
	      "log mode: getppid(2) is allowed and logged (status %#x)", st);
#endif
	st = in_child(&sb_test_base, try_unix_socket);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 5,
	      "an AF_UNIX socket fails with EAFNOSUPPORT, no kill (status %#x)", st);
	return UNIT_DONE();
}
