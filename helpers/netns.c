/* SPDX-License-Identifier: MIT */
#include "netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "config.h"
#include "fwdguard.h"
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

static int sysctl_path(const char *key, char **out) {
	/* Keys are built here from interface names, which cannot hold '/', and
	 * fixed words; refuse anything that could walk elsewhere. */
	if (strstr(key, "..") || key[0] == '/')
		return -EINVAL;
	return asprintf(out, "/proc/sys/%s", key) < 0 ? -ENOMEM : 0;
}

int sysctl_read(const char *key, char *buf, size_t size) {
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	int r = sysctl_path(key, &path);

	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	{
		char *s = strip_ws(buf);
		memmove(buf, s, strlen(s) + 1);
	}
	return 0;
}

int sysctl_write(const char *key, const char *value) {
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	int r = sysctl_path(key, &path);

	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return 0;
}

/* Run directory. */

int state_dir(const char *ns, char **out) {
	if (!ns_name_valid(ns))
		return -EINVAL;
	return asprintf(out, "%s/%s", rundir(), ns) < 0 ? -ENOMEM : 0;
}

int state_path(const char *ns, const char *file, char **out) {
	if (!ns_name_valid(ns) || strchr(file, '/'))
		return -EINVAL;
	return asprintf(out, "%s/%s/%s", rundir(), ns, file) < 0 ? -ENOMEM : 0;
}

int state_mkdir(const char *ns) {
	_cleanup_free_ char *dir = NULL;
	int r;

	if (mkdir(rundir(), 0755) < 0 && errno != EEXIST)
		return -errno;
	r = state_dir(ns, &dir);
	if (r < 0)
		return r;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The path of a run file of ns, its directory made. */
static int state_prepare(const char *ns, const char *file, char **path) {
	int r = state_mkdir(ns);

	return r < 0 ? r : state_path(ns, file, path);
}

int state_write(const char *ns, const char *file, const char *content) {
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(content);
	int r;

	r = state_prepare(ns, file, &path);
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, content, len) != (ssize_t)len) {
		r = errno ? -errno : -EIO;
		unlink(tmp);
		return r;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return r;
	}
	return 0;
}

int state_write_inplace(const char *ns, const char *file, const char *content) {
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(content);
	int r;

	r = state_prepare(ns, file, &path);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	/* The new text over the old, then cut: a reader meanwhile sees a mix
	 * for an instant, never an empty file. */
	if (pwrite(fd, content, len, 0) != (ssize_t)len)
		return errno ? -errno : -EIO;
	if (ftruncate(fd, (off_t)len) < 0 || fchmod(fd, 0644) < 0)
		return -errno;
	return 0;
}

int state_read(const char *ns, const char *file, char **out) {
	_cleanup_free_ char *path = NULL;
	size_t len;
	int r = state_path(ns, file, &path);

	if (r < 0)
		return r;
	return read_file_capped(path, 1024 * 1024, out, &len);
}

bool state_exists(const char *ns, const char *file) {
	_cleanup_free_ char *path = NULL;

	if (state_path(ns, file, &path) < 0)
		return false;
	return access(path, F_OK) == 0;
}

int state_remove(const char *ns, const char *file) {
	_cleanup_free_ char *path = NULL;
	int r = state_path(ns, file, &path);

	if (r < 0)
		return r;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int state_rmdir(const char *ns) {
	_cleanup_free_ char *dir = NULL;
	int r = state_dir(ns, &dir);

	if (r < 0)
		return r;
	if (rmdir(dir) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		return -errno;
	return 0;
}

char *state_get(const char *text, const char *key) {
	size_t klen = strlen(key);

	for (const char *p = text; p && *p;) {
		const char *eol = strchrnul(p, '\n');
		if ((size_t)(eol - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
			return strndup(p + klen + 1, (size_t)(eol - p - (ptrdiff_t)klen - 1));
		p = *eol ? eol + 1 : eol;
	}
	return NULL;
}

/* Host sysctl claims. */

static inline void closedirp(DIR **d) {
	if (*d)
		closedir(*d);
}

#define HOST_SYSCTL_FILE "host-sysctl"

/* The original value recorded for key in a claims text, or NULL. */
static char *claims_lookup(const char *text, const char *key) {
	size_t klen = strlen(key);

	for (const char *p = text; p && *p;) {
		const char *eol = strchrnul(p, '\n');
		if ((size_t)(eol - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '\t')
			return strndup(p + klen + 1, (size_t)(eol - p - (ptrdiff_t)klen - 1));
		p = *eol ? eol + 1 : eol;
	}
	return NULL;
}

/* The original value of key as claimed by another namespace, or NULL. */
static char *claims_lookup_others(const char *ns, const char *key) {
	_cleanup_(closedirp) DIR *d = opendir(rundir());
	struct dirent *de;

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		_cleanup_free_ char *text = NULL;
		char *v;

		if (de->d_name[0] == '.' || streq(de->d_name, ns) || !ns_name_valid(de->d_name))
			continue;
		if (state_read(de->d_name, HOST_SYSCTL_FILE, &text) < 0)
			continue;
		v = claims_lookup(text, key);
		if (v)
			return v;
	}
	return NULL;
}

/* Claims of several namespaces brought up at once (systemd starts them in
 * parallel) are read, decided and written under one lock. */
static int claims_lock(void) {
	int fd;

	if (mkdir(rundir(), 0755) < 0 && errno != EEXIST)
		return -errno;
	/* flock() on the run directory itself: no lock file left behind. */
	fd = open(rundir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			int r = -errno;
			close(fd);
			return r;
		}
	return fd; /* closing it unlocks */
}

/* Record one claim (the caller holds the lock); *write tells whether the
 * sysctl needs writing. */
static int claim_record(const char *ns, const char *key, const char *value, bool *write) {
	_cleanup_free_ char *text = NULL, *mine = NULL, *original = NULL, *updated = NULL;
	char current[256];
	int r;

	*write = false;
	if (strchr(key, '\t') || strchr(key, '\n'))
		return -EINVAL;
	r = state_read(ns, HOST_SYSCTL_FILE, &text);
	if (r < 0 && r != -ENOENT)
		return r;
	mine = claims_lookup(text, key);
	r = sysctl_read(key, current, sizeof(current));
	if (r < 0)
		return r;
	if (!mine) {
		original = claims_lookup_others(ns, key);
		if (!original) {
			if (streq(current, value))
				return 0; /* already so, and nobody of ours changed it */
			original = strdup(current);
			if (!original)
				return -ENOMEM;
		}
		/* Record before changing, so a crash in between still restores. */
		if (asprintf(&updated, "%s%s\t%s\n", text ? text : "", key, original) < 0)
			return -ENOMEM;
		r = state_write(ns, HOST_SYSCTL_FILE, updated);
		if (r < 0)
			return r;
	}
	*write = !streq(current, value);
	return 0;
}

int host_sysctl_claim(const char *ns, char *const *keys, size_t n, const char *value) {
	_cleanup_close_ int lock = -1;
	_cleanup_free_ bool *write = NULL;
	int r;

	if (n == 0)
		return 0;
	write = calloc(n, sizeof(bool));
	if (!write)
		return -ENOMEM;
	lock = claims_lock();
	if (lock < 0)
		return lock;
	for (size_t i = 0; i < n; i++) {
		r = claim_record(ns, keys[i], value, &write[i]);
		if (r < 0) {
			fprintf(stderr, "vpn-confinement: %s: %s\n", keys[i], strerror(-r));
			return r;
		}
	}
	/* The guard first: forwarding goes on only where it already holds. */
	r = forward_guard_update();
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (write[i] && (r = sysctl_write(keys[i], value)) < 0) {
			fprintf(stderr, "vpn-confinement: setting %s: %s\n", keys[i], strerror(-r));
			return r;
		}
	return 0;
}

int host_sysctl_release(const char *ns) {
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int lock = -1;
	int r, first = 0;

	lock = claims_lock();
	if (lock < 0)
		return lock;
	r = state_read(ns, HOST_SYSCTL_FILE, &text);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (char *line = text, *next; line && *line; line = next) {
		char *tab;
		_cleanup_free_ char *other = NULL;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		other = claims_lookup_others(ns, line);
		if (other)
			continue; /* still needed by another namespace, which restores it later */
		r = sysctl_write(line, tab + 1);
		/* A link of the host that went away meanwhile has nothing to restore. */
		if (r < 0 && r != -ENOENT) {
			fprintf(stderr, "vpn-confinement: restoring %s to %s: %s\n", line, tab + 1, strerror(-r));
			if (!first)
				first = r;
		}
	}
	if (first)
		return first;
	r = state_remove(ns, HOST_SYSCTL_FILE);
	if (r < 0)
		return r;
	/* After the restore: forwarding is off before the guard loosens. */
	return forward_guard_update();
}
