/* SPDX-License-Identifier: MIT */
#include "rundir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "config.h"
#include "util.h"

/* A directory we made or took over: ours and nobody else's. */
static int dir_claim(int fd) {
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid())
		return -EPERM;
	/* 0755 from an older version: no one else may look in any more. */
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
		return -errno;
	return 0;
}

/* openat(dirfd, name) of a directory, never through a link, made 0700 when
 * create is true. */
static int dir_open_at(int dirfd, const char *name, bool create) {
	_cleanup_close_ int fd = -1;
	int r;

	for (int attempt = 0;; attempt++) {
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			break;
		/* A link in its place: ELOOP (or ENOTDIR with O_DIRECTORY). */
		if (errno == ENOTDIR)
			return -ELOOP;
		if (errno != ENOENT || !create || attempt > 0)
			return -errno;
		if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	r = dir_claim(fd);
	return r < 0 ? r : TAKE_FD(fd);
}

static int root_open(bool create) {
	/* $RUNDIR's parents (/run) are the system's; from $RUNDIR down,
	 * nothing is followed. */
	return dir_open_at(AT_FDCWD, rundir(), create);
}

static bool file_name_ok(const char *file) {
	return *file && *file != '.' && !strchr(file, '/');
}

int rundir_ns_open(const char *ns, bool create) {
	_cleanup_close_ int root = -1;

	if (!ns_name_valid(ns))
		return -EINVAL;
	root = root_open(create);
	if (root < 0)
		return root;
	return dir_open_at(root, ns, create);
}

/* A regular file of ours, opened with flags (O_NOFOLLOW added). */
static int file_open(int dirfd, const char *file, int flags, mode_t mode) {
	/* O_NONBLOCK: a FIFO planted here (refused below) must not hang us. */
	_cleanup_close_ int fd = openat(dirfd, file, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);
	struct stat st;

	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return -EPERM;
	return TAKE_FD(fd);
}

int rundir_read(const char *ns, const char *file, char **out) {
	_cleanup_close_ int dir = -1, fd = -1;
	size_t len;

	if (!file_name_ok(file))
		return -EINVAL;
	dir = rundir_ns_open(ns, false);
	if (dir < 0)
		return dir;
	/* O_NONBLOCK: a FIFO (refused below) must not hang us first. */
	fd = file_open(dir, file, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	return read_fd_capped(fd, RUNDIR_FILE_MAX, out, &len);
}

int rundir_open_read(const char *ns, const char *file) {
	_cleanup_close_ int dir = -1;

	if (!file_name_ok(file))
		return -EINVAL;
	dir = rundir_ns_open(ns, false);
	if (dir < 0)
		return dir;
	return file_open(dir, file, O_RDONLY, 0);
}

int rundir_read_fields(const char *ns, const char *file,
		       int (*field)(void *userdata, const char *key, const char *value), void *userdata) {
	_cleanup_free_ char *text = NULL;
	int r = rundir_read(ns, file, &text);

	if (r < 0)
		return r;
	for (char *line = text, *next; *line; line = next) {
		char *eq;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (!eq)
			return -EBADMSG;
		*eq = '\0';
		if (field(userdata, line, eq + 1) < 0)
			return -EBADMSG;
	}
	return 0;
}

bool rundir_exists(const char *ns, const char *file) {
	_cleanup_close_ int dir = -1;
	struct stat st;

	if (!file_name_ok(file))
		return false;
	dir = rundir_ns_open(ns, false);
	return dir >= 0 && fstatat(dir, file, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int write_all(int fd, const char *content) {
	size_t len = strlen(content), done = 0;

	while (done < len) {
		ssize_t k = write(fd, content + done, len - done);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)k;
	}
	return 0;
}

int rundir_write(const char *ns, const char *file, const char *content) {
	_cleanup_close_ int dir = -1, fd = -1;
	char tmp[NAME_MAX + 1];
	uint32_t rnd;
	int r;

	if (!file_name_ok(file) || strlen(file) > NAME_MAX - 16)
		return -EINVAL;
	dir = rundir_ns_open(ns, true);
	if (dir < 0)
		return dir;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -errno;
	/* O_EXCL: a name planted in the meantime is not written through. */
	snprintf(tmp, sizeof(tmp), ".%s.%08x", file, rnd);
	fd = file_open(dir, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return fd;
	r = write_all(fd, content);
	if (r == 0 && renameat(dir, tmp, dir, file) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dir, tmp, 0);
	return r;
}

int rundir_write_inplace(const char *ns, const char *file, const char *content) {
	_cleanup_close_ int dir = -1, fd = -1;
	size_t len = strlen(content);

	if (!file_name_ok(file))
		return -EINVAL;
	dir = rundir_ns_open(ns, true);
	if (dir < 0)
		return dir;
	fd = file_open(dir, file, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		return fd;
	/* The new text over the old, then cut: a reader meanwhile sees a mix
	 * for an instant, never an empty file. */
	if (pwrite(fd, content, len, 0) != (ssize_t)len)
		return errno ? -errno : -EIO;
	if (ftruncate(fd, (off_t)len) < 0 || fchmod(fd, 0644) < 0)
		return -errno;
	return 0;
}

int rundir_open_append(const char *ns, const char *file) {
	_cleanup_close_ int dir = -1;

	if (!file_name_ok(file))
		return -EINVAL;
	dir = rundir_ns_open(ns, true);
	if (dir < 0)
		return dir;
	return file_open(dir, file, O_WRONLY | O_CREAT | O_APPEND, 0600);
}

int rundir_remove(const char *ns, const char *file) {
	_cleanup_close_ int dir = -1;

	if (!file_name_ok(file))
		return -EINVAL;
	dir = rundir_ns_open(ns, false);
	if (dir == -ENOENT)
		return 0;
	if (dir < 0)
		return dir;
	if (unlinkat(dir, file, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int rundir_rmdir(const char *ns) {
	_cleanup_close_ int root = -1;

	if (!ns_name_valid(ns))
		return -EINVAL;
	root = root_open(false);
	if (root == -ENOENT)
		return 0;
	if (root < 0)
		return root;
	if (unlinkat(root, ns, AT_REMOVEDIR) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		return -errno;
	return 0;
}

int rundir_path(const char *ns, const char *file, char **out) {
	if (!ns_name_valid(ns) || !file_name_ok(file))
		return -EINVAL;
	return asprintf(out, "%s/%s/%s", rundir(), ns, file) < 0 ? -ENOMEM : 0;
}

static int cmp_str(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rundir_list(char ***out, size_t *n) {
	_cleanup_close_ int root = root_open(false);
	_cleanup_closedir_ DIR *d = NULL;
	char **names = NULL;
	size_t count = 0;
	struct dirent *de;

	*out = NULL;
	*n = 0;
	if (root == -ENOENT)
		return 0;
	if (root < 0)
		return root;
	d = fdopendir(root);
	if (!d)
		return -errno;
	root = -1; /* the DIR owns it now */
	while ((de = readdir(d))) {
		char *copy;

		if (de->d_type != DT_DIR || !ns_name_valid(de->d_name))
			continue;
		copy = strdup(de->d_name);
		if (!copy || ARRAY_APPEND(names, count, copy) < 0) {
			free(copy);
			for (size_t i = 0; i < count; i++)
				free(names[i]);
			free(names);
			return -ENOMEM;
		}
	}
	if (count > 1)
		qsort(names, count, sizeof(*names), cmp_str);
	*out = names;
	*n = count;
	return 0;
}

int rundir_lock(void) {
	_cleanup_close_ int fd = root_open(true);

	if (fd < 0)
		return fd;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	return TAKE_FD(fd); /* closing it unlocks */
}
