/* SPDX-License-Identifier: MIT */
/*
 * Build-time generator of the sandbox's seccomp programs (see
 * tools/sandbox_gen.h): for every table of cmd/sandbox_tables.c, a
 * libseccomp filter (default action SECCOMP_RET_KILL_PROCESS), exported
 * with seccomp_export_bpf() and written as a C array of struct sock_filter.
 *   sandbox_gen OUT.c
 * Built with -DSOCKCTL_SANITIZE for build/san: the sanitizers' syscalls are
 * added to every program of that build only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sockios.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>

#include "sandbox_gen.h"

/* A condition on an allowed syscall's arguments; NONE is the widest. */
enum cond {
	C_NONE,
	C_DGRAMSOCK, /* socket: an AF_INET or AF_INET6 datagram socket (path MTU) */
	C_IFSOCK,    /* socket: only glibc's throwaway socket for if_indextoname */
	C_NOEXEC,    /* mmap/mprotect: arg 2 (prot) without PROT_EXEC */
	C_IOCTL,     /* ioctl: arg 1 is FIONREAD, TCGETS (isatty) or SIOCGIFNAME */
	C_RDONLY,    /* openat: arg 2 (flags) opens for reading only */
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
/* sysinfo: glibc's qsort() asks how much memory there is (_SC_PHYS_PAGES)
 * before sorting more than 1 KiB, e.g. the RTTs of a long --count run */
static const struct sc g_memory[] = {
	A(brk), { SCMP_SYS(mmap), C_NOEXEC }, { SCMP_SYS(mprotect), C_NOEXEC }, A(munmap),
	A(mremap), A(madvise), A(sysinfo), END,
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
/*
 * glibc's resolver and NSS: read-only opens of /etc/hosts, resolv.conf,
 * nsswitch.conf, gai.conf, and DNS over UDP and TCP (Landlock must also
 * allow /etc: the command lists it).  NSS modules other than "files" and
 * "dns" would dlopen a library (PROT_EXEC: refused); futex: glibc's
 * once-only initialisations wake their waiters.  This table is for
 * names looked up after set-up, and a mode avoids it where it can.
 */
static const struct sc g_resolve[] = {
	{ SCMP_SYS(openat), C_RDONLY }, A(socket), A(connect), A(bind), A(sendto), A(sendmmsg),
	A(recvfrom), A(recvmsg), A(poll), A(getsockname), A(setsockopt), A(uname),
	A(getrandom), A(newfstatat), A(fstat), A(read), A(close), A(futex), END,
};
/* sock_path_mtu(): a datagram socket connect()ed to the destination says
 * the route's MTU (IP_MTU), for the EMSGSIZE message of --pmtu do */
static const struct sc g_path_mtu[] = {
	{ SCMP_SYS(socket), C_DGRAMSOCK }, A(connect), A(getsockopt), END,
};
static const struct sc g_unlink[] = { A(newfstatat), A(unlinkat), END };
static const struct sc g_exit[] = { A(exit), A(exit_group), END };
/* OpenSSL once its library, contexts and certificates are loaded: its RNG
 * and the locks of its (uncontended, but maybe futex-waiting) threads API */
static const struct sc g_tls[] = { A(getrandom), A(futex), END };
static const struct sc g_threads[] = {
	A(clone), A(clone3), A(futex), A(set_robust_list), A(rseq), A(exit), A(madvise),
	A(sched_yield), A(getrandom), END,
};
static const struct sc g_files[] = {
	{ SCMP_SYS(openat), C_RDONLY }, A(newfstatat), A(fstat), A(statx), A(getdents64),
	A(readlink), A(readlinkat), END,
};
/*
 * resolve's filter is loaded on every run, and the kernel's cost of loading
 * one grows with its length (its JIT, and the cache of always-allowed calls
 * it works out by running the program for every syscall number): the
 * fewest calls that print (stdio's fstat and isatty, write), allocate
 * (brk, mmap without PROT_EXEC), name a scoped IPv6 address (g_ifname) and
 * end (raise(SIGPIPE), exit_group).
 */
static const struct sc g_print[] = {
	A(write), A(writev), A(close), A(fstat), A(newfstatat), A(lseek),
	{ SCMP_SYS(ioctl), C_IOCTL }, A(brk), { SCMP_SYS(mmap), C_NOEXEC }, A(munmap),
	A(mremap), A(rt_sigaction), A(rt_sigprocmask), A(rt_sigreturn), A(getpid), A(gettid),
	A(tgkill), END,
};
static const struct sc g_write_files[] = {
	A(openat), A(rename), A(renameat), A(renameat2), A(unlinkat), A(unlink), A(fsync),
	A(fdatasync), A(ftruncate), A(fchmod), A(umask), END,
};

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
	{ SB_STDIO, g_stdio },	     { SB_TIME, g_time },	  { SB_SIGNALS, g_signals },
	{ SB_MEMORY, g_memory },     { SB_RELAY, g_relay },	  { SB_EPOLL, g_epoll },
	{ SB_ACCEPT, g_accept },     { SB_DGRAM, g_dgram },	  { SB_ICMP, g_icmp },
	{ SB_CONNECT, g_connect },   { SB_RESOLVE, g_resolve },	  { SB_UNLINK, g_unlink },
	{ SB_EXIT, g_exit },	     { SB_STDIO, g_ifname },	  { SB_PATH_MTU, g_path_mtu },
	{ SB_TLS, g_tls },	     { SB_THREADS, g_threads },	  { SB_FILES, g_files },
	{ SB_WRITE_FILES, g_write_files }, { SB_PRINT, g_print },	  { SB_PRINT, g_ifname },
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

static void collect(const struct sandbox_table *t, struct allow *a)
{
	const struct sc *l;
	const int *x;
	size_t i;

	memset(a->cond, C_ABSENT, sizeof(a->cond));
	a->n = 0;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (t->groups & groups[i].bit)
			for (l = groups[i].list; l->nr != -1; l++)
				allow_one(a, l->nr, l->cond);
	for (x = t->extra; x && *x != -1; x++)
		allow_one(a, *x, C_NONE);
#ifdef SOCKCTL_SANITIZE
	/* LeakSanitizer's tracer at exit needs what SB_BASE has (sigaltstack,
	 * sleeps) whatever the mode: a short table (resolve's) hung it */
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (SB_BASE & groups[i].bit)
			for (l = groups[i].list; l->nr != -1; l++)
				allow_one(a, l->nr, l->cond);
	for (l = g_sanitize; l->nr != -1; l++)
		allow_one(a, l->nr, l->cond);
#endif
}

static int add_socket_rules(scmp_filter_ctx ctx, int nr, unsigned char cond)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), nr, 1,
				  SCMP_A0(SCMP_CMP_EQ, AF_UNIX));

	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 3, SCMP_A0(SCMP_CMP_EQ, AF_INET),
				      SCMP_A1(SCMP_CMP_EQ, SOCK_DGRAM | SOCK_CLOEXEC),
				      SCMP_A2(SCMP_CMP_EQ, 0));
	if (!rc && cond == C_DGRAMSOCK)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 3, SCMP_A0(SCMP_CMP_EQ, AF_INET6),
				      SCMP_A1(SCMP_CMP_EQ, SOCK_DGRAM | SOCK_CLOEXEC),
				      SCMP_A2(SCMP_CMP_EQ, 0));
	return rc;
}

static int add_rule(scmp_filter_ctx ctx, int nr, unsigned char cond)
{
	static const unsigned long ioctls[] = { FIONREAD, TCGETS, SIOCGIFNAME };
	size_t i;
	int rc = 0;

	switch (cond) {
	case C_NOEXEC:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case C_IOCTL:
		for (i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]) && !rc; i++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					      SCMP_A1(SCMP_CMP_EQ, ioctls[i]));
		return rc;
	case C_IFSOCK:
	case C_DGRAMSOCK:
		return add_socket_rules(ctx, nr, cond);
	case C_RDONLY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC,
						O_RDONLY));
	default:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
}

/*
 * Does @a allow a call that names a file (so that Landlock adds something)?
 * Not connect(2): Landlock's filesystem rights do not cover connecting to a
 * Unix socket; bind(2) of one is MAKE_SOCK.
 */
static int names_files(const struct allow *a)
{
	static const int fs[] = {
		SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(creat),
		SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename), SCMP_SYS(renameat),
		SCMP_SYS(renameat2), SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir),
		SCMP_SYS(link), SCMP_SYS(linkat), SCMP_SYS(symlink), SCMP_SYS(symlinkat),
		SCMP_SYS(mknod), SCMP_SYS(mknodat), SCMP_SYS(truncate), SCMP_SYS(execve),
		SCMP_SYS(execveat), SCMP_SYS(bind), SCMP_SYS(chdir),
		SCMP_SYS(chroot), SCMP_SYS(open_by_handle_at),
	};
	size_t i;

	for (i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if (fs[i] >= 0 && fs[i] < MAX_NR && a->cond[fs[i]] != C_ABSENT)
			return 1;
	return 0;
}

/* @t's program into @out (as a C array named p_<id>); its rule count. */
static int emit(FILE *out, const struct sandbox_table *t)
{
	struct allow a;
	struct sock_filter ins;
	scmp_filter_ctx ctx;
	FILE *tmp = tmpfile();
	int nr, rc = 0;
	size_t n = 0;

	collect(t, &a);
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx || !tmp) {
		fprintf(stderr, "sandbox_gen: %s: seccomp_init or tmpfile failed\n", t->id);
		return -1;
	}
	/*
	 * A binary tree of syscall numbers, not a list: the kernel runs the
	 * program once per syscall number when it is loaded (its cache of
	 * always-allowed calls), so the load costs the sum of every number's
	 * path: about 100 us with a 34-rule list, a few with the tree.
	 */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (nr = 0; nr < MAX_NR && !rc; nr++)
		if (a.cond[nr] != C_ABSENT)
			rc = add_rule(ctx, nr, a.cond[nr]);
	if (!rc)
		rc = seccomp_export_bpf(ctx, fileno(tmp));
	seccomp_release(ctx);
	if (rc) {
		fprintf(stderr, "sandbox_gen: %s: %s\n", t->id, strerror(-rc));
		fclose(tmp);
		return -1;
	}
	rewind(tmp);
	fprintf(out, "static const struct sock_filter p_%s[] = {\n", t->id);
	/*
	 * First a load of the data's length (which the kernel makes a load of a
	 * constant): the kernel's cache of always-allowed syscalls is worked out
	 * at load time by emulating the program for every syscall number, and it
	 * stops at an instruction it does not emulate.  That emulation was most
	 * of the load's cost (64 us of 78 for a 78-instruction program here):
	 * every command loads its filter at startup and then makes few syscalls
	 * (resolve: four) or makes them in batches (recvmmsg, splice), so the
	 * filter runs for each (a few ns: JIT-compiled, about 12 instructions
	 * deep) instead.  No jump targets instruction 0, so nothing moves.
	 */
	fprintf(out, "\t{ 0x%02x, 0, 0, 0x00000000 }, /* BPF_LD | BPF_W | BPF_LEN */\n",
		BPF_LD | BPF_W | BPF_LEN);
	n++;
	while (fread(&ins, sizeof(ins), 1, tmp) == 1) {
		fprintf(out, "\t{ 0x%02x, %u, %u, 0x%08x },\n", ins.code, ins.jt, ins.jf, ins.k);
		n++;
	}
	fclose(tmp);
	fprintf(out, "};\nconst struct sandbox_prog sb_%s = { \"%s\", %d, p_%s, %zu, %d };\n\n",
		t->id, t->name, a.n, t->id, n, names_files(&a));
	return n > 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct sandbox_table *t;
	FILE *out;

	if (argc != 2) {
		fprintf(stderr, "usage: sandbox_gen OUT.c\n");
		return 2;
	}
	out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	fprintf(out, "/* Generated by tools/sandbox_gen from cmd/sandbox_tables.c: do not edit. */\n"
		     "#include <linux/filter.h>\n\n#include \"cmd_sandbox.h\"\n\n");
	for (t = sandbox_tables; t->id; t++)
		if (emit(out, t)) {
			fclose(out);
			remove(argv[1]);
			return 1;
		}
	if (fclose(out)) {
		perror(argv[1]);
		remove(argv[1]);
		return 1;
	}
	return 0;
}
