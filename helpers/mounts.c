/* SPDX-License-Identifier: MIT */
#include "mounts.h"

#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>

#include "util.h"

int mounts_unshare(void) {
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return -errno;
	return 0;
}

int mounts_bind_ro(const char *src, const char *dst) {
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return -errno;
	return 0;
}

int mounts_tmpfs(const char *dst, mode_t mode) {
	char opts[32];

	snprintf(opts, sizeof(opts), "mode=%04o,size=1m", (unsigned)mode & 07777);
	return mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0 ? -errno : 0;
}

int mounts_make_ro(const char *dst) {
	return mount(NULL, dst, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ? -errno : 0;
}
