/* SPDX-License-Identifier: MIT */
/* seccomp-bpf (libseccomp) and Landlock after set-up: see sandbox.h. */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "sandbox.h"

/* A condition on an allowed syscall's arguments; NONE is the widest. */
enum cond {
	C_NONE,
	C_DGRAMSOCK, /* socket: an AF_INET or AF_INET6 datagram socket (path MTU) */
	C_IFSOCK, /* socket: only glibc's throwaway socket for if_indextoname */
	C_NOEXEC, /* mmap/mprotect: arg 2 (prot) without PROT_EXEC */
	C_IOCTL,  /* ioctl: arg 1 is FIONREAD, TCGETS (isatty) or SIOCGIFNAME */
	C_RDONLY, /* openat: arg 2 (flags) opens for reading only */
	C_ABSENT = 0xff,
};

struct sc {
	int nr;
	unsigned char cond;
};

#define A(x) { SCMP_SYS(x), C_NONE }
#define END { -1, C_NONE }

static const struct sc g_stdio[] = {
	A(read), A(write), A(readv), A(writev), A(close), A(fstat), A(newfstatat), A(lseek),
	A(fcntl), A(dup), { SCMP_SYS(ioctl), C_IOCTL }, END,
};
/*
 * An IPv6 address with a scope (fe80::1%eth0) is formatted by getnameinfo,
 * which names the interface with if_indextoname(): glibc opens a datagram
 * socket for its SIOCGIFNAME ioctl, trying AF_UNIX first.  Every command
 * formats peer addresses after set-up, so every filter has this: an
 * AF_UNIX socket fails with EAFNOSUPPORT (no way to local daemons), an
 * AF_INET datagram socket is allowed (no more than the sockets the command
 * already holds can do).
 */
static const struct sc g_ifname[] = { { SCMP_SYS(socket), C_IFSOCK }, END };
static const struct sc g_time[] = {
	A(clock_gettime), A(gettimeofday), A(clock_getres), A(clock_nanosleep), A(nanosleep),
	A(time), END,
};
/* raise() is rt_sigprocmask + getpid/gettid + tgkill */
static const struct sc g_signals[] = {
	A(rt_sigaction), A(rt_sigprocmask), A(rt_sigreturn), A(sigaltstack), A(getpid),
	A(gettid), A(tgkill), A(restart_syscall), END,
};
static const struct sc g_memory[] = {
	A(brk), { SCMP_SYS(mmap), C_NOEXEC }, { SCMP_SYS(mprotect), C_NOEXEC }, A(munmap),
	A(mremap), A(madvise), END,
};
static const struct sc g_relay[] = {
	A(poll), A(ppoll), A(splice), A(tee), A(sendfile), A(pipe2), A(shutdown), A(sendto),
	A(recvfrom), A(sendmsg), A(recvmsg), A(getsockopt), A(setsockopt), A(getsockname),
	A(getpeername), END,
};
static const struct sc g_epoll[] = {
	A(epoll_create1), A(epoll_ctl), A(epoll_wait), A(epoll_pwait), A(epoll_pwait2), END,
};
static const struct sc g_accept[] = {
	A(accept4), A(accept), A(getsockname), A(getpeername), A(setsockopt), A(getsockopt),
	A(shutdown), END,
};
static const struct sc g_dgram[] = {
	A(sendmmsg), A(recvmmsg), A(sendmsg), A(recvmsg), A(sendto), A(recvfrom),
	A(getsockopt), A(setsockopt), A(getsockname), A(poll), A(ppoll), END,
};
static const struct sc g_icmp[] = {
	A(getrandom), A(sendto), A(recvmsg), A(recvfrom), A(sendmsg), A(getsockopt),
	A(setsockopt), A(poll), A(ppoll), A(getsockname), END,
};
static const struct sc g_connect[] = {
	A(socket), A(connect), A(bind), A(setsockopt), A(getsockopt), A(getsockname),
	A(getpeername), A(poll), A(ppoll), END,
};
/* glibc's resolver and NSS "files": read-only opens (Landlock must also allow
 * /etc and the NSS libraries' directories: the command lists them) */
static const struct sc g_resolve[] = {
	{ SCMP_SYS(openat), C_RDONLY }, A(socket), A(connect), A(bind), A(sendto), A(sendmmsg),
	A(recvfrom), A(recvmsg), A(poll), A(getsockname), A(setsockopt), A(uname),
	A(getrandom), END,
};
/* sock_path_mtu(): a datagram socket connect()ed to the destination says
 * the route's MTU (IP_MTU), for the EMSGSIZE message of --pmtu do */
static const struct sc g_path_mtu[] = {
	{ SCMP_SYS(socket), C_DGRAMSOCK }, A(connect), A(getsockopt), END,
};
static const struct sc g_unlink[] = { A(newfstatat), A(unlinkat), END };
static const struct sc g_exit[] = { A(exit), A(exit_group), END };

#ifdef SOCKCTL_SANITIZE
/*
 * Only in `make check SANITIZE=1` builds: LeakSanitizer stops the world at
 * exit (a clone()d tracer that ptrace()s every thread and reads /proc/self),
 * and the sanitizers write their reports to files (log_path).
 */
static const struct sc g_sanitize[] = {
	A(clone), A(clone3), A(ptrace), A(wait4), A(waitid), A(prctl), A(sched_yield),
	A(openat), A(open), A(getdents), A(getdents64), A(readlink), A(readlinkat), A(getppid),
	A(sched_getaffinity), A(futex), A(set_robust_list), A(rseq), A(exit), A(munmap),
	A(mmap), A(mprotect), A(getrlimit), A(prlimit64), A(pipe2), A(kill), A(statx),
	A(write), A(pread64), A(lstat), A(stat), A(access), END,
};
#endif

static const struct group {
	unsigned bit;
	const struct sc *list;
} groups[] = {
	{ SB_STDIO, g_stdio },	 { SB_TIME, g_time },	    { SB_SIGNALS, g_signals },
	{ SB_MEMORY, g_memory }, { SB_RELAY, g_relay },	    { SB_EPOLL, g_epoll },
	{ SB_ACCEPT, g_accept }, { SB_DGRAM, g_dgram },	    { SB_ICMP, g_icmp },
	{ SB_CONNECT, g_connect }, { SB_RESOLVE, g_resolve }, { SB_UNLINK, g_unlink },
	{ SB_EXIT, g_exit },	 { SB_STDIO, g_ifname },      { SB_PATH_MTU, g_path_mtu },
};

/* Syscall numbers on the architectures we build for stay below this. */
#define MAX_NR 1024

struct allow {
	unsigned char cond[MAX_NR];
	int n;
};

static void allow_one(struct allow *a, int nr, unsigned char cond)
{
	/* a negative number names a syscall this architecture lacks */
	if (nr < 0 || nr >= MAX_NR)
		return;
	if (a->cond[nr] == C_ABSENT)
		a->n++;
	if (cond < a->cond[nr])
		a->cond[nr] = cond;
}

static void allow_list(struct allow *a, const struct sc *l)
{
	for (; l->nr != -1; l++)
		allow_one(a, l->nr, l->cond);
}

static void collect(const struct sandbox_table *t, struct allow *a)
{
	size_t i;
	const int *x;

	memset(a->cond, C_ABSENT, sizeof(a->cond));
	a->n = 0;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (t->groups & groups[i].bit)
			allow_list(a, groups[i].list);
	for (x = t->extra; x && *x != -1; x++)
		allow_one(a, *x, C_NONE);
#ifdef SOCKCTL_SANITIZE
	allow_list(a, g_sanitize);
#endif
}

int sandbox_count(const struct sandbox_table *t)
{
	struct allow a;

	collect(t, &a);
	return a.n;
}

static int add_rule(scmp_filter_ctx ctx, int nr, unsigned char cond)
{
	int rc;

	switch (cond) {
	case C_NOEXEC:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case C_IOCTL:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1(SCMP_CMP_EQ, FIONREAD));
		if (!rc)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1(SCMP_CMP_EQ, TCGETS));
		return rc ? rc
			  : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					     SCMP_A1(SCMP_CMP_EQ, SIOCGIFNAME));
	case C_IFSOCK:
	case C_DGRAMSOCK:
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
		if (!rc)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 3,
					      SCMP_A0(SCMP_CMP_EQ, AF_INET),
					      SCMP_A1(SCMP_CMP_EQ, SOCK_DGRAM | SOCK_CLOEXEC),
					      SCMP_A2(SCMP_CMP_EQ, 0));
		return rc || cond == C_IFSOCK
			       ? rc
			       : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 3,
						  SCMP_A0(SCMP_CMP_EQ, AF_INET6),
						  SCMP_A1(SCMP_CMP_EQ, SOCK_DGRAM | SOCK_CLOEXEC),
						  SCMP_A2(SCMP_CMP_EQ, 0));
	case C_RDONLY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC,
						O_RDONLY));
	default:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
}

static int seccomp_load_table(const struct sandbox_table *t, int log, int *rules, struct err *e)
{
	struct allow a;
	scmp_filter_ctx ctx;
	int nr, rc = 0;

	collect(t, &a);
	ctx = seccomp_init(log ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return err_set(e, EXIT_FAIL, "sandbox: no seccomp filter here (seccomp_init failed)");
	for (nr = 0; nr < MAX_NR && !rc; nr++)
		if (a.cond[nr] != C_ABSENT)
			rc = add_rule(ctx, nr, a.cond[nr]);
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc)
		return err_sys(e, EXIT_FAIL, -rc, "sandbox: loading the seccomp filter");
	*rules = a.n;
	return 0;
}

/* ---- Landlock, by raw syscalls (glibc has no wrappers) ---- */

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define LL_RULE_PATH_BENEATH 1
/* The access rights, as the kernel's ABI numbers them (ABI 1 to 5). */
#define LL_EXECUTE (1ULL << 0)
#define LL_WRITE_FILE (1ULL << 1)
#define LL_READ_FILE (1ULL << 2)
#define LL_READ_DIR (1ULL << 3)
#define LL_REMOVE_FILE (1ULL << 5)
#define LL_MAKE_REG (1ULL << 8)
#define LL_MAKE_SOCK (1ULL << 9)
#define LL_TRUNCATE (1ULL << 14)
#define LL_FILE_ONLY (LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | (1ULL << 15))

/* Every filesystem right ABI @abi knows: ABI 1 has 13, 2 adds REFER,
 * 3 TRUNCATE, 5 IOCTL_DEV (4 and 6+ add network and scope rights). */
static uint64_t ll_handled(int abi)
{
	uint64_t all = (1ULL << 13) - 1;

	if (abi >= 2)
		all |= 1ULL << 13;
	if (abi >= 3)
		all |= LL_TRUNCATE;
	if (abi >= 5)
		all |= 1ULL << 15;
	return all;
}

static uint64_t ll_rights(unsigned access)
{
	uint64_t r = 0;

	if (access & SB_FS_READ)
		r |= LL_READ_FILE | LL_READ_DIR;
	if (access & SB_FS_WRITE)
		r |= LL_WRITE_FILE | LL_TRUNCATE;
	if (access & SB_FS_REMOVE)
		r |= LL_REMOVE_FILE;
	if (access & SB_FS_CREATE)
		r |= LL_MAKE_REG | LL_MAKE_SOCK;
	return r;
}

static int ll_add_path(int ruleset, const struct sandbox_path *p, uint64_t handled,
		       struct err *e)
{
	struct ll_path_beneath pb;
	struct stat st;
	int fd = open(p->path, O_PATH | O_CLOEXEC), rc;

	if (fd < 0)
		return err_sys(e, EXIT_FAIL, errno, "sandbox: %.200s", p->path);
	pb.allowed_access = ll_rights(p->access) & handled;
	if (!fstat(fd, &st) && !S_ISDIR(st.st_mode))
		pb.allowed_access &= LL_FILE_ONLY;
	pb.parent_fd = fd;
	rc = pb.allowed_access ? (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH,
					      &pb, 0)
			       : 0;
	if (rc)
		err_sys(e, EXIT_FAIL, errno, "sandbox: landlock rule for %.200s", p->path);
	close(fd);
	return rc ? -1 : 0;
}

static int landlock_apply(const struct sandbox_opts *o, struct sandbox_report *r, struct err *e)
{
	struct ll_ruleset_attr attr;
	int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
			       LANDLOCK_CREATE_RULESET_VERSION);
	int fd, i;

	if (abi < 1) {
		r->landlock_why = errno == EOPNOTSUPP ? "disabled in this kernel"
				  : errno == ENOSYS   ? "not in this kernel"
						      : "not available";
		return 0;
	}
	attr.handled_access_fs = ll_handled(abi);
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return err_sys(e, EXIT_FAIL, errno, "sandbox: landlock_create_ruleset");
	for (i = 0; i < o->npaths; i++)
		if (ll_add_path(fd, &o->paths[i], attr.handled_access_fs, e)) {
			close(fd);
			return -1;
		}
	if (syscall(SYS_landlock_restrict_self, fd, 0)) {
		err_sys(e, EXIT_FAIL, errno, "sandbox: landlock_restrict_self");
		close(fd);
		return -1;
	}
	close(fd);
	r->landlock_abi = abi;
	return 0;
}

int sandbox_install(const struct sandbox_table *t, const struct sandbox_opts *o,
		    struct sandbox_report *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	if (o->off) {
		r->landlock_why = "off";
		return 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_sys(e, EXIT_FAIL, errno, "sandbox: PR_SET_NO_NEW_PRIVS");
	if (landlock_apply(o, r, e) || seccomp_load_table(t, o->log, &r->rules, e))
		return -1;
	r->on = 1;
	return 0;
}
