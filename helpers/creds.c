/* SPDX-License-Identifier: MIT */
#include "creds.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "confinement.h"
#include "util.h"

/* capget()/capset() of this process, version 3 (64 capabilities). */
static int caps_get(struct __user_cap_data_struct data[2]) {
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return syscall(SYS_capget, &h, data) < 0 ? -errno : 0;
}

static int caps_set(struct __user_cap_data_struct data[2]) {
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return syscall(SYS_capset, &h, data) < 0 ? -errno : 0;
}

int creds_drop_caps(const struct confinement_cap *caps, size_t n) {
	struct __user_cap_data_struct data[2];
	int r;

	for (size_t i = 0; i < n; i++)
		/* EINVAL: a capability this kernel does not know; nothing to drop. */
		if (prctl(PR_CAPBSET_DROP, (unsigned long)caps[i].cap, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	if ((r = caps_get(data)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		data[caps[i].cap / 32].inheritable &= ~(UINT32_C(1) << (caps[i].cap % 32));
	if ((r = caps_set(data)) < 0)
		return r;
	/* EINVAL: a kernel without ambient capabilities (before 4.3). */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	for (size_t i = 0; i < n; i++)
		if (prctl(PR_CAPBSET_READ, (unsigned long)caps[i].cap, 0, 0, 0) > 0)
			return -EPERM;
	return 0;
}

int creds_become(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups) {
	uid_t ru, eu, su;

	if (setgroups(n_groups, groups) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	/* The way back must be closed (it is when uid is not 0). */
	if (getresuid(&ru, &eu, &su) < 0)
		return -errno;
	if (ru != uid || eu != uid || su != uid || (uid != 0 && setresuid(0, 0, 0) == 0))
		return -EPERM;
	return 0;
}

int creds_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0; }
