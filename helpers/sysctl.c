/* SPDX-License-Identifier: MIT */
#include "sysctl.h"

#include <fcntl.h>

#include <stdarg.h>

#include "log.h"
#include "util.h"

static int sysctl_path(const char *key, char **out) {
	/* Keys are built from interface names, which cannot hold '/', and
	 * fixed words; refuse anything that could walk elsewhere. */
	if (strstr(key, "..") || key[0] == '/')
		return -EINVAL;
	return asprintf(out, "/proc/sys/%s", key) < 0 ? -ENOMEM : 0;
}

int sysctl_read(const char *key, char *buf, size_t size) {
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	ssize_t n;
	char *s;
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
	s = strip_ws(buf);
	memmove(buf, s, strlen(s) + 1);
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

int sysctl_setf(const char *value, const char *fmt, ...) {
	char key[256];
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(key))
		return log_errno(-ENAMETOOLONG, "setting %s", fmt);
	r = sysctl_write(key, value);
	return r < 0 ? log_errno(r, "setting %s", key) : 0;
}
