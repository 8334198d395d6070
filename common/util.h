/* SPDX-License-Identifier: MIT */
/* Small utilities shared by the generator and the helper.
 *
 * The one cleanup idiom of this project: variables declared with a _cleanup_*
 * attribute are released when they go out of scope, on every return path. To
 * hand ownership on, use TAKE_PTR()/TAKE_FD(). */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) {
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void fclosep(FILE **f) {
	if (*f)
		fclose(*f);
}

static inline void closedirp(DIR **d) {
	if (*d)
		closedir(*d);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Define a cleanup function fooping(struct foo **) from foo_free(struct foo *). */
#define DEFINE_PTR_CLEANUP(type, func)                                         \
	static inline void func##p(type **p) {                                 \
		if (*p)                                                        \
			func(*p);                                              \
	}

#define TAKE_PTR(p)                                                            \
	({                                                                     \
		__typeof__(p) _tmp = (p);                                      \
		(p) = NULL;                                                    \
		_tmp;                                                          \
	})
#define TAKE_FD(fd)                                                            \
	({                                                                     \
		int _tmp = (fd);                                               \
		(fd) = -1;                                                     \
		_tmp;                                                          \
	})

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }

/* Overwrite memory in a way the compiler may not elide (key material). */
void explicit_wipe(void *p, size_t n);

/* Strip ASCII whitespace from both ends in place; returns s. */
char *strip_ws(char *s);

/* Parse an unsigned decimal number with no sign, no junk, within [min, max].
 * Returns 0, -EINVAL (not a number or trailing junk) or -ERANGE. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Free n strings and the array that holds them. */
void strv_free(char **v, size_t n);

/* Append one element to a heap array, growing it. *n is the element count. */
int array_append(void **array, size_t *n, size_t elem_size, const void *elem);
#define ARRAY_APPEND(arr, n, elem)                                             \
	array_append((void **)&(arr), &(n), sizeof(*(arr)), &(elem))
/* The same for arrays of elements that hold key material: the array grows
 * by allocate, copy, wipe, free (realloc would leave copies in freed
 * memory). */
int array_append_wiped(void **array, size_t *n, size_t elem_size, const void *elem);
#define ARRAY_APPEND_WIPED(arr, n, elem)                                       \
	array_append_wiped((void **)&(arr), &(n), sizeof(*(arr)), &(elem))

/* Read a whole regular file of at most max bytes. Returns -EFBIG when
 * larger, -EISDIR for a directory, -EINVAL for any other non-regular file.
 * The buffer is NUL-terminated; *len excludes the NUL. */
int read_file_capped(const char *path, size_t max, char **out, size_t *len);
/* The same from an open fd (which must be a regular file). */
int read_fd_capped(int fd, size_t max, char **out, size_t *len);
/* The first max bytes of a regular file (all of it when smaller), with the
 * same checks and NUL termination as read_file_capped(). */
int read_file_head(const char *path, size_t max, char **out, size_t *len);

/* Replace the file at path with len bytes of content, atomically: a new
 * file (the given mode, whatever the umask) in the same directory, named
 * ".NAME.XXXXXXXX" (created with O_EXCL, so nothing planted there is
 * written through; node exporter's *.prom does not match it), written and
 * renamed over path, so that a reader sees the old content or the new,
 * never a part of it. The temporary file is removed on failure. 0 or a
 * negative errno (-EISDIR for a path that ends in "/"). */
int write_file_atomic(const char *path, const char *content, size_t len, mode_t mode);
/* Milliseconds of CLOCK_MONOTONIC: for timers that a change of the wall
 * clock must not move. */
int64_t monotonic_ms(void);
/* A back-off: first_ms after the first failure, doubling with each
 * further one (failures before this one), at most max_ms. */
unsigned backoff_ms(unsigned first_ms, unsigned max_ms, unsigned failures);

/* Environment overrides shared by both binaries (DESIGN.md). */
const char *confdir(void); /* $VPN_CONFINEMENT_CONFDIR or /etc/vpn-confinement */
const char *rundir(void);  /* $VPN_CONFINEMENT_RUNDIR or /run/vpn-confinement */
