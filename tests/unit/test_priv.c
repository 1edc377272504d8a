/* SPDX-License-Identifier: MIT */
/*
 * lib/priv: priv_start in a child made to look like a setuid-root process
 * run by nobody (real uid 65534, effective and saved uid 0); root only,
 * skipped otherwise.  The child reports through its exit status.
 */
#include <grp.h>
#include <stdint.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "priv.h"
#include "unit.h"

#define NOBODY 65534

static int caps(uint64_t *prm, uint64_t *eff, uint64_t *inh)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &hdr, d))
		return -1;
	*prm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	*eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	*inh = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
	return 0;
}

/* In a child: 0 when priv_start(@keep) left exactly what it should. */
static int child(enum priv_keep keep)
{
	gid_t g = 4242;
	struct priv pv;
	struct err e = { 0 };
	uid_t r, ef, s;
	uint64_t prm, eff, inh, want = keep == PRIV_KEEP_NET_RAW ? UINT64_C(1) << CAP_NET_RAW : 0;

	/* a setuid-root binary run by nobody, with a supplementary group */
	if (setgroups(1, &g) || setresgid(NOBODY, 0, 0) || setresuid(NOBODY, 0, 0))
		return 10;
	if (priv_start(keep, &pv, &e))
		return 11;
	if (getresuid(&r, &ef, &s) || r != NOBODY || ef != NOBODY || s != NOBODY)
		return 12;
	if (getgroups(0, NULL) != 0)
		return 13;
	if (caps(&prm, &eff, &inh) || prm != want || eff || inh)
		return 14;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 || !pv.setuid || !pv.dropped)
		return 15;
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0 || !pv.bounding)
		return 16;
	if (keep == PRIV_KEEP_NET_RAW) {
		/* raise around socket(), then nothing at all */
		if (priv_raise(&pv, &e) || caps(&prm, &eff, &inh) || eff != want)
			return 17;
		if (priv_drop(&pv, &e) || caps(&prm, &eff, &inh) || prm || eff)
			return 18;
	}
	return 0;
}

static int run_child(enum priv_keep keep)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(child(keep));
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int main(void)
{
	struct priv pv;
	struct err e = { 0 };
	int rc;

	if (geteuid() != 0) {
		/* nothing held: the cheap path, nothing done */
		CHECK(!priv_start(PRIV_KEEP_NOTHING, &pv, &e) && !pv.dropped, "unprivileged: no-op");
		return UNIT_DONE();
	}
	rc = run_child(PRIV_KEEP_NOTHING);
	CHECK(rc == 0, "setuid-root run by nobody: ids, groups, every set, bounding, NNP (%d)", rc);
	rc = run_child(PRIV_KEEP_NET_RAW);
	CHECK(rc == 0, "ICMP path: CAP_NET_RAW permitted only, raised, then dropped (%d)", rc);
	/* root itself keeps root's rights for ordinary commands */
	CHECK(!priv_start(PRIV_KEEP_NOTHING, &pv, &e) && !pv.dropped && geteuid() == 0,
	      "real uid 0: nothing dropped");
	return UNIT_DONE();
}
