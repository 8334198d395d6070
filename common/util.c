/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

void explicit_wipe(void *p, size_t n) {
	if (!p)
		return;
	memset(p, 0, n);
	/* Keep the compiler from treating the memset as dead. */
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

char *strip_ws(char *s) {
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
			   end[-1] == '\n' || end[-1] == '\v' || end[-1] == '\f'))
		*--end = '\0';
	return s;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

void strv_free(char **v, size_t n) {
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int array_append(void **array, size_t *n, size_t elem_size, const void *elem) {
	void *grown;

	if (*n >= SIZE_MAX / elem_size - 1)
		return -ENOMEM;
	grown = realloc(*array, (*n + 1) * elem_size);
	if (!grown)
		return -ENOMEM;
	memcpy((char *)grown + *n * elem_size, elem, elem_size);
	*array = grown;
	(*n)++;
	return 0;
}

int array_append_wiped(void **array, size_t *n, size_t elem_size, const void *elem) {
	void *grown;

	if (*n >= SIZE_MAX / elem_size - 1)
		return -ENOMEM;
	grown = malloc((*n + 1) * elem_size);
	if (!grown)
		return -ENOMEM;
	if (*n > 0) {
		memcpy(grown, *array, *n * elem_size);
		explicit_wipe(*array, *n * elem_size);
	}
	free(*array);
	memcpy((char *)grown + *n * elem_size, elem, elem_size);
	*array = grown;
	(*n)++;
	return 0;
}

/* Files read here may hold key material: wipe the buffer when it is dropped. */
struct wiped_buf {
	char *p;
	size_t size;
};
static void wiped_buf_release(struct wiped_buf *b) {
	if (b->p) {
		explicit_wipe(b->p, b->size);
		free(b->p);
	}
}

/* truncate: a larger file gives its first max bytes instead of -EFBIG. */
static int read_fd(int fd, size_t max, bool truncate, char **out, size_t *len) {
	_cleanup_(wiped_buf_release) struct wiped_buf b = { NULL, max + 2 };
	char *buf;
	size_t used = 0;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	buf = b.p = malloc(b.size);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r = read(fd, buf + used, max + 1 - used);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		used += (size_t)r;
		if (used > max && !truncate)
			return -EFBIG;
		if (used > max) {
			used = max;
			break;
		}
	}
	buf[used] = '\0';
	*out = TAKE_PTR(b.p);
	*len = used;
	return 0;
}

int read_fd_capped(int fd, size_t max, char **out, size_t *len) {
	return read_fd(fd, max, false, out, len);
}

static int read_path(const char *path, size_t max, bool truncate, char **out, size_t *len) {
	/* O_NONBLOCK: a FIFO in place of a config file must not hang us. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	return read_fd(fd, max, truncate, out, len);
}

int read_file_capped(const char *path, size_t max, char **out, size_t *len) {
	return read_path(path, max, false, out, len);
}

int read_file_head(const char *path, size_t max, char **out, size_t *len) {
	return read_path(path, max, true, out, len);
}

int write_file_atomic(const char *path, const char *content, size_t len, mode_t mode) {
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dfd = -1, fd = -1;
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char tmp[NAME_MAX + 1];
	size_t done = 0;
	uint32_t rnd;
	int r = 0;

	if (!*base)
		return -EISDIR;
	if (strlen(base) > NAME_MAX - 10)
		return -ENAMETOOLONG;
	if (!(dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".")))
		return -ENOMEM;
	dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -errno;
	snprintf(tmp, sizeof(tmp), ".%s.%08x", base, rnd);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (done < len && r == 0) {
		ssize_t k = write(fd, content + done, len - done);
		if (k < 0 && errno != EINTR)
			r = -errno;
		else if (k > 0)
			done += (size_t)k;
	}
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && close(TAKE_FD(fd)) < 0)
		r = -errno;
	if (r == 0 && renameat(dfd, tmp, dfd, base) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dfd, tmp, 0);
	return r;
}

static const char *env_or(const char *name, const char *fallback) {
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

const char *confdir(void) { return env_or("VPN_CONFINEMENT_CONFDIR", "/etc/vpn-confinement"); }
const char *rundir(void) { return env_or("VPN_CONFINEMENT_RUNDIR", "/run/vpn-confinement"); }

unsigned backoff_ms(unsigned first_ms, unsigned max_ms, unsigned failures) {
	unsigned delay = first_ms;

	for (unsigned i = 0; i < failures && delay < max_ms; i++)
		delay *= 2;
	return delay > max_ms ? max_ms : delay;
}

int64_t monotonic_ms(void) {
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
