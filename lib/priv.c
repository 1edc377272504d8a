/* SPDX-License-Identifier: MIT */
/* libcap-ng: CAP_NET_RAW only, only around socket(), then nothing at all. */
#include <cap-ng.h>
#include <errno.h>
#include <linux/capability.h>
#include <unistd.h>

#include "priv.h"

int priv_init(struct priv *pv, struct err *e)
{
	uid_t uid = getuid();
	int setpcap;

	pv->have_raw = 0;
	pv->setuid = uid != 0 && geteuid() == 0;
	pv->bounding = 0;
	if (capng_get_caps_process())
		return err_set(e, EXIT_USAGE, "cannot read this process's capabilities");
	pv->have_raw = capng_have_capability(CAPNG_PERMITTED, CAP_NET_RAW);
	setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	capng_clear(CAPNG_SELECT_BOTH);
	if (pv->have_raw)
		capng_update(CAPNG_ADD, CAPNG_PERMITTED, CAP_NET_RAW);
	if (pv->setuid) {
		/* keeps the capabilities above across the change of uid, drops
		 * the supplementary groups and clears the bounding set */
		if (capng_change_id((int)uid, (int)getgid(),
				    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING))
			return err_set(e, EXIT_USAGE, "cannot give up the setuid-root uid");
		pv->bounding = 1;
		return 0;
	}
	/* the bounding set only matters for programs we exec (none), but a
	 * process that cannot gain anything back is easier to trust */
	if (setpcap && capng_apply(CAPNG_SELECT_BOUNDS) == 0)
		pv->bounding = 1;
	if (capng_apply(CAPNG_SELECT_CAPS))
		return err_sys(e, EXIT_USAGE, errno, "cannot reduce capabilities");
	return 0;
}

int priv_raise(const struct priv *pv, struct err *e)
{
	if (!pv->have_raw)
		return 0;
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, CAP_NET_RAW);
	if (capng_apply(CAPNG_SELECT_CAPS))
		return err_sys(e, EXIT_USAGE, errno, "cannot raise CAP_NET_RAW");
	return 0;
}

int priv_drop(struct priv *pv, struct err *e)
{
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_apply(CAPNG_SELECT_CAPS))
		return err_sys(e, EXIT_USAGE, errno, "cannot drop capabilities");
	pv->have_raw = 0;
	/* trust, but verify: read them back from the kernel */
	if (capng_get_caps_process() || capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return err_set(e, EXIT_USAGE, "capabilities are still held after dropping them");
	return 0;
}
