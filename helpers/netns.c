/* SPDX-License-Identifier: MIT */
#include "netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "names.h"
#include "util.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int netns_open(const char *name) {
	char path[NS_PATH_SIZE];
	struct statfs sfs;
	int fd, r;

	r = ns_netns_path(name, path);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC) {
		close(fd);
		return -ENOTTY;
	}
	return fd;
}

/* `ip netns add` makes /run/netns a shared mount point, so a namespace
 * mounted in one mount namespace is seen in the others (services with
 * private mounts, `ip netns exec`). Do the same. */
static int netns_run_dir_prepare(void) {
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	for (int attempt = 0;; attempt++) {
		if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
			return 0;
		if (errno != EINVAL || attempt > 0)
			return -errno;
		/* Not a mount point yet: make it one. */
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return -errno;
	}
}

int netns_create(const char *name) {
	char path[NS_PATH_SIZE];
	_cleanup_close_ int fd = -1, saved = -1;
	int r;

	r = ns_netns_path(name, path);
	if (r < 0)
		return r;
	r = netns_run_dir_prepare();
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0) {
		r = -errno;
		goto fail;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		goto fail;
	}
	r = mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0 ? -errno : 0;
	if (setns(saved, CLONE_NEWNET) < 0)
		abort(); /* see netns_leave() */
	if (r < 0)
		goto fail;
	return 0;
fail:
	unlink(path);
	return r;
}

int netns_remove(const char *name) {
	char path[NS_PATH_SIZE];
	int r;

	r = ns_netns_path(name, path);
	if (r < 0)
		return r;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int netns_enter(int fd, int *saved) {
	int s = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (s < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0) {
		int r = -errno;
		close(s);
		return r;
	}
	*saved = s;
	return 0;
}

void netns_leave(int *saved) {
	if (setns(*saved, CLONE_NEWNET) < 0) {
		fprintf(stderr, "vpn-confinement: cannot return to the original network namespace: %s\n",
			strerror(errno));
		abort();
	}
	close(*saved);
	*saved = -1;
}

int netns_join(int fd) {
	struct stat want, have;

	if (fstat(fd, &want) < 0 || stat("/proc/thread-self/ns/net", &have) < 0)
		return -errno;
	if (want.st_dev == have.st_dev && want.st_ino == have.st_ino)
		return 0; /* there already (NetworkNamespacePath=): no CAP_SYS_ADMIN needed */
	return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}
