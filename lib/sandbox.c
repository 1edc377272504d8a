/* SPDX-License-Identifier: MIT */
/* seccomp-bpf (programs compiled at build time) and Landlock after set-up: see sandbox.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

/* SOCKCTL_SANDBOX_LOG=1: the same program, its kill returns made log returns. */
static struct sock_filter *log_copy(const struct sandbox_prog *p)
{
	struct sock_filter *f = malloc(p->len * sizeof(*f));
	unsigned i;

	if (!f)
		return NULL;
	memcpy(f, p->insns, p->len * sizeof(*f));
	for (i = 0; i < p->len; i++)
		if (f[i].code == (BPF_RET | BPF_K) && f[i].k == SECCOMP_RET_KILL_PROCESS)
			f[i].k = SECCOMP_RET_LOG;
	return f;
}

static int seccomp_load_prog(const struct sandbox_prog *p, int log, struct err *e)
{
	struct sock_fprog fp = { p->len, (struct sock_filter *)p->insns };
	struct sock_filter *copy = NULL;
	int rc;

	if (log && !(fp.filter = copy = log_copy(p)))
		return err_set(e, EXIT_FAIL, "sandbox: out of memory");
	rc = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp);
	free(copy);
	if (rc)
		return err_sys(e, EXIT_FAIL, errno, "sandbox: loading the seccomp filter");
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

int sandbox_install(const struct sandbox_prog *p, const struct sandbox_opts *o,
		    struct sandbox_report *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	if (o->off) {
		r->landlock_why = "off";
		return 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_sys(e, EXIT_FAIL, errno, "sandbox: PR_SET_NO_NEW_PRIVS");
	if (o->no_filter) {
		r->landlock_why = "off";
		return 0;
	}
	r->fs_calls = p->fs || o->log;
	if (!r->fs_calls)
		r->landlock_why = "not needed: no call that names a file is allowed";
	else if (landlock_apply(o, r, e))
		return -1;
	if (seccomp_load_prog(p, o->log, e))
		return -1;
	r->on = 1;
	r->rules = p->rules;
	return 0;
}
