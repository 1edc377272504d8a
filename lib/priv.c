/* SPDX-License-Identifier: MIT */
/* libcap-ng: nothing for ordinary commands, CAP_NET_RAW only around socket() for ICMP. */
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <stdint.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "priv.h"

#define CAP_BIT(c) (UINT64_C(1) << (c))

/* What priv_start() did; the process's own state, not an option. */
static struct priv started;

struct capsets {
	uint64_t eff, prm, inh;
};

/* One capget(2): no file to read, so the common unprivileged case stays cheap. */
static int capsets_read(struct capsets *cs)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &hdr, d))
		return -1;
	cs->eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	cs->prm = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	cs->inh = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
	return 0;
}

/* A capability number the kernel knows: PR_CAPBSET_READ says EINVAL past the last. */
static int cap_known(int cap)
{
	return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0;
}

static int ids_are(uid_t uid, gid_t gid)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg))
		return 0;
	return r == uid && e == uid && s == uid && rg == gid && eg == gid && sg == gid;
}

/* Read everything back: the ids, every capability set, no_new_privs. */
static int verify(uid_t uid, gid_t gid, int groups_dropped, const struct priv *pv,
		  struct err *e)
{
	struct capsets cs;
	uint64_t allowed = pv->have_raw ? CAP_BIT(CAP_NET_RAW) : 0;
	int c;

	if (!ids_are(uid, gid))
		return err_set(e, EXIT_FAIL, "privileges: the real user and group ids could "
			       "not be restored; refusing to run");
	if (groups_dropped && getgroups(0, NULL) != 0)
		return err_set(e, EXIT_FAIL, "privileges: supplementary groups are still held; "
			       "refusing to run");
	if (capsets_read(&cs) || cs.eff || cs.inh || (cs.prm & ~allowed))
		return err_set(e, EXIT_FAIL, "privileges: capabilities are still held after "
			       "dropping them; refusing to run");
	for (c = 0; c < 64 && cap_known(c); c++) {
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) > 0)
			return err_set(e, EXIT_FAIL, "privileges: an ambient capability is "
				       "still held; refusing to run");
		if (pv->bounding && prctl(PR_CAPBSET_READ, c, 0, 0, 0) > 0)
			return err_set(e, EXIT_FAIL, "privileges: the bounding set could not "
				       "be cleared; refusing to run");
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return err_set(e, EXIT_FAIL, "privileges: no_new_privs is not set; "
			       "refusing to run");
	return 0;
}

/*
 * Give up everything but, with @keep_raw, CAP_NET_RAW in the permitted set.
 * The order matters: the bounding set needs CAP_SETPCAP and setgroups()
 * needs CAP_SETGID, both gone once the uid is no longer 0.
 */
static int give_up(int keep_raw, const struct capsets *cs, struct priv *pv, struct err *e)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	int privileged = geteuid() == 0 || (cs->eff & CAP_BIT(CAP_SETGID));

	pv->setuid = uid != geteuid() || gid != getegid();
	pv->have_raw = keep_raw && (cs->prm & CAP_BIT(CAP_NET_RAW));
	capng_clear(CAPNG_SELECT_ALL);
	if (pv->have_raw)
		capng_update(CAPNG_ADD, CAPNG_PERMITTED, CAP_NET_RAW);
	if ((cs->eff & CAP_BIT(CAP_SETPCAP)) && capng_apply(CAPNG_SELECT_BOUNDS) == 0)
		pv->bounding = 1;
	/* EINVAL before Linux 4.3, which has no ambient set to clear */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return err_sys(e, EXIT_FAIL, errno, "privileges: cannot clear the ambient set");
	if (pv->have_raw && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return err_sys(e, EXIT_FAIL, errno, "privileges: PR_SET_KEEPCAPS");
	if (privileged && setgroups(0, NULL))
		return err_sys(e, EXIT_FAIL, errno, "privileges: cannot drop the "
			       "supplementary groups");
	if (setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
		return err_sys(e, EXIT_FAIL, errno, "privileges: cannot go back to the real "
			       "user and group ids");
	if (pv->have_raw)
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (capng_apply(CAPNG_SELECT_CAPS))
		return err_sys(e, EXIT_FAIL, errno, "privileges: cannot drop capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_sys(e, EXIT_FAIL, errno, "privileges: PR_SET_NO_NEW_PRIVS");
	pv->dropped = 1;
	return verify(uid, gid, privileged, pv, e);
}

int priv_start(enum priv_keep keep, struct priv *pv, struct err *e)
{
	struct capsets cs;
	int rc = 0;

	memset(pv, 0, sizeof(*pv));
	if (capsets_read(&cs))
		return err_sys(e, EXIT_FAIL, errno, "privileges: cannot read this process's "
			       "capabilities; refusing to run");
	/*
	 * The common case: nothing to give up (an ambient cap is always
	 * permitted too).  AT_SECURE is the kernel's word that this exec
	 * changed the user or group ids or raised capabilities, and it is
	 * also set when the caller's real and effective ids already differed
	 * (commoncap compares the new euid with the old uid), so no get*id(2)
	 * call is needed to know the ids are all the caller's own.
	 */
	if (!getauxval(AT_SECURE) && !cs.prm)
		return 0;
	/* the caller is root: an ordinary command keeps what its caller has */
	if (getuid() == 0 && keep == PRIV_KEEP_NOTHING)
		return 0;
	rc = give_up(keep == PRIV_KEEP_NET_RAW, &cs, pv, e);
	started = *pv;
	return rc;
}

void priv_current(struct priv *pv)
{
	*pv = started;
}

int priv_raise(const struct priv *pv, struct err *e)
{
	if (!pv->have_raw)
		return 0;
	capng_clear(CAPNG_SELECT_CAPS);
	capng_update(CAPNG_ADD, CAPNG_PERMITTED | CAPNG_EFFECTIVE, CAP_NET_RAW);
	if (capng_apply(CAPNG_SELECT_CAPS))
		return err_sys(e, EXIT_USAGE, errno, "cannot raise CAP_NET_RAW");
	return 0;
}

int priv_drop(struct priv *pv, struct err *e)
{
	struct capsets cs;

	if (capsets_read(&cs))
		return err_sys(e, EXIT_USAGE, errno, "cannot read capabilities");
	pv->have_raw = 0;
	if (!cs.eff && !cs.prm && !cs.inh)
		return 0;
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS))
		return err_sys(e, EXIT_USAGE, errno, "cannot drop capabilities");
	/* trust, but verify: read them back from the kernel */
	if (capsets_read(&cs) || cs.eff || cs.prm || cs.inh)
		return err_set(e, EXIT_USAGE, "capabilities are still held after dropping them");
	return 0;
}
